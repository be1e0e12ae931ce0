/**
 * The {@link Signer} of a user private key (Ed25519, ECDSA P-256/384/521, RSA, DSA) and the
 * builders that make one from key components; the file formats live in openssh.ts and pem.ts.
 * Key bytes stay inside the signer.
 * @module
 */

import type { KeyObject } from "node:crypto";
import { nodeCrypto } from "../algorithms/node_loader.ts";
import { bigintToBytes, bitLength, bytesToBigint, concatBytes, SshWriter } from "../wire/buffer.ts";
import { der, derRead, derUnsigned, ID_DSA } from "../wire/der.ts";
import { CERT_SUFFIX, ECDSA_CURVES, type EcdsaCurve } from "../algorithms/pubkey.ts";
import type { Signer } from "../auth/types.ts";
import { KeyFileError } from "./key_file_error.ts";

/** RSA signature algorithms, best first. */
export const RSA_ALGORITHMS: readonly string[] = ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"];

const RSA_HASH: Record<string, string> = {
  "rsa-sha2-512": "sha512",
  "rsa-sha2-256": "sha256",
  "ssh-rsa": "sha1",
};

/** ECDSA curves by key type (pubkey.ts's table), with node's name of the signature hash. */
export const CURVES: Record<string, EcdsaCurve & { nodeHash: string }> = Object.fromEntries(
  ECDSA_CURVES.map((c) => [
    `ecdsa-sha2-${c.id}`,
    { ...c, nodeHash: c.hash.replace("-", "").toLowerCase() },
  ]),
);

const CERT_PREFIX_RSA = "ssh-rsa";

/** Signature algorithms a public key type can produce, best first. */
export function algorithmsForKeyType(type: string): readonly string[] {
  if (type === "ssh-rsa") return RSA_ALGORITHMS;
  if (type === CERT_PREFIX_RSA + CERT_SUFFIX) return RSA_ALGORITHMS.map((a) => a + CERT_SUFFIX);
  return [type];
}

/** The name inside a signature blob made for `algorithm` (certificate suffix removed). */
export function signatureNameOf(algorithm: string): string {
  return algorithm.endsWith(CERT_SUFFIX) ? algorithm.slice(0, -CERT_SUFFIX.length) : algorithm;
}

// ---------------------------------------------------------------------------------------------
// The signer

type KeyKind = "ed25519" | "ecdsa" | "rsa" | "dsa";

export class KeySigner implements Signer {
  readonly type: string;
  readonly publicBlob: Uint8Array;
  readonly bits: number;
  readonly comment: string;
  readonly source: string;
  readonly algorithms: readonly string[];
  readonly #kind: KeyKind;
  /** The node key (RSA, ECDSA, DSA). */
  readonly #key: KeyObject | null;
  /** Ed25519: the JWK that Web Crypto imports at the first signature. */
  readonly #jwk: JsonWebKey | null;
  #webKey: Promise<CryptoKey> | null = null;
  /** Bytes of the RSA modulus (signature width) or of one ECDSA coordinate. */
  readonly #width: number;

  constructor(init: {
    kind: KeyKind;
    type: string;
    publicBlob: Uint8Array;
    bits: number;
    comment: string;
    source: string;
    key: KeyObject | JsonWebKey;
  }) {
    this.#kind = init.kind;
    const isKeyObject = !("kty" in init.key);
    this.#key = isKeyObject ? init.key as KeyObject : null;
    this.#jwk = isKeyObject ? null : init.key as JsonWebKey;
    this.type = init.type;
    this.publicBlob = init.publicBlob;
    this.bits = init.bits;
    this.comment = init.comment;
    this.source = init.source;
    this.algorithms = algorithmsForKeyType(init.type);
    this.#width = init.kind === "ecdsa" ? CURVES[init.type]!.size : Math.ceil(init.bits / 8);
  }

  sign(data: Uint8Array, algorithm: string): Promise<Uint8Array> {
    if (!this.algorithms.includes(algorithm)) {
      return Promise.reject(
        new Error(
          `key ${this.source} (${this.type}) cannot sign with ${algorithm}; ` +
            `it supports ${this.algorithms.join(", ")}`,
        ),
      );
    }
    const w = new SshWriter().string(algorithm);
    switch (this.#kind) {
      case "ed25519": {
        // Web Crypto, so that an Ed25519 login never needs node:crypto (~25 ms to load).
        this.#webKey ??= crypto.subtle.importKey("jwk", this.#jwk!, "Ed25519", false, ["sign"]);
        return this.#webKey
          .then((k) => crypto.subtle.sign("Ed25519", k, data as Uint8Array<ArrayBuffer>))
          .then((sig) => w.string(new Uint8Array(sig)).bytes());
      }
      case "ecdsa": {
        const sig = new Uint8Array(
          nodeCrypto().sign(CURVES[this.type]!.nodeHash, data, {
            key: this.#key!,
            dsaEncoding: "ieee-p1363",
          }),
        );
        const half = sig.length / 2;
        w.string(
          new SshWriter().mpintBytes(sig.subarray(0, half)).mpintBytes(sig.subarray(half)).bytes(),
        );
        break;
      }
      case "rsa": {
        const sig = new Uint8Array(nodeCrypto().sign(RSA_HASH[algorithm]!, data, this.#key!));
        w.string(leftPad(sig, this.#width));
        break;
      }
      case "dsa": {
        const sig = new Uint8Array(
          nodeCrypto().sign("sha1", data, { key: this.#key!, dsaEncoding: "ieee-p1363" }),
        );
        w.string(sig);
        break;
      }
    }
    return Promise.resolve(w.bytes());
  }
}

function leftPad(bytes: Uint8Array, width: number): Uint8Array {
  if (bytes.length >= width) return bytes;
  const out = new Uint8Array(width);
  out.set(bytes, width - bytes.length);
  return out;
}

/** Fixed-width big-endian bytes of an unsigned integer given as (possibly padded) bytes. */
export function fixedWidth(unsigned: Uint8Array, width: number): Uint8Array | null {
  let start = 0;
  while (start < unsigned.length && unsigned[start] === 0) start++;
  const trimmed = unsigned.subarray(start);
  if (trimmed.length > width) return null;
  return leftPad(trimmed, width);
}

export function b64url(bytes: Uint8Array): string {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

export function fromB64url(text: string): Uint8Array {
  return Uint8Array.fromBase64(text, { alphabet: "base64url" });
}

// ---------------------------------------------------------------------------------------------
// DSA keys in DER (node cannot import or export DSA as JWK)

const derInt = (value: bigint): Uint8Array => derUnsigned(bigintToBytes(value));

/** PKCS#8 DER of a DSA private key. */
export function dsaPkcs8(p: bigint, q: bigint, g: bigint, x: bigint): Uint8Array {
  return der(
    0x30,
    derInt(0n),
    der(0x30, ID_DSA, der(0x30, derInt(p), derInt(q), derInt(g))),
    der(0x04, derInt(x)),
  );
}

/** p, q, g, y of a DSA SubjectPublicKeyInfo. */
export function dsaFromSpki(spki: Uint8Array): { p: bigint; q: bigint; g: bigint; y: bigint } {
  const outer = derRead(spki, 0);
  const algId = derRead(spki, outer.start);
  const oid = derRead(spki, algId.start);
  const params = derRead(spki, oid.end);
  const p = derRead(spki, params.start);
  const q = derRead(spki, p.end);
  const g = derRead(spki, q.end);
  const bitString = derRead(spki, algId.end);
  const y = derRead(spki, bitString.start + 1);
  const int = (e: { start: number; end: number }) => bytesToBigint(spki.subarray(e.start, e.end));
  return { p: int(p), q: int(q), g: int(g), y: int(y) };
}

// ---------------------------------------------------------------------------------------------
// Building signers from key components

export interface Parts {
  source: string;
  comment: string;
}

export function ed25519Signer(pub: Uint8Array, seed: Uint8Array, parts: Parts): KeySigner {
  const key: JsonWebKey = { kty: "OKP", crv: "Ed25519", d: b64url(seed), x: b64url(pub) };
  return new KeySigner({
    kind: "ed25519",
    type: "ssh-ed25519",
    publicBlob: new SshWriter().string("ssh-ed25519").string(pub).bytes(),
    bits: 256,
    key,
    ...parts,
  });
}

export function ecdsaSigner(
  type: string,
  x: Uint8Array,
  y: Uint8Array,
  d: Uint8Array,
  parts: Parts,
) {
  const curve = CURVES[type]!;
  const key = nodeCrypto().createPrivateKey({
    key: { kty: "EC", crv: curve.webCrypto, x: b64url(x), y: b64url(y), d: b64url(d) },
    format: "jwk",
  });
  const point = concatBytes(new Uint8Array([4]), x, y);
  return new KeySigner({
    kind: "ecdsa",
    type,
    publicBlob: new SshWriter().string(type).string(curve.id).string(point).bytes(),
    bits: curve.bits,
    key,
    ...parts,
  });
}

export function rsaSignerFromKey(key: KeyObject, n: bigint, e: bigint, parts: Parts): KeySigner {
  return new KeySigner({
    kind: "rsa",
    type: "ssh-rsa",
    publicBlob: new SshWriter().string("ssh-rsa").mpint(e).mpint(n).bytes(),
    bits: bitLength(n),
    key,
    ...parts,
  });
}

export function dsaSignerFromKey(
  key: KeyObject,
  c: { p: bigint; q: bigint; g: bigint; y: bigint },
  parts: Parts,
): KeySigner {
  if (bitLength(c.q) !== 160) {
    throw new KeyFileError(
      "unsupported",
      parts.source,
      `DSA key has a ${bitLength(c.q)}-bit subgroup; ssh-dss needs 160 bits`,
    );
  }
  return new KeySigner({
    kind: "dsa",
    type: "ssh-dss",
    publicBlob: new SshWriter().string("ssh-dss").mpint(c.p).mpint(c.q).mpint(c.g).mpint(c.y)
      .bytes(),
    bits: bitLength(c.p),
    key,
    ...parts,
  });
}
