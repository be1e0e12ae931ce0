/**
 * One-shot digests and HMACs for the key exchange, key derivation, fingerprints and hashed
 * known_hosts names, on the crypto provider (`./crypto_provider.ts`: OpenSSL's libcrypto when
 * usable, else `node:crypto`), so that a connection that needs nothing else from `node:crypto`
 * never loads it.
 * @module
 */

import { cryptoProvider, type DigestName, type HmacHash } from "./crypto_provider.ts";

export type { DigestName };

/** The digest of `parts` joined, as a plain Uint8Array. */
export function digest(name: DigestName, ...parts: Uint8Array[]): Uint8Array {
  return cryptoProvider().digest(name, parts);
}

/** HMAC(key, data) with the whole digest. */
export function hmacDigest(name: HmacHash, key: Uint8Array, data: Uint8Array): Uint8Array {
  return cryptoProvider().hmacDigest(name, key, data);
}
