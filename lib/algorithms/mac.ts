/**
 * Packet MACs: HMAC-SHA2 (RFC 6668) in encrypt-then-MAC and classic form, followed by the legacy
 * HMAC-SHA1 and HMAC-MD5 (RFC 4253 §6.4, RFC 2104) and their 96-bit truncations, never offered
 * unless legacy algorithms are switched on. `create(key)` returns
 * `(seq, data) => HMAC(key, uint32 seq ‖ data)`, on the crypto provider (`./crypto_provider.ts`).
 * @module
 */

import { cryptoProvider, type HmacHash, type PacketMac } from "./crypto_provider.ts";
import type { AlgorithmStatus, MacAlgorithm } from "./types.ts";

/** A MAC factory: checks the key size, then asks the provider for HMAC under that key. */
function hmac(name: string, hash: HmacHash, keyLength: number, macLength: number) {
  return (key: Uint8Array): PacketMac => {
    if (key.length !== keyLength) {
      throw new RangeError(`${name} needs a ${keyLength}-byte key, got ${key.length} bytes`);
    }
    return cryptoProvider().hmac(hash, key, macLength);
  };
}

function entry(name: string, hash: "sha256" | "sha512", etm: boolean): MacAlgorithm {
  const length = hash === "sha256" ? 32 : 64;
  return {
    name,
    status: "recommended",
    spec: etm ? "OpenSSH PROTOCOL" : "RFC 6668",
    keyLength: length,
    macLength: length,
    etm,
    create: hmac(name, hash, length, length),
  };
}

function legacyEntry(
  name: string,
  hash: HmacHash,
  keyLength: number,
  macLength: number,
  etm: boolean,
  spec: string,
  risk: string,
): MacAlgorithm {
  const status: AlgorithmStatus = "legacy";
  return {
    name,
    status,
    spec,
    risk,
    keyLength,
    macLength,
    etm,
    create: hmac(name, hash, keyLength, macLength),
  };
}

const EAM = "MAC over the plaintext (encrypt-and-MAC)";

/** The legacy SHA-1 and MD5 MACs, in preference order. */
const LEGACY_MACS: readonly MacAlgorithm[] = [
  legacyEntry(
    "hmac-sha1-etm@openssh.com",
    "sha1",
    20,
    20,
    true,
    "OpenSSH PROTOCOL",
    "SHA-1 is deprecated (HMAC-SHA1 itself has no known practical forgery)",
  ),
  legacyEntry("hmac-sha1", "sha1", 20, 20, false, "RFC 4253", `SHA-1 is deprecated; ${EAM}`),
  legacyEntry(
    "hmac-sha1-96",
    "sha1",
    20,
    12,
    false,
    "RFC 4253",
    `SHA-1 truncated to 96 bits; ${EAM}`,
  ),
  legacyEntry("hmac-md5", "md5", 16, 16, false, "RFC 4253", `MD5 is broken; ${EAM}`),
  legacyEntry(
    "hmac-md5-96",
    "md5",
    16,
    12,
    false,
    "RFC 4253",
    `MD5 is broken, truncated to 96 bits; ${EAM}`,
  ),
];

/** Every MAC, in preference order; the legacy MACs come last. */
export const MAC_ALGORITHMS: readonly MacAlgorithm[] = [
  entry("hmac-sha2-256-etm@openssh.com", "sha256", true),
  entry("hmac-sha2-512-etm@openssh.com", "sha512", true),
  entry("hmac-sha2-256", "sha256", false),
  entry("hmac-sha2-512", "sha512", false),
  ...LEGACY_MACS,
];

/** Looks up a MAC by its SSH name. */
export function findMac(name: string): MacAlgorithm | undefined {
  return MAC_ALGORITHMS.find((m) => m.name === name);
}
