/**
 * Packet MACs: HMAC-SHA2 (RFC 6668) in encrypt-then-MAC and classic form, followed by the legacy
 * SHA-1 and MD5 MACs. `create(key)` returns `(seq, data) => HMAC(key, uint32 seq ‖ data)`.
 * @module
 */

import { hmac } from "./_node_crypto.ts";
import { LEGACY_MACS } from "./mac_legacy.ts";
import type { MacAlgorithm } from "./types.ts";

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
