/**
 * Buffered reads from a {@link ByteStream}: each wait is bounded by a timeout, and all the
 * waits of a stage together by that stage's {@link Deadline}. @module
 */

import { SshError } from "../errors/mod.ts";
import type { Stage } from "../types.ts";
import type { ByteStream } from "./stream.ts";

/**
 * A time budget for a whole stage or exchange (the version line, a key exchange, one packet):
 * every wait counts against it, so a peer that trickles bytes or sends messages that do not
 * advance the stage cannot stretch it. A timer ends the wait under way when it runs out.
 */
export class Deadline {
  readonly stage: Stage;
  /** What is awaited, for the message: "no complete {what} after 3.0 s". */
  readonly what: string;
  readonly budgetMs: number;
  readonly startedAt: number;

  constructor(stage: Stage, what: string, budgetMs: number) {
    this.stage = stage;
    this.what = what;
    this.budgetMs = budgetMs;
    this.startedAt = performance.now();
  }

  /** Milliseconds since it started. */
  get waitedMs(): number {
    return performance.now() - this.startedAt;
  }

  /** Milliseconds left (0 when spent). */
  get leftMs(): number {
    return Math.max(0, this.budgetMs - this.waitedMs);
  }

  /** The staged error for a spent budget: `<stage>.timeout`, with how long it waited. */
  error(): SshError {
    const waited = this.waitedMs;
    const stage = this.stage;
    return new SshError(
      stage,
      `${stage}.timeout`,
      `no complete ${this.what} after ${(waited / 1000).toFixed(1)} s (budget ${
        this.budgetMs / 1000
      } s) during stage ${stage}`,
      {
        waitedMs: Math.round(waited),
        budgetMs: this.budgetMs,
        timeoutMs: this.budgetMs,
      },
    );
  }
}

/** `<stage>.closed`: the peer closed the connection (mid-packet, or where more was due). */
export function closedError(stage: Stage, peer: string): SshError {
  return new SshError(
    stage,
    `${stage}.closed`,
    `the ${peer} closed the connection during stage ${stage}`,
    {},
  );
}

/** `<stage>.connection-reset`: the stream failed (`doing`: " while sending", or ""). */
export function resetError(stage: Stage, e: unknown, doing: string): SshError {
  return new SshError(
    stage,
    `${stage}.connection-reset`,
    `the connection broke${doing} during stage ${stage}: ${(e as Error).message}`,
    {},
    { cause: e },
  );
}

/** Reads lines and exact byte counts from a stream; every wait is bounded by a timeout. */
export class BufferedReader {
  #stream: ByteStream;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  /** Bytes taken (consumed) but not yet {@link release}d to the stream. */
  #unreleased = 0;
  #eof = false;
  /** The stream read under way (its chunk is added when it completes). */
  #pending: Promise<boolean> | null = null;
  /** The error that broke the stream, thrown by every later read. */
  #failure: SshError | null = null;
  /** Stage to blame when a wait times out or the peer closes: set by the layer at work. */
  stage: Stage;
  timeoutMs: number;
  /** Bounds every wait together while set (see {@link Deadline}). */
  deadline: Deadline | null = null;
  /**
   * The waits under way, each ended (rejected with the error given to {@link abort}) by an abort.
   * One entry per wait, removed when the wait ends: racing every read against one long-lived
   * promise would leave a reaction on it per read, which a long copy piles up by the megabyte.
   */
  #waiters = new Set<(error: SshError) => void>();

  constructor(stream: ByteStream, stage: Stage, timeoutMs: number) {
    this.#stream = stream;
    this.stage = stage;
    this.timeoutMs = timeoutMs;
  }

  /** Ends the wait under way, and every later one, with `error` (e.g. a stage's deadline). */
  abort(error: SshError): void {
    if (this.#failure) return;
    this.#failure = error;
    for (const end of this.#waiters) end(error);
    this.#waiters.clear();
  }

  /** `work`, unless an {@link abort} comes first (then its error). */
  #unlessAborted<T>(work: Promise<T>): Promise<T> {
    if (this.#failure) {
      work.catch(() => {});
      return Promise.reject(this.#failure);
    }
    return new Promise<T>((resolve, reject) => {
      this.#waiters.add(reject);
      work.then(
        (value) => {
          this.#waiters.delete(reject);
          resolve(value);
        },
        (e) => {
          this.#waiters.delete(reject);
          reject(e);
        },
      );
    });
  }

  get buffered(): number {
    return this.#buffered;
  }

  /**
   * Ends the reader with the deadline's error if it is spent: for loops that work through
   * buffered data without waiting (a busy event loop can run a deadline's timer late).
   */
  checkDeadline(): void {
    const deadline = this.deadline;
    if (!deadline || deadline.leftMs > 0) return;
    this.abort(deadline.error());
    throw this.#failure;
  }

  /**
   * Waits for more bytes. Returns false at end of stream. A timeout of 0 waits without a timer.
   * A read started by {@link prefetch} is waited for rather than a second one started.
   * `budget`: a deadline of this wait alone (one packet's), which, when it is the tighter one,
   * bounds it as {@link within} would (without a timer of its own).
   */
  async fill(timeoutMs = this.timeoutMs, budget?: Deadline): Promise<boolean> {
    if (this.#eof) return false;
    const outer = this.deadline;
    const deadline = budget && (!outer || budget.leftMs < outer.leftMs) ? budget : outer;
    if (deadline && deadline.leftMs <= 0) this.abort(deadline.error());
    const read = this.#read();
    const left = deadline ? Math.max(1, Math.ceil(deadline.leftMs)) : Infinity;
    const limit = Math.min(timeoutMs > 0 ? timeoutMs : Infinity, left);
    if (limit === Infinity) return await this.#unlessAborted(read);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        this.#unlessAborted(read),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            if (deadline && limit === left) {
              // As within's timer: this wait, and every later one, ends with the error.
              this.abort(deadline.error());
              reject(this.#failure);
              return;
            }
            const stage = this.stage;
            reject(
              new SshError(
                stage,
                `${stage}.timeout`,
                `no answer from the server for ${timeoutMs / 1000} s during stage ${stage}`,
                {
                  waitedMs: timeoutMs,
                  budgetMs: timeoutMs,
                  timeoutMs,
                },
              ),
            );
          }, limit);
        }),
      ]);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  /**
   * Runs `body` with `deadline` bounding every wait: a timer ends the wait under way, and every
   * later one, with the deadline's error when it runs out. The previous deadline is back
   * afterwards.
   */
  async within<T>(deadline: Deadline, body: () => Promise<T>): Promise<T> {
    const outer = this.deadline;
    this.deadline = deadline;
    const timer = setTimeout(
      () => this.abort(deadline.error()),
      Math.max(1, Math.ceil(deadline.leftMs)),
    );
    try {
      return await body();
    } finally {
      clearTimeout(timer);
      this.deadline = outer;
    }
  }

  /**
   * Starts reading the next chunk in the background (if no read is under way and the stream has
   * not ended), so the socket is read while the caller works on what is buffered. A failure is
   * kept and thrown by the next {@link fill}.
   */
  prefetch(): void {
    if (this.#eof || this.#pending) return;
    this.#read().catch(() => {});
  }

  /** The read under way, or a new one: resolves true once a chunk was added, false at the end. */
  #read(): Promise<boolean> {
    if (this.#failure) return Promise.reject(this.#failure);
    this.#pending ??= this.#stream.read().then(
      (chunk) => {
        this.#pending = null;
        if (chunk === null) {
          this.#eof = true;
          return false;
        }
        this.#push(chunk);
        return true;
      },
      (e) => {
        this.#pending = null;
        if (e instanceof SshError) throw e;
        throw (this.#failure = resetError(this.stage, e, ""));
      },
    );
    return this.#pending;
  }

  #push(chunk: Uint8Array): void {
    if (!chunk.length) return;
    this.#buffered += chunk.length;
    // A chunk that continues the last one in the same memory (consecutive reads into one slab,
    // see net.ts) is joined to it without copying, so packets rarely straddle chunks.
    const last = this.#chunks[this.#chunks.length - 1];
    if (
      last && last.buffer === chunk.buffer && last.byteOffset + last.length === chunk.byteOffset
    ) {
      this.#chunks[this.#chunks.length - 1] = new Uint8Array(
        last.buffer,
        last.byteOffset,
        last.length + chunk.length,
      );
    } else this.#chunks.push(chunk);
  }

  #coalesce(): void {
    if (this.#chunks.length <= 1) return;
    const all = new Uint8Array(this.#buffered);
    let o = 0;
    for (const c of this.#chunks) {
      all.set(c, o);
      o += c.length;
    }
    this.#chunks = [all];
  }

  /**
   * Consumes exactly `n` bytes if buffered, else returns null (no waiting). A view when the bytes
   * sit in one chunk; otherwise exactly `n` bytes are copied (never the whole buffer).
   */
  take(n: number): Uint8Array | null {
    if (this.#buffered < n) return null;
    if (n === 0) return new Uint8Array(0);
    const out = this.peekExact(n);
    this.#buffered -= n;
    this.#unreleased += n;
    for (let left = n; left > 0;) {
      const chunk = this.#chunks[0]!;
      if (chunk.length > left) {
        this.#chunks[0] = chunk.subarray(left);
        break;
      }
      this.#chunks.shift();
      left -= chunk.length;
    }
    return out;
  }

  /**
   * Tells the stream that no view of any byte taken so far is kept any more (the caller has
   * copied or decrypted them), so it may reuse their memory ({@link ByteStream.recycle}).
   */
  release(): void {
    const n = this.#unreleased;
    if (n === 0) return;
    this.#unreleased = 0;
    this.#stream.recycle?.(n);
  }

  /** Waits until at least `n` bytes are buffered; false if the stream ends first. */
  async ensure(n: number, timeoutMs = this.timeoutMs): Promise<boolean> {
    while (this.#buffered < n) {
      if (!(await this.fill(timeoutMs))) return false;
    }
    return true;
  }

  /**
   * The first `n` buffered bytes (which must be there) without consuming them: a view when they
   * sit in one chunk, else a copy of just those bytes.
   */
  peekExact(n: number): Uint8Array {
    const first = this.#chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    const out = new Uint8Array(n);
    let filled = 0;
    for (const c of this.#chunks) {
      const part = Math.min(c.length, n - filled);
      out.set(c.subarray(0, part), filled);
      filled += part;
      if (filled === n) break;
    }
    return out;
  }

  /**
   * Reads one line ending in LF, CR LF, or a lone CR (old switches). Returns the line without its
   * ending, or null at end of stream. A line longer than `maxLength` returns `{ overlong }`.
   */
  async readLine(maxLength: number): Promise<string | null | { overlong: string }> {
    for (;;) {
      this.#coalesce();
      const buf = this.#chunks[0] ?? new Uint8Array(0);
      let end = -1;
      for (let i = 0; i < buf.length && i <= maxLength; i++) {
        if (buf[i] === 0x0a) {
          end = i;
          break;
        }
        // A lone CR ends a line only when followed by something other than LF.
        if (buf[i] === 0x0d && i + 1 < buf.length && buf[i + 1] !== 0x0a) {
          end = i;
          break;
        }
      }
      if (end >= 0) {
        const raw = this.take(end + 1)!;
        let text = raw.subarray(0, end);
        if (text.length && text[text.length - 1] === 0x0d) text = text.subarray(0, -1);
        return latin1(text);
      }
      if (buf.length > maxLength) return { overlong: latin1(buf.subarray(0, 80)) };
      if (!(await this.fill())) {
        if (this.#buffered > 0) {
          const rest = this.take(this.#buffered)!;
          return { overlong: latin1(rest.subarray(0, 80)) + " (no line ending before close)" };
        }
        return null;
      }
    }
  }
}

/** The bytes of a line {@link BufferedReader.readLine} returned (each character is one byte). */
export function lineBytes(line: string): Uint8Array {
  const out = new Uint8Array(line.length);
  for (let i = 0; i < line.length; i++) out[i] = line.charCodeAt(i);
  return out;
}

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}
