/**
 * The host-key policy (OpenSSH's StrictHostKeyChecking) on top of known_hosts: decides whether
 * to trust a key the server has proven it holds, traces the status, and refuses with a staged
 * error when the key is unknown (strict), changed or revoked.
 * @module
 */

import { SshError } from "../errors/mod.ts";
import type { Tracer } from "../trace.ts";
import type { HostKeyCheck as ProvenKey } from "../transport/transport.ts";
import {
  checkHostKeyIn,
  type KnownHostsFile,
  knownHostsHostPattern,
  loadKnownHosts,
  recordKnownHost,
} from "./known_hosts.ts";
import { type CertificateProblem, checkHostCertificate } from "./host_certificate.ts";
import { isCertificateName } from "../algorithms/hostkey_cert.ts";
import { plainKeyBlob, publicKeyType } from "../algorithms/pubkey.ts";

/** `report` only records the status (used by `probe`); the rest are OpenSSH's modes. */
export type StrictMode = "yes" | "accept-new" | "no" | "ask" | "report";

export interface HostKeyPolicyOptions {
  mode: StrictMode;
  host: string;
  port: number;
  /** Files to read, first one is where new keys are written (UserKnownHostsFile first). */
  knownHostsFiles: string[];
  tracer: Tracer;
  /** For `ask`: shows the question and returns the user's answer. */
  ask?: (question: string) => Promise<boolean>;
  /** HashKnownHosts: accepted keys are written with the host name hashed. @default false */
  hashKnownHosts?: boolean;
  /** The name a host certificate must list as a principal (HostKeyAlias). @default host */
  principal?: string;
  /** CASignatureAlgorithms for host certificates. @default OpenSSH's */
  caSignatureAlgorithms?: readonly string[];
  /** RequiredRSASize, for a host certificate's RSA CA key. @default 1024 */
  requiredRsaSize?: number;
  /** The clock (milliseconds since the epoch), for certificate validity. @default Date.now */
  now?: () => number;
  /**
   * CheckHostIP: the server's address and port, looked up in known_hosts too and recorded
   * there, as ssh(1) does (lib/hostkeys/host_ip.ts says when it is skipped). @default off
   */
  hostIp?: { ip: string; port: number };
}

/** Default known_hosts files: `~/.ssh/known_hosts` and `/etc/ssh/ssh_known_hosts`. */
export function defaultKnownHostsFiles(home: string | undefined): string[] {
  return [`${home ?? "."}/.ssh/known_hosts`, "/etc/ssh/ssh_known_hosts"];
}

/** Builds the callback the transport calls once the host key is proven. */
export function hostKeyPolicy(options: HostKeyPolicyOptions): (key: ProvenKey) => Promise<void> {
  return async (key) => {
    const { tracer, host, port, mode } = options;
    const knownHosts = await loadKnownHosts(options.knownHostsFiles);
    let blob = key.blob;
    /** The certificate's refusal, when ssh(1) would go on with the plain key. */
    let certRefusal: SshError | null = null;
    if (isCertificateName(key.keyType)) {
      const outcome = await checkCertificate(options, key, knownHosts);
      if (outcome === "accepted") return;
      if (!outcome.fallback) {
        if (mode === "report") return;
        throw outcome.error;
      }
      certRefusal = outcome.error;
      blob = plainKeyBlob(key.blob);
    }
    const keyType = publicKeyType(blob);
    const result = checkHostKeyIn(knownHosts, host, port, blob);
    const writeFile = options.knownHostsFiles[0]!;
    const fallback = certRefusal
      ? "host certificate not accepted: checked its plain key instead, as ssh(1) does"
      : null;
    const emit = (
      status: "known" | "unknown" | "changed" | "revoked" | "accepted",
      where: { file: string; line: number } | null,
      knownFingerprint: string | null,
      note: string | null,
    ) =>
      tracer.emit({
        stage: "hostkey",
        type: "status",
        status,
        file: where?.file ?? null,
        line: where?.line ?? null,
        knownFingerprint,
        note: [fallback, note].filter((n) => n !== null).join("; ") || null,
      });
    const pattern = knownHostsHostPattern(host, port);
    // CheckHostIP (never for a host certificate, as ssh(1)): the address's own lines.
    const hostIp = isCertificateName(key.keyType) ? undefined : options.hostIp;
    const ipResult = hostIp ? checkHostKeyIn(knownHosts, hostIp.ip, hostIp.port, blob) : null;
    const ipPattern = hostIp ? knownHostsHostPattern(hostIp.ip, hostIp.port) : "";
    /** The address's key differs: a note to go on with, or the refusal (strict checking). */
    const ipChanged = async (): Promise<string | null> => {
      if (ipResult?.status !== "changed") return null;
      const old = ipResult.changed![0]!;
      const text = `the ${keyType} host key for '${pattern}' differs from the key for the IP ` +
        `address '${ipPattern}' (${old.file}:${old.line} holds ${old.fingerprint})`;
      if (mode === "report" || mode === "no") return `warning: ${text} (CheckHostIP)`;
      if (mode === "ask" && options.ask) {
        if (
          await options.ask(
            `Warning: ${text}.\nAre you sure you want to continue connecting (yes/no)? `,
          )
        ) {
          return `${text}; accepted at the prompt (CheckHostIP)`;
        }
        emit("unknown", null, null, "refused by the user");
        throw new SshError("hostkey", "hostkey.refused-by-user", "host key not accepted", {
          fingerprint: key.fingerprint,
        });
      }
      emit("changed", old, old.fingerprint, `${text} (CheckHostIP)`);
      throw new SshError(
        "hostkey",
        "hostkey.changed",
        `${text}: refused under strict host key checking, as ssh(1) does (CheckHostIP). The ` +
          "address now belongs to another machine, or someone answers in its place",
        {
          fingerprint: key.fingerprint,
          keyType,
          knownFingerprint: old.fingerprint,
          file: old.file,
          line: old.line,
          knownKeys: ipResult.changed!.map((k) => ({ ...k })),
          hostPattern: ipPattern,
          address: true,
        },
      );
    };
    /** Records the address's key when known_hosts has none (ssh(1) does, even when strict). */
    const recordIp = async (): Promise<string | null> => {
      if (ipResult?.status !== "unknown" || mode === "report") return null;
      try {
        const r = await recordKnownHost(writeFile, hostIp!.ip, hostIp!.port, blob, {
          hash: options.hashKnownHosts ?? false,
        });
        return `the key for IP address '${ipPattern}' added to ${writeFile}:${r.line} (CheckHostIP)`;
      } catch (e) {
        return `could not add the key for IP address '${ipPattern}' to ${writeFile}: ` +
          (e as Error).message;
      }
    };
    const both = (a: string | null, b: string | null) =>
      [a, b].filter((n) => n !== null).join("; ") || null;
    switch (result.status) {
      case "known": {
        const changedNote = await ipChanged();
        emit("known", result.matched ?? null, null, both(changedNote, await recordIp()));
        return;
      }
      case "revoked": {
        emit("revoked", result.matched ?? null, null, "this key is marked @revoked");
        if (mode === "report") return;
        throw new SshError(
          "hostkey",
          "hostkey.revoked",
          `the server's host key ${key.fingerprint} is revoked ` +
            `(${result.matched?.file}:${result.matched?.line})`,
          { fingerprint: key.fingerprint, file: result.matched?.file, line: result.matched?.line },
        );
      }
      case "changed": {
        const known = result.changed!;
        const old = known[0]!;
        const otherType = old.keyType !== keyType;
        const knownText = known.map((k) => `${k.keyType} ${k.fingerprint} (${k.file}:${k.line})`)
          .join(", ");
        // CheckHostIP: what the address's lines say too (ssh(1)'s DNS spoofing warning).
        const ipOld = ipResult?.changed?.[0];
        const spoofing = ipResult && (ipResult.status !== "changed" ||
            ipOld?.fingerprint !== old.fingerprint)
          ? `; the key for the IP address '${ipPattern}' ${
            ipResult.status === "known"
              ? "is unchanged"
              : ipResult.status === "changed"
              ? `has a different value (${ipOld!.file}:${ipOld!.line})`
              : "is unknown"
          }: DNS spoofing, or the address and its key changed at the same time`
          : "";
        emit(
          "changed",
          old,
          old.fingerprint,
          both(
            otherType ? `known_hosts has only other key types for this host: ${knownText}` : null,
            spoofing ? spoofing.slice(2) : null,
          ),
        );
        if (mode === "report") return;
        throw new SshError(
          "hostkey",
          "hostkey.changed",
          otherType
            ? `the server presented a ${keyType} host key (${key.fingerprint}) but known_hosts ` +
              `holds other keys for this host: ${knownText}. The host's identity has CHANGED: ` +
              "someone could be intercepting the connection, or the device was replaced or " +
              "reinstalled"
            : `the server's ${keyType} host key has CHANGED: now ${key.fingerprint}, ` +
              `known as ${old.fingerprint} in ${old.file}:${old.line}. ` +
              "Someone could be intercepting the connection, or the device was replaced or " +
              `reinstalled${spoofing}`,
          {
            fingerprint: key.fingerprint,
            keyType,
            knownFingerprint: old.fingerprint,
            file: old.file,
            line: old.line,
            knownKeys: known.map((k) => ({ ...k })),
            hostPattern: pattern,
          },
        );
      }
      case "unknown": {
        const ipNote = await ipChanged();
        if (mode === "report" || mode === "no") {
          emit(
            "unknown",
            null,
            null,
            both(
              mode === "no" ? "accepted without checking (StrictHostKeyChecking=no)" : null,
              ipNote,
            ),
          );
          return;
        }
        if (mode === "accept-new" || (mode === "ask" && options.ask)) {
          if (mode === "ask") {
            const yes = await options.ask!(
              (certRefusal ? `${certRefusal.message}.\n` : "") +
                `The authenticity of host '${pattern}' can't be established.\n` +
                `${keyType} key fingerprint is ${key.fingerprint}\n` +
                `(${key.md5})\nAre you sure you want to continue connecting (yes/no)? `,
            );
            if (!yes) {
              emit("unknown", null, null, "refused by the user");
              throw new SshError(
                "hostkey",
                "hostkey.refused-by-user",
                "host key not accepted",
                { fingerprint: key.fingerprint },
              );
            }
          }
          let recorded;
          try {
            recorded = await recordKnownHost(writeFile, host, port, blob, {
              hash: options.hashKnownHosts ?? false,
            });
          } catch (e) {
            throw new SshError(
              "hostkey",
              "hostkey.write-failed",
              `cannot add the host key to ${writeFile}: ${(e as Error).message}`,
            );
          }
          emit(
            "accepted",
            { file: writeFile, line: recorded.line },
            null,
            both(
              `added to ${writeFile}:${recorded.line}` +
                (options.hashKnownHosts ? " (host name hashed: HashKnownHosts)" : ""),
              both(ipNote, await recordIp()),
            ),
          );
          return;
        }
        emit("unknown", null, null, null);
        // A certificate that failed says more than "unknown": its reason is the failure.
        if (certRefusal) throw certRefusal;
        throw new SshError(
          "hostkey",
          "hostkey.unknown",
          `the server's host key ${key.fingerprint} (${keyType}) is not in known_hosts and ` +
            "strict host key checking is on",
          {
            fingerprint: key.fingerprint,
            files: options.knownHostsFiles,
          },
        );
      }
    }
  };
}

/** The error code of each certificate problem. */
const CERT_CODES = {
  "unknown-ca": "hostkey.cert-unknown-ca",
  "expired": "hostkey.cert-expired",
  "not-yet-valid": "hostkey.cert-not-yet-valid",
  "principal": "hostkey.cert-principal",
  "invalid": "hostkey.cert-invalid",
  "bad-signature": "hostkey.cert-invalid",
  "revoked-ca": "hostkey.ca-revoked",
} as const satisfies Record<Exclude<CertificateProblem, "revoked-key">, string>;

/**
 * Checks a host certificate and traces it. `accepted`, or the error with whether ssh(1) would
 * go on with the plain key (`fallback`): it does unless the certificate is malformed, its CA
 * signature is bad, or a `@revoked` line lists the key or the CA.
 */
async function checkCertificate(
  options: HostKeyPolicyOptions,
  key: ProvenKey,
  knownHosts: KnownHostsFile,
): Promise<"accepted" | { error: SshError; fallback: boolean }> {
  const { tracer, host, port } = options;
  const principal = options.principal ?? host;
  let r;
  try {
    r = await checkHostCertificate({
      certBlob: key.blob,
      knownHosts,
      host,
      port,
      principal,
      now: Math.floor((options.now?.() ?? Date.now()) / 1000),
      caSignatureAlgorithms: options.caSignatureAlgorithms,
      requiredRsaSize: options.requiredRsaSize,
    });
  } catch (e) {
    const message = `the server's host certificate is malformed: ${(e as Error).message}`;
    tracer.emit({
      stage: "hostkey",
      type: "status",
      status: "unknown",
      file: null,
      line: null,
      knownFingerprint: null,
      note: message,
    });
    return {
      fallback: false,
      error: new SshError("hostkey", "hostkey.cert-invalid", message, {
        fingerprint: key.fingerprint,
        certType: key.keyType,
        keyId: "",
        serial: "",
        principals: [],
        validity: "",
        caType: "",
        caFingerprint: "",
        reason: message,
        principal,
        plainKeyTried: false,
      }),
    };
  }
  const where = r.revokedBy ?? r.ca;
  tracer.emit({
    stage: "hostkey",
    type: "certificate",
    ...r.summary,
    principals: [...r.summary.principals],
    file: where?.file ?? null,
    line: where?.line ?? null,
    accepted: r.problem === null,
    reason: r.detail,
  });
  if (r.problem === null) {
    tracer.emit({
      stage: "hostkey",
      type: "status",
      status: "known",
      file: r.ca!.file,
      line: r.ca!.line,
      knownFingerprint: null,
      note: `host certificate signed by ${r.summary.caFingerprint}, a CA trusted for this host`,
    });
    return "accepted";
  }
  if (r.problem === "revoked-key") {
    tracer.emit({
      stage: "hostkey",
      type: "status",
      status: "revoked",
      file: where?.file ?? null,
      line: where?.line ?? null,
      knownFingerprint: null,
      note: "the certified key is marked @revoked",
    });
    return {
      fallback: false,
      error: new SshError(
        "hostkey",
        "hostkey.revoked",
        `the server's host key ${key.fingerprint} is revoked (${where?.file}:${where?.line})`,
        { fingerprint: key.fingerprint, file: where?.file, line: where?.line },
      ),
    };
  }
  const fallback = r.problem !== "revoked-ca" && r.problem !== "bad-signature";
  if (!fallback) {
    tracer.emit({
      stage: "hostkey",
      type: "status",
      status: r.problem === "revoked-ca" ? "revoked" : "unknown",
      file: where?.file ?? null,
      line: where?.line ?? null,
      knownFingerprint: null,
      note: r.detail,
    });
  }
  const at = where ? ` (${where.file}:${where.line})` : "";
  return {
    fallback,
    error: new SshError(
      "hostkey",
      CERT_CODES[r.problem],
      `the server's host certificate (key id "${r.summary.keyId}", serial ${r.summary.serial}) ` +
        `is not accepted: ${r.detail}${at}`,
      {
        fingerprint: key.fingerprint,
        ...r.summary,
        principals: [...r.summary.principals],
        ...(where ? { file: where.file, line: where.line } : {}),
        reason: r.detail!,
        principal,
        plainKeyTried: fallback,
      },
    ),
  };
}
