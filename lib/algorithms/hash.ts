/**
 * One-shot digests and HMACs for the key exchange, key derivation, fingerprints and hashed
 * known_hosts names: OpenSSL's libcrypto when usable (`./_openssl.ts`), else `node:crypto`, so
 * that a connection that needs nothing else from `node:crypto` never loads it (internal).
 * @module
 */

import { nodeCrypto } from "./_node.ts";
import { type DigestName, type HmacHash, openssl } from "./_openssl.ts";

export type { DigestName };

/** The digest of `parts` joined, as a plain Uint8Array. */
export function digest(name: DigestName, ...parts: Uint8Array[]): Uint8Array {
  const ossl = openssl();
  if (ossl) return ossl.digest(name, parts);
  const h = nodeCrypto().createHash(name);
  for (const part of parts) h.update(part);
  return new Uint8Array(h.digest());
}

/** HMAC(key, data) with the whole digest. */
export function hmacDigest(name: HmacHash, key: Uint8Array, data: Uint8Array): Uint8Array {
  const ossl = openssl();
  if (ossl) return ossl.hmac(name, key).mac(64, data);
  return new Uint8Array(nodeCrypto().createHmac(name, key).update(data).digest());
}
