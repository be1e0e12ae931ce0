/**
 * The facade: open a transport to a host (or over any byte stream), probe a server, and build
 * the report. Emits trace events through the caller's tracer; never prints.
 * @module
 */

import {
  AlgorithmListError,
  buildOffer,
  findHostKey,
  type ListCategory,
} from "./algorithms/registry.ts";
import { authenticate, type AuthOptions, type AuthResult } from "./auth/userauth.ts";
import { Connection } from "./connection/mux.ts";
import { startKeepalive } from "./connection/keepalive.ts";
import type { ExitInfo, PtyOptions, Session } from "./connection/session.ts";
import { requestService } from "./auth/service.ts";
import {
  defaultKnownHostsFiles,
  hostKeyPolicy,
  knownKeyTypes,
  type StrictMode,
} from "./config/hostkey_policy.ts";
import { connectTcp } from "./net.ts";
import { platform } from "./platform/mod.ts";
import { gradeServer } from "./diagnose/grade.ts";
import { slowStages } from "./diagnose/explain.ts";
import { buildReport, type Report } from "./render/report.ts";
import { SshTraceError } from "./errors/mod.ts";
import type { SftpClient, SftpOptions } from "./transfer/sftp_client.ts";
import { startSftpOn } from "./transfer/session.ts";
import { Tracer } from "./trace.ts";
import type { Stage } from "./types.ts";
import { STRICT_KEX_S } from "./transport/kexinit.ts";
import type { ByteStream } from "./transport/stream.ts";
import { startTransport, type Transport } from "./transport/transport.ts";

/** Options shared by every command. */
export interface ClientOptions {
  host: string;
  /** @default 22 */
  port?: number;
  /** @default $USER */
  user?: string;
  /** Limit for every network wait, in milliseconds. @default 10000 */
  timeoutMs?: number;
  /** Where events go; a new silent tracer when omitted. */
  tracer?: Tracer;
  /** OpenSSH-style list edits per category, applied in order (`+a`, `-a`, `^a`, `a,b`). */
  algorithms?: Partial<Record<ListCategory, string[]>>;
  /** Offer every legacy algorithm too (after the modern ones). @default false */
  legacy?: boolean;
  /** @default "yes" */
  strictHostKeyChecking?: StrictMode;
  /** known_hosts files; the first is where accepted keys are written. */
  knownHostsFiles?: string[];
  /** For `ask`: puts the question to the user. */
  ask?: (question: string) => Promise<boolean>;
  /** Run over this stream instead of opening a TCP connection. */
  stream?: ByteStream;
  /** Rekey after this many bytes. @default 1 GiB */
  rekeyLimitBytes?: number;
  /** The smallest RSA host or user key accepted (OpenSSH's RequiredRSASize). @default 1024 */
  requiredRsaSize?: number;
}

/** Turns anything thrown into a staged error (an unexpected bug still gets a stage, no stack). */
export function toTraceError(e: unknown, stage: Stage): SshTraceError {
  if (e instanceof SshTraceError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new SshTraceError(
    stage,
    `${stage}.internal`,
    `internal error during stage ${stage}: ${message}`,
    {},
    {
      cause: e,
    },
  );
}

/**
 * Turns anything thrown during a run into a staged error and records it as the trace's `error`
 * event (at stage `connect` for a usage error), so every caller reports failures the same way.
 */
export function recordFailure(tracer: Tracer, e: unknown): SshTraceError {
  const error = toTraceError(e, tracer.currentStage ?? "connect");
  tracer.emit({
    stage: error.stage === "usage" ? "connect" : error.stage,
    type: "error",
    code: error.code,
    message: error.message,
  });
  return error;
}

/** The user name to use when none is given. */
export function defaultUser(): string {
  return platform.env("USER") ?? platform.env("LOGNAME") ?? "root";
}

function home(): string | undefined {
  return platform.env("HOME");
}

/**
 * Connects and completes the version exchange, key exchange and host key check. The
 * connection is closed again if any of it fails.
 */
export async function openTransport(options: ClientOptions): Promise<Transport> {
  const tracer = options.tracer ?? new Tracer();
  const port = options.port ?? 22;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const files = options.knownHostsFiles ?? defaultKnownHostsFiles(home());
  let offer;
  try {
    offer = buildOffer(options.algorithms ?? {}, options.legacy ?? false);
  } catch (e) {
    if (e instanceof AlgorithmListError) {
      throw new SshTraceError("usage", "usage.invalid", e.message);
    }
    throw e;
  }
  // Like ssh(1): prefer host key algorithms of the types already known for this host, so a
  // server with several keys is not reported as unknown or changed.
  const known = await knownKeyTypes(files, options.host, port);
  if (known.length) {
    const first = offer.hostKey.filter((n) => known.includes(findHostKey(n)?.keyType ?? ""));
    offer.hostKey = [...first, ...offer.hostKey.filter((n) => !first.includes(n))];
  }
  let stream = options.stream;
  tracer.begin("connect");
  if (!stream) {
    stream = (await connectTcp(options.host, port, timeoutMs, tracer)).stream;
  }
  tracer.end("connect");
  return await startTransport(stream, {
    tracer,
    timeoutMs,
    offer,
    legacy: options.legacy ?? false,
    rekeyLimitBytes: options.rekeyLimitBytes,
    requiredRsaSize: options.requiredRsaSize,
    checkHostKey: hostKeyPolicy({
      mode: options.strictHostKeyChecking ?? "yes",
      host: options.host,
      port,
      knownHostsFiles: files,
      tracer,
      ask: options.ask,
    }),
  });
}

/**
 * Adds the diagnosis events at the end of a run: stages that were slow for their kind and, when
 * asked, the security grade of the server's offer.
 */
export function emitDiagnostics(tracer: Tracer, options: { grade: boolean }): void {
  tracer.summarize();
  if (options.grade) {
    const offer = tracer.events.find((e) => e.type === "kexinit-received");
    if (offer && offer.type === "kexinit-received") {
      const key = tracer.events.find((e) => e.type === "key");
      const g = gradeServer(offer.lists, {
        strictKex: offer.lists.kex.includes(STRICT_KEX_S),
        hostKeyType: key?.type === "key" ? key.keyType : undefined,
        hostKeyBits: key?.type === "key" ? key.bits ?? undefined : undefined,
      });
      tracer.emit({
        stage: "kex",
        type: "grade",
        letter: g.letter,
        score: g.score,
        reasons: g.reasons.map((r) => ({
          deduction: r.deduction,
          reason: r.reason,
          algorithms: r.algorithms,
        })),
      });
    }
  }
  for (const slow of slowStages(tracer.timings, tracer.events)) {
    tracer.emit({
      stage: slow.stage,
      type: "slow",
      ms: slow.ms,
      thresholdMs: slow.thresholdMs,
      why: slow.why,
    });
  }
}

/** Options of {@link probe}. */
export type ProbeOptions = Omit<ClientOptions, "strictHostKeyChecking" | "ask">;

/**
 * Probes a server without credentials: connect, version, key exchange, host key status (never
 * written), then the `none` authentication request to learn the offered methods and banner.
 *
 * @example
 * ```ts
 * const report = await probe({ host: "127.0.0.1", port: 2222 });
 * console.log(report.kex?.algorithm, report.auth?.methods);
 * ```
 */
export async function probe(options: ProbeOptions): Promise<Report> {
  return (await runProbe(options)).report;
}

/** {@link probe}, also returning the error behind a failed report (for renderers). */
export async function runProbe(
  options: ProbeOptions,
): Promise<{ report: Report; error: SshTraceError | null }> {
  const tracer = options.tracer ?? new Tracer();
  const user = options.user ?? defaultUser();
  let error: SshTraceError | null = null;
  let transport: Transport | null = null;
  try {
    transport = await openTransport({ ...options, tracer, strictHostKeyChecking: "report" });
    tracer.begin("auth");
    await requestService(transport);
    await authenticate(transport, {
      user,
      probeOnly: true,
      host: options.host,
      timeoutMs: options.timeoutMs ?? 10_000,
    });
    tracer.end("auth");
    await transport.disconnect(11, "probe finished");
  } catch (e) {
    error = recordFailure(tracer, e);
    transport?.close();
  }
  const current = tracer.currentStage;
  if (current) tracer.end(current);
  emitDiagnostics(tracer, { grade: true });
  const report = buildReport(tracer.events, {
    host: options.host,
    port: options.port ?? 22,
    user,
    error,
    timings: tracer.timings,
  });
  return { report, error };
}

/** Options of {@link connect}: where to go, plus how to authenticate. */
export interface ConnectOptions extends ClientOptions {
  /** Authentication sources (keys, password, keyboard-interactive) and method order. */
  auth?: Omit<AuthOptions, "user" | "probeOnly" | "host">;
  /** Our channel window and maximum packet (old devices want 16 KiB). */
  windowSize?: number;
  maxPacket?: number;
  /** ServerAliveInterval / ServerAliveCountMax; interval 0 turns keepalives off. */
  keepalive?: { intervalMs: number; countMax: number };
}

/** An authenticated connection. */
export class Client {
  readonly tracer: Tracer;
  readonly transport: Transport;
  readonly connection: Connection;
  readonly auth: AuthResult;
  #stopKeepalive: () => void;
  #closing: Promise<void> | undefined;

  constructor(
    tracer: Tracer,
    transport: Transport,
    connection: Connection,
    auth: AuthResult,
    stopKeepalive: () => void,
  ) {
    this.tracer = tracer;
    this.transport = transport;
    this.connection = connection;
    this.auth = auth;
    this.#stopKeepalive = stopKeepalive;
  }

  /** Opens a session channel, optionally with a pty (stage `session`). */
  async openSession(pty?: PtyOptions): Promise<Session> {
    this.tracer.begin("session");
    const session = await this.connection.openSession();
    if (pty) await session.requestPty(pty);
    return session;
  }

  /**
   * Runs a command and collects its output (for scripts; interactive use streams instead).
   *
   * @example
   * ```ts
   * const client = await connect({ host: "127.0.0.1", user: "me", auth: { signers } });
   * const { stdout, exit } = await client.exec("uname -a");
   * await client.close();
   * ```
   */
  async exec(
    command: string,
    options: { stdin?: Uint8Array; pty?: PtyOptions } = {},
  ): Promise<{ stdout: Uint8Array; stderr: Uint8Array; exit: ExitInfo }> {
    const session = await this.openSession(options.pty);
    await session.exec(command);
    this.tracer.begin("data");
    if (options.stdin) await session.write(options.stdin);
    await session.eof();
    const [stdout, stderr] = await Promise.all([
      new Response(session.stdout).arrayBuffer(),
      new Response(session.stderr).arrayBuffer(),
    ]);
    const exit = await session.exit;
    this.tracer.end("data");
    return { stdout: new Uint8Array(stdout), stderr: new Uint8Array(stderr), exit };
  }

  /**
   * Opens an SFTP session (the `sftp` subsystem, stage `transfer`); rejects with
   * `transfer.no-sftp` when the server has none. Copies: lib/transfer/sftp_files.ts.
   *
   * @example
   * ```ts
   * const sftp = await client.sftp();
   * const size = (await sftp.stat("/etc/hostname")).size;
   * await sftp.end();
   * ```
   */
  async sftp(options: SftpOptions = {}): Promise<SftpClient> {
    const session = await this.openSession();
    this.tracer.begin("transfer");
    return await startSftpOn(session, this.tracer, options);
  }

  /** Disconnects cleanly (once: later calls wait for the first). */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stopKeepalive();
      await this.connection.close().catch(() => {});
      await this.transport.disconnect(11, "disconnected by user");
    })();
    return this.#closing;
  }
}

/**
 * Connects, checks the host key, authenticates and starts the connection layer.
 * Throws `SshTraceError` naming the failed stage.
 */
export async function connect(options: ConnectOptions): Promise<Client> {
  const tracer = options.tracer ?? new Tracer();
  const user = options.user ?? defaultUser();
  const transport = await openTransport({ ...options, tracer });
  try {
    tracer.begin("auth");
    await requestService(transport);
    const auth = await authenticate(transport, {
      ...options.auth,
      user,
      host: options.host,
      timeoutMs: options.timeoutMs ?? 10_000,
    });
    tracer.end("auth");
    // A quirk of the server's firmware may ask for smaller windows (see quirks.ts).
    const connection = new Connection(transport, {
      windowSize: options.windowSize ?? transport.adjustments.windowSize,
      maxPacket: options.maxPacket ?? transport.adjustments.maxPacket,
      replyTimeoutMs: options.timeoutMs ?? 10_000,
    });
    connection.start();
    const ka = options.keepalive;
    const stop = ka && ka.intervalMs > 0 ? startKeepalive(connection, ka) : () => {};
    return new Client(tracer, transport, connection, auth, stop);
  } catch (e) {
    transport.close();
    throw e;
  }
}
