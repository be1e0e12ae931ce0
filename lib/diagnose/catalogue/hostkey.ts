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
} satisfies StageEntries<"hostkey">;

function refineChanged(c: FailureContext<"hostkey.changed">): Refinement {
  const d = c.details;
  const fp = str(d, "fingerprint");
  const known = str(d, "knownFingerprint");
  const file = str(d, "file");
  const line = num(d, "line");
  const target = targetOf(c.events);
  let pattern = str(d, "hostPattern");
  if (target) {
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
      : "The key differs from the one known_hosts holds for this host: " +
        `now ${fp ?? "(unknown)"}, known as ${known ?? "(unknown)"}` +
        (file ? ` in ${file}:${line ?? "?"}` : "") + `. ${why}`,
    ...(command ? { fix: `${command} (only if the change is expected)`, opensshFix: command } : {}),
  };
}
