/**
 * User private keys: the OpenSSH private key format (PROTOCOL.key, plain or encrypted with a
 * bcrypt-derived key) and the PEM formats (PKCS#1, SEC1, PKCS#8, plain or encrypted), turned into
 * {@link Signer}s for Ed25519, ECDSA (P-256/384/521), RSA and DSA keys.
 * Key bytes stay inside the signer; errors name the file and never the passphrase.
 * @module
 */

import type { KeyObject } from "node:crypto";
import type { Buffer } from "node:buffer";
import { nodeCrypto } from "../algorithms/_node.ts";
import { poly1305 } from "../algorithms/cipher.ts";
import {
  bigintToBytes,
  bitLength,
  bytesEqual,
  bytesToBigint,
  concatBytes,
  encodeText,
  SshReader,
  SshWriter,
  WireError,
} from "../wire/buffer.ts";
import { der, derRead, derUnsigned, ID_DSA } from "../wire/der.ts";
import { CERT_SUFFIX, decodeBase64, ECDSA_CURVES, type EcdsaCurve } from "../algorithms/pubkey.ts";
import type { Signer } from "../auth/types.ts";

/** Why a key file could not be used. */
export type KeyFileErrorReason =
  | "needs-passphrase"
  | "wrong-passphrase"
  | "unsupported"
  | "malformed"
  | "unreadable";

/** A key file could not be read, decrypted or understood. The message names the file only. */
export class KeyFileError extends Error {
  override name = "KeyFileError";
  readonly reason: KeyFileErrorReason;
  /** The file (or other origin) the key came from. */
  readonly source: string;

  constructor(
    reason: KeyFileErrorReason,
    source: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`key file ${source}: ${message}`, options);
    this.reason = reason;
    this.source = source;
  }
}

/** Options for {@link parsePrivateKey} and {@link loadPrivateKeyFile}. */
export interface PrivateKeyOptions {
  /** Where the text came from (a path), used in errors and as the signer's `source`. */
  source: string;
  /** Asked only when the key is encrypted; resolve null to decline. */
  passphrase?: () => Promise<string | null>;
}

/** RSA signature algorithms, best first. */
export const RSA_ALGORITHMS: readonly string[] = ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"];

const RSA_HASH: Record<string, string> = {
  "rsa-sha2-512": "sha512",
  "rsa-sha2-256": "sha256",
  "ssh-rsa": "sha1",
};

/** ECDSA curves by key type (pubkey.ts's table), with node's name of the signature hash. */
const CURVES: Record<string, EcdsaCurve & { nodeHash: string }> = Object.fromEntries(
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

class KeySigner implements Signer {
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
function fixedWidth(unsigned: Uint8Array, width: number): Uint8Array | null {
  let start = 0;
  while (start < unsigned.length && unsigned[start] === 0) start++;
  const trimmed = unsigned.subarray(start);
  if (trimmed.length > width) return null;
  return leftPad(trimmed, width);
}

function b64url(bytes: Uint8Array): string {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

function fromB64url(text: string): Uint8Array {
  return Uint8Array.fromBase64(text, { alphabet: "base64url" });
}

// ---------------------------------------------------------------------------------------------
// DSA keys in DER (node cannot import or export DSA as JWK)

const derInt = (value: bigint): Uint8Array => derUnsigned(bigintToBytes(value));

/** PKCS#8 DER of a DSA private key. */
function dsaPkcs8(p: bigint, q: bigint, g: bigint, x: bigint): Uint8Array {
  return der(
    0x30,
    derInt(0n),
    der(0x30, ID_DSA, der(0x30, derInt(p), derInt(q), derInt(g))),
    der(0x04, derInt(x)),
  );
}

/** p, q, g, y of a DSA SubjectPublicKeyInfo. */
function dsaFromSpki(spki: Uint8Array): { p: bigint; q: bigint; g: bigint; y: bigint } {
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

interface Parts {
  source: string;
  comment: string;
}

function ed25519Signer(pub: Uint8Array, seed: Uint8Array, parts: Parts): KeySigner {
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

function ecdsaSigner(type: string, x: Uint8Array, y: Uint8Array, d: Uint8Array, parts: Parts) {
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

function rsaSignerFromKey(key: KeyObject, n: bigint, e: bigint, parts: Parts): KeySigner {
  return new KeySigner({
    kind: "rsa",
    type: "ssh-rsa",
    publicBlob: new SshWriter().string("ssh-rsa").mpint(e).mpint(n).bytes(),
    bits: bitLength(n),
    key,
    ...parts,
  });
}

function dsaSignerFromKey(
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

/** Reads one key's private fields (PROTOCOL.key private section) and builds its signer. */
function readOpenSshKey(r: SshReader, source: string): { signer: KeySigner; type: string } {
  const type = r.text("key type");
  const build = (): (comment: string) => KeySigner => {
    switch (type) {
      case "ssh-ed25519": {
        const pub = r.string("Ed25519 public key").slice();
        const priv = r.string("Ed25519 private key");
        if (pub.length !== 32 || priv.length !== 64) {
          throw new WireError("Ed25519 key has the wrong length");
        }
        if (!bytesEqual(priv.subarray(32), pub)) {
          throw new WireError("Ed25519 private key does not contain its public key");
        }
        const seed = priv.slice(0, 32);
        return (comment) => ed25519Signer(pub, seed, { source, comment });
      }
      case "ecdsa-sha2-nistp256":
      case "ecdsa-sha2-nistp384":
      case "ecdsa-sha2-nistp521": {
        const curve = CURVES[type]!;
        const id = r.text("curve name");
        if (id !== curve.id) throw new WireError(`curve ${id} does not match key type ${type}`);
        const q = r.string("public point");
        if (q.length !== 1 + 2 * curve.size || q[0] !== 4) {
          throw new WireError("ECDSA public point is not an uncompressed point of the curve");
        }
        const x = q.slice(1, 1 + curve.size);
        const y = q.slice(1 + curve.size);
        const d = fixedWidth(r.string("private scalar"), curve.size);
        if (!d) throw new WireError("ECDSA private scalar is too long");
        return (comment) => ecdsaSigner(type, x, y, d, { source, comment });
      }
      case "ssh-rsa": {
        const n = r.mpint("n");
        const e = r.mpint("e");
        const d = r.mpint("d");
        const iqmp = r.mpint("iqmp");
        const p = r.mpint("p");
        const q = r.mpint("q");
        if (p < 2n || q < 2n || p * q !== n) throw new WireError("RSA primes do not match n");
        const jwk = {
          kty: "RSA",
          n: b64url(bigintToBytes(n)),
          e: b64url(bigintToBytes(e)),
          d: b64url(bigintToBytes(d)),
          p: b64url(bigintToBytes(p)),
          q: b64url(bigintToBytes(q)),
          dp: b64url(bigintToBytes(d % (p - 1n))),
          dq: b64url(bigintToBytes(d % (q - 1n))),
          qi: b64url(bigintToBytes(iqmp)),
        };
        return (comment) =>
          rsaSignerFromKey(nodeCrypto().createPrivateKey({ key: jwk, format: "jwk" }), n, e, {
            source,
            comment,
          });
      }
      case "ssh-dss": {
        const p = r.mpint("p");
        const q = r.mpint("q");
        const g = r.mpint("g");
        const y = r.mpint("y");
        const x = r.mpint("x");
        return (comment) => {
          const key = nodeCrypto().createPrivateKey({
            key: dsaPkcs8(p, q, g, x) as Buffer, // any Uint8Array works at run time
            format: "der",
            type: "pkcs8",
          });
          return dsaSignerFromKey(key, { p, q, g, y }, { source, comment });
        };
      }
      default:
        if (type.startsWith("sk-")) {
          throw new KeyFileError(
            "unsupported",
            source,
            `security key (FIDO) keys (${type}) are not supported`,
          );
        }
        if (type.includes("-cert-")) {
          throw new KeyFileError(
            "unsupported",
            source,
            `certificate keys (${type}) are not supported`,
          );
        }
        throw new KeyFileError("unsupported", source, `unsupported key type ${printable(type)}`);
    }
  };
  const finish = build();
  const comment = r.text("comment");
  return { signer: finish(comment), type };
}

function printable(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, "?");
  return clean.length > 64 ? clean.slice(0, 64) + "..." : clean;
}

// ---------------------------------------------------------------------------------------------
// The OpenSSH private key format

interface KeyCipher {
  keyLen: number;
  ivLen: number;
  block: number;
  tagLen: number;
  decrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array, tag: Uint8Array): Uint8Array | null;
}

function nodeCipher(name: string, keyLen: number, ivLen: number): KeyCipher {
  return {
    keyLen,
    ivLen,
    block: 16,
    tagLen: 0,
    decrypt(key, iv, data) {
      const d = nodeCrypto().createDecipheriv(name, key, iv);
      d.setAutoPadding(false);
      return concatBytes(new Uint8Array(d.update(data)), new Uint8Array(d.final()));
    },
  };
}

function gcmCipher(name: "aes-128-gcm" | "aes-256-gcm", keyLen: number): KeyCipher {
  return {
    keyLen,
    ivLen: 12,
    block: 16,
    tagLen: 16,
    decrypt(key, iv, data, tag) {
      const d = nodeCrypto().createDecipheriv(name, key, iv, { authTagLength: 16 });
      d.setAuthTag(tag);
      try {
        return concatBytes(new Uint8Array(d.update(data)), new Uint8Array(d.final()));
      } catch {
        return null;
      }
    },
  };
}

/** chacha20-poly1305@openssh.com with sequence number 0 and no length header. */
const chachaPoly: KeyCipher = {
  keyLen: 64,
  ivLen: 0,
  block: 8,
  tagLen: 16,
  decrypt(key, _iv, data, tag) {
    const mainKey = key.subarray(0, 32);
    // node:crypto chacha20 IV: little-endian 64-bit block counter ‖ 64-bit nonce (here 0).
    const block = (counter: number) => {
      const iv = new Uint8Array(16);
      iv[0] = counter;
      return nodeCrypto().createCipheriv("chacha20", mainKey, iv);
    };
    const polyKey = new Uint8Array(block(0).update(new Uint8Array(32)));
    if (!bytesEqual(poly1305(data, polyKey), tag)) return null;
    return new Uint8Array(block(1).update(data));
  },
};

const CIPHERS: Record<string, KeyCipher> = {
  "aes128-ctr": nodeCipher("aes-128-ctr", 16, 16),
  "aes192-ctr": nodeCipher("aes-192-ctr", 24, 16),
  "aes256-ctr": nodeCipher("aes-256-ctr", 32, 16),
  "aes128-cbc": nodeCipher("aes-128-cbc", 16, 16),
  "aes192-cbc": nodeCipher("aes-192-cbc", 24, 16),
  "aes256-cbc": nodeCipher("aes-256-cbc", 32, 16),
  "aes128-gcm@openssh.com": gcmCipher("aes-128-gcm", 16),
  "aes256-gcm@openssh.com": gcmCipher("aes-256-gcm", 32),
  "chacha20-poly1305@openssh.com": chachaPoly,
};

/** Cipher names accepted in OpenSSH private key files (besides `none`). */
export const KEY_FILE_CIPHERS: readonly string[] = Object.keys(CIPHERS);

const AUTH_MAGIC = encodeText("openssh-key-v1\0");

async function parseOpenSsh(
  blob: Uint8Array,
  options: PrivateKeyOptions,
): Promise<Signer> {
  const { source } = options;
  const malformed = (why: string, cause?: unknown) =>
    new KeyFileError("malformed", source, why, { cause });
  if (
    blob.length < AUTH_MAGIC.length || !bytesEqual(blob.subarray(0, AUTH_MAGIC.length), AUTH_MAGIC)
  ) {
    throw malformed("not an OpenSSH private key (missing openssh-key-v1 header)");
  }
  const r = new SshReader(blob.subarray(AUTH_MAGIC.length), "OpenSSH private key");
  let cipherName: string, kdfName: string, kdfOptions: Uint8Array, publicBlob: Uint8Array;
  let encrypted: Uint8Array, tag: Uint8Array;
  let cipher: KeyCipher | null = null;
  try {
    cipherName = r.text("cipher name");
    kdfName = r.text("kdf name");
    kdfOptions = r.string("kdf options");
    const nkeys = r.uint32("number of keys");
    if (nkeys !== 1) throw malformed(`holds ${nkeys} keys; exactly one is supported`);
    publicBlob = r.string("public key").slice();
    const encLen = r.uint32("private section length");
    if (cipherName !== "none") {
      cipher = CIPHERS[cipherName] ?? null;
      if (!cipher) {
        throw new KeyFileError(
          "unsupported",
          source,
          `unsupported key cipher ${printable(cipherName)}`,
        );
      }
    }
    encrypted = r.raw(encLen, "private section");
    tag = r.raw(cipher?.tagLen ?? 0, "authentication tag");
    r.end();
  } catch (e) {
    if (e instanceof KeyFileError) throw e;
    throw malformed(`truncated or corrupt: ${(e as Error).message}`, e);
  }
  let plain = encrypted;
  if (cipher) {
    if (kdfName !== "bcrypt") {
      throw new KeyFileError(
        "unsupported",
        source,
        `unsupported key derivation ${printable(kdfName)}`,
      );
    }
    let salt: Uint8Array, rounds: number;
    try {
      const kr = new SshReader(kdfOptions, "bcrypt options");
      salt = kr.string("salt");
      rounds = kr.uint32("rounds");
      kr.end();
    } catch (e) {
      throw malformed(`bad bcrypt options: ${(e as Error).message}`, e);
    }
    if (salt.length === 0 || rounds < 1) {
      throw malformed("bad bcrypt options (empty salt or 0 rounds)");
    }
    if (encrypted.length % cipher.block !== 0) {
      throw malformed(`private section is not a multiple of the ${cipher.block}-byte cipher block`);
    }
    const passphrase = options.passphrase ? await options.passphrase() : null;
    if (passphrase === null || passphrase === undefined) {
      throw new KeyFileError(
        "needs-passphrase",
        source,
        "the key is encrypted and no passphrase was given",
      );
    }
    const pass = encodeText(passphrase);
    if (pass.length === 0) {
      throw new KeyFileError(
        "wrong-passphrase",
        source,
        "wrong passphrase (an empty passphrase was given)",
      );
    }
    const derived = new Uint8Array(cipher.keyLen + cipher.ivLen);
    // Loaded only for encrypted keys: most logins never pay for it.
    const { default: bcrypt } = await import("bcrypt-pbkdf");
    const rc = bcrypt.pbkdf(pass, pass.length, salt, salt.length, derived, derived.length, rounds);
    pass.fill(0);
    if (rc !== 0) throw malformed("bcrypt key derivation rejected the file's parameters");
    const decrypted = cipher.decrypt(
      derived.subarray(0, cipher.keyLen),
      derived.subarray(cipher.keyLen),
      encrypted,
      tag,
    );
    derived.fill(0);
    if (!decrypted) {
      throw new KeyFileError(
        "wrong-passphrase",
        source,
        "wrong passphrase (authentication tag mismatch)",
      );
    }
    plain = decrypted;
  } else if (kdfName !== "none") {
    throw malformed(`cipher is none but key derivation is ${printable(kdfName)}`);
  }

  const pr = new SshReader(plain, "private section");
  let signer: KeySigner;
  try {
    const check1 = pr.uint32("check value");
    const check2 = pr.uint32("check value");
    if (check1 !== check2) {
      if (cipher) {
        throw new KeyFileError(
          "wrong-passphrase",
          source,
          "wrong passphrase (check values do not match)",
        );
      }
      throw malformed("check values do not match");
    }
    signer = readOpenSshKey(pr, source).signer;
    const padding = pr.rest();
    const block = cipher?.block ?? 8;
    if (padding.length >= block || padding.some((b, i) => b !== i + 1)) {
      throw malformed("bad padding after the private key");
    }
  } catch (e) {
    if (e instanceof KeyFileError) throw e;
    throw malformed(`corrupt private section: ${(e as Error).message}`, e);
  } finally {
    if (plain !== encrypted) plain.fill(0);
  }
  if (!bytesEqual(signer.publicBlob, publicBlob)) {
    throw malformed("the public key does not match the private key");
  }
  return signer;
}

// ---------------------------------------------------------------------------------------------
// PEM (PKCS#1, SEC1, PKCS#8) through node:crypto

function signerFromKeyObject(key: KeyObject, source: string): Signer {
  const parts = { source, comment: "" };
  switch (key.asymmetricKeyType) {
    case "ed25519": {
      const jwk = key.export({ format: "jwk" });
      return ed25519Signer(fromB64url(jwk.x!), fromB64url(jwk.d!), parts);
    }
    case "ec": {
      const jwk = key.export({ format: "jwk" });
      const type = Object.keys(CURVES).find((t) => CURVES[t]!.webCrypto === jwk.crv);
      if (!type) throw new KeyFileError("unsupported", source, `unsupported curve ${jwk.crv}`);
      const size = CURVES[type]!.size;
      const coord = (v: string) => fixedWidth(fromB64url(v), size)!;
      return ecdsaSigner(type, coord(jwk.x!), coord(jwk.y!), coord(jwk.d!), parts);
    }
    case "rsa": {
      const jwk = key.export({ format: "jwk" });
      const n = bytesToBigint(fromB64url(jwk.n!));
      const e = bytesToBigint(fromB64url(jwk.e!));
      return rsaSignerFromKey(key, n, e, parts);
    }
    case "dsa": {
      const spki = new Uint8Array(
        nodeCrypto().createPublicKey(key).export({ type: "spki", format: "der" }),
      );
      return dsaSignerFromKey(key, dsaFromSpki(spki), parts);
    }
    default:
      throw new KeyFileError(
        "unsupported",
        source,
        `unsupported key algorithm ${key.asymmetricKeyType ?? "unknown"}`,
      );
  }
}

async function parsePem(text: string, label: string, options: PrivateKeyOptions): Promise<Signer> {
  const { source } = options;
  const encrypted = label === "ENCRYPTED PRIVATE KEY" || /^Proc-Type:\s*4,\s*ENCRYPTED/m.test(text);
  let passphrase: string | undefined;
  if (encrypted) {
    const given = options.passphrase ? await options.passphrase() : null;
    if (given === null || given === undefined) {
      throw new KeyFileError(
        "needs-passphrase",
        source,
        "the key is encrypted and no passphrase was given",
      );
    }
    passphrase = given;
  }
  let key: KeyObject;
  try {
    key = passphrase === undefined
      ? nodeCrypto().createPrivateKey({ key: text, format: "pem" })
      : nodeCrypto().createPrivateKey({ key: text, format: "pem", passphrase });
  } catch (e) {
    // The cause is dropped on purpose: node's error text is generic but is not ours to vouch for.
    if (encrypted) {
      throw new KeyFileError(
        "wrong-passphrase",
        source,
        "wrong passphrase (the PEM key did not decrypt to a valid key)",
      );
    }
    throw new KeyFileError(
      "malformed",
      source,
      `the ${label} block is not a valid key (${plainNodeMessage(e)})`,
    );
  }
  try {
    return signerFromKeyObject(key, source);
  } catch (e) {
    if (e instanceof KeyFileError) throw e;
    throw new KeyFileError("malformed", source, `cannot use the key: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

function plainNodeMessage(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.replace(/^error:[0-9A-F]+:[^:]*:+/, "").slice(0, 120);
}

// ---------------------------------------------------------------------------------------------
// Entry points

const PEM_LABELS = [
  "RSA PRIVATE KEY",
  "EC PRIVATE KEY",
  "DSA PRIVATE KEY",
  "PRIVATE KEY",
  "ENCRYPTED PRIVATE KEY",
];

/**
 * Parses a private key file's text into a signer. Asks `options.passphrase` only for an
 * encrypted key. Throws {@link KeyFileError} (never naming the passphrase).
 */
export async function parsePrivateKey(text: string, options: PrivateKeyOptions): Promise<Signer> {
  const { source } = options;
  const begin = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text);
  if (!begin) {
    const first = text.trimStart();
    if (first.startsWith("PuTTY-User-Key-File")) {
      throw new KeyFileError("unsupported", source, "PuTTY .ppk keys are not supported");
    }
    if (/^(ssh-|ecdsa-sha2-|sk-)\S+ AAAA/.test(first)) {
      throw new KeyFileError("malformed", source, "this is a public key, not a private key");
    }
    throw new KeyFileError("malformed", source, "not a private key file (no -----BEGIN line)");
  }
  const label = begin[1]!;
  const endMarker = `-----END ${label}-----`;
  const endAt = text.indexOf(endMarker, begin.index);
  if (endAt < 0) {
    throw new KeyFileError("malformed", source, `truncated: no ${endMarker} line`);
  }
  if (label === "OPENSSH PRIVATE KEY") {
    let blob: Uint8Array;
    try {
      blob = decodeBase64(text.slice(begin.index + begin[0].length, endAt).replace(/\s+/g, ""));
    } catch {
      throw new KeyFileError("malformed", source, "the key body is not valid base64");
    }
    return await parseOpenSsh(blob, options);
  }
  if (PEM_LABELS.includes(label)) {
    return await parsePem(text.slice(begin.index, endAt + endMarker.length), label, options);
  }
  if (label === "SSH2 ENCRYPTED PRIVATE KEY") {
    throw new KeyFileError("unsupported", source, "ssh.com (SECSH) private keys are not supported");
  }
  throw new KeyFileError("unsupported", source, `unsupported PEM block ${printable(label)}`);
}

/** Reads a private key file and parses it; the path is the signer's `source`. */
export async function loadPrivateKeyFile(
  path: string,
  options: Omit<PrivateKeyOptions, "source"> & { source?: string } = {},
): Promise<Signer> {
  const source = options.source ?? path;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "no such file"
      : e instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : e instanceof Deno.errors.IsADirectory
      ? "is a directory"
      : (e as Error).message;
    throw new KeyFileError("unreadable", source, `cannot read: ${why}`, { cause: e });
  }
  return await parsePrivateKey(text, { ...options, source });
}

function homeDir(): string {
  try {
    return Deno.env.get("HOME") ?? "~";
  } catch {
    return "~";
  }
}

/** The identity files tried by default, in order (`~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa`). */
export function defaultIdentityFiles(home: string = homeDir()): string[] {
  const dir = home.endsWith("/") ? home.slice(0, -1) : home;
  return ["id_ed25519", "id_ecdsa", "id_rsa"].map((name) => `${dir}/.ssh/${name}`);
}

/** {@link defaultIdentityFiles} with HOME as it was when this module loaded. */
export const DEFAULT_IDENTITY_FILES: readonly string[] = defaultIdentityFiles();
