/**
 * Local port forwarding (`-L`, LocalForward): listen on a local address and carry each
 * accepted connection in a `direct-tcpip` channel to the target as the server sees it. Each
 * forwarded connection is traced (opened, refused and why, bytes both ways, closed) as `data`
 * info events; the number of concurrent connections is bounded, and each connection's buffers
 * are (one read buffer per direction; the channel window holds back the rest).
 * @module
 */

import type { Connection } from "../connection/mux.ts";
import { SshError } from "../errors/mod.ts";
import {
  type Conn,
  platform,
  type TcpConn,
  type TcpListener,
  type UnixListener,
  type UnixListenOptions,
} from "../platform/mod.ts";
import type { Tracer } from "../trace.ts";
import { openDirectStreamlocal, openDirectTcpip } from "./direct.ts";
import { type ForwardSpec, forwardText } from "./spec.ts";
import { carry } from "./pipe.ts";

/** Concurrent connections one forward carries at most, unless told otherwise. */
export const DEFAULT_MAX_FORWARDED = 256;

/** Options of {@link forwardLocal}. */
export interface LocalForwardOptions {
  tracer: Tracer;
  /** More concurrent connections than this are closed at once (traced). @default 256 */
  maxConnections?: number;
  /** The flag named in errors. @default "-L" */
  flag?: string;
  /** The forward's name in traces (`port` is the bound port). @default bind:port → host:port */
  name?: (port: number) => string;
  /**
   * Carries one accepted connection (default: a direct-tcpip channel to `spec.host:spec.port`);
   * `info` traces a line about it.
   */
  route?: (conn: TcpConn, id: number, info: (message: string) => void) => Promise<void>;
  /** A Unix socket listener's file mode and stale-file removal (StreamLocalBind*). */
  unix?: UnixListenOptions;
}

/** A running local forward. */
export interface LocalForward {
  readonly spec: ForwardSpec;
  /** The local port it listens on (the system's choice when the spec asked for 0). */
  readonly port: number;
  /** Connections carried now, and in all. */
  readonly active: number;
  readonly total: number;
  /** Stops listening and closes every forwarded connection. */
  close(): void;
}

/**
 * Starts a local forward over an authenticated connection. Rejects with
 * `session.forward-bind-failed` when the local address cannot be bound (a port in use, an
 * address not of this host, a privileged port).
 */
export function forwardLocal(
  connection: Connection,
  spec: ForwardSpec,
  options: LocalForwardOptions,
): LocalForward {
  const { tracer } = options;
  const max = options.maxConnections ?? DEFAULT_MAX_FORWARDED;
  let listener: TcpListener | UnixListener;
  try {
    listener = spec.bindPath !== undefined
      ? platform.listenUnix(spec.bindPath, options.unix)
      : platform.listenTcp(spec.bindHost, spec.bindPort);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new SshError(
      "session",
      "session.forward-bind-failed",
      `cannot listen on ${options.name?.(spec.bindPort) ?? forwardText(spec)} ` +
        `(${options.flag ?? "-L"}): ${reason}`,
      {
        bindHost: spec.bindPath ?? spec.bindHost,
        bindPort: spec.bindPort,
        host: spec.path ?? spec.host,
        port: spec.port,
        reason,
      },
    );
  }
  const port = "addr" in listener ? listener.addr.port : 0;
  const name = options.name?.(port) ?? forwardText(spec, port);
  const info = (message: string) =>
    tracer.emit({ stage: "data", type: "info", message: `forward ${name}: ${message}` });
  info("listening");
  const open = new Set<Conn>();
  let total = 0;
  let closed = false;

  const forwardOne = async (conn: Conn, id: number) => {
    // A Unix socket's peer has no address: OpenSSH names it 127.0.0.1 port 0 too.
    const peer = spec.bindPath === undefined
      ? (conn as TcpConn).remoteAddr
      : { hostname: "127.0.0.1", port: 0 };
    const from = spec.bindPath ?? `${peer.hostname}:${peer.port}`;
    let channel;
    try {
      channel = spec.path !== undefined
        ? await openDirectStreamlocal(connection, spec.path)
        : await openDirectTcpip(connection, spec.host, spec.port, {
          host: peer.hostname,
          port: peer.port,
        });
    } catch (e) {
      info(`connection #${id} from ${from} refused: ${(e as Error).message}`);
      conn.close();
      return;
    }
    info(`connection #${id} from ${from} opened (channel ${channel.localId})`);
    const bytes = await carry(conn, channel);
    info(`connection #${id} closed: ${bytes.out} bytes out, ${bytes.in} bytes in`);
  };

  (async () => {
    for (;;) {
      let conn: Conn;
      try {
        conn = await listener.accept();
      } catch {
        return; // closed
      }
      const id = ++total;
      if (open.size >= max || connection.ended) {
        info(
          `connection #${id} refused: ` +
            (connection.ended ? "the SSH connection has ended" : `${max} connections already open`),
        );
        conn.close();
        continue;
      }
      open.add(conn);
      (options.route ? options.route(conn as TcpConn, id, info) : forwardOne(conn, id))
        .catch(() => {})
        .finally(() => open.delete(conn));
    }
  })();

  const close = () => {
    if (closed) return;
    closed = true;
    try {
      listener.close();
    } catch {
      // already closed
    }
    for (const conn of open) {
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
  };
  connection.finished.then(close);
  return {
    spec,
    port,
    get active() {
      return open.size;
    },
    get total() {
      return total;
    },
    close,
  };
}
