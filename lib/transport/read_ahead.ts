/**
 * Framing at the packet level, with read-ahead decryption: every packet {@link StreamPacketConn}
 * reads is framed here. Without read-ahead one packet is framed and opened at a time; with it,
 * every whole packet already buffered is framed and starts opening (Web Crypto, asynchronously)
 * while the layer above works on the one handed up, so the socket is read and packets decrypt
 * in parallel. Read-ahead runs whatever the crypto backend, whenever the opener can open packets
 * asynchronously (`PacketOpener.canReadAhead`) and the owner allows it (the data phase, no key
 * exchange under way).
 * @module
 */

import type { PacketOpener } from "./packet.ts";
import type { BufferedReader } from "./reader.ts";

/** Read-ahead limits: packets and wire bytes opened ahead of the one being handed up. */
export const MAX_AHEAD_PACKETS = 16;
export const MAX_AHEAD_BYTES = 1024 * 1024;

/** A packet opened ahead: its sequence number, wire length and payload (once opened). */
export interface Ahead {
  seq: number;
  length: number;
  payload: Promise<Uint8Array>;
}

/** Packets opened ahead, in wire order, not yet handed up. */
export class ReadAhead {
  #reader: BufferedReader;
  #opener: PacketOpener;
  #queue: Ahead[] = [];
  /** Wire bytes of the packets queued. */
  #bytes = 0;
  /** A packet failed to frame or open: nothing more is opened ahead. */
  #broken = false;
  /** The wire bytes after its header that the packet begun (not yet whole) needs, or null. */
  #begun: number | null = null;

  constructor(reader: BufferedReader, opener: PacketOpener) {
    this.#reader = reader;
    this.#opener = opener;
  }

  /** Packets opened ahead and not yet handed up. */
  get length(): number {
    return this.#queue.length;
  }

  /**
   * Frames whole packets already buffered and starts opening them: with `ahead`, every one (up
   * to the limits); without, one when none is queued. Stops at the first framing error, which
   * is queued to be reported in order.
   */
  launch(ahead: boolean): void {
    const opener = this.#opener;
    const max = ahead ? MAX_AHEAD_PACKETS : 1;
    while (this.#queue.length < max && this.#bytes < MAX_AHEAD_BYTES && !this.#broken) {
      const seq = opener.seq;
      let whole: Uint8Array | null;
      try {
        whole = this.frame();
      } catch (e) {
        this.#broken = true;
        const payload = Promise.reject(e);
        payload.catch(() => {});
        this.#queue.push({ seq, length: 0, payload });
        return;
      }
      if (!whole) return;
      const payload = opener.finishAsync(whole.subarray(opener.headerSize), whole);
      payload.catch(() => {}); // reported in order by the reader
      this.#queue.push({ seq, length: whole.length, payload });
      this.#bytes += whole.length;
    }
  }

  /**
   * Takes the next whole packet (header and rest, one array) if it is buffered, begun with the
   * opener; null when more bytes are needed. The caller finishes it with the opener before
   * anything else is framed. Throws `PacketError` for an impossible length.
   */
  frame(): Uint8Array | null {
    const reader = this.#reader;
    const opener = this.#opener;
    const size = opener.headerSize;
    if (reader.buffered < size) return null;
    // A packet is begun once (a stream cipher's begin decrypts its first block), then waits.
    let need = this.#begun;
    if (need === null) need = this.#begun = opener.begin(reader.peekExact(size));
    if (reader.buffered < size + need) return null;
    this.#begun = null;
    return reader.take(size + need)!;
  }

  /**
   * The next packet opened ahead (its payload may still be opening), or null when none is
   * queued. `prefetch`: start reading the socket while the queued packets decrypt.
   */
  shift(prefetch: boolean): Ahead | null {
    const next = this.#queue.shift();
    if (!next) return null;
    this.#bytes -= next.length;
    if (prefetch) this.#reader.prefetch();
    return next;
  }

  /** A packet handed up failed (bad MAC, tag, padding): nothing after it is handed up. */
  fail(): void {
    this.#queue = [];
    this.#bytes = 0;
    this.#broken = true;
  }
}
