/**
 * Checking a server's host certificate against known_hosts the way ssh(1) does (sshconnect.c
 * check_host_key, sshkey.c sshkey_cert_check_host): the CA's signature over the certificate,
 * `@revoked` lines (the certified key or the CA), an `@cert-authority` line whose host patterns
 * match the host and whose key is the CA, then the certificate itself: a host certificate, valid
 * now, the host name among its principals (an empty list is refused), no critical option, and a
 * CA signature algorithm and key size the policy allows. Pure but for the signature check.
 * @module
 */

import { fingerprintSha256, MIN_RSA_BITS, parsePublicKey } from "../algorithms/pubkey.ts";
import { type Certificate, parseCertificate, validityText } from "../keys/certificate.ts";
import { bytesEqual, SshReader, WireError } from "../wire/buffer.ts";
import {
  entryMatchesHost,
  globMatch,
  type KnownHostsFile,
  type KnownHostsLocation,
} from "./known_hosts.ts";

/**
 * OpenSSH's default CASignatureAlgorithms: the CA signature algorithms a host certificate may
 * be signed with (no `ssh-rsa` over SHA-1, no DSA).
 */
export const DEFAULT_CA_SIGNATURE_ALGORITHMS: readonly string[] = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "rsa-sha2-512",
  "rsa-sha2-256",
];

/**
 * Why a certificate was not accepted. `unknown-ca`, `expired`, `not-yet-valid`, `principal`
 * and `invalid` let ssh(1) retry with the plain key; `revoked-key`, `revoked-ca` and
 * `bad-signature` end the check.
 */
export type CertificateProblem =
  | "unknown-ca"
  | "expired"
  | "not-yet-valid"
  | "principal"
  | "invalid"
  | "revoked-key"
  | "revoked-ca"
  | "bad-signature";

/** The certificate's fields as the trace shows them. */
export interface CertificateSummary {
  readonly certType: string;
  readonly keyId: string;
  /** Decimal (a uint64). */
  readonly serial: string;
  readonly principals: readonly string[];
  /** `2026-01-01T00:00:00Z..forever` (see {@link validityText}). */
  readonly validity: string;
  readonly caType: string;
  readonly caFingerprint: string;
}

export interface HostCertificateResult {
  readonly summary: CertificateSummary;
  readonly cert: Certificate;
  /** The `@cert-authority` line naming the CA for this host (when one does). */
  readonly ca: KnownHostsLocation | null;
  /** The `@revoked` line, for `revoked-key` and `revoked-ca`. */
  readonly revokedBy: KnownHostsLocation | null;
  /** Null: the certificate is accepted. */
  readonly problem: CertificateProblem | null;
  /** The problem in words (ssh(1)'s reasons, with the data). */
  readonly detail: string | null;
}

export interface HostCertificateOptions {
  readonly certBlob: Uint8Array;
  /** The known_hosts lines (user files, then global files). */
  readonly knownHosts: KnownHostsFile;
  /** The host and port known_hosts lines are matched against. */
  readonly host: string;
  readonly port: number;
  /** The name that must be a principal: HostKeyAlias or the host name. */
  readonly principal: string;
  /** Seconds since the epoch. */
  readonly now: number;
  /** CASignatureAlgorithms. @default {@link DEFAULT_CA_SIGNATURE_ALGORITHMS} */
  readonly caSignatureAlgorithms?: readonly string[];
  /** RequiredRSASize, applied to an RSA CA key too. @default 1024 */
  readonly requiredRsaSize?: number;
}

/** An amount of seconds in words: `3 days`, `5 minutes`, `40 seconds`. */
function span(seconds: number): string {
  const units: [number, string][] = [[86400, "day"], [3600, "hour"], [60, "minute"], [1, "second"]];
  for (const [size, name] of units) {
    if (seconds >= size) {
      const n = Math.floor(seconds / size);
      return `${n} ${name}${n === 1 ? "" : "s"}`;
    }
  }
  return "0 seconds";
}

const isoTime = (s: number) => new Date(s * 1000).toISOString().replace(/\.000Z$/, "Z");

/** The signature algorithm named in a signature blob. */
function signatureAlgorithm(signature: Uint8Array): string {
  return new SshReader(signature, "certificate signature").text("format name");
}

/**
 * Parses a host certificate and checks it as ssh(1) does. Throws `WireError` when the
 * certificate is malformed; every other outcome is the result's `problem`.
 */
export async function checkHostCertificate(
  options: HostCertificateOptions,
): Promise<HostCertificateResult> {
  const cert = parseCertificate(options.certBlob);
  let caInfo;
  try {
    caInfo = parsePublicKey(cert.caKey);
  } catch (e) {
    throw new WireError(`certificate's CA key is malformed: ${(e as Error).message}`);
  }
  const summary: CertificateSummary = {
    certType: cert.certType,
    keyId: cert.keyId,
    serial: cert.serial.toString(),
    principals: cert.principals,
    validity: validityText(cert),
    caType: caInfo.type,
    caFingerprint: fingerprintSha256(cert.caKey),
  };
  const result = (
    problem: CertificateProblem | null,
    detail: string | null,
    ca: KnownHostsLocation | null = null,
    revokedBy: KnownHostsLocation | null = null,
  ): HostCertificateResult => ({ summary, cert, ca, revokedBy, problem, detail });

  // The CA's signature (ssh(1) checks it as it reads the key: a bad one ends the connection).
  const sigAlg = signatureAlgorithm(cert.signature);
  // The registry (every algorithm's implementation) is the transport's, loaded by now; a static
  // import would load it with the host-key policy, before the connection starts.
  const { findHostKey } = await import("../algorithms/registry.ts");
  const verifier = findHostKey(sigAlg);
  let signed = false;
  if (verifier && !sigAlg.endsWith("-cert-v01@openssh.com")) {
    try {
      signed = await verifier.verify(cert.caKey, cert.signature, cert.signedData);
    } catch {
      signed = false;
    }
  }
  if (!signed) {
    return result(
      "bad-signature",
      `the CA's ${sigAlg} signature over the certificate does not verify with the CA key ` +
        `${summary.caFingerprint} (${caInfo.type})`,
    );
  }

  // @revoked: the certified key, or the CA.
  for (const entry of options.knownHosts.entries) {
    if (entry.marker !== "revoked") continue;
    const where = { file: entry.file, line: entry.line };
    if (bytesEqual(entry.keyBlob, cert.publicBlob)) {
      return result("revoked-key", "the certified host key is marked @revoked", null, where);
    }
    if (bytesEqual(entry.keyBlob, cert.caKey)) {
      return result(
        "revoked-ca",
        `the certificate authority ${summary.caFingerprint} is marked @revoked`,
        null,
        where,
      );
    }
  }

  // An @cert-authority line for this host with this CA.
  const caEntry = options.knownHosts.entries.find((e) =>
    e.marker === "cert-authority" && bytesEqual(e.keyBlob, cert.caKey) &&
    entryMatchesHost(e, options.host, options.port)
  );
  if (!caEntry) {
    const others = options.knownHosts.entries.filter((e) =>
      e.marker === "cert-authority" && entryMatchesHost(e, options.host, options.port)
    );
    return result(
      "unknown-ca",
      `no @cert-authority line for this host lists the CA ${summary.caFingerprint}` +
        (others.length
          ? ` (the CA lines for this host: ${
            others.map((o) => `${o.file}:${o.line} ${fingerprintSha256(o.keyBlob)}`).join(", ")
          })`
          : " (known_hosts has no @cert-authority line for this host)"),
    );
  }
  const ca = { file: caEntry.file, line: caEntry.line };

  // The certificate itself (sshkey_cert_check_host).
  if (cert.kind !== "host") {
    return result("invalid", "it is a user certificate, not a host certificate", ca);
  }
  const now = options.now;
  if (BigInt(now) < cert.validAfter) {
    const ahead = Number(cert.validAfter - BigInt(now));
    return result(
      "not-yet-valid",
      `not yet valid: valid from ${isoTime(Number(cert.validAfter))}, ${span(ahead)} after ` +
        `this machine's clock (${isoTime(now)}); a clock running behind causes this too`,
      ca,
    );
  }
  if (BigInt(now) >= cert.validBefore) {
    const ago = Number(BigInt(now) - cert.validBefore);
    return result(
      "expired",
      `expired: valid until ${isoTime(Number(cert.validBefore))}, ${span(ago)} before this ` +
        `machine's clock (${isoTime(now)}); a clock running ahead causes this too`,
      ca,
    );
  }
  if (cert.principals.length === 0) {
    return result("invalid", "the certificate lists no principals (valid for no host)", ca);
  }
  const name = options.principal.toLowerCase();
  if (!cert.principals.some((p) => globMatch(name, p.toLowerCase()))) {
    return result(
      "principal",
      `"${options.principal}" is not among the certificate's principals ` +
        `(${cert.principals.join(", ")})`,
      ca,
    );
  }
  if (cert.criticalOptions.length) {
    return result(
      "invalid",
      `the certificate has critical options (${cert.criticalOptions.join(", ")}); a host ` +
        "certificate has none",
      ca,
    );
  }
  const allowed = options.caSignatureAlgorithms ?? DEFAULT_CA_SIGNATURE_ALGORITHMS;
  if (!allowed.includes(sigAlg)) {
    return result(
      "invalid",
      `the CA signed it with ${sigAlg}, which CASignatureAlgorithms does not allow ` +
        `(${allowed.join(",")})`,
      ca,
    );
  }
  const minRsa = Math.max(options.requiredRsaSize ?? MIN_RSA_BITS, MIN_RSA_BITS);
  if (caInfo.type === "ssh-rsa" && caInfo.bits < minRsa) {
    return result(
      "invalid",
      `the CA's RSA key has ${caInfo.bits} bits, fewer than the ${minRsa} required ` +
        "(RequiredRSASize)",
      ca,
    );
  }
  return result(null, null, ca);
}
