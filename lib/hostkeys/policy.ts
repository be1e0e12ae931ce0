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
  checkHostKey,
  entryMatchesHost,
  knownHostsHostPattern,
  parseKnownHosts,
  recordKnownHost,
} from "./known_hosts.ts";
import { platform } from "../platform/mod.ts";

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
}

/** Default known_hosts files: `~/.ssh/known_hosts` and `/etc/ssh/ssh_known_hosts`. */
export function defaultKnownHostsFiles(home: string | undefined): string[] {
  return [`${home ?? "."}/.ssh/known_hosts`, "/etc/ssh/ssh_known_hosts"];
}

/** Builds the callback the transport calls once the host key is proven. */
export function hostKeyPolicy(options: HostKeyPolicyOptions): (key: ProvenKey) => Promise<void> {
  return async (key) => {
    const { tracer, host, port, mode } = options;
    const result = await checkHostKey({
      files: options.knownHostsFiles,
      host,
      port,
      keyBlob: key.blob,
    });
    const writeFile = options.knownHostsFiles[0]!;
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
        note,
      });
    const pattern = knownHostsHostPattern(host, port);
    switch (result.status) {
      case "known":
        emit("known", result.matched ?? null, null, null);
        return;
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
        const otherType = old.keyType !== key.keyType;
        const knownText = known.map((k) => `${k.keyType} ${k.fingerprint} (${k.file}:${k.line})`)
          .join(", ");
        emit(
          "changed",
          old,
          old.fingerprint,
          otherType ? `known_hosts has only other key types for this host: ${knownText}` : null,
        );
        if (mode === "report") return;
        throw new SshError(
          "hostkey",
          "hostkey.changed",
          otherType
            ? `the server presented a ${key.keyType} host key (${key.fingerprint}) but known_hosts ` +
              `holds other keys for this host: ${knownText}. The host's identity has CHANGED: ` +
              "someone could be intercepting the connection, or the device was replaced or " +
              "reinstalled"
            : `the server's ${key.keyType} host key has CHANGED: now ${key.fingerprint}, ` +
              `known as ${old.fingerprint} in ${old.file}:${old.line}. ` +
              "Someone could be intercepting the connection, or the device was replaced or reinstalled",
          {
            fingerprint: key.fingerprint,
            keyType: key.keyType,
            knownFingerprint: old.fingerprint,
            file: old.file,
            line: old.line,
            knownKeys: known.map((k) => ({ ...k })),
            hostPattern: pattern,
          },
        );
      }
      case "unknown": {
        const ca = result.certAuthority.length
          ? "known_hosts has @cert-authority lines for this host; host certificates are not supported"
          : null;
        if (mode === "report" || mode === "no") {
          emit(
            "unknown",
            null,
            null,
            mode === "no" ? "accepted without checking (StrictHostKeyChecking=no)" : ca,
          );
          return;
        }
        if (mode === "accept-new" || (mode === "ask" && options.ask)) {
          if (mode === "ask") {
            const yes = await options.ask!(
              `The authenticity of host '${pattern}' can't be established.\n` +
                `${key.keyType} key fingerprint is ${key.fingerprint}\n` +
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
            recorded = await recordKnownHost(writeFile, host, port, key.blob, {
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
            `added to ${writeFile}:${recorded.line}` +
              (options.hashKnownHosts ? " (host name hashed: HashKnownHosts)" : ""),
          );
          return;
        }
        emit("unknown", null, null, ca);
        throw new SshError(
          "hostkey",
          "hostkey.unknown",
          `the server's host key ${key.fingerprint} (${key.keyType}) is not in known_hosts and ` +
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

/** Key types that known_hosts files already hold for this host (for host key ordering). */
export async function knownKeyTypes(
  files: string[],
  host: string,
  port: number,
): Promise<string[]> {
  const types: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await platform.readTextFile(file);
    } catch {
      continue;
    }
    for (const entry of parseKnownHosts(text, file).entries) {
      if (
        entry.marker === null && entryMatchesHost(entry, host, port) &&
        !types.includes(entry.keyType)
      ) {
        types.push(entry.keyType);
      }
    }
  }
  return types;
}
