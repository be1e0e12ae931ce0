/** Key derivation (RFC 4253 §7.2). @module */

import { digest } from "../algorithms/hash.ts";
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
  let out = digest(
    hash,
    sharedSecret,
    exchangeHash,
    new Uint8Array([letter.charCodeAt(0)]),
    sessionId,
  );
  while (out.length < length) {
    const more = digest(hash, sharedSecret, exchangeHash, out);
    const next = new Uint8Array(out.length + more.length);
    next.set(out, 0);
    next.set(more, out.length);
    out = next;
  }
  return out.slice(0, length);
}
