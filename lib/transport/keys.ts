/** Key derivation (RFC 4253 §7.2). @module */

import { createHash } from "node:crypto";
import type { HashName } from "../algorithms/types.ts";

/**
 * Derives `length` bytes for `letter` ('A'..'F'): HASH(K ‖ H ‖ letter ‖ session_id), extended
 * with HASH(K ‖ H ‖ K1 ‖ ... ) until long enough. `sharedSecret` is K already SSH-encoded.
 */
export function deriveKey(
  hash: HashName,
  sharedSecret: Uint8Array,
  exchangeHash: Uint8Array,
  letter: string,
  sessionId: Uint8Array,
  length: number,
): Uint8Array {
  if (length === 0) return new Uint8Array(0);
  const first = createHash(hash)
    .update(sharedSecret)
    .update(exchangeHash)
    .update(new Uint8Array([letter.charCodeAt(0)]))
    .update(sessionId)
    .digest();
  let out = new Uint8Array(first.buffer, first.byteOffset, first.byteLength);
  while (out.length < length) {
    const more = createHash(hash).update(sharedSecret).update(exchangeHash).update(out).digest();
    const next = new Uint8Array(out.length + more.length);
    next.set(out, 0);
    next.set(more, out.length);
    out = next;
  }
  return out.slice(0, length);
}
