/** Buffered reads from a {@link ByteStream} with a timeout on every wait. @module */

import { SshTraceError, type Stage } from "../trace.ts";
import type { ByteStream } from "./stream.ts";

/** Reads lines and exact byte counts from a stream; every wait is bounded by a timeout. */
export class BufferedReader {
  #stream: ByteStream;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #eof = false;
  /** Stage to blame when a wait times out or the peer closes. */
  stage: () => Stage;
  timeoutMs: number;

  constructor(stream: ByteStream, stage: () => Stage, timeoutMs: number) {
    this.#stream = stream;
    this.stage = stage;
    this.timeoutMs = timeoutMs;
  }

  get buffered(): number {
    return this.#buffered;
  }

  get eof(): boolean {
    return this.#eof && this.#buffered === 0;
  }

  /** Waits for more bytes. Returns false at end of stream. */
  async fill(timeoutMs = this.timeoutMs): Promise<boolean> {
    if (this.#eof) return false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = this.#stream.read();
    let chunk: Uint8Array | null;
    try {
      chunk = timeoutMs > 0
        ? await Promise.race([
          read,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              const stage = this.stage();
              reject(
                new SshTraceError(
                  stage,
                  `${stage}.timeout`,
                  `no answer from the server for ${timeoutMs / 1000} s during stage ${stage}`,
                  { timeoutMs, fix: "raise the limit with --timeout SECONDS (-o ConnectTimeout)" },
                ),
              );
            }, timeoutMs);
          }),
        ])
        : await read;
    } catch (e) {
      if (e instanceof SshTraceError) {
        read.catch(() => {});
        throw e;
      }
      const stage = this.stage();
      throw new SshTraceError(
        stage,
        `${stage}.connection-reset`,
        `the connection broke during stage ${stage}: ${(e as Error).message}`,
        {},
        { cause: e },
      );
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
    if (chunk === null) {
      this.#eof = true;
      return false;
    }
    if (chunk.length) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    return true;
  }

  /** Looks at up to `n` buffered bytes without consuming them. */
  peek(n: number): Uint8Array {
    this.#coalesce();
    const first = this.#chunks[0] ?? new Uint8Array(0);
    return first.subarray(0, Math.min(n, first.length));
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
    const first = this.#chunks[0]!;
    this.#buffered -= n;
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[0]!;
      const part = Math.min(chunk.length, n - filled);
      out.set(chunk.subarray(0, part), filled);
      filled += part;
      if (part === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(part);
    }
    return out;
  }

  /** Waits until at least `n` bytes are buffered; false if the stream ends first. */
  async ensure(n: number, timeoutMs = this.timeoutMs): Promise<boolean> {
    while (this.#buffered < n) {
      if (!(await this.fill(timeoutMs))) return false;
    }
    return true;
  }

  /** The first `n` buffered bytes (which must be there) without consuming them. */
  peekExact(n: number): Uint8Array {
    const first = this.#chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    this.#coalesce();
    return this.#chunks[0]!.subarray(0, n);
  }

  /** Reads exactly `n` bytes, waiting as needed; null if the stream ends first. */
  async readExact(n: number, timeoutMs = this.timeoutMs): Promise<Uint8Array | null> {
    while (this.#buffered < n) {
      if (!(await this.fill(timeoutMs))) return null;
    }
    return this.take(n);
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

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}
