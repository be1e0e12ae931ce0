/**
 * Public key blobs (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709 §4): decoding, size, fingerprints
 * as `ssh-keygen -l` prints them, and the OpenSSH one-line text form (`ssh-ed25519 AAAA... c`).
 * @module
 */

import { digest } from "./hash.ts";
import { bitLength, SshReader, SshWriter, WireError } from "../wire/buffer.ts";
import type { PublicKeyInfo } from "./types.ts";
import { CERT_SUFFIX } from "./names.ts";

/** What an OpenSSH certificate's type adds to its key's type (`ssh-ed25519-cert-v01@…`). */
export { CERT_SUFFIX };

/** The curves of `ecdsa-sha2-*` keys: SSH curve name, Web Crypto name, size, signature hash. */
/** The smallest RSA key accepted, host or user (OpenSSH's floor for RequiredRSASize). */
export const MIN_RSA_BITS = 1024;

export interface EcdsaCurve {
  /** The SSH curve identifier, e.g. `nistp256`. */
  readonly id: "nistp256" | "nistp384" | "nistp521";
  /** The Web Crypto `namedCurve`. */
  readonly webCrypto: "P-256" | "P-384" | "P-521";
  readonly bits: number;
  /** Bytes of one coordinate (and of r and s in P1363 form). */
  readonly size: number;
  /** The signature hash of RFC 5656 §6.2.1, as Web Crypto names it. */
  readonly hash: "SHA-256" | "SHA-384" | "SHA-512";
}

export const ECDSA_CURVES: readonly EcdsaCurve[] = [
  { id: "nistp256", webCrypto: "P-256", bits: 256, size: 32, hash: "SHA-256" },
  { id: "nistp384", webCrypto: "P-384", bits: 384, size: 48, hash: "SHA-384" },
  { id: "nistp521", webCrypto: "P-521", bits: 521, size: 66, hash: "SHA-512" },
];

/** A public key blob decoded into its fields (magnitudes as unsigned big-endian bytes). */
export type DecodedPublicKey =
  | { readonly type: "ssh-ed25519"; readonly key: Uint8Array }
  | { readonly type: "ssh-rsa"; readonly e: Uint8Array; readonly n: Uint8Array }
  | {
    readonly type: `ecdsa-sha2-${EcdsaCurve["id"]}`;
    readonly curve: EcdsaCurve;
    /** The uncompressed point 0x04 ‖ X ‖ Y. */
    readonly point: Uint8Array;
  }
  | {
    readonly type: "ssh-dss";
    readonly p: Uint8Array;
    readonly q: Uint8Array;
    readonly g: Uint8Array;
    readonly y: Uint8Array;
  }
  | { readonly type: "unknown"; readonly name: string };

/** Reads a positive mpint and returns its magnitude without the sign byte. */
function readUnsigned(r: SshReader, field: string): Uint8Array {
  const body = r.string(field);
  if (body.length && body[0]! & 0x80) throw new WireError(`${r.what}: negative ${field}`);
  let start = 0;
  while (start < body.length && body[start] === 0) start++;
  if (start === body.length) throw new WireError(`${r.what}: ${field} is zero`);
  return body.subarray(start);
}

/** The key type named at the start of a blob (any name, known or not). */
export function publicKeyType(blob: Uint8Array): string {
  return new SshReader(blob, "public key").text("key type");
}

/**
 * Decodes a public key blob into its fields. Throws `WireError` when a known type is malformed
 * (short, trailing bytes, wrong curve, wrong point size); an unknown type gives `unknown`.
 */
export function decodePublicKey(blob: Uint8Array): DecodedPublicKey {
  const r = new SshReader(blob, "public key");
  const type = r.text("key type");
  const fields = new SshReader(r.rest(), `${type} public key`);
  const decoded = decodeKeyFields(type, fields);
  if (decoded.type !== "unknown") fields.end();
  return decoded;
}

/** The fields of a `type` key read from `fields` (what follows them is left unread). */
export function decodeKeyFields(type: string, fields: SshReader): DecodedPublicKey {
  const what = fields.what;
  let decoded: DecodedPublicKey;
  if (type === "ssh-ed25519") {
    const key = fields.string("key");
    if (key.length !== 32) {
      throw new WireError(`${what}: key is ${key.length} bytes, expected 32`);
    }
    decoded = { type, key };
  } else if (type === "ssh-rsa") {
    const e = readUnsigned(fields, "exponent e");
    const n = readUnsigned(fields, "modulus n");
    decoded = { type, e, n };
  } else if (type === "ssh-dss") {
    const p = readUnsigned(fields, "p");
    const q = readUnsigned(fields, "q");
    const g = readUnsigned(fields, "g");
    const y = readUnsigned(fields, "y");
    decoded = { type, p, q, g, y };
  } else if (type.startsWith("ecdsa-sha2-")) {
    const curve = ECDSA_CURVES.find((c) => `ecdsa-sha2-${c.id}` === type);
    if (!curve) return { type: "unknown", name: type };
    const id = fields.text("curve name");
    if (id !== curve.id) {
      throw new WireError(`${what}: curve name is "${id}", expected "${curve.id}"`);
    }
    const point = fields.string("point Q");
    if (point.length !== 1 + 2 * curve.size || point[0] !== 0x04) {
      throw new WireError(
        `${what}: point Q is not an uncompressed ${curve.id} point (${point.length} bytes)`,
      );
    }
    decoded = { type: `ecdsa-sha2-${curve.id}`, curve, point };
  } else {
    return { type: "unknown", name: type };
  }
  return decoded;
}

/** The key inside a certificate blob: its fields follow the type and nonce (PROTOCOL.certkeys). */
export interface CertifiedKey {
  /** The certified key's type: `ssh-ed25519`, ... */
  readonly keyType: string;
  readonly key: DecodedPublicKey;
  /** The certified key as a plain public key blob (`string type ‖ key fields`). */
  readonly publicBlob: Uint8Array;
  /** Where the certificate's fields after the key (serial, ...) start in the blob. */
  readonly end: number;
}

/**
 * Reads the certified key of a `*-cert-v01@openssh.com` blob (the fields after it are left
 * unread). Throws `WireError` when the blob is not a certificate or its key is malformed.
 */
export function certifiedKey(blob: Uint8Array): CertifiedKey {
  const r = new SshReader(blob, "certificate");
  const type = r.text("key type");
  if (!type.endsWith(CERT_SUFFIX)) throw new WireError(`not a certificate: key type ${type}`);
  const keyType = type.slice(0, -CERT_SUFFIX.length);
  r.string("certificate nonce");
  const start = r.position;
  const fields = new SshReader(blob.subarray(start), `${type} key`);
  const key = decodeKeyFields(keyType, fields);
  if (key.type === "unknown") throw new WireError(`certificate of unknown key type ${keyType}`);
  const publicBlob = new SshWriter().string(keyType)
    .raw(blob.subarray(start, start + fields.position)).bytes();
  return { keyType, key, publicBlob, end: start + fields.position };
}

/** The plain key of a blob: the certified key of a certificate, else the blob itself. */
export function plainKeyBlob(blob: Uint8Array): Uint8Array {
  return publicKeyType(blob).endsWith(CERT_SUFFIX) ? certifiedKey(blob).publicBlob : blob;
}

/**
 * Parses a public key blob: its type and size in bits. Known types that are malformed throw
 * `WireError`; a certificate of a known type gives the size of its key; unknown types (sk-*,
 * ...) give their name and `bits` 0.
 */
export function parsePublicKey(blob: Uint8Array): PublicKeyInfo {
  const type = publicKeyType(blob);
  if (type.endsWith(CERT_SUFFIX)) return { type, bits: bitsOf(certifiedKey(blob).key), blob };
  const key = decodePublicKey(blob);
  return { type: key.type === "unknown" ? key.name : key.type, bits: bitsOf(key), blob };
}

/** A decoded key's size in bits (0 for an unknown type). */
function bitsOf(key: DecodedPublicKey): number {
  switch (key.type) {
    case "unknown":
      return 0;
    case "ssh-ed25519":
      return 256;
    case "ssh-rsa":
      return bitLength(key.n);
    case "ssh-dss":
      return bitLength(key.p);
    default:
      return key.curve.bits;
  }
}

/**
 * `SHA256:<base64 without padding>`, as `ssh-keygen -l` prints by default. A certificate is
 * fingerprinted by its plain key, as OpenSSH does.
 */
export function fingerprintSha256(blob: Uint8Array): string {
  return "SHA256:" + digest("sha256", plainKeyBlob(blob)).toBase64({ omitPadding: true });
}

/** `MD5:aa:bb:...`, as `ssh-keygen -l -E md5` prints (a certificate: of its plain key). */
export function fingerprintMd5(blob: Uint8Array): string {
  return "MD5:" +
    Array.from(digest("md5", plainKeyBlob(blob)), (b) => b.toString(16).padStart(2, "0")).join(":");
}

/** Standard base64 with padding, as used in key lines. */
export function encodeBase64(bytes: Uint8Array): string {
  return bytes.toBase64();
}

/** Strict standard base64 (padding optional); throws `WireError` for anything else. */
export function decodeBase64(text: string, what = "base64 data"): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.replace(/=+$/, "").length % 4 === 1) {
    throw new WireError(`${what} is not valid base64`);
  }
  return Uint8Array.fromBase64(text.replace(/=+$/, ""));
}

/** The OpenSSH one-line form: `type base64 [comment]` (no newline). */
export function publicKeyToLine(blob: Uint8Array, comment?: string): string {
  const line = `${publicKeyType(blob)} ${encodeBase64(blob)}`;
  const c = comment?.replace(/[\r\n]+/g, " ").trim();
  return c ? `${line} ${c}` : line;
}

/** A key read from its one-line text form. */
export interface PublicKeyLine {
  /** The type named in the text, equal to the type inside the blob. */
  readonly type: string;
  readonly blob: Uint8Array;
  /** Everything after the key (may be empty). */
  readonly comment: string;
}

/**
 * Parses `type base64 [comment]` (surrounding whitespace ignored). Throws `WireError` when a
 * field is missing, the base64 is invalid, or the stated type differs from the blob's type.
 */
export function parsePublicKeyLine(text: string): PublicKeyLine {
  const m = /^\s*(\S+)[ \t]+(\S+)(?:[ \t]+(.*?))?\s*$/s.exec(text);
  if (!m) throw new WireError('public key line: expected "type base64 [comment]"');
  const type = m[1]!;
  const blob = decodeBase64(m[2]!, "public key line: key");
  const inner = publicKeyType(blob);
  if (inner !== type) {
    throw new WireError(`public key line: line says ${type} but the key inside is ${inner}`);
  }
  return { type, blob, comment: m[3] ?? "" };
}
