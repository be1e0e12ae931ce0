/**
 * Legacy MACs: HMAC-SHA1 and HMAC-MD5 (RFC 4253 §6.4, RFC 2104) and their 96-bit truncations.
 * Never offered unless legacy algorithms are switched on; each entry carries its risk.
 * @module
 */

import { hmac } from "./_node_crypto.ts";
import type { HmacHash } from "./_openssl.ts";
import type { MacAlgorithm } from "./types.ts";

function entry(
  name: string,
  hash: HmacHash,
  keyLength: number,
  macLength: number,
  etm: boolean,
  spec: string,
  risk: string,
): MacAlgorithm {
  return {
    name,
    status: "legacy",
    spec,
    risk,
    keyLength,
    macLength,
    etm,
    create: hmac(name, hash, keyLength, macLength),
  };
}

const EAM = "MAC over the plaintext (encrypt-and-MAC)";

/** Legacy MACs, in preference order. */
export const LEGACY_MACS: readonly MacAlgorithm[] = [
  entry(
    "hmac-sha1-etm@openssh.com",
    "sha1",
    20,
    20,
    true,
    "OpenSSH PROTOCOL",
    "SHA-1 is deprecated (HMAC-SHA1 itself has no known practical forgery)",
  ),
  entry("hmac-sha1", "sha1", 20, 20, false, "RFC 4253", `SHA-1 is deprecated; ${EAM}`),
  entry("hmac-sha1-96", "sha1", 20, 12, false, "RFC 4253", `SHA-1 truncated to 96 bits; ${EAM}`),
  entry("hmac-md5", "md5", 16, 16, false, "RFC 4253", `MD5 is broken; ${EAM}`),
  entry(
    "hmac-md5-96",
    "md5",
    16,
    12,
    false,
    "RFC 4253",
    `MD5 is broken, truncated to 96 bits; ${EAM}`,
  ),
];
