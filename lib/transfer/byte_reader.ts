/**
 * A pull reader over a byte stream for line-and-data protocols (SCP): one byte, one line (with a
 * length limit, so a hostile peer cannot make us buffer without bound), or the next chunk of at
 * most n bytes. Also a bounded "read everything" for small command outputs.
 * @module
 */

import { concatBytes, decodeText } from "../wire/buffer.ts";
import { release } from "../wire/release.ts";

export class ByteReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #buf: Uint8Array = new Uint8Array(0);
  #ended = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  async #fill(): Promise<boolean> {
    while (this.#buf.length === 0) {
      if (this.#ended) return false;
      const { value, done } = await this.#reader.read();
      if (done) {
        this.#ended = true;
        return false;
      }
      this.#buf = value;
    }
    return true;
  }

  /** The next byte, or null at the end. */
  async byte(): Promise<number | null> {
    if (!(await this.#fill())) return null;
    const b = this.#buf[0]!;
    this.#buf = this.#buf.subarray(1);
    return b;
  }

  /**
   * The text up to the next `\n` (not included); null at the end of the stream. A line longer
   * than `max` bytes is cut there (the rest stays unread) and `long` is set.
   */
  async line(max = 4096): Promise<{ text: string; long: boolean } | null> {
    const parts: Uint8Array[] = [];
    let n = 0;
    for (;;) {
      if (!(await this.#fill())) {
        return n === 0 ? null : { text: decodeText(concatBytes(...parts)), long: false };
      }
      const nl = this.#buf.indexOf(0x0a);
      const take = nl < 0 ? this.#buf.length : nl;
      const room = max - n;
      if (take > room) {
        parts.push(this.#buf.subarray(0, room));
        this.#buf = this.#buf.subarray(room);
        return { text: decodeText(concatBytes(...parts)), long: true };
      }
      parts.push(this.#buf.subarray(0, take));
      n += take;
      if (nl >= 0) {
        this.#buf = this.#buf.subarray(nl + 1);
        return { text: decodeText(concatBytes(...parts)), long: false };
      }
      this.#buf = new Uint8Array(0);
    }
  }

  /** The next bytes, at most `max` (a view: use it before the next call); null at the end. */
  async chunk(max: number): Promise<Uint8Array | null> {
    // The views handed out of the chunk used up are used (and line() copies): its memory is
    // free (lib/wire/release.ts).
    if (this.#buf.length === 0) release(this.#buf);
    if (!(await this.#fill())) return null;
    const out = this.#buf.subarray(0, Math.min(max, this.#buf.length));
    this.#buf = this.#buf.subarray(out.length);
    return out;
  }

  /** Stops reading (the stream is cancelled). */
  cancel(): void {
    this.#reader.cancel().catch(() => {});
  }
}

/** Reads a whole stream as text, keeping at most `max` bytes (the rest is read and dropped). */
export async function readSmallText(stream: ReadableStream<Uint8Array>, max = 64 * 1024) {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const chunk of stream) {
    if (n >= max) continue;
    const part = chunk.subarray(0, max - n);
    parts.push(part.slice());
    n += part.length;
  }
  return decodeText(concatBytes(...parts));
}
