/**
 * Byte encoding of the RFC 4251 §5 data types: byte, boolean, uint32, uint64, string, mpint and
 * name-list. `SshReader` rejects short data and (with {@link SshReader.end}) trailing data.
 * @module
 */

/** A field could not be decoded: the data is short, malformed, or has bytes left over. */
export class WireError extends Error {
  override name = "WireError";
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: false });
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Decodes peer text as UTF-8, never throwing and losing nothing: each byte that is not part of
 * a valid UTF-8 sequence becomes the lone surrogate U+DC80–U+DCFF (0xDC00 + the byte, as
 * Python's `surrogateescape`), so a renderer can show it as `\xNN` (lib/render/sanitize.ts)
 * and JSON carries it as `\udcNN`. Encoding such a string again gives U+FFFD for those bytes.
 */
export function decodeText(bytes: Uint8Array): string {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    let out = "";
    let start = 0;
    for (let i = 0; i < bytes.length;) {
      const n = utf8SequenceLength(bytes, i);
      if (n > 0) {
        i += n;
        continue;
      }
      out += decoder.decode(bytes.subarray(start, i)) + String.fromCharCode(0xdc00 + bytes[i]!);
      start = ++i;
    }
    return out + decoder.decode(bytes.subarray(start));
  }
}

/** The length of the valid UTF-8 sequence at `i` (RFC 3629 §4), or 0 when there is none. */
function utf8SequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (j: number, lo = 0x80, hi = 0xbf) =>
    b[j] !== undefined && b[j]! >= lo && b[j]! <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(i + 1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const [lo, hi] = c === 0xe0 ? [0xa0, 0xbf] : c === 0xed ? [0x80, 0x9f] : [0x80, 0xbf];
    return cont(i + 1, lo, hi) && cont(i + 2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const [lo, hi] = c === 0xf0 ? [0x90, 0xbf] : c === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
    return cont(i + 1, lo, hi) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

/** Encodes a string as UTF-8. */
export function encodeText(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Concatenates byte arrays into one new array. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Constant-time comparison of two byte arrays of any length. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Big-endian unsigned bytes of a non-negative bigint (no leading zeros; 0 gives empty). */
export function bigintToBytes(value: bigint): Uint8Array {
  if (value < 0n) throw new WireError("negative value where unsigned expected");
  let hex = value.toString(16);
  if (value === 0n) return new Uint8Array(0);
  if (hex.length % 2) hex = "0" + hex;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Bits in a non-negative number: a bigint, or an unsigned big-endian magnitude. */
export function bitLength(value: bigint | Uint8Array): number {
  if (typeof value === "bigint") return value <= 0n ? 0 : value.toString(2).length;
  let i = 0;
  while (i < value.length && value[i] === 0) i++;
  if (i === value.length) return 0;
  return (value.length - i - 1) * 8 + (32 - Math.clz32(value[i]!));
}

/** Big-endian unsigned bytes to bigint. */
export function bytesToBigint(bytes: Uint8Array): bigint {
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return hex.length ? BigInt("0x" + hex) : 0n;
}

/**
 * The body of an mpint (RFC 4251 §5) for an unsigned magnitude given as big-endian bytes:
 * leading zeros stripped, one zero byte prepended when the high bit is set.
 */
export function mpintBody(unsigned: Uint8Array): Uint8Array {
  let start = 0;
  while (start < unsigned.length && unsigned[start] === 0) start++;
  const trimmed = unsigned.subarray(start);
  if (trimmed.length && trimmed[0]! & 0x80) return concatBytes(new Uint8Array([0]), trimmed);
  return trimmed.slice();
}

/** Builds an SSH message or blob field by field. */
export class SshWriter {
  #buf: Uint8Array;
  #view: DataView;
  #len = 0;

  constructor(initialCapacity = 256) {
    this.#buf = new Uint8Array(initialCapacity);
    this.#view = new DataView(this.#buf.buffer);
  }

  #ensure(extra: number): void {
    if (this.#len + extra <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < this.#len + extra) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  byte(value: number): this {
    this.#ensure(1);
    this.#buf[this.#len++] = value & 0xff;
    return this;
  }

  bool(value: boolean): this {
    return this.byte(value ? 1 : 0);
  }

  uint32(value: number): this {
    this.#ensure(4);
    this.#view.setUint32(this.#len, value >>> 0);
    this.#len += 4;
    return this;
  }

  uint64(value: bigint): this {
    this.#ensure(8);
    this.#view.setBigUint64(this.#len, value);
    this.#len += 8;
    return this;
  }

  /** Raw bytes with no length prefix. */
  raw(bytes: Uint8Array): this {
    this.#ensure(bytes.length);
    this.#buf.set(bytes, this.#len);
    this.#len += bytes.length;
    return this;
  }

  /** A `string`: uint32 length then the bytes (text is UTF-8 encoded). */
  string(value: Uint8Array | string): this {
    const bytes = typeof value === "string" ? encodeText(value) : value;
    this.uint32(bytes.length);
    return this.raw(bytes);
  }

  /** An `mpint` from a non-negative bigint. */
  mpint(value: bigint): this {
    return this.string(mpintBody(bigintToBytes(value)));
  }

  /** An `mpint` from unsigned big-endian bytes. */
  mpintBytes(unsigned: Uint8Array): this {
    return this.string(mpintBody(unsigned));
  }

  nameList(names: readonly string[]): this {
    return this.string(names.join(","));
  }

  get length(): number {
    return this.#len;
  }

  /** The bytes written so far (a copy). */
  bytes(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

/** Reads SSH fields from a byte array; every read checks bounds. */
export class SshReader {
  #buf: Uint8Array;
  #pos = 0;
  /** What is being decoded, for error messages (e.g. "KEXINIT"). */
  readonly what: string;

  constructor(bytes: Uint8Array, what = "message") {
    this.#buf = bytes; // no DataView: a reader is made per message received
    this.what = what;
  }

  get remaining(): number {
    return this.#buf.length - this.#pos;
  }

  get position(): number {
    return this.#pos;
  }

  #need(n: number, field: string): void {
    if (this.#pos + n > this.#buf.length) {
      throw new WireError(
        `${this.what}: truncated ${field} (needs ${n} bytes at offset ${this.#pos}, ${this.remaining} left)`,
      );
    }
  }

  byte(field = "byte"): number {
    this.#need(1, field);
    return this.#buf[this.#pos++]!;
  }

  bool(field = "boolean"): boolean {
    return this.byte(field) !== 0;
  }

  uint32(field = "uint32"): number {
    this.#need(4, field);
    const b = this.#buf;
    const p = this.#pos;
    this.#pos = p + 4;
    return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }

  uint64(field = "uint64"): bigint {
    this.#need(8, field);
    const high = this.uint32(field);
    return (BigInt(high) << 32n) | BigInt(this.uint32(field));
  }

  raw(n: number, field = "bytes"): Uint8Array {
    this.#need(n, field);
    const out = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  /** A `string` as bytes (a view into the input). */
  string(field = "string"): Uint8Array {
    const n = this.uint32(field + " length");
    return this.raw(n, field);
  }

  /** A `string` decoded as UTF-8 (invalid bytes kept as U+DC80–U+DCFF, see {@link decodeText}). */
  text(field = "string"): string {
    return decodeText(this.string(field));
  }

  /** An `mpint`; negative values are rejected (SSH never sends them where we read them). */
  mpint(field = "mpint"): bigint {
    const body = this.string(field);
    if (body.length && body[0]! & 0x80) throw new WireError(`${this.what}: negative ${field}`);
    return bytesToBigint(body);
  }

  /** A `name-list`: comma-separated US-ASCII names, none empty. */
  nameList(field = "name-list"): string[] {
    const { names, empty } = this.lenientNameList(field);
    if (empty) throw new WireError(`${this.what}: ${field} contains an empty name`);
    return names;
  }

  /**
   * A `name-list` that may contain empty names (`a,,b`, a trailing comma), as some servers send
   * and OpenSSH tolerates: the empty names are dropped and counted. Other bytes are still checked.
   */
  lenientNameList(field = "name-list"): { names: string[]; empty: number } {
    const bytes = this.string(field);
    if (bytes.length === 0) return { names: [], empty: 0 };
    for (const b of bytes) {
      if (b < 0x21 || b > 0x7e) {
        throw new WireError(`${this.what}: ${field} contains a non-printable or non-ASCII byte`);
      }
    }
    const all = decodeText(bytes).split(",");
    const names = all.filter((n) => n.length > 0);
    return { names, empty: all.length - names.length };
  }

  /** The unread remainder. */
  rest(): Uint8Array {
    const out = this.#buf.subarray(this.#pos);
    this.#pos = this.#buf.length;
    return out;
  }

  /** Throws if any bytes are left unread. */
  end(): void {
    if (this.#pos !== this.#buf.length) {
      throw new WireError(`${this.what}: ${this.remaining} unexpected trailing bytes`);
    }
  }
}
