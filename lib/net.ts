/**
 * TCP for the client: resolve, connect with a timeout, and wrap a platform connection as a
 * ByteStream.
 * @module
 */

import { SshError } from "./errors/mod.ts";
import type { Tracer } from "./trace.ts";
import type { ByteStream } from "./transport/stream.ts";
import { type Conn, platform, type TcpConn } from "./platform/mod.ts";

/**
 * The largest memory block socket reads go into (blocks start small and double up to this). A
 * block lives as long as any packet viewing it, so it is kept small: with 4 MiB blocks a flood of
 * small messages held far more memory than it used (download speed is the same at 256 KiB).
 */
const SLAB_SIZE = 256 * 1024;
const FIRST_SLAB_SIZE = 128 * 1024;
/** The most one socket read asks for. */
const MAX_READ = 256 * 1024;
/** A new block is started when less than this is left in the current one. */
const MIN_READ = 64 * 1024;
/** Full-size blocks kept for reuse once the reader has released every byte read into them. */
const SPARE_SLABS = 2;

/**
 * Wraps a platform connection (TCP or Unix socket) as a {@link ByteStream}. Reads go into large blocks of memory, one after
 * the other, and each read hands out a view of what it filled (no copy): consecutive views of one
 * block are adjacent, so the reader can join them. A view is not written again until the reader
 * has released it ({@link ByteStream.recycle}): a full-size block whose bytes were all released
 * is reused rather than left to the garbage collector, so a long download does not allocate a
 * new block per 256 KiB read (which, with the decrypted payloads, made the peak memory of a
 * download depend on when the collector ran).
 */
export function connStream(conn: Conn): ByteStream {
  let closed = false;
  let slab = new Uint8Array(0);
  let used = 0;
  // Stream positions: bytes handed out by `read`, and bytes the reader has released.
  let handed = 0;
  let released = 0;
  /** Blocks left behind, each with the stream position just past its last byte handed out. */
  const retired: { slab: Uint8Array<ArrayBuffer>; end: number }[] = [];
  const spare: Uint8Array<ArrayBuffer>[] = [];
  const nextSlab = (): Uint8Array<ArrayBuffer> => {
    const size = Math.min(SLAB_SIZE, Math.max(FIRST_SLAB_SIZE, slab.length * 2));
    if (slab.length === SLAB_SIZE) retired.push({ slab, end: handed });
    return (size === SLAB_SIZE ? spare.pop() : undefined) ?? new Uint8Array(size);
  };
  return {
    async read() {
      if (closed) return null;
      if (slab.length - used < MIN_READ) {
        slab = nextSlab();
        used = 0;
      }
      const start = used;
      try {
        const n = await conn.read(slab.subarray(start, Math.min(start + MAX_READ, slab.length)));
        if (n === null) return null;
        used = start + n;
        handed += n;
        return slab.subarray(start, start + n);
      } catch (e) {
        if (closed) return null;
        throw e;
      }
    },
    async write(bytes) {
      let off = 0;
      while (off < bytes.length) off += await conn.write(bytes.subarray(off));
    },
    recycle(n) {
      released += n;
      while (retired.length && retired[0]!.end <= released) {
        const free = retired.shift()!.slab;
        if (spare.length < SPARE_SLABS) spare.push(free);
      }
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        conn.close();
      } catch {
        // already closed
      }
    },
  };
}

/** How {@link connectTcp} connects: ssh_config's AddressFamily, ConnectionAttempts, TCPKeepAlive. */
export interface TcpOptions {
  /** Only IPv4 (4, `-4`) or IPv6 (6, `-6`) addresses. @default either */
  family?: 4 | 6;
  /** Tries, one second apart, while the connection is refused or times out. @default 1 */
  attempts?: number;
  /** `SO_KEEPALIVE`. @default true (as OpenSSH's TCPKeepAlive) */
  keepAlive?: boolean;
  /** The local address to connect from (BindAddress, `-b`). @default chosen by the system */
  localAddress?: string;
}

/**
 * Opens a TCP connection, turning every failure into a `connect` stage error. `signal` cancels
 * the attempt (the caller names that failure: it knows why it cancelled). With `attempts`, a
 * refused or timed-out connection is tried again after a second, as ssh(1) does.
 */
export async function connectTcp(
  host: string,
  port: number,
  timeoutMs: number,
  tracer: Tracer,
  signal?: AbortSignal,
  options: TcpOptions = {},
): Promise<{ stream: ByteStream; remoteAddress: string }> {
  const attempts = Math.max(1, options.attempts ?? 1);
  for (let attempt = 1;; attempt++) {
    try {
      return await connectOnce(host, port, timeoutMs, tracer, signal, options);
    } catch (e) {
      const retry = e instanceof SshError &&
        (e.code === "connect.refused" || e.code === "connect.timeout");
      if (!retry || attempt >= attempts || signal?.aborted) throw e;
      tracer.emit({
        stage: "connect",
        type: "info",
        message: `attempt ${attempt} of ${attempts} failed (${e.message}); trying again in 1 s`,
      });
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

async function connectOnce(
  host: string,
  port: number,
  timeoutMs: number,
  tracer: Tracer,
  signal: AbortSignal | undefined,
  options: TcpOptions,
): Promise<{ stream: ByteStream; remoteAddress: string }> {
  tracer.emit({ stage: "connect", type: "resolving", host, port });
  const target = `${host}:${port}`;
  let address = host;
  if (options.family) {
    try {
      address = await platform.lookup(host, options.family);
      // An address literal comes back as given, whatever its family.
      if (address.includes(":") !== (options.family === 6)) throw new Error("wrong family");
    } catch {
      throw new SshError(
        "connect",
        "connect.dns",
        `cannot resolve host name "${host}" to an IPv${options.family} address ` +
          `(AddressFamily ${options.family === 4 ? "inet" : "inet6"})`,
        { host, port },
      );
    }
  }
  let conn: TcpConn;
  try {
    conn = await platform.connectTcp(address, port, {
      signal: signal
        ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)])
        : AbortSignal.timeout(timeoutMs),
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
  } catch (e) {
    if (signal?.aborted) throw e;
    const err = e as Error;
    const msg = String(err.message ?? err);
    const kind = platform.errorKind(e);
    const code = (e as { code?: unknown }).code;
    if (options.localAddress && (code === "EADDRNOTAVAIL" || code === "EINVAL")) {
      throw new SshError(
        "connect",
        "connect.failed",
        `cannot connect to ${target} from local address ${options.localAddress} ` +
          `(BindAddress): ${msg}`,
        { host, port },
      );
    }
    if (kind === "connection-refused") {
      throw new SshError(
        "connect",
        "connect.refused",
        `connection to ${target} refused: nothing listens on port ${port}`,
        { host, port },
      );
    }
    if (kind === "timed-out" || kind === "aborted") {
      throw new SshError(
        "connect",
        "connect.timeout",
        `no answer from ${target} within ${timeoutMs / 1000} s`,
        { host, port, timeoutMs },
      );
    }
    if (/lookup|resolve|name or service|dns|getaddrinfo|No address/i.test(msg)) {
      throw new SshError("connect", "connect.dns", `cannot resolve host name "${host}"`, {
        host,
        port,
      });
    }
    if (kind === "connection-reset" || kind === "connection-aborted") {
      throw new SshError("connect", "connect.reset", `the connection to ${target} was reset`, {
        host,
        port,
      });
    }
    if (/unreachable/i.test(msg) || kind === "not-connected") {
      throw new SshError(
        "connect",
        "connect.unreachable",
        `${target} is unreachable: ${msg}`,
        { host, port },
      );
    }
    throw new SshError("connect", "connect.failed", `cannot connect to ${target}: ${msg}`, {
      host,
      port,
    });
  }
  conn.setNoDelay(true);
  conn.setKeepAlive(options.keepAlive ?? true);
  const addr = conn.remoteAddr;
  const remoteAddress = `${addr.hostname}:${addr.port}`;
  tracer.emit({ stage: "connect", type: "connected", host, port, remoteAddress });
  if (options.localAddress) {
    tracer.emit({
      stage: "connect",
      type: "info",
      message: `from local address ${options.localAddress} (BindAddress)`,
    });
  }
  return { stream: connStream(conn), remoteAddress };
}
