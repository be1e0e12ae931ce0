/**
 * Named causes: failures that the error code alone does not tell apart, recognised from the
 * pattern of the trace and, where one failure is not enough, from the earlier connections of the
 * same run (the doctor's rungs, a deep probe's connections). Each is a catalogue entry of its
 * own — an id, the evidence it found, the cause and the fix for each audience — and
 * {@link recogniseCause} returns the first whose pattern the failure shows. The doctor ranks
 * causes by these ids; `explainFailure()` shows them for any run.
 *
 * Pure: no I/O, never prints, never throws.
 * @module
 */

import { libraryOptions } from "../audiences.ts";
import { riskOf } from "../../algorithms/registry.ts";
import { openSshRefusal } from "../../transport/version.ts";
import type { TraceEvent } from "../../trace.ts";
import type { AlgorithmLists } from "../../types.ts";
import { negotiatedDecisions, num, str, strings } from "./_helpers.ts";
import type { FailureContext, FailureText } from "./types.ts";

/** The causes this file names. */
export type NamedCauseId =
  | "per-source-penalties"
  | "vty-exhausted"
  | "mtu-stall"
  | "greeting-first"
  | "rsa-sha1-required"
  | "rsa-sha1-refused";

/**
 * An earlier connection of the same run to the same server: what it saw. The doctor's ladder
 * and the deep probe keep these; a lone probe has none.
 */
export interface PriorAttempt {
  /** Its error code, or null when it got what it asked for. */
  code: string | null;
  /** The software field of the server's version line (`OpenSSH_10.0`), or null. */
  software: string | null;
  /** Whether it logged in (a connection that did not counts for PerSourcePenalties). */
  authenticated: boolean;
}

/** What an attempt's trace tells later attempts (its {@link PriorAttempt}). */
export function priorAttempt(
  code: string | null,
  events: readonly TraceEvent[],
): PriorAttempt {
  const version = events.find((e) => e.type === "received");
  return {
    code,
    software: version?.type === "received" ? version.software : null,
    authenticated: events.some((e) => e.type === "success" && e.stage === "auth"),
  };
}

/** What a named cause's pattern sees: the failure, its trace, and the run's earlier attempts. */
export interface NamedContext extends FailureContext {
  history: readonly PriorAttempt[];
}

/** A named cause: the catalogue's words, the codes it explains, and its pattern. */
export interface NamedCause extends FailureText {
  id: NamedCauseId;
  /** The error codes whose failures may show this pattern (for the docs and the pattern). */
  codes: readonly string[];
  /** How the pattern is recognised, in a line (docs). */
  pattern: string;
  /** The evidence for the pattern in `ctx`, or null when it is absent. */
  evidence(ctx: NamedContext): string[] | null;
  /** Words refined from the failure (numbers, names). */
  refine?(ctx: NamedContext): Partial<FailureText>;
  /**
   * Codes whose own entry computes a finer fix (the planner's smallest legacy set): for these
   * the cause names the failure (title, explanation) and the code's fix texts stay.
   */
  codeFix?: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// Readers

/** OpenSSH's version from a software field (`OpenSSH_9.8p1` → [9, 8]), or null. */
export function openSshVersion(software: string | null): [number, number] | null {
  const m = /^OpenSSH_(\d+)\.(\d+)/.exec(software ?? "");
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/** Whether `software` is OpenSSH 9.8 or later (PerSourcePenalties, on by default). */
export function hasPenalties(software: string | null): boolean {
  const v = openSshVersion(software);
  return v !== null && (v[0] > 9 || (v[0] === 9 && v[1] >= 8));
}

const received = (events: readonly TraceEvent[]) =>
  events.find((e): e is Extract<TraceEvent, { type: "received" }> => e.type === "received");
const sentVersion = (events: readonly TraceEvent[]) =>
  events.find((e): e is Extract<TraceEvent, { type: "sent" }> => e.type === "sent");
const kexinitOf = (events: readonly TraceEvent[], type: "kexinit-sent" | "kexinit-received") =>
  events.find((e): e is Extract<TraceEvent, { type: typeof type }> => e.type === type);

/** A greeting this long after our version line (at least) came after our line had arrived. */
const GREETING_LATE_MS = 30;

/** How long the TCP connect took (a round trip, about), or 0. */
function connectMs(events: readonly TraceEvent[]): number {
  const end = events.find((e) => e.type === "end" && e.stage === "connect");
  return end?.type === "end" ? end.ms : 0;
}

/** Closed or reset before any version line: the shapes a refusal at the door takes. */
const AT_THE_DOOR = ["version.closed", "version.connection-reset", "connect.reset"];

/** The size in bytes of a KEXINIT packet carrying `lists` (unencrypted, before padding). */
export function kexInitBytes(lists: AlgorithmLists): number {
  const names = [
    lists.kex,
    lists.hostKey,
    lists.cipherC2S,
    lists.cipherS2C,
    lists.macC2S,
    lists.macS2C,
    lists.compressionC2S,
    lists.compressionS2C,
    [],
    [],
  ];
  const body = names.reduce((n, l) => n + 4 + l.join(",").length, 0);
  return 4 + 1 + 1 + 16 + body + 1 + 4 + 4; // length, padding length, type, cookie, lists...
}

/** Key exchange methods whose messages carry over 1 KiB: the client's share and the reply. */
const LARGE_KEX: Readonly<Record<string, { init: number; reply: number }>> = {
  "mlkem768x25519-sha256": { init: 1232, reply: 1120 },
  "sntrup761x25519-sha512": { init: 1206, reply: 1071 },
  "sntrup761x25519-sha512@openssh.com": { init: 1206, reply: 1071 },
  "diffie-hellman-group18-sha512": { init: 1045, reply: 1029 },
};

/** Small key exchanges and host keys, the first the server offers is suggested. */
const SMALL_KEX = ["curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256"];
const SMALL_HOST_KEY = ["ssh-ed25519", "ecdsa-sha2-nistp256"];

/** A packet of this size or more may not cross a path with a small MTU (tunnels, PPPoE, VPNs). */
const LARGE_PACKET = 1000;

/** The earlier attempts that got the server's version line, and the last software seen. */
function answeredBefore(history: readonly PriorAttempt[]): PriorAttempt[] {
  return history.filter((h) => h.software !== null);
}

function refusal(ctx: NamedContext): string | null {
  return str(ctx.details, "reason") ??
    openSshRefusal(strings(ctx.details, "preVersionLines")[0] ?? "");
}

const SHA1_COST = riskOf("ssh-rsa") ?? "SHA-1 signatures (chosen-prefix collisions)";

// ---------------------------------------------------------------------------------------------
// The causes, most specific first: the first whose pattern matches names the failure.

export const NAMED_CAUSES: readonly NamedCause[] = [
  {
    id: "per-source-penalties",
    codes: ["version.refused", ...AT_THE_DOOR],
    pattern: 'OpenSSH\'s "Not allowed at this time"; or, after OpenSSH 9.8+ answered earlier ' +
      "connections of the run, a close before the version line",
    title: "OpenSSH's PerSourcePenalties: the server refuses this address for now",
    explanation: "OpenSSH 9.8 and later block a client address for a while after connections " +
      "that end without authenticating (every probe, scan or doctor rung is one: 1 s each by " +
      "default), failed logins (5 s) and crashes; once the penalty passes 15 s, new " +
      'connections from the address are closed at once ("Not allowed at this time"), for up ' +
      "to 10 minutes. Every refused attempt keeps the penalty alive: retrying at once makes " +
      "it last.",
    fix: "wait (the penalty, up to 10 minutes) and retry once; connect less often (no probes " +
      "in between); the server's admin can exempt this address: PerSourcePenaltyExemptList " +
      "ADDRESS (or PerSourcePenalties noauth:0) in sshd_config",
    opensshFix: null,
    libraryFix: null,
    securityCost: null,
    evidence(ctx) {
      const before = answeredBefore(ctx.history);
      const openssh = before.map((h) => h.software).find(hasPenalties) ?? null;
      const unauthenticated = ctx.history.filter((h) => !h.authenticated).length;
      const said = refusal(ctx) === "penalty";
      const out: string[] = [];
      if (said) {
        out.push('the server answered "Not allowed at this time" instead of a version line');
      } else if (AT_THE_DOOR.includes(ctx.code) && openssh) {
        out.push("this connection was closed before the server's version line");
      } else return null;
      if (openssh) {
        out.push(`an earlier connection of this run was answered by ${openssh} (9.8 or later)`);
      }
      if (unauthenticated) {
        out.push(
          `${unauthenticated} earlier connection${
            unauthenticated === 1 ? "" : "s"
          } of this run ended without authenticating`,
        );
      }
      return out;
    },
    refine(ctx) {
      const n = ctx.history.filter((h) => !h.authenticated).length;
      // Defaults: 1 s per unauthenticated connection, enforced from 15 s, at most 600 s.
      const wait = Math.min(600, Math.max(15, n + 15));
      return {
        fix: `wait at least ${wait} s and retry once, with no probes in between; the server's ` +
          "admin can exempt this address: PerSourcePenaltyExemptList ADDRESS (or " +
          "PerSourcePenalties noauth:0) in sshd_config",
      };
    },
  },
  {
    id: "vty-exhausted",
    codes: ["version.refused", "version.disconnect", "kex.disconnect", ...AT_THE_DOOR],
    pattern: '"Exceeded MaxStartups", DISCONNECT TOO_MANY_CONNECTIONS, or a close before the ' +
      "version line by a server that answered earlier connections of the run",
    title: "the server's connection slots are taken (vty lines / MaxStartups)",
    explanation: "The server accepts only so many connections at once: a switch's vty lines " +
      "(often 5 to 16, and a hung session holds one until its exec-timeout), OpenSSH's " +
      "MaxStartups (10 unauthenticated connections, then it drops some). Over the limit it " +
      "closes new connections before its greeting, or says so. Connections in parallel (a " +
      "fleet check, a monitoring system, several people) or in quick succession fill it.",
    fix: "retry after a pause with fewer connections at once (--concurrency 1; the doctor's " +
      "pacing rung waits --pacing seconds); on the device, clear stale sessions (`clear line " +
      "vty N`, `show users`), raise the number of vty lines or MaxStartups, or set an " +
      "exec-timeout",
    opensshFix: null,
    libraryFix: null,
    securityCost: null,
    evidence(ctx) {
      const reason = refusal(ctx);
      if (reason === "maxstartups") {
        return ['the server answered "Exceeded MaxStartups" instead of a version line'];
      }
      if (ctx.code.endsWith(".disconnect") && num(ctx.details, "reasonCode") === 12) {
        return ["the server disconnected with TOO_MANY_CONNECTIONS (12)"];
      }
      if (!AT_THE_DOOR.includes(ctx.code)) return null;
      const before = answeredBefore(ctx.history);
      if (!before.length) return null;
      return [
        "this connection was closed before the server's version line",
        `${before.length} earlier connection${
          before.length === 1 ? " was" : "s were"
        } of this run answered (${before.at(-1)!.software}): the server is up, its slots were full`,
      ];
    },
  },
  {
    id: "mtu-stall",
    codes: ["kex.timeout"],
    pattern: "the version lines and the server's KEXINIT crossed, then the exchange stalled " +
      "after packets over 1,000 bytes (a post-quantum key share, a long KEXINIT)",
    title: "large packets are lost on the path (a path MTU black hole)",
    explanation: "Small packets crossed (the version lines, the server's KEXINIT) and then " +
      "nothing: the connection stalled right after packets larger than a small path MTU lets " +
      "through. Tunnels, PPPoE and VPNs lower the MTU; when the ICMP 'fragmentation needed' " +
      "answers are filtered, full-size packets vanish without a word (a black hole) and TCP " +
      "retransmits them in vain. A shorter offer and a small key exchange (curve25519) pass.",
    fix: "--kex curve25519-sha256 --hostkeys ssh-ed25519 (a short offer and small key exchange, " +
      "the doctor's smaller-kex rung); check the path: ping -M do -s 1472 HOST, MSS clamping " +
      "on the tunnel or firewall",
    opensshFix: "-o KexAlgorithms=curve25519-sha256 -o HostKeyAlgorithms=ssh-ed25519",
    libraryFix: libraryOptions({
      algorithms: { kex: ["curve25519-sha256"], hostKey: ["ssh-ed25519"] },
    }),
    securityCost: "no post-quantum key exchange: recorded traffic could be decrypted by a " +
      "future quantum computer",
    evidence(ctx) {
      const theirs = kexinitOf(ctx.events, "kexinit-received");
      const ours = kexinitOf(ctx.events, "kexinit-sent");
      if (!theirs || !ours || !received(ctx.events)) return null;
      const kex = negotiatedDecisions(ctx.events).find((d) => d.category === "kex")?.chosen;
      const large: string[] = [];
      const oursBytes = kexInitBytes(ours.lists);
      if (oursBytes >= LARGE_PACKET) large.push(`our KEXINIT (about ${oursBytes} bytes)`);
      const sizes = kex ? LARGE_KEX[kex] : undefined;
      if (sizes) {
        large.push(
          `our ${kex} key share (${sizes.init} bytes)`,
          `its reply (over ${sizes.reply} bytes with the host key and signature)`,
        );
      }
      if (!large.length) return null;
      const waited = num(ctx.details, "waitedMs") ?? num(ctx.details, "timeoutMs");
      return [
        "the version lines and the server's KEXINIT (small packets) crossed",
        `then the exchange stalled after large packets: ${large.join(", ")}`,
        ...(waited ? [`nothing arrived for ${(waited / 1000).toFixed(1)} s`] : []),
      ];
    },
    refine(ctx) {
      // The smallest exchange and host key the server offers.
      const theirs = kexinitOf(ctx.events, "kexinit-received")!.lists;
      const kex = SMALL_KEX.find((n) => theirs.kex.includes(n));
      const hostKey = SMALL_HOST_KEY.find((n) => theirs.hostKey.includes(n));
      if (!kex) return {};
      const flags = `--kex ${kex}${hostKey ? ` --hostkeys ${hostKey}` : ""}`;
      return {
        fix: `${flags} (a short offer and small key exchange, the doctor's smaller-kex rung); ` +
          "check the path: ping -M do -s 1472 HOST, MSS clamping on the tunnel or firewall",
        opensshFix: `-o KexAlgorithms=${kex}` +
          (hostKey ? ` -o HostKeyAlgorithms=${hostKey}` : ""),
        libraryFix: libraryOptions({
          algorithms: { kex: [kex], ...(hostKey ? { hostKey: [hostKey] } : {}) },
        }),
      };
    },
  },
  {
    id: "greeting-first",
    // Not kex.timeout: a server that never sends its KEXINIT is as often slow or behind a
    // small MTU; the doctor's version-after-greeting rung tells them apart.
    // Not kex.disconnect either: a DISCONNECT says why in its own words.
    codes: ["kex.closed", "kex.bad-packet", "kex.connection-reset"],
    pattern: "our version line went out well before the server's greeting (over 30 ms and two " +
      "TCP round trips), and the key exchange failed before the server's KEXINIT",
    title: "the server dropped our version line: it was sent before the server's greeting",
    explanation: "SSH lets both sides send their version line at once, and sshtrace (like " +
      "OpenSSH) does not wait. Some devices (old switch firmware, some terminal servers and " +
      "load balancers) discard whatever arrives before they greet; they then wait for a version " +
      "line that never comes, or read our KEXINIT as one and hang up, and their KEXINIT never " +
      "arrives. Sending our line only after theirs works.",
    fix: "the doctor's version-after-greeting rung (library option versionAfterGreeting); " +
      "OpenSSH has no such option, but such devices answer it when it is slower to connect",
    opensshFix: null,
    libraryFix: libraryOptions({ versionAfterGreeting: true }),
    securityCost: null,
    evidence(ctx) {
      const ours = sentVersion(ctx.events);
      const theirs = received(ctx.events);
      if (!ours || !theirs || kexinitOf(ctx.events, "kexinit-received")) return null;
      // Our line can only have been dropped if it arrived before the greeting was sent: the
      // greeting came well over a round trip (the TCP connect's time) after our line left.
      const gap = theirs.t - ours.t;
      if (gap < Math.max(GREETING_LATE_MS, 2 * connectMs(ctx.events))) return null;
      return [
        `our version line went out ${
          Math.round(theirs.t - ours.t)
        } ms before the server's greeting arrived`,
        "the server's KEXINIT never came",
      ];
    },
  },
  {
    id: "rsa-sha1-required",
    codes: ["auth.rsa-sha2-refused", "auth.no-signature-algorithm", "kex.no-common-hostKey"],
    pattern: "an rsa-sha2 user signature refused by a server announcing no server-sig-algs, " +
      "server-sig-algs naming only ssh-rsa, or a host key offer of ssh-rsa alone",
    title: "the server needs RSA signatures with SHA-1 (ssh-rsa)",
    explanation: "Servers older than RFC 8332 (OpenSSH before 7.2, much switch firmware) sign " +
      "and verify RSA only as ssh-rsa, over SHA-1: they announce no rsa-sha2 in " +
      "server-sig-algs (RFC 8308), or send none, and refuse rsa-sha2 signatures. SHA-1 " +
      "signatures are off by default in sshtrace and OpenSSH 8.8+, so an RSA key or host key " +
      "works with them only once ssh-rsa is allowed again (or with an Ed25519/ECDSA key, where " +
      "the device has one).",
    fix: "--legacy (allows ssh-rsa signatures), or an Ed25519/ECDSA key",
    opensshFix: "-o PubkeyAcceptedAlgorithms=+ssh-rsa -o HostKeyAlgorithms=+ssh-rsa",
    libraryFix: libraryOptions({ auth: { legacy: true } }),
    securityCost: SHA1_COST,
    evidence(ctx) {
      if (ctx.code === "kex.no-common-hostKey") {
        const theirs = strings(ctx.details, "theirs");
        if (!theirs.includes("ssh-rsa") || theirs.some((n) => n.startsWith("rsa-sha2-"))) {
          return null;
        }
        return [`the server's host key algorithms are ${theirs.join(", ")}: no rsa-sha2`];
      }
      if (ctx.code !== "auth.rsa-sha2-refused" && ctx.code !== "auth.no-signature-algorithm") {
        return null;
      }
      const announced = serverSigAlgs(ctx.events);
      // A server announcing rsa-sha2 does not need SHA-1 (rsa-sha1-refused, below).
      if (announced?.some((n) => n.startsWith("rsa-sha2-"))) return null;
      const refused = triedWith(ctx, /^rsa-sha2-/);
      return [
        announced
          ? `server-sig-algs names ${announced.join(", ")}: no rsa-sha2 for RSA keys`
          : "the server sent no server-sig-algs (RFC 8308)",
        ...(refused.length ? [`refused: ${refused.join(", ")}`] : []),
      ];
    },
    refine: () => ({ opensshFix: "-o PubkeyAcceptedAlgorithms=+ssh-rsa" }),
    codeFix: ["kex.no-common-hostKey"],
  },
  {
    id: "rsa-sha1-refused",
    codes: ["auth.key-rejected", "auth.no-signature-algorithm", "kex.no-common-hostKey"],
    pattern: "an ssh-rsa (SHA-1) user signature rejected by a server whose server-sig-algs " +
      "names rsa-sha2 but not ssh-rsa, or an offer of ssh-rsa alone to a server with rsa-sha2",
    title: "the server refuses RSA signatures with SHA-1 (ssh-rsa); it wants rsa-sha2",
    explanation: "OpenSSH 8.8 and later (and servers hardened alike) no longer accept ssh-rsa " +
      "signatures, which use SHA-1: the same RSA key works signed as rsa-sha2-256 or " +
      "rsa-sha2-512. Something forced ssh-rsa: an old client setting " +
      "(PubkeyAcceptedAlgorithms/HostKeyAlgorithms ssh-rsa, --hostkeys ssh-rsa) or a client " +
      "that does not know rsa-sha2.",
    fix: "leave ssh-rsa out: --hostkeys rsa-sha2-512,rsa-sha2-256 (and no forced ssh-rsa in " +
      "PubkeyAcceptedAlgorithms); the key itself is fine",
    opensshFix: "-o PubkeyAcceptedAlgorithms=rsa-sha2-512,rsa-sha2-256 " +
      "-o HostKeyAlgorithms=rsa-sha2-512,rsa-sha2-256",
    libraryFix: libraryOptions({ algorithms: { hostKey: ["rsa-sha2-512", "rsa-sha2-256"] } }),
    securityCost: null,
    codeFix: ["kex.no-common-hostKey"],
    evidence(ctx) {
      if (ctx.code === "kex.no-common-hostKey") {
        const ours = strings(ctx.details, "ours");
        const theirs = strings(ctx.details, "theirs");
        if (!ours.length || ours.some((n) => n !== "ssh-rsa")) return null;
        if (!theirs.some((n) => n.startsWith("rsa-sha2-"))) return null;
        return [`we offered only ssh-rsa; the server offers ${theirs.join(", ")}`];
      }
      const announced = serverSigAlgs(ctx.events) ?? [];
      if (announced.includes("ssh-rsa") || !announced.some((n) => n.startsWith("rsa-sha2-"))) {
        return null;
      }
      const wants = `server-sig-algs names ${announced.join(", ")}: rsa-sha2, not ssh-rsa`;
      // The key could not sign as the server wants: only ssh-rsa was allowed for it
      // (PubkeyAcceptedAlgorithms), or its agent or token makes no rsa-sha2 signatures.
      if (ctx.code === "auth.no-signature-algorithm") {
        return [wants, "the RSA key was not allowed (or able) to sign with rsa-sha2"];
      }
      const sha1 = triedWith(ctx, /^ssh-rsa$/);
      if (!sha1.length) return null;
      return [`signed with ${sha1.join(", ")}`, wants];
    },
  },
];

/** The server-sig-algs the server announced (EXT_INFO), or null when it sent none. */
function serverSigAlgs(events: readonly TraceEvent[]): string[] | null {
  const e = events.find((x) => x.type === "ext-info");
  return e?.type === "ext-info" ? e.serverSigAlgs : null;
}

/** The user-auth attempts of the failure signed with an algorithm matching `re`. */
function triedWith(ctx: NamedContext, re: RegExp): string[] {
  const tried = (ctx.details as { tried?: unknown }).tried;
  if (!Array.isArray(tried)) return [];
  return tried.flatMap((t) => {
    const a = (t as { algorithm?: unknown; result?: unknown })?.algorithm;
    return typeof a === "string" && re.test(a) ? [`${a} (${String(t.result ?? "")})`] : [];
  });
}

/**
 * The named cause a failure shows, with its evidence and words (all of them, or only the title
 * and explanation for a code that keeps its own fix); null when none matches.
 */
export function recogniseCause(
  ctx: NamedContext,
): { cause: NamedCause; evidence: string[]; text: Partial<FailureText> } | null {
  for (const cause of NAMED_CAUSES) {
    if (!cause.codes.includes(ctx.code)) continue;
    let evidence: string[] | null = null;
    let refined: Partial<FailureText> = {};
    try {
      evidence = cause.evidence(ctx);
      if (evidence) refined = cause.refine?.(ctx) ?? {};
    } catch {
      evidence = null; // a pattern must never hide the failure
    }
    if (!evidence) continue;
    const { title, explanation, fix, opensshFix, libraryFix, securityCost } = cause;
    const text = cause.codeFix?.includes(ctx.code)
      ? { title, explanation }
      : { title, explanation, fix, opensshFix, libraryFix, securityCost, ...refined };
    return { cause, evidence, text };
  }
  return null;
}
