/**
 * Packet MACs: HMAC-SHA2 (RFC 6668) in encrypt-then-MAC and classic form, followed by the legacy
 * HMAC-SHA1 and HMAC-MD5 (RFC 4253 §6.4, RFC 2104) and their 96-bit truncations, never offered
 * unless legacy algorithms are switched on (status and risks: `./policy.ts`). `create(key)` returns
 * `(seq, data) => HMAC(key, uint32 seq ‖ data)`, on the crypto provider (`./crypto_provider.ts`).
 * @module
 */

import { cryptoProvider, type HmacHash, type PacketMac } from "./crypto_provider.ts";
import { policyOf } from "./policy.ts";
import type { MacAlgorithm } from "./types.ts";

/** A MAC factory: checks the key size, then asks the provider for HMAC under that key. */
function hmac(name: string, hash: HmacHash, keyLength: number, macLength: number) {
  return (key: Uint8Array): PacketMac => {
    if (key.length !== keyLength) {
      throw new RangeError(`${name} needs a ${keyLength}-byte key, got ${key.length} bytes`);
    }
    return cryptoProvider().hmac(hash, key, macLength);
  };
}

/** A MAC entry: status and risk from `./policy.ts`. */
function entry(
  name: string,
  hash: HmacHash,
  keyLength: number,
  macLength: number,
  etm: boolean,
  spec: string,
): MacAlgorithm {
  return {
    ...policyOf("mac", name),
    spec,
    keyLength,
    macLength,
    etm,
    create: hmac(name, hash, keyLength, macLength),
  };
}

function sha2(name: string, hash: "sha256" | "sha512", etm: boolean): MacAlgorithm {
  const length = hash === "sha256" ? 32 : 64;
  return entry(name, hash, length, length, etm, etm ? "OpenSSH PROTOCOL" : "RFC 6668");
}

/** Every MAC, in preference order; the legacy MACs come last. */
export const MAC_ALGORITHMS: readonly MacAlgorithm[] = [
  sha2("hmac-sha2-256-etm@openssh.com", "sha256", true),
  sha2("hmac-sha2-512-etm@openssh.com", "sha512", true),
  sha2("hmac-sha2-256", "sha256", false),
  sha2("hmac-sha2-512", "sha512", false),
  // Legacy (never offered unless asked): SHA-1 and MD5.
  entry("hmac-sha1-etm@openssh.com", "sha1", 20, 20, true, "OpenSSH PROTOCOL"),
  entry("hmac-sha1", "sha1", 20, 20, false, "RFC 4253"),
  entry("hmac-sha1-96", "sha1", 20, 12, false, "RFC 4253"),
  entry("hmac-md5", "md5", 16, 16, false, "RFC 4253"),
  entry("hmac-md5-96", "md5", 16, 12, false, "RFC 4253"),
];

/** Looks up a MAC by its SSH name. */
export function findMac(name: string): MacAlgorithm | undefined {
  return MAC_ALGORITHMS.find((m) => m.name === name);
}
