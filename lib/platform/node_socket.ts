/**
 * Node sockets as the platform's connections: pull-style reads over a Node stream, a connected
 * `net.Socket` as a {@link TcpConn}, and a connect that honours an AbortSignal. Used by the
 * Node platform (node.ts) for every socket, and by the Deno platform for what `Deno.connect`
 * cannot do: a TCP connection from a chosen local address (BindAddress, `-b`).
 * @module
 */

import net from "node:net";
import type { ConnectOptions, TcpConn } from "./mod.ts";

/** `chunk` as a plain Uint8Array over the same bytes (a Buffer's `slice` would not copy). */
export function plain(chunk: Uint8Array): Uint8Array {
  return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/**
 * Pull-style reads over a Node readable stream, as Deno's `read(p)`: chunks queue while nobody
 * reads (the stream pauses above `HIGH_WATER` bytes); end of stream reads as null; an error
 * rejects the pending and later reads.
 */
export class PullReader {
  static readonly HIGH_WATER = 1 << 20;
  readonly #stream: NodeJS.ReadableStream & { destroyed?: boolean };
  readonly #chunks: Uint8Array[] = [];
  #queued = 0;
  #ended = false;
  #error: unknown = null;
  #waiter: (() => void) | null = null;

  constructor(stream: NodeJS.ReadableStream) {
    this.#stream = stream;
    stream.on("data", (chunk: Uint8Array | string) => {
      const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : plain(chunk);
      this.#chunks.push(bytes);
      this.#queued += bytes.length;
      if (this.#queued > PullReader.HIGH_WATER) stream.pause();
      this.#wake();
    });
    stream.on("end", () => {
      this.#ended = true;
      this.#wake();
    });
    stream.on("close", () => {
      this.#ended = true;
      this.#wake();
    });
    stream.on("error", (e: unknown) => {
      this.#error ??= e;
      this.#wake();
    });
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }

  async read(p: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#error !== null) throw this.#error;
      if (this.#ended) return null;
      if (this.#stream.isPaused()) this.#stream.resume();
      await new Promise<void>((resolve) => (this.#waiter = resolve));
    }
    const head = this.#chunks[0]!;
    const n = Math.min(p.length, head.length);
    p.set(head.subarray(0, n));
    if (n === head.length) this.#chunks.shift();
    else this.#chunks[0] = head.subarray(n);
    this.#queued -= n;
    if (this.#queued <= PullReader.HIGH_WATER && this.#stream.isPaused()) this.#stream.resume();
    return n;
  }

  /** Ends reads (a pending one resolves with null). */
  close(): void {
    this.#ended = true;
    this.#wake();
  }
}

/** A connected socket as a {@link TcpConn}. */
export function wrapSocket(socket: net.Socket): TcpConn {
  const reader = new PullReader(socket);
  let closed = false;
  return {
    remoteAddr: { hostname: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 },
    read: (p) => reader.read(p),
    write(p) {
      if (closed || socket.destroyed) return Promise.reject(notConnected());
      return new Promise<number>((resolve, reject) => {
        socket.write(p, (e) => (e ? reject(e) : resolve(p.length)));
      });
    },
    close() {
      closed = true;
      reader.close();
      socket.destroy();
    },
    setNoDelay: (noDelay = true) => void socket.setNoDelay(noDelay),
    setKeepAlive: (keepAlive = true) => void socket.setKeepAlive(keepAlive),
  };
}

function notConnected(): Error {
  return Object.assign(new Error("the connection is closed"), { code: "ENOTCONN" });
}

/** Connects `socket` (created by `open`), honouring the signal: its reason is the error. */
export function connectSocket(open: () => net.Socket, options?: ConnectOptions): Promise<TcpConn> {
  const signal = options?.signal;
  signal?.throwIfAborted();
  return new Promise<TcpConn>((resolve, reject) => {
    const socket = open();
    const onAbort = () => {
      socket.destroy();
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => {
      signal?.removeEventListener("abort", onAbort);
      socket.removeListener("error", reject);
      resolve(wrapSocket(socket));
    });
    socket.once("error", (e) => {
      signal?.removeEventListener("abort", onAbort);
      reject(e);
    });
  });
}

/** The options of `net.connect` for a TCP connection (`localAddress`: BindAddress). */
export function tcpOptions(
  host: string,
  port: number,
  options?: ConnectOptions,
): net.NetConnectOpts {
  return {
    host,
    port,
    noDelay: true,
    ...(options?.localAddress ? { localAddress: options.localAddress } : {}),
  };
}

/** Opens a TCP connection with node:net (from `options.localAddress` when given). */
export function connectNodeTcp(
  hostname: string,
  port: number,
  options?: ConnectOptions,
): Promise<TcpConn> {
  return connectSocket(() => net.connect(tcpOptions(hostname, port, options)), options);
}
