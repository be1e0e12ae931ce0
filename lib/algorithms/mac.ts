/**
 * Packet MACs: HMAC-SHA2 (RFC 6668) in encrypt-then-MAC and classic form, followed by the legacy
 * SHA-1 and MD5 MACs. `create(key)` returns `(seq, data) => HMAC(key, uint32 seq ‖ data)`.
 * @module
 */

import { createHmac } from "node:crypto";
import { LEGACY_MACS } from "./mac_legacy.ts";
import type { MacAlgorithm } from "./types.ts";

/** HMAC(key, uint32 seq ‖ data), fed in two updates so `data` is never copied. */
/** A plain `Uint8Array` view of a node `Buffer` (no copy), so callers never see a Buffer. */
function plain(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

function hmac(name: string, hash: string, keyLength: number) {
  return (key: Uint8Array): (seq: number, data: Uint8Array) => Uint8Array => {
    if (key.length !== keyLength) {
      throw new RangeError(`${name} needs a ${keyLength}-byte key, got ${key.length} bytes`);
    }
    const k = new Uint8Array(key);
    const seqBytes = new Uint8Array(4);
    const seqView = new DataView(seqBytes.buffer);
    return (seq: number, data: Uint8Array): Uint8Array => {
      seqView.setUint32(0, seq >>> 0);
      return plain(createHmac(hash, k).update(seqBytes).update(data).digest());
    };
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
    create: hmac(name, hash, length),
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
