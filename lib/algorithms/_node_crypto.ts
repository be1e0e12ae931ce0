/** Shared helpers for the registries built on `node:crypto` (internal). @module */

import { createHmac } from "node:crypto";

/** A plain `Uint8Array` view of a node `Buffer` (no copy), so callers never see a Buffer. */
export function plain(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** Throws a `RangeError` naming the algorithm when a key or IV has the wrong size. */
export function checkSizes(
  name: string,
  key: Uint8Array,
  keyLength: number,
  iv: Uint8Array,
  ivLength: number,
): void {
  if (key.length !== keyLength) {
    throw new RangeError(`${name} needs a ${keyLength}-byte key, got ${key.length} bytes`);
  }
  if (iv.length !== ivLength) {
    throw new RangeError(`${name} needs a ${ivLength}-byte IV, got ${iv.length} bytes`);
  }
}

/**
 * A MAC factory: HMAC(key, uint32 seq ‖ data) truncated to `macLength`, fed in two updates so
 * `data` is never copied.
 */
export function hmac(name: string, hash: string, keyLength: number, macLength: number) {
  return (key: Uint8Array): (seq: number, data: Uint8Array, more?: Uint8Array) => Uint8Array => {
    if (key.length !== keyLength) {
      throw new RangeError(`${name} needs a ${keyLength}-byte key, got ${key.length} bytes`);
    }
    const k = new Uint8Array(key);
    const seqBytes = new Uint8Array(4);
    const seqView = new DataView(seqBytes.buffer);
    return (seq: number, data: Uint8Array, more?: Uint8Array): Uint8Array => {
      seqView.setUint32(0, seq >>> 0);
      const h = createHmac(hash, k).update(seqBytes).update(data);
      if (more) h.update(more);
      const mac = h.digest();
      return plain(mac.length > macLength ? mac.subarray(0, macLength) : mac);
    };
  };
}
