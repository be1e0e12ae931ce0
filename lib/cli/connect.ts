/**
 * `sshtrace [connect] [user@]host[:port] [command…]`: the CLI side of logging in — the options
 * from ssh_config, the run's preparation and the session's course (credential sources:
 * ./credentials.ts; the interactive terminal — raw mode, resize, `~` escapes, output pumps — and
 * the exit code: ./session_io.ts).
 * Local I/O (through the platform seam) lives here so the protocol layers stay testable in memory.
 * @module
 */

import { parseTarget, type Settings, usageError } from "../config/options.ts";
import type { ConnectOptions } from "../client.ts";
import { connectDirectEarly } from "../client/early_connect.ts";
import { defaultUser } from "../client/default_user.ts";
import type { ExitInfo } from "../connection/session.ts";
import { platform } from "../platform/mod.ts";
import { reportToJson } from "../render/ndjson.ts";
import { type RunContext, runLifecycle, type RunOutcome } from "../run.ts";
import { SshError } from "../errors/mod.ts";
import type { Tracer } from "../trace.ts";
import { interruptOnCtrlC } from "./tty.ts";
import { passwordSource } from "./credentials.ts";
export { passwordPrompt, passwordSource, signerLoader } from "./credentials.ts";
import {
  configRefusals,
  copyConfig,
  refusalError,
  sessionEnvironment,
  traceConfig,
} from "../sshconfig/apply.ts";
import type { Refusal, SshConfig } from "../sshconfig/resolve.ts";
import { originText } from "../sshconfig/types.ts";
import { env, makeOutput, outputFlags } from "./output.ts";
import { settingsFor, timeoutMs } from "./settings.ts";
import type { ParsedCommand } from "./args.ts";
import { jumpRoute } from "./jump.ts";
import { loginOptions } from "./login_options.ts";
import {
  checkDelivery,
  exitCodeOf,
  forwardStdin,
  localTerminalModes,
  pump,
  rawTerminal,
} from "./session_io.ts";
import {
  dynamicForwardSpecs,
  holdOpen,
  localForwardSpecs,
  startDynamicForwards,
  startLocalForwards,
  startRemoteForwards,
  stdioForward,
  stdioTarget,
  unixListenOptions,
} from "./forward.ts";
export { env };

const encoder = new TextEncoder();

export interface ConnectFlags {
  json?: true;
  ndjson?: true;
  verbose: number;
  quiet?: true;
  legacy?: true;
  identity?: string[];
  t?: true;
  T?: true;
  /** The command is a subsystem name (`ssh -s`). */
  s?: true;
  passwordEnv?: string;
  passwordFile?: string;
  passphraseEnv?: string;
  passphraseFile?: string;
  rekeyLimit?: string;
  batch?: true;
  /** `-N`: no command and no shell. */
  N?: true;
  W?: string;
  /** `-n`: stdin from /dev/null. */
  n?: true;
  /** `-E FILE`: the trace goes to FILE. */
  E?: string;
  /** `-F FILE`: the configuration file (passed to each jump host's, as ssh -J does). */
  F?: string;
}

export interface RunConnectInput {
  targetText: string;
  command: string[];
  flags: ConnectFlags;
  settings: Settings;
  timeoutMs: number;
  /** The ssh_config the settings came from: traced as stage `config`, its refusals stop the run. */
  config?: SshConfig;
  /** Whether the command sends SendEnv/SetEnv with its session (connect does; send does not). */
  sendsEnvironment?: boolean;
  /**
   * A copy (get/put): the configuration is read as scp and sftp have ssh read it (their own
   * options first: no X11, forwards, agent, local or remote command), see `copyConfig`.
   */
  copy?: boolean;
}

/** What every logging-in command (connect, send) shares: output, target and client options. */
export interface PreparedRun {
  tracer: Tracer;
  target: { host: string; port: number; user: string };
  /** The client options; their `signal` aborts on Ctrl-C while {@link execute} runs. */
  options: ConnectOptions;
  /**
   * What the configuration asks for that sshtrace does not do (the target's and each jump
   * host's): when any, {@link execute} sends nothing and fails with `config.refused`.
   */
  refusals: readonly Refusal[];
  /** Runs the command's body as one run (lib/run.ts), Ctrl-C cancelling it. */
  execute<T>(body: (run: RunContext) => Promise<T>): Promise<RunOutcome<T>>;
  /** Ends the run: the failure box or summary, the JSON report (with `extra` fields). */
  finish(outcome: RunOutcome<unknown>, exitCode: number, extra?: Record<string, unknown>): void;
}

/** Builds the tracer (human trace on stderr, NDJSON on stdout) and the client options. */
export async function prepareRun(
  input: Omit<RunConnectInput, "command">,
): Promise<PreparedRun> {
  const { flags } = input;
  const copy = input.copy && input.config ? copyConfig(input.config) : null;
  // A copy does not forward the agent unless -o ForwardAgent=yes asked for it (as scp).
  const settings = copy?.unused.some((u) => u.keyword === "ForwardAgent")
    ? { ...input.settings, forwardAgent: false }
    : input.settings;
  const parsed = parseTarget(input.targetText);
  const host = settings.hostname ?? parsed.host;
  const port = settings.port ?? parsed.port ?? 22;
  const user = settings.user ?? parsed.user ?? defaultUser();
  const batch = settings.batchMode ?? flags.batch ?? false;
  const { tracer, human } = makeOutput(outputFlags(flags, settings.logLevel));
  if (input.config) {
    traceConfig(tracer, input.config, [
      ...(input.sendsEnvironment ? [] : noEnvironment(input.config)),
      ...(copy?.unused ?? []).map((u) =>
        `${u.keyword} ${u.value} (${originText(u.origin)}) is not used by a copy: scp and sftp ` +
        `run ssh with -o${u.override}`
      ),
    ]);
  }
  const refusals = copy ? copy.refusals : input.config ? configRefusals(input.config) : [];
  const password = await passwordSource(flags, batch);
  const options = loginOptions({
    settings,
    flags,
    tracer,
    timeoutMs: input.timeoutMs,
    target: { host, port, user },
    password,
  });
  const route = await jumpRoute(settings, flags, input.timeoutMs, password);
  const hops = route?.hops ?? null;
  if (route) {
    Object.assign(options, { jump: route.jump, onHop: route.hops.onHop });
    refusals.push(...route.refusals);
  } else if (settings.proxyCommand) options.proxyCommand = settings.proxyCommand;
  const agentSocket = settings.forwardAgent ? env("SSH_AUTH_SOCK") : undefined;
  if (agentSocket) options.forwardAgent = agentSocket;
  // Installed last: nothing above may throw past it and leave Ctrl-C caught.
  const interrupt = interruptOnCtrlC();
  options.signal = interrupt.signal;
  const execute = async <T>(body: (run: RunContext) => Promise<T>) => {
    try {
      return await runLifecycle({ tracer, signal: interrupt.signal, grade: false }, (run) => {
        // Nothing is sent when the configuration asks for what sshtrace does not do.
        if (refusals.length) throw refusalError(refusals);
        return body(run);
      });
    } finally {
      interrupt.dispose();
    }
  };
  const finish = (
    outcome: RunOutcome<unknown>,
    exitCode: number,
    extra: Record<string, unknown> = {},
  ) => {
    human.finish(outcome.error);
    if (flags.json) {
      const report = outcome.report({ host, port, user }, exitCode);
      try {
        platform.stdout.writeSync(
          encoder.encode(
            reportToJson(
              { ...report, ...(hops ? { hops: hops.reports() } : {}), ...extra } as typeof report,
            ),
          ),
        );
      } catch {
        // stdout is gone (a closed pipe, a full disk): the trace on stderr and the exit code
        // still tell what happened
      }
    }
  };
  return { tracer, target: { host, port, user }, options, refusals, execute, finish };
}

/** The notes (shown with -v) that SendEnv/SetEnv are not sent, and where they were set. */
function noEnvironment(config: SshConfig): string[] {
  const set = [
    ["SendEnv", config.lists.get("sendenv")?.[0]?.origin],
    ["SetEnv", config.values.get("setenv")?.origin],
  ] as const;
  return set.flatMap(([keyword, origin]) =>
    !origin || origin.kind === "default" ? [] : [
      `${keyword} (${originText(origin)}) is not sent by this command: device shells often ` +
      "refuse environment requests",
    ]
  );
}

/** Runs the connect command and returns the process exit code. */
export async function runConnect(input: RunConnectInput): Promise<number> {
  const { flags } = input;
  // Checked before prepareRun installs the Ctrl-C handler (a usage error must not leave it).
  const gateway = { gatewayPorts: input.settings.gatewayPorts ?? false };
  const forwards = localForwardSpecs(input.settings.localForwards, "-L", gateway);
  const remoteForwards = localForwardSpecs(input.settings.remoteForwards, "-R");
  const socks = dynamicForwardSpecs(input.settings.dynamicForwards, gateway);
  const policy = { exitOnForwardFailure: input.settings.exitOnForwardFailure ?? false };
  const unix = unixListenOptions(input.settings);
  if (flags.W !== undefined) stdioTarget(flags.W);
  const run = await prepareRun({ ...input, sendsEnvironment: true });
  const { tracer } = run;
  const command = input.command.join(" ");
  if (flags.s && command === "") {
    throw usageError("-s needs the subsystem name after the host: sshtrace -s HOST netconf");
  }
  const subsystem = flags.s ? command : null;
  if (flags.N && command) {
    throw usageError("-N opens no session: give no command with it");
  }
  const requestTty = input.settings.requestTty;
  // -n: stdin is /dev/null, so nothing is read from it and no pty unless asked for with -t.
  const tty = !flags.n && platform.stdin.isTerminal();
  const wantPty = flags.T || requestTty === "no"
    ? false
    : flags.t || requestTty === "force"
    ? true
    : requestTty === "yes"
    ? tty
    : command === "" && tty;

  let exitCode = 0;
  let sessionInfo: Record<string, unknown> | null = null;
  let restoreTty = () => {};
  const started = performance.now();
  // A direct TCP login connects first, then loads the protocol modules (lib/client.ts and what
  // it imports) while the server prepares its greeting. Not when the configuration is refused:
  // then nothing is sent, not even a connection.
  const { options } = run;
  const connecting = run.refusals.length ? undefined : connectDirectEarly(options, tracer);
  const client_ = import("../client.ts");
  client_.catch(() => {}); // awaited in the run below, which stages a failure
  const outcome = await run.execute(async (ctx) => {
    try {
      const { connect } = await client_;
      const client = await connect(connecting ? { ...options, connecting } : options);
      ctx.closeOnStop(() => client.transport.close());
      startLocalForwards(client, forwards, { ...policy, unix });
      startDynamicForwards(client, socks, policy);
      await startRemoteForwards(client, remoteForwards, policy);
      if (flags.W !== undefined) {
        await stdioForward(client, flags.W, ctx.signal);
        return await client.close();
      }
      if (flags.N) return await holdOpen(client, ctx.signal);
      const size = wantPty && platform.stdout.isTerminal()
        ? platform.consoleSize()
        : { columns: 80, rows: 24 };
      const session = await client.openSession(
        wantPty
          ? {
            term: env("TERM") ?? "xterm-256color",
            cols: size.columns,
            rows: size.rows,
            modes: await localTerminalModes(tracer),
          }
          : undefined,
        subsystem !== null ? undefined : command ? { command } : { shell: true },
        sessionEnvironment(input.settings, platform.envNames(), env),
      );
      if (subsystem !== null) {
        // Its own session step: a refusal fails there, not after a ✓.
        const step = tracer.span("session");
        if (!(await session.subsystem(subsystem))) {
          throw new SshError(
            "session",
            "session.subsystem-refused",
            `the server refused the ${subsystem} subsystem`,
            { channel: session.channel.localId, subsystem },
          );
        }
        step.end();
      }
      const data = client.dataSpan(session);
      const interactive = wantPty && tty;
      if (interactive) restoreTty = rawTerminal(session);
      // `~.` is the user's request, not a failure: the session ends with no exit status.
      let closedByUser = false;
      let userClosed = (): void => {};
      const userClose = new Promise<ExitInfo>((resolve) => {
        userClosed = () => resolve({ status: null, signal: null });
      });
      if (flags.n) session.eof().catch(() => {});
      else {
        forwardStdin(session, interactive, () => {
          closedByUser = true;
          userClosed();
          client.close().catch(() => {});
        }, input.settings.escapeChar);
      }
      const pumps = [
        pump(session.stdout, platform.stdout, "/dev/stdout"),
        pump(session.stderr, platform.stderr, "/dev/stderr"),
      ];
      for (const p of pumps) p.catch(() => {}); // settled below
      const exit = await Promise.race([
        userClose,
        session.exit,
        client.connection.finished.then((e) => {
          if (e) throw e;
          return { status: null, signal: null } as ExitInfo;
        }),
      ]);
      // Every byte received must have been written out (each write awaited) before we exit.
      const delivery = await checkDelivery(session, pumps);
      restoreTty();
      exitCode = exitCodeOf(exit);
      sessionInfo = {
        channel: session.channel.localId,
        pty: wantPty,
        exitStatus: exit.status,
        exitSignal: exit.signal?.name ?? null,
        bytesIn: delivery.written,
        bytesOut: session.bytesOut,
        durationMs: Math.round(performance.now() - started),
      };
      if (delivery.error && !closedByUser) {
        await client.close().catch(() => {});
        throw delivery.error;
      }
      tracer.emit({
        stage: "data",
        type: "info",
        message: `session ended: ${delivery.written} bytes in, ${session.bytesOut} bytes out, ` +
          `${((performance.now() - started) / 1000).toFixed(1)} s` +
          (exit.status !== null ? `, exit status ${exit.status}` : "") +
          (exit.signal
            ? `, killed by signal ${exit.signal.name}` +
              (exit.signal.message ? ` (${exit.signal.message})` : "")
            : "") +
          (closedByUser ? ", disconnected by the user (~.)" : ""),
      });
      data.end();
      await client.close();
    } finally {
      restoreTty();
    }
  });
  if (outcome.error) exitCode = outcome.error.exitCode;
  run.finish(outcome, exitCode, { session: sessionInfo });
  return exitCode;
}

/** `sshtrace [connect] …` as parsed: its settings from ssh_config, then {@link runConnect}. */
export async function runConnectCommand(
  cmd: Extract<ParsedCommand, { name: "connect" }>,
): Promise<number> {
  const { flags } = cmd;
  const { config, settings } = settingsFor(cmd);
  return await runConnect({
    targetText: cmd.target,
    command: cmd.command,
    flags,
    settings,
    config,
    timeoutMs: timeoutMs(flags, settings),
  });
}
