/**
 * Host key (signature) algorithms, in preference order: Ed25519 (RFC 8709), ECDSA (RFC 5656),
 * RSA with SHA-2 (RFC 8332), then the legacy `ssh-rsa` (RSA over SHA-1) and `ssh-dss` (1024-bit
 * DSA over SHA-1, RFC 4253 §6.6), never offered by default (status and risks: `./policy.ts`).
 *
 * Every entry's `verify` reads the signature blob (string format-name, string signature), returns
 * false when the format name is not the entry's name or the key is not of the entry's key type,
 * and otherwise checks the signature with the key family's one implementation: Web Crypto for
 * Ed25519 and ECDSA, node:crypto for RSA and DSA.
 * @module
 */

import type { Buffer } from "node:buffer";
import { nodeCrypto } from "./node_loader.ts";
import { SshReader, WireError } from "../wire/buffer.ts";
import { der, derUnsigned, ID_DSA } from "../wire/der.ts";
import { policyOf } from "./policy.ts";
import {
  type DecodedPublicKey,
  decodePublicKey,
  ECDSA_CURVES,
  type EcdsaCurve,
  publicKeyType,
} from "./pubkey.ts";
import type { AlgorithmInfo, HashName, HostKeyAlgorithm } from "./types.ts";

/** Checks `signature` (the inner signature bytes) by a decoded key of the right type. */
type Check = (
  key: DecodedPublicKey,
  signature: Uint8Array,
  data: Uint8Array,
) => boolean | Promise<boolean>;

/** A copy backed by a plain ArrayBuffer, as Web Crypto's types want. */
function plain(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

/** Builds a registry entry around one key family's check. */
function hostKeyAlgorithm(info: AlgorithmInfo, keyType: string, check: Check): HostKeyAlgorithm {
  return {
    ...info,
    keyType,
    async verify(keyBlob, signatureBlob, data) {
      const r = new SshReader(signatureBlob, `${info.name} signature blob`);
      const format = r.text("format name");
      const signature = r.string("signature");
      r.end();
      if (format !== info.name) return false;
      if (publicKeyType(keyBlob) !== keyType) return false;
      return await check(decodePublicKey(keyBlob), signature, data);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Ed25519 (RFC 8709 §6): the signature is the 64-byte RFC 8032 signature.

async function checkEd25519(key: DecodedPublicKey, signature: Uint8Array, data: Uint8Array) {
  if (key.type !== "ssh-ed25519") return false;
  if (signature.length !== 64) {
    throw new WireError(`ssh-ed25519 signature is ${signature.length} bytes, expected 64`);
  }
  let publicKey: CryptoKey;
  try {
    publicKey = await crypto.subtle.importKey("raw", plain(key.key), { name: "Ed25519" }, false, [
      "verify",
    ]);
  } catch (e) {
    throw new WireError(`ssh-ed25519 public key is not a valid point: ${(e as Error).message}`);
  }
  try {
    return await crypto.subtle.verify(
      { name: "Ed25519" },
      publicKey,
      plain(signature),
      plain(data),
    );
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// ECDSA (RFC 5656 §3.1.2): the signature is mpint r ‖ mpint s; Web Crypto wants the fixed-width
// P1363 form r ‖ s, each padded to the curve's coordinate size.

/** Converts SSH `mpint r, mpint s` to P1363, or null when r or s cannot be a valid value. */
function ecdsaToP1363(curve: EcdsaCurve, signature: Uint8Array): Uint8Array<ArrayBuffer> | null {
  const r = new SshReader(signature, `ecdsa-sha2-${curve.id} signature`);
  const parts = [r.string("r"), r.string("s")];
  r.end();
  const out = new Uint8Array(2 * curve.size);
  for (const [i, raw] of parts.entries()) {
    if (raw.length && raw[0]! & 0x80) {
      throw new WireError(`ecdsa-sha2-${curve.id} signature: negative ${i ? "s" : "r"}`);
    }
    let start = 0;
    while (start < raw.length && raw[start] === 0) start++;
    const magnitude = raw.subarray(start);
    if (magnitude.length === 0 || magnitude.length > curve.size) return null;
    out.set(magnitude, (i + 1) * curve.size - magnitude.length);
  }
  return out;
}

async function checkEcdsa(key: DecodedPublicKey, signature: Uint8Array, data: Uint8Array) {
  if (!("curve" in key)) return false;
  const { curve } = key;
  const p1363 = ecdsaToP1363(curve, signature);
  if (!p1363) return false;
  let publicKey: CryptoKey;
  try {
    publicKey = await crypto.subtle.importKey(
      "raw",
      plain(key.point),
      { name: "ECDSA", namedCurve: curve.webCrypto },
      false,
      ["verify"],
    );
  } catch (e) {
    throw new WireError(
      `ecdsa-sha2-${curve.id} public key is not a point on the curve: ${(e as Error).message}`,
    );
  }
  try {
    return await crypto.subtle.verify(
      { name: "ECDSA", hash: curve.hash },
      publicKey,
      p1363,
      plain(data),
    );
  } catch {
    return false;
  }
}

function ecdsaAlgorithm(curve: EcdsaCurve): HostKeyAlgorithm {
  const name = `ecdsa-sha2-${curve.id}`;
  return hostKeyAlgorithm({ ...policyOf("hostKey", name), spec: "RFC 5656" }, name, checkEcdsa);
}

// ---------------------------------------------------------------------------------------------
// RSA (RFC 8332 §3, RFC 4253 §6.6): PKCS#1 v1.5; the signature may be shorter than the modulus
// (leading zeros dropped) and is left-padded back to it.

function base64Url(bytes: Uint8Array): string {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

function rsaCheck(hash: HashName): Check {
  return (key, signature, data) => {
    if (key.type !== "ssh-rsa") return false;
    const modulusLength = key.n.length;
    if (signature.length > modulusLength) return false;
    const padded = new Uint8Array(modulusLength);
    padded.set(signature, modulusLength - signature.length);
    let publicKey;
    try {
      publicKey = nodeCrypto().createPublicKey({
        key: { kty: "RSA", n: base64Url(key.n), e: base64Url(key.e) },
        format: "jwk",
      });
    } catch (e) {
      throw new WireError(`ssh-rsa public key could not be loaded: ${(e as Error).message}`);
    }
    try {
      return nodeCrypto().verify(
        hash,
        data,
        { key: publicKey, padding: nodeCrypto().constants.RSA_PKCS1_PADDING },
        padded,
      );
    } catch {
      return false;
    }
  };
}

function rsaAlgorithm(info: AlgorithmInfo, hash: HashName): HostKeyAlgorithm {
  return hostKeyAlgorithm({ ...info, usesNodeCrypto: true }, "ssh-rsa", rsaCheck(hash));
}

// ---------------------------------------------------------------------------------------------
// DSA (RFC 4253 §6.6): 1024-bit keys, SHA-1; only the legacy `ssh-dss` uses it. In DER for
// node:crypto: a SubjectPublicKeyInfo and a signature.

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

function checkDsa(key: DecodedPublicKey, signature: Uint8Array, data: Uint8Array): boolean {
  if (key.type !== "ssh-dss") return false;
  return verifyDsa(key, signature, data);
}

// ---------------------------------------------------------------------------------------------

/** Every host key algorithm, in preference order. The default offer omits `legacy` entries. */
export const HOST_KEY_ALGORITHMS: readonly HostKeyAlgorithm[] = [
  hostKeyAlgorithm(
    { ...policyOf("hostKey", "ssh-ed25519"), spec: "RFC 8709" },
    "ssh-ed25519",
    checkEd25519,
  ),
  ...ECDSA_CURVES.map(ecdsaAlgorithm),
  rsaAlgorithm({ ...policyOf("hostKey", "rsa-sha2-512"), spec: "RFC 8332" }, "sha512"),
  rsaAlgorithm({ ...policyOf("hostKey", "rsa-sha2-256"), spec: "RFC 8332" }, "sha256"),
  rsaAlgorithm({ ...policyOf("hostKey", "ssh-rsa"), spec: "RFC 4253" }, "sha1"),
  hostKeyAlgorithm(
    { ...policyOf("hostKey", "ssh-dss"), spec: "RFC 4253", usesNodeCrypto: true },
    "ssh-dss",
    checkDsa,
  ),
];

/** The registry entry for `name`, or undefined. */
export function findHostKeyAlgorithm(name: string): HostKeyAlgorithm | undefined {
  return HOST_KEY_ALGORITHMS.find((a) => a.name === name);
}
