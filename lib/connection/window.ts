/**
 * Channel flow control (RFC 4254 §5.2), one class per direction: the window we grant the peer
 * (checked on every data message, topped up as a reader takes bytes) and the window the peer
 * grants us (split writes wait on it); and the pull-based streams of received bytes, which count
 * bytes as consumed (to be credited back to the peer) only when a reader actually takes them.
 * @module
 */

import { type Deferred, deferred } from "../async.ts";

/** Our default initial window: 2 MiB. */
export const DEFAULT_WINDOW_SIZE = 2 * 1024 * 1024;
/** Our default maximum packet (data length per message): 32 KiB. Old devices may want 16 KiB. */
export const DEFAULT_MAX_PACKET = 32 * 1024;

export const MAX_UINT32 = 0xffffffff;

/**
 * How many consumed bytes we let the peer's window shrink by before we top it up: an eighth
 * of the window, at least three packets (OpenSSH's rule), at most half the window. With the
 * defaults (2 MiB, 32 KiB) that is 256 KiB: one WINDOW_ADJUST per eight full packets, and the
 * peer always sees at least 1.75 MiB of window while we keep up.
 */
export function creditStep(windowSize: number, maxPacket: number): number {
  return Math.min(Math.floor(windowSize / 2), Math.max(3 * maxPacket, Math.floor(windowSize / 8)));
}

/** The window we grant the peer, and the largest data field we accept. */
export class LocalWindow {
  /** Our initial (and full) window. */
  readonly size: number;
  readonly maxPacket: number;
  /** Bytes the peer may still send before we adjust the window. */
  left: number;
  #unacked = 0;
  #step: number;

  constructor(size: number, maxPacket: number) {
    this.size = size;
    this.maxPacket = maxPacket;
    this.left = size;
    this.#step = creditStep(size, maxPacket);
  }

  /**
   * Takes `n` received bytes out of the window: "packet" or "window" names the limit they
   * break (nothing is taken then), null means they fit.
   */
  take(n: number): "packet" | "window" | null {
    if (n > this.maxPacket) return "packet";
    if (n > this.left) return "window";
    this.left -= n;
    return null;
  }

  /**
   * Records `n` bytes a reader took and returns how many to credit back now (0: not yet). With
   * `open` false (either side closing) bytes are only counted. Like OpenSSH's
   * `channel_check_window`, the window is topped up long before it runs low: once more than
   * {@link creditStep} bytes are owed, or once a packet's worth is owed while less than half
   * the window is left (the reader lags behind).
   */
  consumed(n: number, open: boolean): number {
    this.#unacked += n;
    if (!open || this.#unacked === 0) return 0;
    const low = this.left * 2 < this.size &&
      this.#unacked >= Math.min(this.#step, this.maxPacket);
    if (this.#unacked <= this.#step && !low) return 0;
    const add = this.#unacked;
    this.#unacked = 0;
    this.left += add;
    return add;
  }
}

/** The window the peer grants us, and the largest data field it accepts. */
export class RemoteWindow {
  /** Bytes we may still send before the peer adjusts its window. */
  left = 0;
  maxPacket = 0;
  #waiters: Deferred<void>[] = [];

  /** Adds `bytes` (WINDOW_ADJUST) and wakes writers; false (nothing added) past 2^32-1. */
  adjust(bytes: number): boolean {
    if (this.left + bytes > MAX_UINT32) return false;
    this.left += bytes;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.resolve();
    return true;
  }

  /** Takes up to `want` bytes of window, at most one packet's worth; 0 if the window is shut. */
  take(want: number): number {
    const n = Math.min(want, this.left, this.maxPacket);
    this.left -= n;
    return n;
  }

  /** Resolves at the next WINDOW_ADJUST; rejects on {@link fail}. */
  wait(): Promise<void> {
    const waiter = deferred<void>();
    this.#waiters.push(waiter);
    return waiter.promise;
  }

  /** Rejects every writer waiting for window. */
  fail(error: Error): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(error);
  }
}

/**
 * One direction of a channel's received bytes as a pull-based ReadableStream. Bytes count as
 * consumed (and may be credited back to the peer) only when a reader actually takes them.
 */
export class Inbound {
  readonly stream: ReadableStream<Uint8Array>;
  #chunks: Uint8Array[] = [];
  #wake: (() => void) | null = null;
  #ended = false;
  #error: Error | null = null;
  #cancelled = false;
  #onConsumed: (n: number) => void;

  constructor(onConsumed: (n: number) => void) {
    this.#onConsumed = onConsumed;
    this.stream = new ReadableStream<Uint8Array>(
      {
        pull: (controller) => this.#pull(controller),
        cancel: () => this.#cancel(),
      },
      { highWaterMark: 0 },
    );
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.#cancelled || this.#ended || this.#error) {
      // Nobody will read these: credit them at once so the other stream is not starved.
      this.#onConsumed(bytes.length);
      return;
    }
    this.#chunks.push(bytes);
    this.#notify();
  }

  end(): void {
    this.#ended = true;
    this.#notify();
  }

  fail(error: Error): void {
    if (this.#ended) return;
    this.#error = error;
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** Hands the reader one chunk, or ends or fails the stream; waits only when nothing is due. */
  #pull(controller: ReadableStreamDefaultController<Uint8Array>): void | Promise<void> {
    const chunk = this.#chunks.shift();
    if (chunk) {
      controller.enqueue(chunk);
      this.#onConsumed(chunk.length);
    } else if (this.#error) controller.error(this.#error);
    else if (this.#ended) controller.close();
    else {
      return new Promise<void>((resolve) => (this.#wake = resolve)).then(() =>
        this.#pull(controller)
      );
    }
  }

  #cancel(): void {
    this.#cancelled = true;
    const n = this.#chunks.reduce((sum, c) => sum + c.length, 0);
    this.#chunks = [];
    if (n) this.#onConsumed(n);
  }
}
