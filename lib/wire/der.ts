/**
 * Minimal DER (X.690), as much as DSA keys need: node can neither import nor export DSA as
 * JWK, so DSA public keys (SubjectPublicKeyInfo), private keys (PKCS#8) and signatures are
 * built and read here.
 * @module
 */

import { concatBytes, mpintBody, WireError } from "./buffer.ts";

function derLength(n: number): Uint8Array {
  if (n < 0x80) return new Uint8Array([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return new Uint8Array([0x80 | bytes.length, ...bytes]);
}

/** One DER element: `tag`, the length, then the contents joined. */
export function der(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = concatBytes(...content);
  return concatBytes(new Uint8Array([tag]), derLength(body.length), body);
}

/** A DER INTEGER of an unsigned big-endian magnitude (the same sign rule as an SSH mpint). */
export function derUnsigned(unsigned: Uint8Array): Uint8Array {
  const body = mpintBody(unsigned);
  return der(0x02, body.length ? body : new Uint8Array([0]));
}

/** OID 1.2.840.10040.4.1 (id-dsa), encoded. */
export const ID_DSA = new Uint8Array([0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01]);

/**
 * Reads one DER element at `pos`: its tag and the bounds of its content. Throws `WireError`
 * when it runs past the end or its length is malformed.
 */
export function derRead(
  bytes: Uint8Array,
  pos: number,
): { tag: number; start: number; end: number } {
  if (pos + 2 > bytes.length) throw new WireError("DER: truncated element");
  const tag = bytes[pos]!;
  let len = bytes[pos + 1]!;
  let start = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > bytes.length) throw new WireError("DER: bad length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + bytes[start + i]!;
    start += n;
  }
  const end = start + len;
  if (end > bytes.length) throw new WireError("DER: truncated element");
  return { tag, start, end };
}
