/**
 * The failure catalogue's entries for version exchange failures (stage `version`).
 * @module
 */

import { recogniseGreeting } from "../../transport/version.ts";
import { libraryOptions, libraryTimeout, raw } from "../audiences.ts";
import { CHECK_PORT, strings } from "./_helpers.ts";
import type { StageEntries } from "./types.ts";

/** Catalogue entries of this stage, keyed by error code. */
export const VERSION = {
  "version.closed": {
    stage: "version",
    title: "the server closed the connection before sending any banner",
    explanation: "TCP was accepted, then closed without a word. Typical causes: a connection " +
      "limit (OpenSSH MaxStartups, all vty lines busy), an ACL on the vty lines (Cisco " +
      "access-class), tcp-wrappers (hosts.deny), fail2ban, or a device whose SSH is enabled " +
      "but has no host key yet.",
    fix: "retry in a moment; check the server's logs, vty ACLs and connection limits",
    opensshFix: null,
  },
  "version.not-ssh": {
    stage: "version",
    title: "this is not an SSH server",
    explanation: "Something answered on this port, but not with an SSH version line.",
    fix: CHECK_PORT,
    opensshFix: "-p PORT (-o Port=PORT)",
    libraryFix: libraryOptions({ port: raw("PORT") }),
    refine: (c) => {
      const first = strings(c.details, "preVersionLines")[0];
      if (first === undefined) return {};
      const looks = recogniseGreeting(first);
      const shown = first.replace(/[^\x20-\x7e]/g, "?").slice(0, 80);
      return {
        title: looks
          ? `this is not an SSH server: it looks like ${looks}`
          : "this is not an SSH server",
        explanation: `Something answered on this port, but not with an SSH version line: its ` +
          `first line is "${shown}"` + (looks ? `, which looks like ${looks}.` : ".") +
          " SSH servers start with a line beginning `SSH-2.0-`.",
      };
    },
  },
  "version.refused": {
    stage: "version",
    title: "the server refused this connection for now",
    explanation: "An OpenSSH server answered with a one-line refusal instead of its version " +
      "line and closed: it limits connections from this address or in total.",
    fix: "wait a little and retry; probe one server less often (lower --concurrency)",
    opensshFix: null,
    // "Not allowed at this time" (PerSourcePenalties) and "Exceeded MaxStartups" are named
    // causes (named.ts): per-source-penalties, vty-exhausted.
  },
  "version.ssh1-only": {
    stage: "version",
    title: "the server speaks only SSH-1",
    explanation: "SSH protocol 1 (1995) is broken: no real integrity protection, CRC-32 attacks, " +
      "weak key exchange. Neither sshtrace nor OpenSSH (since 7.6) speaks it. The device must be " +
      "switched to SSH-2.",
    fix: "enable SSH version 2 on the device (Cisco IOS: `ip ssh version 2`; Comware: " +
      "`ssh server version 2`)",
    opensshFix: null,
  },
  "version.unsupported": {
    stage: "version",
    title: "the server announces an unknown SSH protocol version",
    explanation: "Only protocol 2.0 (and 1.99, which means 2.0 too) exists in practice; the " +
      "server's version line says something else.",
    fix: "check the device's SSH configuration (SSH version 2)",
    opensshFix: null,
  },
  "version.timeout": {
    stage: "version",
    title: "no SSH banner arrived in time",
    explanation: "TCP is up but the server said nothing. Servers (and switches) that look up the " +
      "client's address in DNS (reverse DNS) before greeting stall until that lookup times out; " +
      "overloaded or tarpitting servers do the same.",
    fix: "--timeout 30; on the server disable the reverse lookup (OpenSSH: `UseDNS no`) or fix " +
      "its DNS server",
    opensshFix: "-o ConnectTimeout=30",
    libraryFix: libraryTimeout(30),
  },
  "version.too-many-lines": {
    stage: "version",
    title: "too many lines before the SSH version line",
    explanation: "SSH servers may send a few text lines before `SSH-2.0-...`, but this one sent " +
      "more than 64 without ever sending a version line: probably not an SSH service.",
    fix: CHECK_PORT,
    opensshFix: "-p PORT",
    libraryFix: libraryOptions({ port: raw("PORT") }),
  },
  "version.line-too-long": {
    stage: "version",
    title: "the server sent an over-long line instead of a version line",
    explanation: "The version line may be at most 255 bytes (RFC 4253 §4.2); lines before it are " +
      "accepted up to 1024. A longer line means a non-SSH service or a broken server.",
    fix: CHECK_PORT,
    opensshFix: "-p PORT",
    libraryFix: libraryOptions({ port: raw("PORT") }),
  },
  "version.malformed": {
    stage: "version",
    title: "the server's version line is malformed",
    explanation:
      "A version line must read `SSH-protoversion-softwareversion [comments]`; this one " +
      "does not (quoted above).",
    fix: "check the port and the device's SSH service",
    opensshFix: null,
  },
} satisfies StageEntries<"version">;
