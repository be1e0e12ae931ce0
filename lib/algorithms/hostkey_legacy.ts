/**
 * Legacy host key algorithms: `ssh-rsa` (RSA with SHA-1, RFC 4253 §6.6) and `ssh-dss` (DSA with
 * SHA-1, RFC 4253 §6.6). They are never offered by default. The registry entries are assembled
 * in `hostkey.ts`, which shares its RSA implementation with `rsa-sha2-*`; the DSA family lives
 * here because only this legacy algorithm uses it.
 * @module
 */

import type { Buffer } from "node:buffer";
import { nodeCrypto } from "./node_loader.ts";
import { WireError } from "../wire/buffer.ts";
import { der, derUnsigned, ID_DSA } from "../wire/der.ts";
import type { AlgorithmInfo } from "./types.ts";

/** `ssh-rsa`: RSA PKCS#1 v1.5 signatures over SHA-1. */
export const SSH_RSA_INFO: AlgorithmInfo = {
  name: "ssh-rsa",
  status: "legacy",
  spec: "RFC 4253",
  risk: "RSA signatures over SHA-1, which has practical collisions; OpenSSH disabled it in 8.8",
};

/** `ssh-dss`: DSA over SHA-1 with 1024-bit keys. */
export const SSH_DSS_INFO: AlgorithmInfo = {
  name: "ssh-dss",
  status: "legacy",
  spec: "RFC 4253",
  risk: "1024-bit DSA over SHA-1 is too weak today; OpenSSH disabled it by default in 7.0",
};

// ---------------------------------------------------------------------------------------------
// DSA in DER: a SubjectPublicKeyInfo and a signature.

/** The DER SubjectPublicKeyInfo of a DSA key (RFC 3279 §2.3.2). */
export function dsaSpki(p: Uint8Array, q: Uint8Array, g: Uint8Array, y: Uint8Array): Uint8Array {
  const params = der(0x30, derUnsigned(p), derUnsigned(q), derUnsigned(g));
  const algorithm = der(0x30, ID_DSA, params);
  const bitString = der(0x03, new Uint8Array([0]), derUnsigned(y));
  return der(0x30, algorithm, bitString);
}

/**
 * Verifies an SSH DSA signature (40 bytes: r ‖ s, 20 bytes each, RFC 4253 §6.6) with SHA-1.
 * Throws `WireError` for a signature of the wrong length or a key node cannot load.
 */
export function verifyDsa(
  key: { p: Uint8Array; q: Uint8Array; g: Uint8Array; y: Uint8Array },
  signature: Uint8Array,
  data: Uint8Array,
): boolean {
  if (signature.length !== 40) {
    throw new WireError(`ssh-dss signature is ${signature.length} bytes, expected 40`);
  }
  const r = signature.subarray(0, 20);
  const s = signature.subarray(20);
  if (r.every((b) => b === 0) || s.every((b) => b === 0)) return false;
  let publicKey;
  try {
    publicKey = nodeCrypto().createPublicKey({
      key: dsaSpki(key.p, key.q, key.g, key.y) as Buffer, // any Uint8Array works at run time
      format: "der",
      type: "spki",
    });
  } catch (e) {
    throw new WireError(`ssh-dss public key could not be loaded: ${(e as Error).message}`);
  }
  const derSignature = der(0x30, derUnsigned(r), derUnsigned(s));
  try {
    return nodeCrypto().verify("sha1", data, { key: publicKey, dsaEncoding: "der" }, derSignature);
  } catch {
    return false;
  }
}
