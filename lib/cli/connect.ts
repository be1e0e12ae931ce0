/**
 * `sshtrace [connect] [user@]host[:port] [command…]`: the CLI side of logging in — credential
 * sources, prompts, the interactive terminal (raw mode, resize, `~` escapes) and the exit code.
 * Local I/O (through the platform seam) lives here so the protocol layers stay testable in memory.
 * @module
 */

import type { KbdInteractiveResponder, PasswordRequest, PasswordSource } from "../auth/userauth.ts";
import type { Signer } from "../auth/types.ts";
import { AgentClient } from "../keys/agent.ts";
import { defaultIdentityFiles, KeyFileError, loadPrivateKeyFile } from "../keys/private_key.ts";
import { parseSize, parseTarget, type Settings, usageError } from "../config/options.ts";
import { connect, type ConnectOptions, defaultUser } from "../client.ts";
import type { ExitInfo, Session } from "../connection/session.ts";
import { DEFAULT_TERMINAL_SETTINGS, encodeTerminalSettings } from "../connection/terminal_modes.ts";
import { platform } from "../platform/mod.ts";
import { reportToJson } from "../render/ndjson.ts";
import { sanitize } from "../render/sanitize.ts";
import { type RunContext, runLifecycle, type RunOutcome } from "../run.ts";
import { SshTraceError } from "../errors/mod.ts";
import type { Tracer } from "../trace.ts";
import { canPrompt, confirm, interruptOnCtrlC, prompt } from "./tty.ts";
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
  passwordEnv?: string;
  passwordFile?: string;
  passphraseEnv?: string;
  passphraseFile?: string;
  rekeyLimit?: string;
  batch?: true;
  N?: true;
  W?: string;
}

export interface RunConnectInput {
  targetText: string;
  command: string[];
  flags: ConnectFlags;
  settings: Settings;
  timeoutMs: number;
}

async function readSecretFile(path: string, what: string): Promise<string> {
  try {
    return (await platform.readTextFile(path)).replace(/\r?\n$/, "");
  } catch (e) {
    throw usageError(`cannot read the ${what} file ${path}: ${(e as Error).message}`);
  }
}

/**
 * The words of a password prompt: the server's own prompt when it asks (keyboard-interactive),
 * else OpenSSH's `user@host's password: `.
 */
export function passwordPrompt(request: PasswordRequest): string {
  if (request.serverPrompt !== null) return request.serverPrompt;
  return request.host
    ? `${request.user}@${request.host}'s password: `
    : `${request.user}'s password: `;
}

/** Password source from flags (env var, file) or the terminal. */
export async function passwordSource(
  flags: ConnectFlags,
  batch: boolean,
): Promise<PasswordSource | null> {
  if (flags.passwordEnv) {
    const name = flags.passwordEnv;
    if (env(name) === undefined) {
      throw usageError(`--password-env ${name}: the variable is not set`);
    }
    return { get: () => Promise.resolve(env(name) ?? null), fromUser: false };
  }
  if (flags.passwordFile) {
    const pw = await readSecretFile(flags.passwordFile, "password");
    return { get: () => Promise.resolve(pw), fromUser: false };
  }
  if (batch || !canPrompt()) return null;
  return {
    get: (request) => prompt(passwordPrompt(request), false, { stage: "auth", what: "password" }),
    fromUser: true,
  };
}

async function passphraseSource(flags: ConnectFlags, batch: boolean) {
  if (flags.passphraseEnv) {
    const name = flags.passphraseEnv;
    return (_file: string) => Promise.resolve(env(name) ?? null);
  }
  if (flags.passphraseFile) {
    const p = await readSecretFile(flags.passphraseFile, "passphrase");
    return (_file: string) => Promise.resolve(p);
  }
  if (batch || !canPrompt()) return null;
  return (file: string) =>
    prompt(`Enter passphrase for key '${file}': `, false, { stage: "auth", what: "passphrase" });
}

function keyboardResponder(batch: boolean): KbdInteractiveResponder | null {
  if (batch || !canPrompt()) return null;
  return async (req) => {
    // Name and instruction are the server's words: shown sanitized, as every prompt is.
    if (req.name) writeErr(sanitize(req.name, { multiline: true }) + "\n");
    if (req.instruction) writeErr(sanitize(req.instruction, { multiline: true }) + "\n");
    const answers: string[] = [];
    for (const p of req.prompts) {
      const a = await prompt(p.prompt, p.echo, { stage: "auth", what: "keyboard-interactive" });
      if (a === null) return null;
      answers.push(a);
    }
    return answers;
  };
}

/** Key files and agent keys, loaded when publickey is first tried. */
export function signerLoader(
  tracer: Tracer,
  settings: Settings,
  flags: ConnectFlags,
  batch: boolean,
): () => Promise<Signer[]> {
  return async () => {
    const explicit = [...(flags.identity ?? []), ...settings.identityFiles];
    const home = env("HOME") ?? ".";
    const files = explicit.length
      ? explicit.map((f) => f.replace(/^~(?=\/|$)/, home))
      : defaultIdentityFiles(home);
    const passphrase = await passphraseSource(flags, batch);
    const signers: Signer[] = [];
    for (const file of files) {
      try {
        signers.push(
          await loadPrivateKeyFile(file, {
            passphrase: passphrase ? () => passphrase(file) : undefined,
          }),
        );
      } catch (e) {
        if (e instanceof KeyFileError) {
          if (e.reason === "unreadable" && !explicit.length) continue;
          tracer.emit({ stage: "auth", type: "info", message: `key skipped: ${e.message}` });
          continue;
        }
        throw e;
      }
    }
    const sock = env("SSH_AUTH_SOCK");
    if (sock) {
      try {
        const agent = await AgentClient.connect(sock);
        let keys = await agent.identities();
        if (settings.identitiesOnly) {
          keys = keys.filter((k) => signers.some((s) => sameBlob(s.publicBlob, k.publicBlob)));
        }
        tracer.emit({
          stage: "auth",
          type: "info",
          message: `ssh-agent offers ${keys.length} key(s)`,
        });
        signers.push(...keys);
      } catch (e) {
        tracer.emit({
          stage: "auth",
          type: "info",
          message: `ssh-agent not used: ${(e as Error).message}`,
        });
      }
    }
    return signers;
  };
}

function sameBlob(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
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
): Promise<{ written: number; error: SshTraceError | null }> {
  const results = await Promise.allSettled(pumps);
  let written = 0;
  let cause = "";
  for (const r of results) {
    if (r.status === "fulfilled") written += r.value;
    else cause ||= (r.reason as Error)?.message ?? String(r.reason);
  }
  const expected = session.bytesIn - session.channel.bytesDiscarded;
  if (!cause && written === expected) return { written, error: null };
  const error = new SshTraceError(
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

/** Forwards stdin to the session; in a terminal handles `~.`, `~?` and `~~` after a newline. */
async function forwardStdin(session: Session, interactive: boolean, onDisconnect: () => void) {
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
    if (interactive) {
      const out: number[] = [];
      for (const b of data) {
        if (tilde) {
          tilde = false;
          if (b === 0x2e) { // ~.
            writeErr("\r\nConnection closed by ~.\r\n");
            onDisconnect();
            return;
          }
          if (b === 0x3f) { // ~?
            writeErr(
              "\r\nSupported escape sequences:\r\n ~.  - terminate connection\r\n ~?  - this message\r\n" +
                " ~~  - send the escape character\r\n(Note that escapes are only recognized immediately after newline.)\r\n",
            );
            atLineStart = false;
            continue;
          }
          if (b !== 0x7e) out.push(0x7e);
          out.push(b);
          atLineStart = b === 0x0d || b === 0x0a;
          continue;
        }
        if (atLineStart && b === 0x7e) {
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
  const port = settings.port ?? parsed.port ?? 22;
  const user = settings.user ?? parsed.user ?? defaultUser();
  const tty = platform.stdin.isTerminal();
  const batch = settings.batchMode ?? flags.batch ?? false;
  const { tracer, human } = makeOutput(flags);
  const home = env("HOME") ?? ".";
  const strict = settings.strictHostKeyChecking ?? (tty && canPrompt() && !batch ? "ask" : "yes");
  const options: ConnectOptions = {
    host: parsed.host,
    port,
    user,
    tracer,
    timeoutMs: input.timeoutMs,
    algorithms: settings.algorithms,
    legacy: flags.legacy ?? false,
    strictHostKeyChecking: strict,
    knownHostsFiles: [
      (settings.userKnownHostsFile ?? `${home}/.ssh/known_hosts`).replace(/^~(?=\/|$)/, home),
      "/etc/ssh/ssh_known_hosts",
    ],
    // Without a terminal nobody can answer: `ask` then refuses unknown keys, as ssh(1) does.
    ask: strict === "ask" && canPrompt() ? confirm : undefined,
    rekeyLimitBytes: flags.rekeyLimit ? parseSize(flags.rekeyLimit) : settings.rekeyLimit,
    requiredRsaSize: settings.requiredRsaSize,
    keepalive: settings.serverAliveInterval
      ? {
        intervalMs: settings.serverAliveInterval * 1000,
        countMax: settings.serverAliveCountMax ?? 3,
      }
      : undefined,
    auth: {
      methods: settings.preferredAuthentications,
      signers: signerLoader(tracer, settings, flags, batch),
      password: await passwordSource(flags, batch),
      kbdInteractive: keyboardResponder(batch),
      batchMode: batch,
      legacy: flags.legacy ?? false,
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
      return await runLifecycle({ tracer, signal: interrupt.signal, grade: false }, body);
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
      const report = outcome.report({ host: parsed.host, port, user }, exitCode);
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
  return { tracer, target: { host: parsed.host, port, user }, options, execute, finish };
}

/** Runs the connect command and returns the process exit code. */
export async function runConnect(input: RunConnectInput): Promise<number> {
  const { flags } = input;
  // Checked before prepareRun installs the Ctrl-C handler (a usage error must not leave it).
  const forwards = localForwardSpecs(input.settings.localForwards);
  const remoteForwards = localForwardSpecs(input.settings.remoteForwards, "-R");
  const socks = dynamicForwardSpecs(input.settings.dynamicForwards);
  if (flags.W !== undefined) stdioTarget(flags.W);
  const run = await prepareRun(input);
  const { tracer } = run;
  const tty = platform.stdin.isTerminal();
  const command = input.command.join(" ");
  const wantPty = flags.T ? false : flags.t ? true : command === "" && tty;

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
        command ? { command } : { shell: true },
      );
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
      forwardStdin(session, interactive, () => {
        closedByUser = true;
        userClosed();
        client.close().catch(() => {});
      });
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
