/**
 * The facade: probe a server (lib/client/probe.ts), or connect and authenticate for a {@link Client} (its transport
 * opened by lib/client/open_transport.ts, over TCP or any byte stream). Emits trace events through the caller's tracer; never prints.
 * @module
 */

import { authenticate, type AuthOptions, type AuthResult } from "./auth/userauth.ts";
import { Connection } from "./connection/mux.ts";
import { startKeepalive } from "./connection/keepalive.ts";
import type { ExitInfo, PtyOptions, Session } from "./connection/session.ts";
import { requestService } from "./auth/service.ts";
import type { SftpClient, SftpOptions } from "./transfer/sftp_client.ts";
import { onAbort, whenAborted } from "./run.ts";
import { type Span, Tracer } from "./trace.ts";
import type { ByteStream } from "./transport/stream.ts";
import { concatBytes } from "./wire/buffer.ts";
// Jump chains and SFTP are loaded when used: a plain login does not pay for their modules.
import type { HopTrace, JumpHost } from "./jump/chain.ts";
import { channelStream } from "./forward/channel_stream.ts";
import { openDirectTcpip } from "./forward/direct.ts";
import { forwardLocal, type LocalForward, type LocalForwardOptions } from "./forward/local.ts";
import { type ForwardSpec, parseDynamicSpec, parseForwardSpec } from "./forward/spec.ts";
import { forwardDynamic } from "./forward/dynamic.ts";
import { AGENT_CHANNEL, AGENT_REQUEST, AGENT_WARNING, agentChannels } from "./forward/agent.ts";
import { type RemoteForward, RemoteForwards } from "./forward/remote.ts";
import type { Transport } from "./transport/transport.ts";
import { type ClientOptions, defaultUser, openTransport } from "./client/open_transport.ts";

export { probe, type ProbeOptions, type ProbeResult } from "./client/probe.ts";

/** Options of {@link connect}: where to go, plus how to authenticate. */
export interface ConnectOptions extends ClientOptions {
  /** Authentication sources (keys, password, keyboard-interactive) and method order. */
  auth?: Omit<AuthOptions, "user" | "probeOnly" | "host">;
  /** Our channel window and maximum packet (old devices want 16 KiB). */
  windowSize?: number;
  maxPacket?: number;
  /** ServerAliveInterval / ServerAliveCountMax; interval 0 turns keepalives off. */
  keepalive?: { intervalMs: number; countMax: number };
  /**
   * Jump hosts (ProxyJump), first hop first: each is a full SSH connection (its own host key
   * check and authentication) run inside a `direct-tcpip` channel of the one before; the target
   * is reached through the last. Options a hop leaves unset come from these options (but the
   * user is the hop's own or the local user, as with ssh(1)).
   */
  jump?: JumpHost[];
  /**
   * Called as each hop of a jump chain begins (the target last, `target: true`); a jump host
   * traces into the tracer returned (a new silent one when none), the target into `tracer`.
   */
  onHop?: (hop: HopTrace) => Tracer | void;
  /**
   * ForwardAgent: the local agent's socket (usually `$SSH_AUTH_SOCK`) offered to every session
   * this client opens. Traced with a warning: the server can use the agent while connected.
   */
  forwardAgent?: string;
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
  #forwardAgent: string | undefined;
  /** The jump hosts this connection runs through, first hop first (closed after it). */
  jumps: Client[] = [];
  /** The remote forwards (`-R`), answering the server's forwarded-tcpip channels. */
  readonly remoteForwards: RemoteForwards;

  constructor(
    tracer: Tracer,
    transport: Transport,
    connection: Connection,
    auth: AuthResult,
    stopKeepalive: () => void,
    signal?: AbortSignal,
    remoteForwards: RemoteForwards = new RemoteForwards(tracer),
    forwardAgent?: string,
  ) {
    this.#forwardAgent = forwardAgent;
    this.remoteForwards = remoteForwards;
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
  async openSession(
    pty?: PtyOptions,
    start?: SessionStart,
    env: readonly (readonly [name: string, value: string])[] = [],
  ): Promise<Session> {
    const key = this.#sessions++;
    const span = this.tracer.span("session", { channel: key });
    try {
      const session = await this.connection.openSession();
      this.#keys.set(session, key);
      if (this.#forwardAgent) {
        this.tracer.emit({ stage: "session", type: "info", message: AGENT_WARNING });
        // As ssh(1): no reply asked; a server that refuses simply offers no agent.
        await session.channel.request(AGENT_REQUEST, false);
      }
      if (pty) await session.requestPty(pty);
      // As ssh(1), the variables go out with the command, not a round trip before it; their
      // answers come first (in order), so the trace still shows each before the command starts.
      const environment = session.setEnvironment(env);
      environment.catch(() => {}); // a failed channel fails the request below as well
      if (start && "command" in start) await session.exec(start.command);
      else if (start) await session.shell();
      await environment;
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
   * `keepBytes` bounds what is kept of each stream (the rest is read and counted, not kept:
   * `stdoutBytes`/`stderrBytes` are the whole counts), for callers that need only a head of an
   * output a server decides the size of.
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
    options: { stdin?: Uint8Array; pty?: PtyOptions; keepBytes?: number } = {},
  ): Promise<
    {
      stdout: Uint8Array;
      stderr: Uint8Array;
      stdoutBytes: number;
      stderrBytes: number;
      exit: ExitInfo;
    }
  > {
    const session = await this.openSession(options.pty, { command });
    const span = this.dataSpan(session);
    try {
      if (options.stdin) await session.write(options.stdin);
      await session.eof();
      const keep = options.keepBytes ?? Infinity;
      const [out, err] = await Promise.all([
        collect(session.stdout, keep),
        collect(session.stderr, keep),
      ]);
      const exit = await session.exit;
      span.end();
      return {
        stdout: out.kept,
        stderr: err.kept,
        stdoutBytes: out.total,
        stderrBytes: err.total,
        exit,
      };
    } catch (e) {
      throw whenAborted(e, this.#signal, "data");
    }
  }

  /**
   * Opens a `direct-tcpip` channel to `host:port` as the server sees it (what `-L` and jump
   * hosts use) and returns it as a byte stream. Rejects with `session.channel-open-refused`
   * when the server refuses (forwarding off, or it could not connect).
   *
   * @example
   * ```ts
   * const stream = await client.openDirect("10.0.0.7", 80);
   * await stream.write(new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
   * console.log(await stream.read());
   * stream.close();
   * ```
   */
  async openDirect(
    host: string,
    port: number,
    origin?: { host: string; port: number },
  ): Promise<ByteStream> {
    return channelStream(await openDirectTcpip(this.connection, host, port, origin));
  }

  /**
   * Starts a local forward (ssh's `-L`): listens on `bindHost:bindPort` (loopback unless
   * given) and carries each connection to `host:port` as the server sees it, each traced as
   * `data` info events. Stops when closed or when this connection ends. Throws
   * `session.forward-bind-failed` when the local address cannot be bound.
   *
   * @example
   * ```ts
   * const web = client.forwardLocal("0:intranet.example:80");
   * console.log(`http://127.0.0.1:${web.port}/`);
   * ```
   */
  forwardLocal(
    spec: ForwardSpec | string,
    options: Pick<LocalForwardOptions, "maxConnections" | "unix"> = {},
  ): LocalForward {
    const parsed = typeof spec === "string" ? parseForwardSpec(spec) : spec;
    return forwardLocal(this.connection, parsed, { tracer: this.tracer, ...options });
  }

  /**
   * Starts a SOCKS4/4a/5 proxy (ssh's `-D [bind:]port`, loopback unless given): each CONNECT
   * becomes a direct-tcpip channel, host names resolved by the server; traced like
   * {@link forwardLocal}.
   */
  forwardDynamic(
    spec: { bindHost: string; bindPort: number } | string,
    options: { maxConnections?: number } = {},
  ): LocalForward {
    const bind = typeof spec === "string" ? parseDynamicSpec(spec) : spec;
    return forwardDynamic(this.connection, bind, { tracer: this.tracer, ...options });
  }

  /**
   * Starts a remote forward (ssh's `-R`): asks the server to listen on `bindHost:bindPort` (its
   * loopback unless given; 0 lets it choose, see `port`) and carries each connection it
   * forwards to `host:port` as seen from here. Rejects with `session.forward-bind-failed` when
   * the server refuses.
   *
   * @example
   * ```ts
   * const back = await client.forwardRemote("0:127.0.0.1:8080");
   * console.log(`the server's port ${back.port} reaches our 127.0.0.1:8080`);
   * ```
   */
  forwardRemote(spec: ForwardSpec | string): Promise<RemoteForward> {
    return this.remoteForwards.add(typeof spec === "string" ? parseForwardSpec(spec, "-R") : spec);
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
    const { startSftpOn } = await import("./transfer/session.ts");
    const session = await this.openSession();
    this.tracer.begin("transfer");
    return await startSftpOn(session, this.tracer, options);
  }

  /** Disconnects cleanly (once: later calls wait for the first). */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stopListening();
      this.#stopKeepalive();
      await this.connection.close().catch(() => {});
      await this.transport.disconnect(11, "disconnected by user");
      for (const jump of this.jumps.slice().reverse()) await jump.close().catch(() => {});
    })();
    return this.#closing;
  }
}

/**
 * Connects, checks the host key, authenticates and starts the connection layer.
 * Throws `SshError` naming the failed stage (`<stage>.aborted` when `signal` aborts).
 */
export async function connect(options: ConnectOptions): Promise<Client> {
  if (options.jump?.length) {
    const { openJumpChain } = await import("./jump/chain.ts");
    const chain = await openJumpChain(options, connect, defaultUser());
    try {
      const client = await connect({ ...options, jump: undefined, tunnel: chain.tunnel });
      client.jumps = chain.clients;
      return client;
    } catch (e) {
      await chain.close();
      throw e;
    }
  }
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
    const remote = new RemoteForwards(tracer);
    const agent = options.forwardAgent ? agentChannels(options.forwardAgent, tracer) : null;
    const connection = new Connection(transport, {
      onChannelOpen: (open) =>
        agent && open.type === AGENT_CHANNEL ? agent(open) : remote.onChannelOpen(open),
      windowSize: options.windowSize ?? transport.adjustments.windowSize,
      maxPacket: options.maxPacket ?? transport.adjustments.maxPacket,
      replyTimeoutMs: options.timeoutMs ?? 10_000,
    });
    connection.start();
    const ka = options.keepalive;
    const stop = ka && ka.intervalMs > 0 ? startKeepalive(connection, ka) : () => {};
    remote.attach(connection);
    return new Client(
      tracer,
      transport,
      connection,
      auth,
      stop,
      signal,
      remote,
      options.forwardAgent,
    );
  } catch (e) {
    transport.close();
    throw whenAborted(e, signal, "auth");
  } finally {
    stopListening();
  }
}

/** Reads `stream` to its end: the first `keep` bytes, and how many there were in all. */
async function collect(
  stream: ReadableStream<Uint8Array>,
  keep: number,
): Promise<{ kept: Uint8Array; total: number }> {
  const parts: Uint8Array[] = [];
  let total = 0;
  let held = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (held < keep) {
      const part = value.length <= keep - held ? value : value.subarray(0, keep - held);
      parts.push(part);
      held += part.length;
    }
  }
  return { kept: parts.length === 1 ? parts[0]! : concatBytes(...parts), total };
}
