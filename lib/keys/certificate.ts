/**
 * OpenSSH certificates (PROTOCOL.certkeys): parsing a `*-cert-v01@openssh.com` blob into its
 * fields (the certified key as a plain public key blob, serial, type, key id, principals,
 * validity, the CA key), and a {@link Signer} that offers a certificate for a private key, as
 * ssh(1) does with `CertificateFile` or `KEY-cert.pub`. Pure but for the signer's key.
 * @module
 */

import { CERT_SUFFIX, certifiedKey } from "../algorithms/pubkey.ts";
import type { Signer } from "../auth/types.ts";
import { SshReader, WireError } from "../wire/buffer.ts";
import { algorithmsForKeyType, signatureNameOf } from "./signer.ts";

/** A parsed OpenSSH certificate. */
export interface Certificate {
  /** `ssh-ed25519-cert-v01@openssh.com`, ... */
  readonly certType: string;
  /** The certified key's type: `ssh-ed25519`, ... */
  readonly keyType: string;
  /** The certified key as a plain public key blob. */
  readonly publicBlob: Uint8Array;
  readonly serial: bigint;
  readonly kind: "user" | "host";
  readonly keyId: string;
  /** Empty: valid for any principal. */
  readonly principals: readonly string[];
  /** Seconds since the epoch. */
  readonly validAfter: bigint;
  /** Seconds since the epoch (2^64-1: forever). */
  readonly validBefore: bigint;
  readonly criticalOptions: readonly string[];
  readonly extensions: readonly string[];
  /** The CA's public key blob. */
  readonly caKey: Uint8Array;
  /** The CA's signature blob, and the bytes it covers (everything before it). */
  readonly signature: Uint8Array;
  readonly signedData: Uint8Array;
}

/** Whether a key type names a certificate. */
export const isCertificateType = (type: string) => type.endsWith(CERT_SUFFIX);

/** Names in an options/extensions field (each a string name and string data). */
function optionNames(bytes: Uint8Array, what: string): string[] {
  const r = new SshReader(bytes, what);
  const names: string[] = [];
  while (r.remaining > 0) {
    names.push(r.text("name"));
    r.string("data");
  }
  return names;
}

/**
 * Parses a certificate blob; throws `WireError` for a malformed one (truncated, trailing bytes,
 * a field longer than the blob, an unknown key or certificate type). The CA's signature is not
 * checked here (see lib/hostkeys/host_certificate.ts).
 */
export function parseCertificate(blob: Uint8Array): Certificate {
  const { keyType, publicBlob, end } = certifiedKey(blob);
  const certType = keyType + CERT_SUFFIX;
  const r = new SshReader(blob, "certificate");
  r.raw(end, "certified key");
  const serial = r.uint64("serial");
  const type = r.uint32("certificate type");
  if (type !== 1 && type !== 2) {
    throw new WireError(`certificate type ${type} is neither user nor host`);
  }
  const keyId = r.text("key id");
  const principalReader = new SshReader(r.string("valid principals"), "valid principals");
  const principals: string[] = [];
  while (principalReader.remaining > 0) principals.push(principalReader.text("principal"));
  const validAfter = r.uint64("valid after");
  const validBefore = r.uint64("valid before");
  const criticalOptions = optionNames(r.string("critical options"), "critical options");
  const extensions = optionNames(r.string("extensions"), "extensions");
  r.string("reserved");
  const caKey = r.string("signature key");
  const signedData = blob.subarray(0, r.position);
  const signature = r.string("signature");
  r.end();
  return {
    certType,
    keyType,
    publicBlob,
    serial,
    kind: type === 1 ? "user" : "host",
    keyId,
    principals,
    validAfter,
    validBefore,
    criticalOptions,
    extensions,
    caKey,
    signature,
    signedData,
  };
}

/** A certificate's validity as text: `2026-01-01T00:00:00Z..forever`. */
export function validityText(cert: Pick<Certificate, "validAfter" | "validBefore">): string {
  const when = (s: bigint) =>
    s >= 0xffff_ffff_ffff_ffffn
      ? "forever"
      : new Date(Number(s) * 1000).toISOString().replace(/\.000Z$/, "Z");
  return `${cert.validAfter === 0n ? "always" : when(cert.validAfter)}..${when(cert.validBefore)}`;
}

/**
 * A signer that offers `certBlob` for `key` (the certificate's key must be the signer's): the
 * request names the certificate's algorithm and carries the certificate; the signature is the
 * key's own.
 */
export function certificateSigner(key: Signer, certBlob: Uint8Array, source: string): Signer {
  const cert = parseCertificate(certBlob);
  const algorithms = algorithmsForKeyType(cert.certType);
  return {
    type: cert.certType,
    publicBlob: certBlob,
    bits: key.bits,
    comment: `${key.comment} (certificate ${cert.keyId}, serial ${cert.serial})`,
    source,
    algorithms,
    sign: (data, algorithm) => key.sign(data, signatureNameOf(algorithm)),
  };
}
