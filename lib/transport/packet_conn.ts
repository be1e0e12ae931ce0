/**
 * The packet-level seam (Go's `packetConn`): read a packet, write a packet, install keys per
 * direction, sequence numbers, close. {@link StreamPacketConn} implements it over a
 * {@link ByteStream} with the project's PacketSealer/PacketOpener and BufferedReader (and
 * read-ahead decryption, see read_ahead.ts); {@link memoryPacketPipe} is a pair of connected
 * packet ends for tests of the layers above. Emits `packet` events (`-vv`) in both directions;
 * never prints.
 * @module
 */

import { CompressionError } from "../algorithms/compression.ts";
import type { Tracer } from "../trace.ts";
import { SshError } from "../errors/mod.ts";
import type { Stage } from "../types.ts";
import { type DirectionKeys, PacketError, PacketOpener, PacketSealer } from "./packet.ts";
import { packetEvent } from "./packet_trace.ts";
import { ReadAhead } from "./read_ahead.ts";
import { BufferedReader, closedError, Deadline, resetError } from "./reader.ts";
import type { ByteStream } from "./stream.ts";
import { releasable, release } from "../wire/release.ts";

/** A payload transform of one direction (compression). */
export type Transform = (bytes: Uint8Array) => Uint8Array;

/** What the handshake and the layers above need of a packet connection. */
export interface PacketConn {
  /** The stage blamed by errors (timeouts, resets, bad packets): set by the layer at work. */
  stage: Stage;
  /** Whether packets may be opened ahead now (the owner's call: data phase, no kex under way). */
  readAhead: boolean;
  /**
   * The next payload, or null when the peer closed cleanly between packets. Each wait is bounded
   * by `timeoutMs` (default: the connection's; 0: none). Failures are `SshError`s of
   * {@link stage}: `.closed` (mid-packet), `.timeout`, `.connection-reset`, `.bad-packet`,
   * `.mac-error`, `.compression-error`.
   */
  readPacket(timeoutMs?: number): Promise<Uint8Array | null>;
  /** Seals (with the current keys and compression) and writes one payload. */
  writePacket(payload: Uint8Array): Promise<void>;
  /** Seals a payload for the next sequence number without writing it (fault injection). */
  seal(payload: Uint8Array): Uint8Array;
  /** Writes bytes as they are (the version line, faults). */
  writeRaw(bytes: Uint8Array): Promise<void>;
  /** New keys for what we send (after our NEWKEYS); strict kex resets the sequence number. */
  setWriteKeys(keys: DirectionKeys, resetSeq: boolean): void;
  /** New keys for what we receive (after the peer's NEWKEYS). */
  setReadKeys(keys: DirectionKeys, resetSeq: boolean): void;
  /** Compression of what we send / decompression of what we receive (null: none). */
  compress: Transform | null;
  decompress: Transform | null;
  /** The sequence number the next packet written gets. */
  readonly writeSeq: number;
  /** The sequence number of the last packet read. */
  readonly lastReadSeq: number;
  /** Whether what we send is encrypted (our first NEWKEYS went out). */
  readonly encrypted: boolean;
  /** Wire bytes each way since the keys of that direction changed (rekey limits). */
  readonly bytesWrittenSinceKex: number;
  readonly bytesReadSinceKex: number;
  /** Runs `body` with every wait bounded by `deadline` too (a stage's budget). */
  within<T>(deadline: Deadline, body: () => Promise<T>): Promise<T>;
  /** Ends the wait under way, and every later one, with `error`. */
  abort(error: SshError): void;
  readonly closed: boolean;
  /** Closes the connection (idempotent). */
  close(): void;
}

export interface StreamPacketConnOptions {
  /** Who is at the other end, for messages ("the server sent a malformed packet"). */
  peer: "client" | "server";
  /** The default bound of each wait, ms (0: none). */
  timeoutMs: number;
  /** Receives `packet` events when it asks for them (`tracer.packets`). */
  tracer?: Tracer | null;
  /** The first stage. @default "version" */
  stage?: Stage;
  /**
   * Sees (and may replace) each sealed packet before it is written: `seq` is its sequence
   * number, `payload` what it carries (fault injection, test bookkeeping).
   */
  sealed?: ((wire: Uint8Array, payload: Uint8Array, seq: number) => Uint8Array) | null;
}

/** A {@link PacketConn} over a byte stream. */
export class StreamPacketConn implements PacketConn {
  readonly reader: BufferedReader;
  readAhead = false;
  #stream: ByteStream;
  #peer: string;
  #timeoutMs: number;
  #tracer: Tracer | null;
  #sealed: StreamPacketConnOptions["sealed"];
  #sealer = new PacketSealer();
  #opener = new PacketOpener();
  #ahead: ReadAhead;
  #writeChain: Promise<void> = Promise.resolve();
  #lastReadSeq = 0;
  #closed = false;

  constructor(stream: ByteStream, options: StreamPacketConnOptions) {
    this.#stream = stream;
    this.#peer = options.peer;
    this.#timeoutMs = options.timeoutMs;
    this.#tracer = options.tracer ?? null;
    this.#sealed = options.sealed ?? null;
    this.reader = new BufferedReader(stream, options.stage ?? "version", options.timeoutMs);
    this.#ahead = new ReadAhead(this.reader, this.#opener);
  }

  get stage(): Stage {
    return this.reader.stage;
  }
  set stage(stage: Stage) {
    this.reader.stage = stage;
  }

  get compress(): Transform | null {
    return this.#sealer.compress;
  }
  set compress(f: Transform | null) {
    this.#sealer.compress = f;
  }
  get decompress(): Transform | null {
    return this.#opener.decompress;
  }
  set decompress(f: Transform | null) {
    this.#opener.decompress = f;
  }
  get writeSeq(): number {
    return this.#sealer.seq;
  }
  get lastReadSeq(): number {
    return this.#lastReadSeq;
  }
  get encrypted(): boolean {
    return this.#sealer.encrypted;
  }
  get bytesWrittenSinceKex(): number {
    return this.#sealer.bytesSinceKex;
  }
  get bytesReadSinceKex(): number {
    return this.#opener.bytesSinceKex;
  }
  get closed(): boolean {
    return this.#closed;
  }

  setWriteKeys(keys: DirectionKeys, resetSeq: boolean): void {
    this.#sealer.setKeys(keys);
    if (resetSeq) this.#sealer.seq = 0;
  }

  setReadKeys(keys: DirectionKeys, resetSeq: boolean): void {
    if (this.#ahead.length) {
      // Cannot happen (nothing is opened ahead while a key exchange runs); refuse rather than
      // hand up packets opened with the old keys.
      throw new SshError(
        "kex",
        "kex.internal",
        "internal error during stage kex: packets after NEWKEYS were opened with the old keys",
      );
    }
    this.#opener.setKeys(keys);
    if (resetSeq) this.#opener.seq = 0;
  }

  within<T>(deadline: Deadline, body: () => Promise<T>): Promise<T> {
    return this.reader.within(deadline, body);
  }

  abort(error: SshError): void {
    this.reader.abort(error);
  }

  // ------------------------------------------------------------------------------------------
  // Writing

  writeRaw(bytes: Uint8Array): Promise<void> {
    const next = this.#writeChain.then(() => this.#stream.write(bytes));
    this.#writeChain = next.catch(() => {});
    return next.catch((e) => {
      throw e instanceof SshError ? e : resetError(this.stage, e, " while sending");
    });
  }

  seal(payload: Uint8Array): Uint8Array {
    const seq = this.#sealer.seq;
    if (this.#tracer?.packets) this.#tracer.emit(packetEvent(this.stage, "out", seq, payload));
    const wire = this.#sealer.seal(payload);
    return this.#sealed ? this.#sealed(wire, payload, seq) : wire;
  }

  writePacket(payload: Uint8Array): Promise<void> {
    if (this.#closed) {
      const stage = this.stage;
      return Promise.reject(
        new SshError(stage, `${stage}.closed`, "the connection is closed"),
      );
    }
    const wire = this.seal(payload);
    if (this.#sealed) return this.writeRaw(wire);
    // Written: the sealed packet's memory is free (lib/wire/release.ts).
    return this.writeRaw(releasable(wire)).finally(() => release(wire));
  }

  // ------------------------------------------------------------------------------------------
  // Reading

  /**
   * Every packet goes through the read-ahead queue (read_ahead.ts): one at a time, opened at
   * once, unless read-ahead runs (then every whole packet buffered starts opening). Packets
   * opened ahead are handed up first, in order, whatever the mode now. Once a packet's header is
   * in, the whole of it must arrive within the timeout, so a peer cannot trickle it byte by byte.
   */
  async readPacket(timeoutMs: number = this.#timeoutMs): Promise<Uint8Array | null> {
    const reader = this.reader;
    reader.checkDeadline();
    let partial: Deadline | null = null;
    for (;;) {
      const ahead = this.readAhead && this.#opener.canReadAhead;
      this.#ahead.launch(ahead);
      const next = this.#ahead.shift(ahead);
      if (next) {
        try {
          const payload = await next.payload;
          // Every packet taken so far is opened (into fresh memory): its bytes may be reused.
          if (!this.#ahead.length) reader.release();
          return this.#handUp(payload, next.seq);
        } catch (e) {
          this.#ahead.fail();
          throw this.#packetFailure(e);
        }
      }
      // Once a packet's header is in, the rest must follow within the packet's budget.
      const ms = this.#timeoutMs;
      let more: Promise<boolean>;
      if (reader.buffered >= this.#opener.headerSize && ms > 0) {
        partial ??= new Deadline(this.stage, "packet", ms);
        more = reader.fill(ms, partial);
      } else more = reader.fill(timeoutMs);
      if (!(await more)) {
        if (reader.buffered === 0) return null;
        throw closedError(this.stage, this.#peer);
      }
    }
  }

  /** A payload opened (directly or ahead) for sequence number `seq`, handed to the reader. */
  #handUp(payload: Uint8Array, seq: number): Uint8Array {
    if (payload.length === 0) throw new PacketError("length", "packet with an empty payload");
    this.#lastReadSeq = seq;
    if (this.#tracer?.packets) this.#tracer.emit(packetEvent(this.stage, "in", seq, payload));
    return payload;
  }

  /** Turns a packet-level failure into the staged error the caller reports. */
  #packetFailure(e: unknown): unknown {
    const stage = this.stage;
    if (e instanceof CompressionError) {
      return new SshError(
        stage,
        `${stage}.compression-error`,
        `the ${this.#peer}'s compressed data is corrupt: ${e.message}`,
        {},
        { cause: e },
      );
    }
    if (e instanceof PacketError) {
      const code = e.kind === "mac"
        ? `${stage}.mac-error` as const
        : `${stage}.bad-packet` as const;
      return new SshError(
        stage,
        code,
        e.kind === "mac"
          ? `${e.message}: the data was altered in transit, or the two sides disagree on keys`
          : `the ${this.#peer} sent a malformed packet: ${e.message}`,
        { kind: e.kind },
        { cause: e },
      );
    }
    return e;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#stream.close();
    } catch {
      // already closed
    }
  }
}
