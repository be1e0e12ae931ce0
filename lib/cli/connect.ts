/**
 * `sshtrace [connect] [user@]host[:port] [command…]`: the CLI side of logging in — the options
 * from ssh_config, the interactive terminal (raw mode, resize, `~` escapes) and the exit code
 * (credential sources: ./credentials.ts).
 * Local I/O (through the platform seam) lives here so the protocol layers stay testable in memory.
 * @module
 */

import { parseSize, parseTarget, type Settings, usageError } from "../config/options.ts";
import { connect, type ConnectOptions, defaultUser } from "../client.ts";
import type { ExitInfo, Session } from "../connection/session.ts";
import { DEFAULT_TERMINAL_SETTINGS, encodeTerminalSettings } from "../connection/terminal_modes.ts";
import { platform } from "../platform/mod.ts";
import { reportToJson } from "../render/ndjson.ts";
import { type RunContext, runLifecycle, type RunOutcome } from "../run.ts";
import { SshError } from "../errors/mod.ts";
import type { Tracer } from "../trace.ts";
import { canPrompt, confirm, interruptOnCtrlC } from "./tty.ts";
import { keyboardResponder, passwordSource, signerLoader } from "./credentials.ts";
export { passwordPrompt, passwordSource, signerLoader } from "./credentials.ts";
import {
  configRefusals,
  refusalError,
  sessionEnvironment,
  traceConfig,
} from "../sshconfig/apply.ts";
import type { SshConfig } from "../sshconfig/resolve.ts";
import { originText } from "../sshconfig/types.ts";
import type { TcpOptions } from "../net.ts";
import { DEFAULT_METHODS } from "../auth/userauth.ts";
import { env, makeOutput, writeErr } from "./output.ts";
import { hopOutput, jumpHosts } from "./jump.ts";
import {
  dynamicForwardSpecs,
  holdOpen,
  localForwardSpecs,
  startDynamicForwards,
  startLocalForwards,
  startRemoteForwards,
  stdioForward,
  stdioTarget,
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
}

const SIGNALS: Record<string, number> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  ABRT: 6,
  FPE: 8,
  KILL: 9,
  SEGV: 11,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
  USR1: 10,
  USR2: 12,
};

/** The exit code for how the remote command ended (128+n for a signal, as shells do). */
export function exitCodeOf(exit: ExitInfo): number {
  if (exit.status !== null) return exit.status & 0xff;
  if (exit.signal) return 128 + (SIGNALS[exit.signal.name] ?? 0);
  return 0;
}

/**
 * Whether writes to `device` (our stdout or stderr) complete at once: a regular file, or a
 * character device that is not a terminal (/dev/null). Pipes, sockets and terminals can make a
 * writer wait, so they are written asynchronously.
 */
function writesNeverWait(device: string): boolean {
  try {
    const info = platform.stat(device);
    const terminal = device === "/dev/stdout"
      ? platform.stdout.isTerminal()
      : platform.stderr.isTerminal();
    return info.isFile || (info.isCharDevice === true && !terminal);
  } catch {
    return false;
  }
}

/** Bytes the stdout pump gathers into one write at most, and holds at most while writing. */
const PUMP_BATCH = 1024 * 1024;

/**
 * Copies a channel stream to stdout or stderr and resolves with the number of bytes written
 * (each write completed, so nothing is left to flush at exit); rejects if a write fails. Each
 * write is a costly call (~40 µs whatever its size), so chunks that arrive while a write is
 * under way are joined into the next one (up to `PUMP_BATCH`); reading pauses while that much
 * waits, which holds back the channel window.
 */
async function pump(
  stream: ReadableStream<Uint8Array>,
  out: { write(p: Uint8Array): Promise<number>; writeSync(p: Uint8Array): number },
  device: "/dev/stdout" | "/dev/stderr",
): Promise<number> {
  let written = 0;
  if (writesNeverWait(device)) {
    // A regular file or /dev/null: a synchronous write costs a few µs and cannot stall.
    for await (const chunk of stream) {
      let off = 0;
      while (off < chunk.length) {
        const n = out.writeSync(chunk.subarray(off));
        off += n;
        written += n;
      }
    }
    return written;
  }
  const queue: Uint8Array[] = [];
  let queued = 0;
  let ended = false;
  let failed: unknown = null;
  // Who waits for whom: the writer for data, the reader for room.
  const waiting: { writer: (() => void) | null; reader: (() => void) | null } = {
    writer: null,
    reader: null,
  };
  const wake = (who: "writer" | "reader") => {
    const resolve = waiting[who];
    waiting[who] = null;
    resolve?.();
  };
  const writer = (async () => {
    for (;;) {
      if (!queue.length) {
        if (ended) return;
        await new Promise<void>((resolve) => (waiting.writer = resolve));
        continue;
      }
      let data: Uint8Array;
      if (queue.length === 1) data = queue[0]!;
      else {
        data = new Uint8Array(queued);
        let o = 0;
        for (const c of queue) {
          data.set(c, o);
          o += c.length;
        }
      }
      queue.length = 0;
      queued = 0;
      wake("reader");
      let off = 0;
      while (off < data.length) {
        const n = await out.write(data.subarray(off));
        off += n;
        written += n;
      }
    }
  })().catch((e) => {
    failed = e;
    wake("reader");
  });
  try {
    for await (const chunk of stream) {
      if (failed) break;
      queue.push(chunk);
      queued += chunk.length;
      wake("writer");
      if (queued >= PUMP_BATCH) {
        await new Promise<void>((resolve) => (waiting.reader = resolve));
        if (failed) break;
      }
    }
  } finally {
    ended = true;
    wake("writer");
    await writer;
  }
  if (failed) throw failed;
  return written;
}

/**
 * Checks that everything the server sent reached our stdout and stderr: a data-stage error when
 * a write failed (a closed pipe, a full disk) or the counts disagree; null when they agree.
 */
async function checkDelivery(
  session: Session,
  pumps: Promise<number>[],
): Promise<{ written: number; error: SshError | null }> {
  const results = await Promise.allSettled(pumps);
  let written = 0;
  let cause = "";
  for (const r of results) {
    if (r.status === "fulfilled") written += r.value;
    else cause ||= (r.reason as Error)?.message ?? String(r.reason);
  }
  const expected = session.bytesIn - session.channel.bytesDiscarded;
  if (!cause && written === expected) return { written, error: null };
  const error = new SshError(
    "data",
    "data.output-incomplete",
    `only ${written} of the ${expected} bytes received reached stdout and stderr` +
      (cause ? `: ${cause}` : ""),
    { received: expected, written, cause: cause || null },
  );
  return { written, error };
}

/**
 * The pty's terminal modes, as OpenSSH sends them: the local terminal's (read before raw mode),
 * or a sane terminal's when there is none or it cannot be read; traced with the source.
 */
async function localTerminalModes(tracer: Tracer): Promise<Uint8Array> {
  // Loaded for a terminal session only, so other runs do not pay for its module at start.
  const { readLocalTerminal } = await import("../platform/termios.ts");
  const local = readLocalTerminal();
  const settings = local.settings ?? DEFAULT_TERMINAL_SETTINGS;
  const f = settings.flags;
  const on = (["ICRNL", "ONLCR", "ECHO", "ICANON", "ISIG"] as const)
    .map((n) => `${f[n] ? "" : "-"}${n.toLowerCase()}`).join(" ");
  tracer.emit({
    stage: "session",
    type: "info",
    message: `terminal modes from ${
      local.settings ? local.source : `defaults (stty sane; ${local.reason})`
    }: ${on}, ${settings.ospeed} baud`,
  });
  return encodeTerminalSettings(settings);
}

/**
 * Forwards stdin to the session; in a terminal handles `~.`, `~?` and `~~` after a newline
 * (`~` being EscapeChar: another byte, or `none` for no escapes).
 */
async function forwardStdin(
  session: Session,
  interactive: boolean,
  onDisconnect: () => void,
  escapeChar = "~",
) {
  const esc = escapeChar === "none" ? -1 : escapeChar.charCodeAt(0);
  const shown = esc < 0x20 ? `^${String.fromCharCode(esc + 64)}` : escapeChar;
  const buf = new Uint8Array(32 * 1024);
  let atLineStart = true;
  let tilde = false;
  for (;;) {
    let n: number | null;
    try {
      n = await platform.stdin.read(buf);
    } catch {
      return;
    }
    if (n === null) {
      await session.eof().catch(() => {});
      return;
    }
    let data = buf.slice(0, n);
    if (interactive && esc >= 0) {
      const out: number[] = [];
      for (const b of data) {
        if (tilde) {
          tilde = false;
          if (b === 0x2e) { // ~.
            writeErr(`\r\nConnection closed by ${shown}.\r\n`);
            onDisconnect();
            return;
          }
          if (b === 0x3f) { // ~?
            writeErr(
              `\r\nSupported escape sequences:\r\n ${shown}.  - terminate connection\r\n` +
                ` ${shown}?  - this message\r\n ${shown}${shown}  - send the escape character\r\n` +
                "(Note that escapes are only recognized immediately after newline.)\r\n",
            );
            atLineStart = false;
            continue;
          }
          if (b !== esc) out.push(esc);
          out.push(b);
          atLineStart = b === 0x0d || b === 0x0a;
          continue;
        }
        if (atLineStart && b === esc) {
          tilde = true;
          continue;
        }
        out.push(b);
        atLineStart = b === 0x0d || b === 0x0a;
      }
      data = new Uint8Array(out);
      if (!data.length) continue;
    }
    try {
      await session.write(data);
    } catch {
      return;
    }
  }
}

/** What every logging-in command (connect, send) shares: output, target and client options. */
export interface PreparedRun {
  tracer: Tracer;
  target: { host: string; port: number; user: string };
  /** The client options; their `signal` aborts on Ctrl-C while {@link execute} runs. */
  options: ConnectOptions;
  /** Runs the command's body as one run (lib/run.ts), Ctrl-C cancelling it. */
  execute<T>(body: (run: RunContext) => Promise<T>): Promise<RunOutcome<T>>;
  /** Ends the run: the failure box or summary, the JSON report (with `extra` fields). */
  finish(outcome: RunOutcome<unknown>, exitCode: number, extra?: Record<string, unknown>): void;
}

/** Builds the tracer (human trace on stderr, NDJSON on stdout) and the client options. */
export async function prepareRun(
  input: Omit<RunConnectInput, "command">,
): Promise<PreparedRun> {
  const { flags, settings } = input;
  const parsed = parseTarget(input.targetText);
  const host = settings.hostname ?? parsed.host;
  const port = settings.port ?? parsed.port ?? 22;
  const user = settings.user ?? parsed.user ?? defaultUser();
  const tty = platform.stdin.isTerminal();
  const batch = settings.batchMode ?? flags.batch ?? false;
  const { tracer, human } = makeOutput(outputFlags(flags, settings.logLevel));
  if (input.config) {
    traceConfig(tracer, input.config);
    if (!input.sendsEnvironment) noEnvironment(tracer, input.config);
  }
  const refusals = input.config ? configRefusals(input.config) : [];
  const home = env("HOME") ?? ".";
  const strict = settings.strictHostKeyChecking ?? (tty && canPrompt() && !batch ? "ask" : "yes");
  const methods = settings.disabledMethods
    ? (settings.preferredAuthentications ?? DEFAULT_METHODS).filter((m) =>
      !settings.disabledMethods!.includes(m)
    )
    : settings.preferredAuthentications;
  const options: ConnectOptions = {
    host,
    port,
    user,
    tracer,
    timeoutMs: input.timeoutMs,
    algorithms: settings.algorithms,
    legacy: flags.legacy ?? false,
    strictHostKeyChecking: strict,
    knownHostsFiles: [
      (settings.userKnownHostsFile ?? `${home}/.ssh/known_hosts`).replace(/^~(?=\/|$)/, home),
      ...(settings.globalKnownHostsFiles ?? ["/etc/ssh/ssh_known_hosts"]),
    ],
    // Without a terminal nobody can answer: `ask` then refuses unknown keys, as ssh(1) does.
    ask: strict === "ask" && canPrompt() ? confirm : undefined,
    hashKnownHosts: settings.hashKnownHosts,
    tcp: tcpOptions(settings),
    hostKeyAlias: settings.hostKeyAlias,
    rekeyLimitBytes: flags.rekeyLimit ? parseSize(flags.rekeyLimit) : settings.rekeyLimit,
    ...(settings.rekeySeconds ? { rekeyIntervalMs: settings.rekeySeconds * 1000 } : {}),
    requiredRsaSize: settings.requiredRsaSize,
    keepalive: settings.serverAliveInterval
      ? {
        intervalMs: settings.serverAliveInterval * 1000,
        countMax: settings.serverAliveCountMax ?? 3,
      }
      : undefined,
    auth: {
      methods,
      signers: signerLoader(tracer, settings, flags, batch),
      password: await passwordSource(flags, batch),
      kbdInteractive: keyboardResponder(batch),
      batchMode: batch,
      legacy: flags.legacy ?? false,
      ...(settings.passwordPrompts !== undefined
        ? { passwordPrompts: settings.passwordPrompts }
        : {}),
    },
  };
  const jump = jumpHosts(settings.proxyJump);
  const hops = jump.length ? hopOutput(flags) : null;
  if (hops) Object.assign(options, { jump, onHop: hops.onHop });
  else if (settings.proxyCommand) options.proxyCommand = settings.proxyCommand;
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
  return { tracer, target: { host, port, user }, options, execute, finish };
}

/** Notes (with -v) that SendEnv/SetEnv are not sent, and where they were set. */
function noEnvironment(tracer: Tracer, config: SshConfig): void {
  const set = [
    ["SendEnv", config.lists.get("sendenv")?.[0]?.origin],
    ["SetEnv", config.values.get("setenv")?.origin],
  ] as const;
  for (const [keyword, origin] of set) {
    if (!origin || origin.kind === "default") continue;
    tracer.emit({
      stage: "config",
      type: "info",
      message: `${keyword} (${originText(origin)}) is not sent by this command: device shells ` +
        "often refuse environment requests",
    });
  }
}

/** The TCP options of the settings (AddressFamily, ConnectionAttempts, TCPKeepAlive). */
export function tcpOptions(settings: Settings): TcpOptions {
  return {
    ...(settings.addressFamily ? { family: settings.addressFamily } : {}),
    ...(settings.connectionAttempts ? { attempts: settings.connectionAttempts } : {}),
    ...(settings.tcpKeepAlive !== undefined ? { keepAlive: settings.tcpKeepAlive } : {}),
  };
}

/**
 * The output flags with ssh_config's LogLevel applied where no flag says otherwise: QUIET,
 * FATAL and ERROR show only failures (-q), DEBUG/DEBUG1 is -v, DEBUG2 and DEBUG3 are -vv.
 */
export function outputFlags<F extends { verbose: number; quiet?: true }>(
  flags: F,
  logLevel: string | undefined,
): F {
  if (!logLevel || flags.verbose > 0 || flags.quiet) return flags;
  if (["QUIET", "FATAL", "ERROR"].includes(logLevel)) return { ...flags, quiet: true };
  if (logLevel === "DEBUG" || logLevel === "DEBUG1") return { ...flags, verbose: 1 };
  if (logLevel === "DEBUG2" || logLevel === "DEBUG3") return { ...flags, verbose: 2 };
  return flags;
}

/** Runs the connect command and returns the process exit code. */
export async function runConnect(input: RunConnectInput): Promise<number> {
  const { flags } = input;
  // Checked before prepareRun installs the Ctrl-C handler (a usage error must not leave it).
  const forwards = localForwardSpecs(input.settings.localForwards);
  const remoteForwards = localForwardSpecs(input.settings.remoteForwards, "-R");
  const socks = dynamicForwardSpecs(input.settings.dynamicForwards);
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
  const outcome = await run.execute(async (ctx) => {
    try {
      const client = await connect(run.options);
      ctx.closeOnStop(() => client.transport.close());
      startLocalForwards(client, forwards);
      startDynamicForwards(client, socks);
      await startRemoteForwards(client, remoteForwards);
      if (flags.W !== undefined) {
        await stdioForward(client, flags.W);
        return await client.close();
      }
      if (flags.N) return await holdOpen(client);
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
      if (interactive) {
        platform.stdin.setRaw(true);
        const onWinch = () => {
          const s = platform.consoleSize();
          session.windowChange(s.columns, s.rows).catch(() => {});
        };
        const removeWinch = platform.onSignal("SIGWINCH", onWinch);
        restoreTty = () => {
          restoreTty = () => {};
          try {
            removeWinch();
            platform.stdin.setRaw(false);
          } catch {
            // the terminal may be gone
          }
        };
      }
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
