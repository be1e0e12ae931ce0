/**
 * The failure catalogue's entries for host key check failures (stage `hostkey`).
 * @module
 */

import { libraryOptions, raw } from "../audiences.ts";
import { num, str, targetOf, VERIFY_FIRST } from "./_helpers.ts";
import type { FailureContext, Refinement, StageEntries } from "./types.ts";

/** Catalogue entries of this stage, keyed by error code. */
export const HOSTKEY = {
  "hostkey.unknown": {
    stage: "hostkey",
    title: "the server's host key is not known and strict checking is on",
    explanation: "known_hosts has no key for this host, so sshtrace cannot tell whether it talks " +
      "to the real device. Compare the fingerprint shown with one obtained from the device " +
      "itself (its console: e.g. `show crypto key mypubkey rsa`, `ssh-keygen -lf` on the " +
      "server), then accept it once.",
    fix: "-o StrictHostKeyChecking=accept-new (after checking the fingerprint)",
    opensshFix: "-o StrictHostKeyChecking=accept-new",
    libraryFix: libraryOptions({ strictHostKeyChecking: "accept-new" }),
    securityCost: VERIFY_FIRST,
  },
  "hostkey.changed": {
    stage: "hostkey",
    title: "the server's host key has CHANGED",
    explanation: "The key differs from the one known_hosts holds for this host. Someone could be " +
      "intercepting the connection, or the device was replaced, reinstalled or regenerated its " +
      "key. Confirm the new fingerprint with the device's owner before removing the old entry.",
    fix: "ssh-keygen -R HOST -f ~/.ssh/known_hosts (only if the change is expected)",
    opensshFix: "ssh-keygen -R HOST",
    securityCost: VERIFY_FIRST,
    refine: refineChanged,
  },
  "hostkey.revoked": {
    stage: "hostkey",
    title: "the server's host key is revoked",
    explanation: "known_hosts marks this key @revoked: it must never be trusted again (it leaked " +
      "or was replaced). Do not connect; ask the device's owner for its current key.",
    fix: null,
    opensshFix: null,
    refine: (c) => {
      const file = str(c.details, "file");
      const line = num(c.details, "line");
      const fp = str(c.details, "fingerprint");
      return file
        ? {
          explanation: `known_hosts (${file}:${line ?? "?"}) marks this key${fp ? ` ${fp}` : ""} ` +
            "@revoked: it must never be trusted again (it leaked or was replaced). Do not " +
            "connect; ask the device's owner for its current key.",
        }
        : {};
    },
  },
  "hostkey.refused-by-user": {
    stage: "hostkey",
    title: "the host key was not accepted at the prompt",
    explanation: "You answered no when asked to trust the server's key; nothing was stored.",
    fix: "reconnect and answer yes once the fingerprint is verified",
    opensshFix: null,
  },
  "hostkey.write-failed": {
    stage: "hostkey",
    title: "the accepted host key could not be saved",
    explanation: "The known_hosts file (or its directory) is not writable.",
    fix: "-o UserKnownHostsFile=PATH with a writable file",
    opensshFix: "-o UserKnownHostsFile=PATH",
    libraryFix: libraryOptions({ knownHostsFiles: [raw("PATH")] }),
  },
  "hostkey.changed-on-rekey": {
    stage: "hostkey",
    title: "the server presented a different host key during a rekey",
    explanation: "A server keeps one host key for a whole connection. A different key in a later " +
      "key exchange means interception or a badly broken server; the connection was stopped.",
    fix: null,
    opensshFix: null,
  },
  "hostkey.cert-unknown-ca": {
    stage: "hostkey",
    title: "the server's host certificate is signed by a CA known_hosts does not trust for it",
    explanation: "The server showed a host certificate, but no @cert-authority line whose host " +
      "patterns match this host lists the CA that signed it. Add the CA's public key (from " +
      "whoever runs the CA, checked out of band) as an @cert-authority line.",
    fix: "add `@cert-authority *.example.com <CA public key>` to ~/.ssh/known_hosts",
    opensshFix: "add `@cert-authority *.example.com <CA public key>` to ~/.ssh/known_hosts",
    refine: (c) => certRefinement(c),
  },
  "hostkey.cert-expired": {
    stage: "hostkey",
    title: "the server's host certificate has expired",
    explanation: "The certificate's validity window ended before now (by this machine's clock), " +
      "so it proves nothing. The server's owner must renew it (ssh-keygen -s CA -h -V ...); if the window looks right, this machine's " +
      "clock may be running ahead.",
    fix: null,
    opensshFix: null,
    refine: (c) => certRefinement(c),
  },
  "hostkey.cert-not-yet-valid": {
    stage: "hostkey",
    title: "the server's host certificate is not valid yet",
    explanation: "The certificate's validity window starts after now (by this machine's clock). " +
      "Usually this machine's clock is behind (check NTP: timedatectl, chronyc tracking), or " +
      "the certificate was issued with a start date in the future.",
    fix: "check this machine's clock (timedatectl; chronyc tracking)",
    opensshFix: null,
    refine: (c) => certRefinement(c),
  },
  "hostkey.cert-principal": {
    stage: "hostkey",
    title: "the server's host certificate is not issued for this host name",
    explanation: "The name sshtrace connected to (or HostKeyAlias) is not among the " +
      "certificate's principals, so the certificate may belong to another host. Connect by a " +
      "name the certificate lists, or ask the CA's owner to add this name.",
    fix: "connect by a name the certificate lists, or -o HostKeyAlias=NAME",
    opensshFix: "-o HostKeyAlias=NAME",
    libraryFix: libraryOptions({ hostKeyAlias: raw("NAME") }),
    refine: (c) => certRefinement(c),
  },
  "hostkey.cert-invalid": {
    stage: "hostkey",
    title: "the server's host certificate is not acceptable",
    explanation: "The certificate failed a check ssh(1) also makes: the CA's signature, a " +
      "host (not user) certificate, a principal list, no critical options, a CA signature " +
      "algorithm CASignatureAlgorithms allows and a CA key size RequiredRSASize allows. The " +
      "server's owner must reissue it.",
    fix: null,
    opensshFix: null,
    refine: (c) => certRefinement(c),
  },
  "hostkey.ca-revoked": {
    stage: "hostkey",
    title: "the CA that signed the server's host certificate is revoked",
    explanation: "known_hosts marks the certificate authority @revoked: nothing it signed is " +
      "trusted any more, and the plain key is not tried (as ssh(1) does). Do not connect; ask " +
      "the device's owner for a certificate from the current CA.",
    fix: null,
    opensshFix: null,
    refine: (c) => certRefinement(c),
  },
} satisfies StageEntries<"hostkey">;

/** A certificate failure's explanation with its reason, fields and the known_hosts line. */
function certRefinement(c: FailureContext): Refinement {
  const d = c.details;
  const reason = str(d, "reason");
  if (!reason) return {};
  const file = str(d, "file");
  const line = num(d, "line");
  const principals = Array.isArray(d.principals) ? (d.principals as unknown[]).join(", ") : "";
  const fields = `key id "${str(d, "keyId") ?? "?"}", serial ${str(d, "serial") ?? "?"}, ` +
    `principals ${principals || "(none)"}, valid ${str(d, "validity") ?? "?"}, CA ` +
    `${str(d, "caType") ?? "?"} ${str(d, "caFingerprint") ?? "?"}`;
  const at = file ? ` (${file}:${line ?? "?"})` : "";
  const plain = d.plainKeyTried === true
    ? " The plain key was checked instead, as ssh(1) does, and known_hosts does not hold it."
    : "";
  return {
    explanation: `The host certificate (${fields}) is not accepted: ${reason}${at}.${plain} ` +
      HOSTKEY[c.code as keyof typeof HOSTKEY].explanation,
  };
}

function refineChanged(c: FailureContext<"hostkey.changed">): Refinement {
  const d = c.details;
  const fp = str(d, "fingerprint");
  const known = str(d, "knownFingerprint");
  const file = str(d, "file");
  const line = num(d, "line");
  const target = targetOf(c.events);
  let pattern = str(d, "hostPattern");
  // CheckHostIP: the pattern is the address's, not the target's.
  if (target && d.address !== true) {
    const host = target.host.toLowerCase();
    pattern = target.port === 22 ? host : `[${host}]:${target.port}`;
  }
  const knownKeys = Array.isArray(d.knownKeys)
    ? (d.knownKeys as unknown[]).filter((k): k is Record<string, unknown> =>
      typeof k === "object" && k !== null
    )
    : [];
  const files = [...new Set(knownKeys.map((k) => str(k, "file")).filter((f) => f !== null))];
  if (!files.length && file) files.push(file);
  const command = pattern && files.length
    ? files.map((f) => `ssh-keygen -R "${pattern}" -f ${f}`).join("; ")
    : null;
  const keyType = str(d, "keyType");
  const otherType = keyType !== null && knownKeys.length > 0 &&
    knownKeys.every((k) => str(k, "keyType") !== keyType);
  const listed = knownKeys.map((k) =>
    `${str(k, "keyType") ?? "?"} ${str(k, "fingerprint") ?? "?"} (${str(k, "file") ?? "?"}:${
      num(k, "line") ?? "?"
    })`
  ).join(", ");
  const why = "Someone could be intercepting the connection, or the device was replaced, " +
    "reinstalled or regenerated its keys. Confirm the new fingerprint with the device's owner " +
    "before removing the old entries.";
  return {
    explanation: otherType
      ? `The server presented a ${keyType} host key (${fp ?? "(unknown)"}), a type known_hosts ` +
        `has no key of for this host, while it holds ${listed}. A server keeps its keys: an ` +
        `impostor often has only a key of another type. ${why}`
      : `The key differs from the one known_hosts holds for ${
        d.address === true ? `the server's address ${pattern ?? ""} (CheckHostIP)` : "this host"
      }: ` +
        `now ${fp ?? "(unknown)"}, known as ${known ?? "(unknown)"}` +
        (file ? ` in ${file}:${line ?? "?"}` : "") + `. ${why}`,
    ...(command ? { fix: `${command} (only if the change is expected)`, opensshFix: command } : {}),
  };
}
