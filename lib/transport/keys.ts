/** Key derivation (RFC 4253 §7.2). @module */

import { findCipher, findMac } from "../algorithms/registry.ts";
import { digest } from "../algorithms/hash.ts";
import type { HashName } from "../algorithms/types.ts";
import { concatBytes } from "../wire/buffer.ts";
import type { DirectionKeys } from "./packet.ts";

/** What a kex method produced: K (SSH-encoded), H and the hash both derive keys with. */
export interface KexKeys {
  hash: HashName;
  k: Uint8Array;
  h: Uint8Array;
}

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
  const letterByte = new Uint8Array([letter.charCodeAt(0)]);
  let out = digest(hash, sharedSecret, exchangeHash, letterByte, sessionId);
  while (out.length < length) {
    out = concatBytes(out, digest(hash, sharedSecret, exchangeHash, out));
  }
  return out.slice(0, length);
}

/**
 * The keys of one direction: client to server derives IV, key and MAC key from the letters A, C
 * and E; server to client from B, D and F.
 */
export function directionKeys(
  kex: KexKeys,
  sessionId: Uint8Array,
  toServer: boolean,
  cipherName: string,
  macName: string,
): DirectionKeys {
  const [ivL, keyL, macL] = toServer ? "ACE" : "BDF";
  const cipher = findCipher(cipherName)!;
  const mac = cipher.createAead ? null : findMac(macName)!;
  const d = (letter: string, n: number) => deriveKey(kex.hash, kex.k, kex.h, letter, sessionId, n);
  return {
    cipher,
    mac,
    iv: d(ivL!, cipher.ivLength),
    encKey: d(keyL!, cipher.keyLength),
    macKey: mac ? d(macL!, mac.keyLength) : new Uint8Array(0),
  };
}
