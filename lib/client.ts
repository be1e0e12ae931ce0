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
} from "./hostkeys/policy.ts";
import { connectTcp } from "./net.ts";
import { platform } from "./platform/mod.ts";
import { SshTraceError } from "./errors/mod.ts";
import type { Stage } from "./types.ts";
import { failureOf, onAbort, runLifecycle, whenAborted } from "./run.ts";
import { type Span, type TraceEvent, Tracer } from "./trace.ts";
import type { ByteStream } from "./transport/stream.ts";
import type { ServerVersion } from "./transport/version.ts";
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
  /** Send our version line only after the server's (devices that drop earlier data). */
  versionAfterGreeting?: boolean;
  /** The group sizes a group exchange asks for (bits), instead of the defaults (audits). */
  gexRequest?: { min: number; preferred: number; max: number };
  /** Offer strict kex (Terrapin countermeasure); off only for servers that break it. @default true */
  strictKex?: boolean;
  /**
   * Cancels the connection attempt and, once connected, the connection: the socket is closed,
   * every pending operation rejects with `<stage>.aborted` (the stage it was in) carrying
   * `signal.reason` as its cause.
   */
  signal?: AbortSignal;
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
  const { signal } = options;
  if (signal?.aborted) throw failureOf(signal.reason, signal, "connect");
  const span = tracer.span("connect");
  let stream = options.stream;
  if (!stream) {
    try {
      stream = (await connectTcp(options.host, port, timeoutMs, tracer, signal)).stream;
    } catch (e) {
      throw whenAborted(e, signal, "connect");
    }
  }
  span.end();
  const opened = stream;
  // Cancelling closes the stream: the handshake's pending read or write wakes and rejects.
  const stopListening = onAbort(signal, () => opened.close());
  try {
    return await startTransport(opened, {
      tracer,
      timeoutMs,
      offer,
      legacy: options.legacy ?? false,
      rekeyLimitBytes: options.rekeyLimitBytes,
      requiredRsaSize: options.requiredRsaSize,
      versionAfterGreeting: options.versionAfterGreeting,
      gexRequest: options.gexRequest,
      strictKex: options.strictKex,
      checkHostKey: hostKeyPolicy({
        mode: options.strictHostKeyChecking ?? "yes",
        host: options.host,
        port,
        knownHostsFiles: files,
        tracer,
        ask: options.ask,
      }),
    });
  } catch (e) {
    throw whenAborted(e, signal, "version");
  } finally {
    stopListening();
  }
}

/** Options of {@link probe}. */
export type ProbeOptions = Omit<ClientOptions, "strictHostKeyChecking" | "ask">;

/**
 * What a probe found. Parts the probe did not reach are null; the trace holds the rest (every
 * negotiation decision, the host key and its status). `probeReport()` (lib/render/report.ts)
 * turns it into the JSON report.
 */
export interface ProbeResult {
  ok: boolean;
  /** The staged failure (also the trace's `error` event), or null. */
  error: SshTraceError | null;
  target: { host: string; port: number; user: string };
  /** The server's version line, parsed. */
  serverVersion: ServerVersion | null;
  /** The answer to the `none` request: the methods offered, the banner. */
  auth: AuthResult | null;
  /** Milliseconds per stage. */
  timings: Partial<Record<Stage, number>>;
  /** The trace of the probe, diagnosis events (grade, slow stages) included. */
  events: readonly TraceEvent[];
}

/**
 * Probes a server without credentials: connect, version, key exchange, host key status (never
 * written), then the `none` authentication request to learn the offered methods and banner.
 * Never throws: a failure is the result's `error`.
 *
 * @example
 * ```ts
 * const result = await probe({ host: "127.0.0.1", port: 2222, signal: AbortSignal.timeout(5000) });
 * console.log(result.serverVersion?.software, result.auth?.methods);
 * ```
 */
export async function probe(options: ProbeOptions): Promise<ProbeResult> {
  const tracer = options.tracer ?? new Tracer();
  const user = options.user ?? defaultUser();
  let transport: Transport | null = null;
  const outcome = await runLifecycle(
    { tracer, signal: options.signal, grade: true },
    async (run) => {
      transport = await openTransport({ ...options, tracer, strictHostKeyChecking: "report" });
      const t = transport;
      run.closeOnStop(() => t.close());
      const span = tracer.span("auth");
      await requestService(t);
      const auth = await authenticate(t, {
        user,
        probeOnly: true,
        host: options.host,
        timeoutMs: options.timeoutMs ?? 10_000,
      });
      span.end();
      await t.disconnect(11, "probe finished");
      return auth;
    },
  );
  return {
    ok: outcome.error === null,
    error: outcome.error,
    target: { host: options.host, port: options.port ?? 22, user },
    serverVersion: (transport as Transport | null)?.serverVersion ?? null,
    auth: outcome.value ?? null,
    timings: tracer.timings,
    events: tracer.events,
  };
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

/** How {@link Client.openSession} starts the session once the channel is open. */
export type SessionStart = { command: string } | { shell: true };

/** An authenticated connection. */
export class Client {
  readonly tracer: Tracer;
  readonly transport: Transport;
  readonly connection: Connection;
  readonly auth: AuthResult;
  #stopKeepalive: () => void;
  #closing: Promise<void> | undefined;
  #signal: AbortSignal | undefined;
  #stopListening: () => void;
  /** Each session's key in the trace (its span's channel number). */
  #keys = new WeakMap<Session, number>();
  #sessions = 0;

  constructor(
    tracer: Tracer,
    transport: Transport,
    connection: Connection,
    auth: AuthResult,
    stopKeepalive: () => void,
    signal?: AbortSignal,
  ) {
    this.tracer = tracer;
    this.transport = transport;
    this.connection = connection;
    this.auth = auth;
    this.#stopKeepalive = stopKeepalive;
    this.#signal = signal;
    // Cancelling closes the connection: every read and write pending on it rejects.
    this.#stopListening = onAbort(signal, () => {
      this.#stopKeepalive();
      transport.close();
    });
  }

  /**
   * Opens a session channel, optionally with a pty, and starts it when `start` says how (a
   * command or a shell). Traced as stage `session` for this channel alone
   * (`session#N`), ended when this returns.
   */
  async openSession(pty?: PtyOptions, start?: SessionStart): Promise<Session> {
    const key = this.#sessions++;
    const span = this.tracer.span("session", { channel: key });
    try {
      const session = await this.connection.openSession();
      this.#keys.set(session, key);
      if (pty) await session.requestPty(pty);
      if (start && "command" in start) await session.exec(start.command);
      else if (start) await session.shell();
      span.end();
      return session;
    } catch (e) {
      throw whenAborted(e, this.#signal, "session");
    }
  }

  /**
   * Begins stage `data` for a session opened by {@link openSession} (`data#N`, the same N):
   * end the span when its data is done. Concurrent sessions each have their own.
   */
  dataSpan(session: Session): Span {
    return this.tracer.span("data", { channel: this.#keys.get(session) });
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
    const session = await this.openSession(options.pty, { command });
    const span = this.dataSpan(session);
    try {
      if (options.stdin) await session.write(options.stdin);
      await session.eof();
      const [stdout, stderr] = await Promise.all([
        new Response(session.stdout).arrayBuffer(),
        new Response(session.stderr).arrayBuffer(),
      ]);
      const exit = await session.exit;
      span.end();
      return { stdout: new Uint8Array(stdout), stderr: new Uint8Array(stderr), exit };
    } catch (e) {
      throw whenAborted(e, this.#signal, "data");
    }
  }

  /** Disconnects cleanly (once: later calls wait for the first). */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stopListening();
      this.#stopKeepalive();
      await this.connection.close().catch(() => {});
      await this.transport.disconnect(11, "disconnected by user");
    })();
    return this.#closing;
  }
}

/**
 * Connects, checks the host key, authenticates and starts the connection layer.
 * Throws `SshTraceError` naming the failed stage (`<stage>.aborted` when `signal` aborts).
 */
export async function connect(options: ConnectOptions): Promise<Client> {
  const tracer = options.tracer ?? new Tracer();
  const user = options.user ?? defaultUser();
  const { signal } = options;
  const transport = await openTransport({ ...options, tracer });
  const stopListening = onAbort(signal, () => transport.close());
  try {
    const span = tracer.span("auth");
    await requestService(transport);
    const auth = await authenticate(transport, {
      ...options.auth,
      user,
      host: options.host,
      timeoutMs: options.timeoutMs ?? 10_000,
    });
    span.end();
    if (signal?.aborted) throw signal.reason;
    // A quirk of the server's firmware may ask for smaller windows (see quirks.ts).
    const connection = new Connection(transport, {
      windowSize: options.windowSize ?? transport.adjustments.windowSize,
      maxPacket: options.maxPacket ?? transport.adjustments.maxPacket,
      replyTimeoutMs: options.timeoutMs ?? 10_000,
    });
    connection.start();
    const ka = options.keepalive;
    const stop = ka && ka.intervalMs > 0 ? startKeepalive(connection, ka) : () => {};
    return new Client(tracer, transport, connection, auth, stop, signal);
  } catch (e) {
    transport.close();
    throw whenAborted(e, signal, "auth");
  } finally {
    stopListening();
  }
}
