/**
 * The failure catalogue's entries for failures that can happen at any stage (`*.suffix` codes: the stage is the code's prefix).
 * @module
 */

import { isAeadCipher } from "../../algorithms/registry.ts";
import type { FamilyCode } from "../../errors/mod.ts";
import type { Category } from "../../types.ts";
import { DISCONNECT_REASONS } from "../../wire/messages.ts";
import { libraryOptions, libraryTimeout } from "../audiences.ts";
import { negotiatedDecisions, num, refineFlood, str } from "./_helpers.ts";
import type { FailureContext, FamilyEntries, Refinement } from "./types.ts";

/** Catalogue entries of this stage, keyed by error code. */
export const ANY = {
  "*.timeout": {
    stage: "any",
    title: "the server stopped answering",
    explanation: "The stage did not complete within its time limit: nothing arrived, or what " +
      "arrived (a trickle of bytes, messages that do not advance the stage) did not complete it.",
    fix: "--timeout 30",
    opensshFix: "-o ConnectTimeout=30",
    libraryFix: libraryTimeout(30),
    refine: (c) => refineFlood(c),
  },
  "*.compression-error": {
    stage: "any",
    title: "the server's compressed data is corrupt",
    explanation: "Compression (zlib) was negotiated and the server sent data that does not " +
      "decompress: a server bug, often in old firmware.",
    fix: "leave out -C (or -o Compression=no)",
    opensshFix: "-o Compression=no",
    libraryFix: libraryOptions({ algorithms: { compression: ["none"] } }),
  },
  "*.deadline": {
    stage: "any",
    title: "the host's check did not finish in time",
    explanation: "Checking many hosts, each host has a hard deadline (a few times the network " +
      "timeout); this one was still busy at the stage named. Slow key exchanges on old devices " +
      "and slow AAA servers are the usual causes.",
    fix: "--timeout 30 (the deadline grows with it)",
    opensshFix: "-o ConnectTimeout=30",
  },
  "*.closed": {
    stage: "any",
    title: "the server closed the connection",
    explanation: "The server hung up without a DISCONNECT message saying why; its logs say more.",
    fix: "check the server's logs",
    opensshFix: null,
  },
  "*.connection-reset": {
    stage: "any",
    title: "the connection was reset",
    explanation: "The TCP connection was torn down (reset) by the server or something in the " +
      "path, such as a firewall.",
    fix: "retry; check firewalls and the server's logs",
    opensshFix: null,
  },
  "*.disconnect": {
    stage: "any",
    title: "the server disconnected",
    explanation: "The server ended the connection with a DISCONNECT message.",
    fix: null,
    opensshFix: null,
    refine: refineDisconnect,
  },
  "*.mac-error": {
    stage: "any",
    title: "a packet failed its integrity check (MAC error)",
    explanation: "A packet's integrity check failed: the data was altered in transit, or the two " +
      "sides compute the keys or the MAC differently (a known interoperability bug of some old " +
      "devices with particular MACs or ciphers). Choosing another MAC or cipher usually avoids it.",
    fix: "--macs or --ciphers with another algorithm",
    opensshFix: "-o MACs=... or -o Ciphers=...",
    refine: refineMacError,
  },
  "*.bad-packet": {
    stage: "any",
    title: "the server sent a malformed packet",
    explanation: "A packet's length or padding is invalid: the two sides disagree on keys or the " +
      "cipher (an interoperability bug), or the data was altered in transit.",
    fix: "--ciphers with another cipher",
    opensshFix: "-o Ciphers=...",
    refine: refineMacError,
  },
  "*.bad-message": {
    stage: "any",
    title: "the server sent a malformed transport message",
    explanation: "A transport message (DISCONNECT, DEBUG, EXT_INFO...) could not be decoded: a " +
      "server bug.",
    fix: "-vv to see the packets; report it with the trace",
    opensshFix: "-vvv",
  },
  "*.unexpected-message": {
    stage: "any",
    title: "the server sent a key exchange message outside a key exchange",
    explanation: "Key exchange messages are only allowed during a key exchange: a server bug.",
    fix: "-vv to see the packets; report it with the trace",
    opensshFix: "-vvv",
  },
  "*.internal": {
    stage: "any",
    title: "internal error in sshtrace",
    explanation: "sshtrace failed in a way it does not expect: this is a bug in sshtrace, not in " +
      "the server or the network.",
    fix: "run again with --json -vv and report the output",
    opensshFix: null,
  },
  // Ctrl-C (at a prompt, or SIGINT while the run waits on the network): exit 130.
  "*.interrupted": {
    stage: "any",
    title: "interrupted (Ctrl-C)",
    explanation: "Ctrl-C was pressed, so sshtrace stopped at once. At a prompt (host key yes/no, " +
      "password, passphrase, keyboard-interactive) the prompt was not answered and nothing more " +
      "was sent to the server, so no wrong answer can count against the account; elsewhere the " +
      "connection was closed where it stood. The exit code is 130, as for any program stopped " +
      "by Ctrl-C.",
    fix: null,
    opensshFix: null,
  },
  // A library caller's AbortSignal (the CLI's own cancellations are *.interrupted, *.deadline).
  "*.aborted": {
    stage: "any",
    title: "cancelled by the caller",
    explanation: "The program using sshtrace as a library cancelled the run (its AbortSignal " +
      "fired): the connection was closed at the stage named, and the error's cause is the " +
      "signal's reason. Nothing went wrong with the server or the network.",
    fix: null,
    opensshFix: null,
    libraryFix: null,
  },
} satisfies FamilyEntries;

// ---------------------------------------------------------------------------------------------
// DISCONNECT reasons (RFC 4253 §11.1) in plain words

/** What each DISCONNECT reason code usually means, and what helps. */
export const DISCONNECT_HELP: Record<
  number,
  { why: string; fix: string | null; opensshFix: string | null }
> = {
  1: {
    why: "the server does not accept connections from your address or user " +
      "(ACL, AllowUsers/AllowGroups, hosts.allow)",
    fix: "connect from an allowed address, or ask for your address to be permitted",
    opensshFix: null,
  },
  2: {
    why: "the server saw something it considers a protocol error; its text says what",
    fix: "-vv to see every packet, and report it with the trace",
    opensshFix: "-vvv",
  },
  3: {
    why: "the server's key exchange failed, usually because it found no algorithm in common " +
      "with our offer (old devices say so this way instead of listing them)",
    fix: "--legacy to also offer legacy algorithms, then narrow down with --kex/--ciphers/--macs",
    opensshFix:
      "-o KexAlgorithms=+diffie-hellman-group14-sha1 (and Ciphers/MACs/HostKeyAlgorithms)",
  },
  5: {
    why: "the server could not verify the integrity of our packets (MAC error)",
    fix: "--macs with another MAC, or --ciphers with another cipher",
    opensshFix: "-o MACs=... or -o Ciphers=...",
  },
  6: {
    why: "the server failed to decompress our data",
    fix: "-o Compression=no",
    opensshFix: "-o Compression=no",
  },
  7: { why: "the server does not offer the requested service", fix: null, opensshFix: null },
  8: { why: "the server does not support our protocol version", fix: null, opensshFix: null },
  9: { why: "the server could not verify a host key", fix: null, opensshFix: null },
  10: { why: "the server lost the connection", fix: null, opensshFix: null },
  11: {
    why: "the server ended the session itself: an idle timeout (e.g. ClientAliveInterval, " +
      "`exec-timeout` on the vty lines), an administrator, or the end of a forced command",
    fix: "-o ServerAliveInterval=30 to keep an idle session alive",
    opensshFix: "-o ServerAliveInterval=30",
  },
  12: {
    why: "the server has too many connections (MaxStartups/MaxSessions, all vty lines busy)",
    fix: "close other sessions to the device (or clear stale vty lines), then retry",
    opensshFix: null,
  },
  13: { why: "authentication was cancelled", fix: null, opensshFix: null },
  14: {
    why: "the server allows no more authentication attempts (MaxAuthTries): every key offered " +
      "counts as one",
    fix: "-i KEY -o IdentitiesOnly=yes (offer only the right key)",
    opensshFix: "-o IdentitiesOnly=yes -i KEY",
  },
  15: {
    why: "the server refuses this user name",
    fix: "a valid user: USER@HOST",
    opensshFix: "-l USER",
  },
};

function refineDisconnect(ctx: FailureContext<FamilyCode<"*.disconnect">>): Refinement {
  const code = num(ctx.details, "reasonCode");
  if (code === null) return {};
  const reason = str(ctx.details, "reason") ?? DISCONNECT_REASONS[code] ?? "UNKNOWN";
  const description = str(ctx.details, "description");
  const help = DISCONNECT_HELP[code];
  const said = `The server sent DISCONNECT ${reason} (${code})` +
    (description ? ` saying "${description}"` : "") + ".";
  if (/no matching|no common|no match/i.test(description ?? "")) {
    return {
      title: `the server found no algorithm in common with our offer`,
      explanation: `${said} It compared our KEXINIT with its own configuration and found no ` +
        "common algorithm (it names the category in its text).",
      fix: DISCONNECT_HELP[3]!.fix,
      opensshFix: DISCONNECT_HELP[3]!.opensshFix,
      securityCost:
        "legacy algorithms (SHA-1, CBC, 3DES, MD5) are weaker; enable only the one needed",
    };
  }
  return {
    title: `the server disconnected: ${reason}`,
    explanation: help ? `${said} This usually means ${help.why}.` : said,
    ...(help ? { fix: help.fix, opensshFix: help.opensshFix } : {}),
  };
}

function refineMacError(c: FailureContext<FamilyCode<"*.mac-error" | "*.bad-packet">>): Refinement {
  const decisions = negotiatedDecisions(c.events);
  const chosen = (cat: Category) => decisions.find((d) => d.category === cat)?.chosen ?? null;
  const mac = chosen("macS2C");
  const cipher = chosen("cipherS2C");
  const aead = isAeadCipher(cipher);
  if (mac && !aead) {
    return {
      fix: `--macs -${mac}`,
      opensshFix: `-o MACs=-${mac}`,
      libraryFix: libraryOptions({ algorithms: { mac: [`-${mac}`] } }),
    };
  }
  if (cipher) {
    return {
      fix: `--ciphers -${cipher}`,
      opensshFix: `-o Ciphers=-${cipher}`,
      libraryFix: libraryOptions({ algorithms: { cipher: [`-${cipher}`] } }),
    };
  }
  return {};
}
