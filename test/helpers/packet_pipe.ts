/**
 * An in-memory pair of connected {@link PacketConn}s (Go's `memPipe`): payloads pass as they
 * are, so the layers above the packet level (the handshake in both roles, auth, connection)
 * can be tested against each other without sockets or ciphers. Keys are recorded, not used;
 * sequence numbers, compression and rekey byte counts behave as over a stream.
 * @module
 */

import { SshError } from "../../lib/errors/mod.ts";
import type { Stage } from "../../lib/types.ts";
import type { DirectionKeys } from "../../lib/transport/packet.ts";
import type { PacketConn, Transform } from "../../lib/transport/packet_conn.ts";
import type { Deadline } from "../../lib/transport/reader.ts";

class PipeEnd implements PacketConn {
  stage: Stage = "kex";
  readAhead = false;
  compress: Transform | null = null;
  decompress: Transform | null = null;
  other: PipeEnd | null = null;
  /** The keys installed each way, for tests to compare. */
  writeKeys: DirectionKeys | null = null;
  readKeys: DirectionKeys | null = null;
  #inbox: Uint8Array[] = [];
  #waiter: ((p: Uint8Array | null) => void) | null = null;
  #fail: ((e: unknown) => void) | null = null;
  #failure: SshError | null = null;
  #ended = false;
  #closed = false;
  #writeSeq = 0;
  #readSeq = 0;
  #lastReadSeq = 0;
  #written = 0;
  #read = 0;

  get writeSeq(): number {
    return this.#writeSeq;
  }
  get lastReadSeq(): number {
    return this.#lastReadSeq;
  }
  get encrypted(): boolean {
    return this.writeKeys !== null;
  }
  get bytesWrittenSinceKex(): number {
    return this.#written;
  }
  get bytesReadSinceKex(): number {
    return this.#read;
  }
  get closed(): boolean {
    return this.#closed;
  }

  /** Delivers a payload from the other end. */
  deliver(p: Uint8Array | null): void {
    if (p === null) this.#ended = true;
    else this.#inbox.push(p);
    const w = this.#waiter;
    this.#waiter = null;
    this.#fail = null;
    w?.(p === null ? null : this.#inbox.shift()!);
  }

  readPacket(): Promise<Uint8Array | null> {
    if (this.#failure) return Promise.reject(this.#failure);
    const next = this.#inbox.shift();
    if (next) return Promise.resolve(this.#received(next));
    if (this.#ended) return Promise.resolve(null);
    return new Promise<Uint8Array | null>((resolve, reject) => {
      this.#waiter = resolve;
      this.#fail = reject;
    }).then((p) => (p === null ? null : this.#received(p)));
  }

  #received(p: Uint8Array): Uint8Array {
    this.#lastReadSeq = this.#readSeq;
    this.#readSeq = (this.#readSeq + 1) >>> 0;
    this.#read += p.length;
    return this.decompress ? this.decompress(p) : p;
  }

  seal(payload: Uint8Array): Uint8Array {
    this.#writeSeq = (this.#writeSeq + 1) >>> 0;
    const p = this.compress ? this.compress(payload) : payload.slice();
    this.#written += p.length;
    return p;
  }

  writePacket(payload: Uint8Array): Promise<void> {
    if (this.#closed) {
      return Promise.reject(
        new SshError(this.stage, `${this.stage}.closed`, "the connection is closed"),
      );
    }
    this.other?.deliver(this.seal(payload));
    return Promise.resolve();
  }

  writeRaw(): Promise<void> {
    return Promise.reject(new Error("a packet pipe carries packets only"));
  }

  setWriteKeys(keys: DirectionKeys, resetSeq: boolean): void {
    this.writeKeys = keys;
    this.#written = 0;
    if (resetSeq) this.#writeSeq = 0;
  }

  setReadKeys(keys: DirectionKeys, resetSeq: boolean): void {
    this.readKeys = keys;
    this.#read = 0;
    if (resetSeq) this.#readSeq = 0;
  }

  async within<T>(deadline: Deadline, body: () => Promise<T>): Promise<T> {
    const timer = setTimeout(() => this.abort(deadline.error()), Math.max(1, deadline.leftMs));
    try {
      return await body();
    } finally {
      clearTimeout(timer);
    }
  }

  abort(error: SshError): void {
    this.#failure ??= error;
    const fail = this.#fail;
    this.#waiter = null;
    this.#fail = null;
    fail?.(error);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.deliver(null);
    this.other?.deliver(null);
  }
}

/** One end of a {@link memoryPacketPipe}: a PacketConn that shows the keys installed. */
export type PipeConn = PacketConn & {
  readonly writeKeys: DirectionKeys | null;
  readonly readKeys: DirectionKeys | null;
};

/** Two connected packet ends: what one writes, the other reads. */
export function memoryPacketPipe(): [PipeConn, PipeConn] {
  const a = new PipeEnd();
  const b = new PipeEnd();
  a.other = b;
  b.other = a;
  return [a, b];
}
