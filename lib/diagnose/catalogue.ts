/**
 * The failure catalogue: one entry per error code the layers throw, kept as data in this one
 * table. Each entry gives the stage, a one-line cause, a plain explanation for a network
 * engineer, the fix as an sshtrace flag and as its OpenSSH (`ssh -o ...`) equivalent, and the
 * security cost when the fix weakens crypto. A few entries refine their texts from the error's
 * `details` (and the trace events) with a small `refine` function.
 *
 * Codes of the form `<stage>.timeout` can be thrown at any stage: they are catalogued once under
 * `*.timeout` (see {@link lookupEntry}), with exact entries where a stage needs its own words.
 *
 * Pure: no I/O, never prints.
 * @module
 */

import {
  allNames,
  FLAG,
  isAeadCipher,
  type ListCategory,
  lookupAlgorithm,
  OPENSSH_OPTION,
  riskOf,
} from "../algorithms/registry.ts";
import type { AlgorithmStatus } from "../algorithms/types.ts";
import type { Category, Decision, ErrorDetails, Stage, TraceEvent } from "../trace.ts";
import { openSshRefusal, recogniseGreeting } from "../transport/version.ts";
import { DISCONNECT_REASONS } from "../wire/messages.ts";

/** The words shown for a failure. */
export interface FailureText {
  /** The cause in one line ("what went wrong" headline). */
  title: string;
  /** Why it happens, in plain words (a few sentences). */
  explanation: string;
  /** What to type next with sshtrace (flags), or null when only the server side can fix it. */
  fix: string | null;
  /** The OpenSSH equivalent (`-o Option=value`, or an OpenSSH tool command), or null. */
  opensshFix: string | null;
  /** What the fix gives up in security, when it weakens crypto or checks; else null. */
  securityCost: string | null;
}

/** One algorithm that would make a failed negotiation work, with what it costs. */
export interface AlgorithmCandidate {
  /** The user-facing list the algorithm belongs to (`--kex`, `--ciphers`, ...). */
  category: ListCategory;
  algorithm: string;
  status: AlgorithmStatus;
  /** The registry's one-line risk for legacy algorithms, else null. */
  risk: string | null;
}

/** What a `refine` function sees. */
export interface FailureContext {
  code: string;
  stage: Stage | "usage";
  message: string;
  details: ErrorDetails;
  /** The trace up to the failure (may be empty). */
  events: readonly TraceEvent[];
}

/** What a `refine` function may change, plus the ranked candidates of a negotiation failure. */
export type Refinement = Partial<FailureText> & { candidates?: AlgorithmCandidate[] };

/** A catalogue entry. `stage: "any"` marks a `*.suffix` entry used at whichever stage failed. */
export interface CatalogueEntry {
  stage: Stage | "usage" | "any";
  title: string;
  explanation: string;
  fix: string | null;
  opensshFix: string | null;
  securityCost?: string;
  /** Refines the texts above from the error's details and the trace. Must not throw. */
  refine?: (ctx: FailureContext) => Refinement;
}

// ---------------------------------------------------------------------------------------------
// Small readers for `details` (they come from other layers: trust nothing about their shape).

function str(d: ErrorDetails, key: string): string | null {
  const v = d[key];
  return typeof v === "string" && v !== "" ? v : null;
}

function num(d: ErrorDetails, key: string): number | null {
  const v = d[key];
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function strings(d: ErrorDetails, key: string): string[] {
  const v = d[key];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function list(names: readonly string[]): string {
  return names.length ? names.join(", ") : "(nothing)";
}

/** The trace's `connect` target, if the trace has one. */
export function targetOf(events: readonly TraceEvent[]): { host: string; port: number } | null {
  for (const e of events) {
    if (e.type === "resolving" || e.type === "connected") return { host: e.host, port: e.port };
  }
  return null;
}

/**
 * Server software that offers file transfer only (SFTP, sometimes SCP), never a shell or
 * commands, by the software field of its version line (ProFTPD's mod_sftp, managed file
 * transfer products, cloud SFTP endpoints).
 */
const FILE_TRANSFER_ONLY =
  /^(mod_sftp|ProFTPD|CrushFTPSSHD|Serv-U|GoAnywhere|WS_FTP|AWS_SFTP|JSCAPE|SFTPGo|Cerberus|Titan|Syncplify|CompleteFTP|FileZilla|Globalscape|MOVEit)/i;

/** The server's software from the trace's version line, or null. */
function serverSoftware(events: readonly TraceEvent[]): string | null {
  for (const e of events) if (e.type === "received") return e.software;
  return null;
}

/**
 * For a refused exec or shell: the explanation when the server is a file-transfer-only server
 * (known by its version line, or because it refused a shell and exec both), where advice to use
 * the other request would send the user in circles.
 */
function refineFileTransferOnly(c: FailureContext): Refinement {
  const software = serverSoftware(c.events);
  const known = software !== null && FILE_TRANSFER_ONLY.test(software);
  if (!known && c.details.otherRequestRefused !== true) return {};
  const target = targetOf(c.events);
  return {
    title: "the server accepts file transfer only (SFTP), not commands or a shell",
    explanation:
      (known
        ? `The server identifies as ${software}, a file-transfer server: `
        : "The server refused both a shell and a command (exec): ") +
      "it runs no commands, so typing the command into an interactive shell will not work " +
      "either. Use it for file transfer (the sftp subsystem); the login itself works.",
    fix: "use an SFTP client for this server; `sshtrace probe` checks its login path",
    opensshFix: target
      ? `sftp ${target.port === 22 ? "" : `-P ${target.port} `}USER@${target.host}`
      : "sftp USER@HOST",
  };
}

/** The decisions of the latest `negotiated` event, or []. */
function negotiatedDecisions(events: readonly TraceEvent[]): Decision[] {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (e.type === "negotiated") return e.decisions;
  }
  return [];
}

/** Whether the trace shows a rekey (the failure then happened after the session was up). */
function duringRekey(events: readonly TraceEvent[]): boolean {
  return events.some((e) => e.type === "rekey");
}

// ---------------------------------------------------------------------------------------------
// Ranking algorithms by least harm

/** The user-facing list of each KEXINIT category. */
export const LIST_OF: Record<Category, ListCategory> = {
  kex: "kex",
  hostKey: "hostKey",
  cipherC2S: "cipher",
  cipherS2C: "cipher",
  macC2S: "mac",
  macS2C: "mac",
  compressionC2S: "compression",
  compressionS2C: "compression",
};

const STATUS_RANK: Record<AlgorithmStatus, number> = { recommended: 0, supported: 1, legacy: 2 };

/**
 * Legacy algorithms from least to most harmful, per list. Names missing here rank after these,
 * in registry order.
 */
export const LEGACY_HARM_ORDER: Record<ListCategory, readonly string[]> = {
  // SHA-1 with a 2048-bit group, then group exchange (often 1024-bit groups), then Logjam's group.
  kex: [
    "diffie-hellman-group14-sha1",
    "diffie-hellman-group-exchange-sha1",
    "diffie-hellman-group1-sha1",
  ],
  // SHA-1 RSA signatures, then 1024-bit DSA.
  hostKey: ["ssh-rsa", "ssh-dss"],
  // CBC with AES (larger key first), then 64-bit-block 3DES.
  cipher: ["aes256-cbc", "aes192-cbc", "aes128-cbc", "3des-cbc"],
  // SHA-1 EtM, SHA-1, truncated SHA-1, then MD5.
  mac: ["hmac-sha1-etm@openssh.com", "hmac-sha1", "hmac-sha1-96", "hmac-md5", "hmac-md5-96"],
  // Delayed compression (after auth) before compression from the start.
  compression: ["zlib@openssh.com", "zlib"],
};

/**
 * The algorithms of `names` that sshtrace implements in `category`, least harmful first:
 * recommended, then supported, then legacy in {@link LEGACY_HARM_ORDER}; ties keep registry
 * (preference) order.
 */
export function rankByLeastHarm(
  category: ListCategory,
  names: readonly string[],
): AlgorithmCandidate[] {
  const registry = allNames(category);
  const harm = LEGACY_HARM_ORDER[category];
  const candidates: AlgorithmCandidate[] = [];
  for (const name of new Set(names)) {
    if (!registry.includes(name)) continue;
    const info = lookupAlgorithm(name);
    if (!info) continue;
    candidates.push({
      category,
      algorithm: name,
      status: info.status,
      risk: info.status === "legacy" ? (riskOf(name) ?? "legacy algorithm") : null,
    });
  }
  const harmIndex = (n: string) => {
    const i = harm.indexOf(n);
    return i < 0 ? harm.length + registry.indexOf(n) : i;
  };
  return candidates.sort((a, b) =>
    STATUS_RANK[a.status] - STATUS_RANK[b.status] ||
    (a.status === "legacy" ? harmIndex(a.algorithm) - harmIndex(b.algorithm) : 0) ||
    registry.indexOf(a.algorithm) - registry.indexOf(b.algorithm)
  );
}

/** What a plan for a failed negotiation holds, per user-facing list. */
export interface EnablePlan {
  /** The one algorithm to enable per failed list (the smallest set that would work). */
  enable: AlgorithmCandidate[];
  /** Per failed list: every candidate we implement, least harmful first. */
  candidates: AlgorithmCandidate[];
  /** Per failed list: what the server offers that sshtrace does not implement. */
  unimplemented: Partial<Record<ListCategory, string[]>>;
  /** Lists where the server offers nothing sshtrace implements. */
  impossible: ListCategory[];
  /** The failed lists, in KEXINIT order. */
  failed: ListCategory[];
  /** The server's list per failed list (union of both directions). */
  theirs: Partial<Record<ListCategory, string[]>>;
  /** Our list per failed list. */
  ours: Partial<Record<ListCategory, string[]>>;
}

/**
 * The smallest set of algorithms to enable so that every failed category negotiates: for each
 * failed list one algorithm from the server's offer, the least harmful sshtrace implements
 * (preferring one that every failed direction of that list accepts).
 */
export function planEnable(failedDecisions: readonly Decision[]): EnablePlan {
  const plan: EnablePlan = {
    enable: [],
    candidates: [],
    unimplemented: {},
    impossible: [],
    failed: [],
    theirs: {},
    ours: {},
  };
  const byList = new Map<ListCategory, Decision[]>();
  for (const d of failedDecisions) {
    const l = LIST_OF[d.category];
    if (!l) continue;
    byList.set(l, [...(byList.get(l) ?? []), d]);
  }
  for (const [category, decisions] of byList) {
    plan.failed.push(category);
    const theirs = [...new Set(decisions.flatMap((d) => d.theirs))];
    const ours = [...new Set(decisions.flatMap((d) => d.ours))];
    plan.theirs[category] = theirs;
    plan.ours[category] = ours;
    const ranked = rankByLeastHarm(category, theirs);
    const missing = theirs.filter((n) => !allNames(category).includes(n));
    if (missing.length) plan.unimplemented[category] = missing;
    if (!ranked.length) {
      plan.impossible.push(category);
      continue;
    }
    plan.candidates.push(...ranked);
    const inAll = ranked.find((c) => decisions.every((d) => d.theirs.includes(c.algorithm)));
    if (inAll) {
      plan.enable.push(inAll);
    } else {
      for (const d of decisions) {
        const c = ranked.find((r) => d.theirs.includes(r.algorithm));
        if (c && !plan.enable.includes(c)) plan.enable.push(c);
      }
    }
  }
  return plan;
}

/** `--kex +a --ciphers +b` and `-o KexAlgorithms=+a -o Ciphers=+b` for a set of algorithms. */
export function enableFlags(
  enable: readonly AlgorithmCandidate[],
): { fix: string; opensshFix: string } {
  const grouped = new Map<ListCategory, string[]>();
  for (const c of enable) {
    grouped.set(c.category, [...(grouped.get(c.category) ?? []), c.algorithm]);
  }
  const fix: string[] = [];
  const ssh: string[] = [];
  for (const [category, names] of grouped) {
    if (category === "compression") {
      // Compression is a yes/no option in OpenSSH (and in sshtrace's -o Compression).
      const value = names.includes("none") ? "no" : "yes";
      fix.push(`-o Compression=${value}`);
      ssh.push(`-o Compression=${value}`);
      continue;
    }
    fix.push(`${FLAG[category]} +${names.join(",")}`);
    ssh.push(`-o ${OPENSSH_OPTION[category]}=+${names.join(",")}`);
  }
  return { fix: fix.join(" "), opensshFix: ssh.join(" ") };
}

const CATEGORY_WORDS: Record<ListCategory, string> = {
  kex: "key exchange method",
  hostKey: "host key algorithm",
  cipher: "cipher",
  mac: "MAC",
  compression: "compression",
};

/** The refinement shared by every `kex.no-common-*` code. */
function refineNoCommon(ctx: FailureContext): Refinement {
  const d = ctx.details;
  const all = Array.isArray(d.decisions) ? (d.decisions as Decision[]) : [];
  let failed = all.filter((x) => x && x.chosen === null && Array.isArray(x.theirs));
  if (!failed.length) {
    const category = str(d, "category") as Category | null;
    if (category && LIST_OF[category]) {
      failed = [{
        category,
        ours: strings(d, "ours"),
        theirs: strings(d, "theirs"),
        chosen: null,
        rule: "",
        firstChoiceMatch: false,
      }];
    }
  }
  if (!failed.length) return {};
  const plan = planEnable(failed);
  const lines: string[] = [];
  for (const category of plan.failed) {
    lines.push(
      `${capital(CATEGORY_WORDS[category])}: the server offers ${
        list(plan.theirs[category] ?? [])
      }; ` +
        `we offered ${list(plan.ours[category] ?? [])}.`,
    );
  }
  for (const category of plan.impossible) {
    lines.push(
      `sshtrace implements none of the ${CATEGORY_WORDS[category]}s this server offers ` +
        `(${list(plan.unimplemented[category] ?? [])}): the server's configuration must change ` +
        "(or use a client that implements one of them).",
    );
  }
  const names = plan.failed.map((c) => CATEGORY_WORDS[c]);
  const joined = names.length > 1
    ? `${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}`
    : names[0];
  const title = `no ${joined} in common with the server`;
  if (!plan.enable.length) {
    return {
      title,
      explanation: lines.join(" "),
      fix: null,
      opensshFix: null,
      securityCost: null,
      candidates: plan.candidates,
    };
  }
  const { fix, opensshFix } = enableFlags(plan.enable);
  const costs = plan.enable.filter((c) => c.risk).map((c) => `${c.algorithm}: ${c.risk}.`);
  const legacy = plan.enable.some((c) => c.status === "legacy");
  lines.push(
    `The smallest change that works: enable ${plan.enable.map((c) => c.algorithm).join(", ")}` +
      (legacy
        ? " (the least harmful of the legacy algorithms the server accepts; " +
          "better: modernise the server's configuration)."
        : "."),
  );
  return {
    title,
    explanation: lines.join(" "),
    fix,
    opensshFix,
    securityCost: costs.length ? costs.join(" ") : null,
    candidates: plan.candidates,
  };
}

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
    fix: "-l USER with a valid user",
    opensshFix: "-l USER",
  },
};

function refineDisconnect(ctx: FailureContext): Refinement {
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

// ---------------------------------------------------------------------------------------------
// Cheaper key exchange suggestions (slow DH on old CPUs)

/** Key exchange methods from cheapest to compute; used to suggest a faster one. */
export const CHEAP_KEX: readonly string[] = [
  "curve25519-sha256",
  "curve25519-sha256@libssh.org",
  "ecdh-sha2-nistp256",
  "ecdh-sha2-nistp384",
  "mlkem768x25519-sha256",
  "ecdh-sha2-nistp521",
  "diffie-hellman-group14-sha256",
];

/** The cheapest kex from the server's last KEXINIT (per the trace) that is cheaper than `chosen`. */
export function cheaperKex(events: readonly TraceEvent[], chosen: string | null): string | null {
  let theirs: string[] = [];
  for (const e of events) if (e.type === "kexinit-received") theirs = e.lists.kex;
  const limit = chosen && CHEAP_KEX.includes(chosen) ? CHEAP_KEX.indexOf(chosen) : CHEAP_KEX.length;
  return CHEAP_KEX.slice(0, limit).find((k) => theirs.includes(k)) ?? null;
}

// ---------------------------------------------------------------------------------------------
// The catalogue

const CHECK_PORT = "-p PORT with the port SSH really listens on (usually 22)";
const LEGACY_COST =
  "legacy algorithms (SHA-1, CBC, 3DES, MD5) are weaker; enable only the one needed";
const VERIFY_FIRST = "accepting a host key without verifying it out of band defeats the " +
  "protection against someone intercepting the connection";

/**
 * Every failure sshtrace reports, keyed by error code. `*.suffix` entries apply to that code at
 * any stage (the stage is the code's prefix); an exact code always wins.
 */
export const CATALOGUE: Readonly<Record<string, CatalogueEntry>> = {
  // ------------------------------------------------------------------------------ usage
  "usage.invalid": {
    stage: "usage",
    title: "invalid command line or option",
    explanation: "A flag, -o option or target could not be understood; nothing was sent.",
    fix: "sshtrace --help",
    opensshFix: null,
    refine: (c) => (str(c.details, "fix") ? { fix: str(c.details, "fix") } : {}),
  },
  "usage.unknown-terminal-mode": {
    stage: "usage",
    title: "unknown terminal mode name",
    explanation: "Terminal modes are the names of RFC 4254 §8 (ECHO, ICANON, TTY_OP_ISPEED...).",
    fix: "use a mode name from RFC 4254 §8",
    opensshFix: null,
  },
  "usage.invalid-terminal-mode": {
    stage: "usage",
    title: "invalid terminal mode value",
    explanation: "Each terminal mode takes a whole number from 0 to 4294967295.",
    fix: "give the mode a whole number value",
    opensshFix: null,
  },
  "usage.invalid-keepalive": {
    stage: "usage",
    title: "invalid keepalive setting",
    explanation: "ServerAliveInterval must be a positive number of seconds and " +
      "ServerAliveCountMax a whole number.",
    fix: "-o ServerAliveInterval=30 -o ServerAliveCountMax=3",
    opensshFix: "-o ServerAliveInterval=30 -o ServerAliveCountMax=3",
  },
  "usage.invalid-channel-option": {
    stage: "usage",
    title: "invalid channel window or packet size",
    explanation: "Channel window and maximum packet sizes are whole numbers of bytes from 1 to " +
      "4294967295.",
    fix: "give a size such as 32768",
    opensshFix: null,
  },

  // ------------------------------------------------------------------------------ connect
  "connect.dns": {
    stage: "connect",
    title: "the host name does not resolve to an address",
    explanation: "DNS has no address for this name: a typo, a name that only exists inside a VPN " +
      "or another DNS view, or no DNS server reachable from here. Nothing was sent to the device.",
    fix: "use the device's IP address instead of its name",
    opensshFix: "-o HostName=ADDRESS",
  },
  "connect.refused": {
    stage: "connect",
    title: "connection refused: nothing listens on that port",
    explanation: "The host answered, but actively refused the TCP connection (a reset). The SSH " +
      "service is off, listens on another port, or an ACL rejects the connection. On network " +
      "devices SSH often needs enabling first (e.g. a host key generated and SSH allowed on the " +
      "vty lines).",
    fix: CHECK_PORT,
    opensshFix: "-p PORT (-o Port=PORT)",
  },
  "connect.timeout": {
    stage: "connect",
    title: "no answer to the TCP connection request",
    explanation: "The connection request got no answer at all: a firewall or ACL drops it " +
      "silently, the address is wrong, or the host is down. A slow but working path only needs " +
      "a longer limit.",
    fix: "check the address and firewalls/ACLs on the path; for a slow path: --timeout 30",
    opensshFix: "-o ConnectTimeout=30",
  },
  "connect.unreachable": {
    stage: "connect",
    title: "the host is unreachable: no route to it",
    explanation: "The local system or a router on the way reported that the address cannot be " +
      "reached (no route, or an ICMP unreachable). Check the address, the routing table and the " +
      "VPN.",
    fix: "check the address and routing (ping, traceroute), then retry",
    opensshFix: null,
  },
  "connect.reset": {
    stage: "connect",
    title: "the connection was reset while connecting",
    explanation: "The TCP connection was torn down during setup: a firewall or the device " +
      "resets it, often because of a connection limit or an ACL.",
    fix: "check ACLs and connection limits on the device, then retry",
    opensshFix: null,
  },
  "connect.failed": {
    stage: "connect",
    title: "the TCP connection failed",
    explanation: "The operating system could not open the connection; its error is quoted above.",
    fix: "check the address and port",
    opensshFix: null,
  },

  // ------------------------------------------------------------------------------ version
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
    refine: (c) => {
      const reason = str(c.details, "reason") ??
        openSshRefusal(strings(c.details, "preVersionLines")[0] ?? "");
      if (reason === "penalty") {
        return {
          title: "the server refused this connection for now: OpenSSH's PerSourcePenalties",
          explanation: 'The server said "Not allowed at this time": OpenSSH 9.8 and later block ' +
            "a client address for a while after connections that end without authenticating " +
            "(every probe or check is one), failed logins or crashes; each event adds seconds, up " +
            "to 10 minutes by default. Retrying at once extends the block.",
          fix: "wait (up to 10 minutes) and retry; probe this server less often; its admin can " +
            "exempt this address: PerSourcePenaltyExemptList ADDRESS in sshd_config",
        };
      }
      if (reason === "maxstartups") {
        return {
          title: "the server refused this connection for now: MaxStartups",
          explanation: 'The server said "Exceeded MaxStartups": it already has as many ' +
            "unauthenticated connections as its MaxStartups setting allows.",
          fix: "retry in a moment with fewer connections at once (lower --concurrency); its " +
            "admin can raise MaxStartups in sshd_config",
        };
      }
      return {};
    },
  },
  "version.ssh1-only": {
    stage: "version",
    title: "the server speaks only SSH-1",
    explanation: "SSH protocol 1 (1995) is broken: no real integrity protection, CRC-32 attacks, " +
      "weak key exchange. Neither sshtrace nor OpenSSH (since 7.6) speaks it. The device must be " +
      "switched to SSH-2.",
    fix: "enable SSH version 2 on the device (Cisco IOS: `ip ssh version 2`)",
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
  },
  "version.too-many-lines": {
    stage: "version",
    title: "too many lines before the SSH version line",
    explanation: "SSH servers may send a few text lines before `SSH-2.0-...`, but this one sent " +
      "more than 64 without ever sending a version line: probably not an SSH service.",
    fix: CHECK_PORT,
    opensshFix: "-p PORT",
  },
  "version.line-too-long": {
    stage: "version",
    title: "the server sent an over-long line instead of a version line",
    explanation: "The version line may be at most 255 bytes (RFC 4253 §4.2); lines before it are " +
      "accepted up to 1024. A longer line means a non-SSH service or a broken server.",
    fix: CHECK_PORT,
    opensshFix: "-p PORT",
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

  // ------------------------------------------------------------------------------ kex
  "kex.no-common-kex": noCommon("kex", "key exchange method"),
  "kex.no-common-hostKey": noCommon("hostKey", "host key algorithm"),
  "kex.no-common-cipherC2S": noCommon("cipher", "cipher (client to server)"),
  "kex.no-common-cipherS2C": noCommon("cipher", "cipher (server to client)"),
  "kex.no-common-macC2S": noCommon("mac", "MAC (client to server)"),
  "kex.no-common-macS2C": noCommon("mac", "MAC (server to client)"),
  "kex.no-common-compressionC2S": noCommon("compression", "compression (client to server)"),
  "kex.no-common-compressionS2C": noCommon("compression", "compression (server to client)"),
  "kex.bad-kexinit": {
    stage: "kex",
    title: "the server's KEXINIT is malformed",
    explanation: "The server's list of algorithms could not be decoded: a broken server or " +
      "something in the path altering the data.",
    fix: "-vv to see the packet; report it with the trace",
    opensshFix: "-vvv",
  },
  "kex.strict-violation": {
    stage: "kex",
    title: "strict key exchange violated (possible Terrapin attack)",
    explanation: "The server announced strict kex (the Terrapin countermeasure, CVE-2023-48795) " +
      "but a message arrived that strict kex forbids during the handshake. Either someone in " +
      "the path is injecting packets (the Terrapin attack), or the server's strict-kex " +
      "implementation is buggy.",
    fix: "try from another network to rule out interception; if the server is at fault, " +
      "update its firmware",
    opensshFix: null,
  },
  "kex.unexpected-message": {
    stage: "kex",
    title: "the server sent a message out of order during the key exchange",
    explanation:
      "During the key exchange only key exchange messages are allowed; the server sent " +
      "another one (named above). A broken or unusual server implementation.",
    fix: "--kex with another method (e.g. --kex ^diffie-hellman-group14-sha256)",
    opensshFix: "-o KexAlgorithms=^diffie-hellman-group14-sha256",
  },
  "kex.exchange-failed": {
    stage: "kex",
    title: "the key exchange computation failed",
    explanation: "The server's key exchange values were refused (out of range, off the curve or " +
      "malformed): a server bug with this method, or tampering.",
    fix: "--kex with another method",
    opensshFix: "-o KexAlgorithms=...",
    refine: (c) => {
      const alg = str(c.details, "algorithm");
      if (!alg) return {};
      return {
        title: `key exchange ${alg} failed`,
        explanation: `The server's ${alg} values were refused (out of range, off the curve or ` +
          "malformed): a server bug with this method, or tampering. Another method usually works.",
        fix: `--kex -${alg}`,
        opensshFix: `-o KexAlgorithms=-${alg}`,
      };
    },
  },
  "kex.bad-host-key": {
    stage: "kex",
    title: "the server's host key is malformed",
    explanation: "The host key the server sent could not be decoded. Another host key type may " +
      "work.",
    fix: "--hostkeys with another type (e.g. --hostkeys ^ssh-ed25519)",
    opensshFix: "-o HostKeyAlgorithms=^ssh-ed25519",
  },
  "kex.host-key-too-small": {
    stage: "kex",
    title: "the server's RSA host key is too small",
    explanation: "RSA keys under 1024 bits can be factored with public tools; OpenSSH refuses " +
      "them and so does sshtrace (RequiredRSASize can only raise the floor). The device needs a " +
      "new host key: most switches make one with a command such as `crypto key generate rsa " +
      "modulus 2048` or `public-key local create rsa`.",
    fix: "regenerate the server's host key (RSA 2048+ or Ed25519); meanwhile try another key " +
      "type the server may have: --hostkeys ^ssh-ed25519,ecdsa-sha2-nistp256",
    opensshFix: "-o HostKeyAlgorithms=^ssh-ed25519,ecdsa-sha2-nistp256",
    refine: (c) => {
      const bits = num(c.details, "bits");
      const required = num(c.details, "required");
      return bits && required
        ? { title: `the server's RSA host key has ${bits} bits (at least ${required} required)` }
        : {};
    },
  },
  "kex.bad-signature": {
    stage: "kex",
    title: "the server's host key signature does not verify",
    explanation: "The server must sign the key exchange with its host key; this signature is " +
      "wrong. Some old servers announce rsa-sha2-256/512 but sign with SHA-1 or mishandle one " +
      "key type; it can also be tampering.",
    fix: "--hostkeys with another algorithm",
    opensshFix: "-o HostKeyAlgorithms=...",
    refine: (c) => {
      const alg = str(c.details, "algorithm");
      if (!alg) return {};
      return {
        title: `the server's ${alg} host key signature does not verify`,
        fix: `--hostkeys -${alg}`,
        opensshFix: `-o HostKeyAlgorithms=-${alg}`,
      };
    },
  },
  "kex.closed": {
    stage: "kex",
    title: "the server hung up during the key exchange",
    explanation: "Many servers and switches that find no algorithm in common with our offer just " +
      "close the connection instead of saying so. Compare both lists (-v). Offering legacy " +
      "algorithms too shows whether the server needs one.",
    fix:
      "--legacy (then enable only the one algorithm needed with --kex/--ciphers/--macs/--hostkeys)",
    opensshFix: "-o KexAlgorithms=+diffie-hellman-group14-sha1 -o HostKeyAlgorithms=+ssh-rsa",
    securityCost: LEGACY_COST,
    refine: refineKexStage,
  },
  "kex.timeout": {
    stage: "kex",
    title: "the server stopped answering during the key exchange",
    explanation: "Old switches and small CPUs can take many seconds for a large Diffie-Hellman " +
      "group (4096 or 8192 bits). A cheaper method (curve25519, or a 2048-bit group) or a longer " +
      "limit helps.",
    fix: "--timeout 60",
    opensshFix: "-o ConnectTimeout=60",
    refine: (c) => {
      const flood = refineFlood(c);
      if (flood.title) return flood;
      const chosen = negotiatedDecisions(c.events).find((d) => d.category === "kex")?.chosen ??
        null;
      const cheaper = cheaperKex(c.events, chosen);
      const base = refineKexStage(c);
      if (!cheaper) return base;
      return {
        ...base,
        fix: `--kex ^${cheaper} (or --timeout 60)`,
        opensshFix: `-o KexAlgorithms=^${cheaper} -o ConnectTimeout=60`,
      };
    },
  },

  // ------------------------------------------------------------------------------ hostkey
  "hostkey.unknown": {
    stage: "hostkey",
    title: "the server's host key is not known and strict checking is on",
    explanation: "known_hosts has no key for this host, so sshtrace cannot tell whether it talks " +
      "to the real device. Compare the fingerprint shown with one obtained from the device " +
      "itself (its console: e.g. `show crypto key mypubkey rsa`, `ssh-keygen -lf` on the " +
      "server), then accept it once.",
    fix: "-o StrictHostKeyChecking=accept-new (after checking the fingerprint)",
    opensshFix: "-o StrictHostKeyChecking=accept-new",
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
  },
  "hostkey.changed-on-rekey": {
    stage: "hostkey",
    title: "the server presented a different host key during a rekey",
    explanation: "A server keeps one host key for a whole connection. A different key in a later " +
      "key exchange means interception or a badly broken server; the connection was stopped.",
    fix: null,
    opensshFix: null,
  },

  // ------------------------------------------------------------------------------ auth
  "auth.service-refused": {
    stage: "auth",
    title: "the server refused the user authentication service",
    explanation: "After the key exchange the client asks for the `ssh-userauth` service; the " +
      "server said no or closed. Some servers do this when the client's address is not allowed " +
      "to log in.",
    fix: "check the server's logs and access rules",
    opensshFix: null,
  },
  "auth.connection-closed": {
    stage: "auth",
    title: "the server hung up during authentication",
    explanation: "The server closed without a reason, typically after too many failed attempts " +
      "(MaxAuthTries), when the user is not allowed (AllowUsers, DenyUsers), by fail2ban, or on an " +
      "AAA (RADIUS/TACACS+) error.",
    fix: "-i KEY -o IdentitiesOnly=yes (fewer attempts), and check the server's auth logs",
    opensshFix: "-o IdentitiesOnly=yes -i KEY",
  },
  "auth.protocol": {
    stage: "auth",
    title: "the server broke the authentication protocol",
    explanation: "The server sent a message that makes no sense at this point of the " +
      "authentication (named above): a broken server implementation.",
    fix: "-o PreferredAuthentications=password (or another method) to avoid the broken one",
    opensshFix: "-o PreferredAuthentications=password",
  },
  "auth.too-many-failures": {
    stage: "auth",
    title: "too many authentication failures",
    explanation: "Servers count every key offered as a failed attempt (OpenSSH MaxAuthTries, 6 " +
      "by default). With several keys in the agent or ~/.ssh, the server hangs up before the right " +
      "key or the password is tried.",
    fix: "-i KEY -o IdentitiesOnly=yes (offer only that key)",
    opensshFix: "-o IdentitiesOnly=yes -i KEY",
  },
  "auth.partial-needs-method": {
    stage: "auth",
    title: "partial success: the server requires another method as well",
    explanation: "The first method was accepted, but the server demands a second one " +
      "(multi-factor, AuthenticationMethods) that we could not provide.",
    fix: "--password-env VAR (for password/keyboard-interactive) or -i KEY",
    opensshFix: "-o PreferredAuthentications=publickey,password",
    refine: (c) => {
      const methods = strings(c.details, "methods");
      if (!methods.length) return {};
      return {
        explanation: "The first method was accepted, but the server demands another one " +
          `(multi-factor, AuthenticationMethods): one of ${list(methods)}, which we could not ` +
          "provide.",
        fix: methods.some((m) => m === "password" || m === "keyboard-interactive")
          ? "--password-env VAR (the second factor is a password or prompt)"
          : methods.includes("publickey")
          ? "-i KEY with the second key"
          : null,
      };
    },
  },
  "auth.password-rejected": {
    stage: "auth",
    title: "the password was rejected",
    explanation: "The server said no to this user and password: a wrong password or user name, " +
      "a locked or expired account, or the AAA server (RADIUS/TACACS+) refusing. The server " +
      "gives no more detail on purpose: its logs do.",
    fix: "-l USER with the right user, and the right password (--password-env VAR)",
    opensshFix: "-l USER",
  },
  "auth.kbdint-failed": {
    stage: "auth",
    title: "keyboard-interactive authentication failed",
    explanation: "The server's prompts (password, one-time code) were answered, and it said no: " +
      "a wrong password or code, or a locked account.",
    fix: "-l USER with the right user, and the right answers (--password-env VAR for a password)",
    opensshFix: "-o PreferredAuthentications=keyboard-interactive -l USER",
  },
  "auth.batch-mode-needs-prompt": {
    stage: "auth",
    title: "a prompt is needed, and batch mode does not prompt",
    explanation:
      "The server wants a password or another answer typed at a prompt, and batch mode " +
      "forbids prompting.",
    fix: "--password-env VAR (or --password-file FILE), or run without --batch",
    opensshFix: "-o BatchMode=no",
  },
  "auth.key-rejected": {
    stage: "auth",
    title: "the server rejected the key(s) offered",
    explanation: "None of the public keys offered is authorized for this user on the server " +
      "(~/.ssh/authorized_keys of that user, or the device's user/key configuration).",
    fix: "-i KEY with the authorized key, or add the public key to the user's authorized_keys",
    opensshFix: "-o IdentitiesOnly=yes -i KEY",
    refine: (c) => {
      if (c.details.acceptsPublickey !== false) return {};
      return {
        title: "the server rejected the key(s) and no longer accepts public keys",
        explanation: "The keys offered were refused, and the server now offers only " +
          `${list(strings(c.details, "methods"))}: it does not accept public keys for this user ` +
          "(any more).",
        fix: "--password-env VAR (log in with a password)",
        opensshFix: "-o PreferredAuthentications=password",
      };
    },
  },
  "auth.no-signature-algorithm": {
    stage: "auth",
    title: "no RSA signature algorithm in common for the key",
    explanation: "The server verifies RSA keys only with ssh-rsa (SHA-1) signatures (it does not " +
      "announce rsa-sha2-256/512), and SHA-1 signatures are off by default, as in OpenSSH 8.8+.",
    fix: "--legacy (allows ssh-rsa signatures), or use an Ed25519 or ECDSA key",
    opensshFix: "-o PubkeyAcceptedAlgorithms=+ssh-rsa",
    securityCost: riskOf("ssh-rsa") ?? "SHA-1 signatures",
  },
  "auth.rsa-sha2-refused": {
    stage: "auth",
    title: "RSA key refused with rsa-sha2 signatures by a server that announces none",
    explanation: "The server sent no server-sig-algs (RFC 8308), so sshtrace signed with " +
      "rsa-sha2-256 as RFC 8332 advises, and the server refused it. Servers older than " +
      "RFC 8332 (OpenSSH before 7.2, many switch firmwares) verify RSA keys only with ssh-rsa " +
      "(SHA-1) signatures. If the key is simply not authorized, the legacy fix changes nothing.",
    fix: "--legacy (allows ssh-rsa signatures), or use an Ed25519 or ECDSA key; check the key " +
      "is in the user's authorized keys",
    opensshFix: "-o PubkeyAcceptedAlgorithms=+ssh-rsa",
    securityCost: riskOf("ssh-rsa") ?? "SHA-1 signatures",
  },
  "auth.no-common-method": {
    stage: "auth",
    title: "no authentication method in common",
    explanation: "The server offers methods we cannot use here.",
    fix: null,
    opensshFix: null,
    refine: refineNoMethod,
  },
  "auth.password-change-requested": {
    stage: "auth",
    title: "the password has expired and must be changed",
    explanation: "The server accepted the password but demands a new one before logging in; " +
      "sshtrace does not change passwords.",
    fix: "change the password on the device or with an interactive client, then retry",
    opensshFix: "ssh USER@HOST (OpenSSH prompts for the new password)",
  },
  "auth.timeout": {
    stage: "auth",
    title: "the server was too slow to answer during authentication",
    explanation: "Authentication waits on the server's back end: PAM, LDAP, RADIUS or TACACS+ " +
      "servers that time out, or a reverse DNS lookup of the client (OpenSSH `UseDNS`).",
    fix: "--timeout 30; check the server's AAA servers and DNS",
    opensshFix: "-o ConnectTimeout=30",
    refine: (c) => refineFlood(c),
  },

  // ------------------------------------------------------------------------------ session
  "session.channel-open-refused": {
    stage: "session",
    title: "the server refused to open a channel",
    explanation: "The connection is authenticated, but the server would not open a session " +
      "channel.",
    fix: null,
    opensshFix: null,
    refine: refineOpenRefused,
  },
  "session.pty-refused": {
    stage: "session",
    title: "the server refused a pseudo-terminal",
    explanation: "The server will not allocate a terminal: `no-pty` in authorized_keys, " +
      "`PermitTTY no`, or no free ptys. Commands usually still run without one.",
    fix: "-T (no pty)",
    opensshFix: "-T (-o RequestTTY=no)",
  },
  "session.exec-refused": {
    stage: "session",
    title: "the server refused to run the command (exec)",
    explanation: "Many network devices accept only an interactive shell, not a command given on " +
      "the command line (exec request). Send the command into a shell instead.",
    fix:
      "sshtrace send [user@]HOST -- 'COMMAND' (types the command into an interactive shell; --device comware/huawei/cisco/junos)",
    opensshFix: "-tt, with the command on standard input",
    refine: refineFileTransferOnly,
  },
  "session.shell-refused": {
    stage: "session",
    title: "the server refused to start a shell",
    explanation: "The account may be limited to a forced command or to file transfer " +
      "(ForceCommand, internal-sftp), or the device accepts only commands (exec).",
    fix: "give the command to run after the host (exec) instead of opening a shell",
    opensshFix: "ssh HOST COMMAND",
    refine: refineFileTransferOnly,
  },
  "session.prompt-not-found": {
    stage: "session",
    title: "no shell prompt was recognised",
    explanation: "`send` types commands into an interactive shell and waits for the device's " +
      "prompt after each one. No prompt of the expected style showed up: the device uses an " +
      "unusual prompt, shows a menu or a pager first, or is slow to start its shell.",
    fix: "name the device type, or give the prompt as a regular expression (see `send --help`)",
    opensshFix: null,
    refine: (c) => {
      const seen = str(c.details, "lastSeen");
      return seen ? { explanation: `No prompt was recognised; the last output was ${seen}.` } : {};
    },
  },
  "session.send-timeout": {
    stage: "session",
    title: "no prompt came back after a command",
    explanation: "After sending a command, the device's prompt did not reappear in time: the " +
      "command is still running (long output, a ping or a copy), it waits for input or a " +
      "confirmation, or its output ends in an unrecognised prompt.",
    fix:
      "raise the per-command limit, or give the prompt as a regular expression (see `send --help`)",
    opensshFix: null,
  },
  "session.shell-closed": {
    stage: "session",
    title: "the shell closed while a command was running",
    explanation: "The device closed the shell during a command: the command logged out or " +
      "reloaded the device, or the session hit an idle or privilege limit.",
    fix: "check the commands (exit, reload, quit) and the device's session limits",
    opensshFix: null,
  },
  "session.channel-closed": {
    stage: "session",
    title: "the server closed the channel before answering",
    explanation: "The server closed the session channel instead of answering a request; the " +
      "account may be restricted or the server hit a limit.",
    fix: "check the server's logs for the user's session",
    opensshFix: null,
  },

  // ------------------------------------------------------------------------------ data
  "data.keepalive-timeout": {
    stage: "data",
    title: "the server stopped answering keepalives",
    explanation: "Keepalive requests went unanswered, so the connection was declared dead: the " +
      "network path broke (link down, NAT or firewall state expired) or the server hung.",
    fix: "-o ServerAliveInterval=15 -o ServerAliveCountMax=6 (tolerate longer gaps)",
    opensshFix: "-o ServerAliveInterval=15 -o ServerAliveCountMax=6",
  },
  "data.connection-closed": {
    stage: "data",
    title: "the connection is closed",
    explanation: "The connection ended while data was still expected (the server went away, or " +
      "the client closed it).",
    fix: "-o ServerAliveInterval=30 if idle sessions get cut",
    opensshFix: "-o ServerAliveInterval=30",
  },
  "data.malformed-message": {
    stage: "data",
    title: "the server sent a malformed connection-layer message",
    explanation: "A channel message could not be decoded: a server bug.",
    fix: "-vv to see the packets; report it with the trace",
    opensshFix: "-vvv",
  },
  "session.connection-closed": {
    stage: "session",
    title: "the server closed the connection while the session was being set up",
    explanation: "The server hung up during the channel open or the pty/shell/exec request: " +
      "some devices drop the connection instead of refusing a request (e.g. exec on a switch " +
      "that only has a shell), or they limit the number of sessions.",
    fix: "sshtrace send [user@]HOST -- 'COMMAND' for devices without exec; check the server's logs",
    opensshFix: "-tt, with the command on standard input",
  },
  "session.malformed-message": {
    stage: "session",
    title: "the server sent a malformed message while the session was being set up",
    explanation: "A channel message (e.g. the open confirmation) could not be decoded: a server " +
      "bug.",
    fix: "-vv to see the packets; report it with the trace",
    opensshFix: "-vvv",
  },
  "data.unknown-channel": {
    stage: "data",
    title: "the server used a channel that is not open",
    explanation: "The server sent a message for a channel number we never opened: a server bug.",
    fix: "-vv to see the packets; report it with the trace",
    opensshFix: "-vvv",
  },
  "data.channel-closed": {
    stage: "data",
    title: "the channel is already closed",
    explanation: "Data or a request was sent on a channel that had already closed.",
    fix: null,
    opensshFix: null,
  },
  "data.write-after-eof": {
    stage: "data",
    title: "data sent after end of input",
    explanation: "End of input (EOF) was already sent on this channel; no more data may follow.",
    fix: null,
    opensshFix: null,
  },
  "data.message-before-open": {
    stage: "data",
    title: "the server used a channel before confirming it",
    explanation: "The server sent channel data before answering the channel open request: a " +
      "server bug.",
    fix: "-vv to see the packets; report it with the trace",
    opensshFix: "-vvv",
  },
  "data.unexpected-message": {
    stage: "data",
    title: "the server sent a message that is not allowed here",
    explanation: "A message arrived that is not allowed at this point (a channel message for an " +
      "already open channel, or a key exchange message outside a key exchange): a server bug.",
    fix: "-vv to see the packets; report it with the trace",
    opensshFix: "-vvv",
  },
  "data.invalid-max-packet": {
    stage: "data",
    title: "the server confirmed a channel with a maximum packet size of 0",
    explanation: "No data could ever be sent on this channel: a server bug.",
    fix: null,
    opensshFix: null,
  },
  "data.window-overflow": {
    stage: "data",
    title: "the server grew the channel window beyond 4 GiB",
    explanation:
      "The flow-control window may not exceed 2^32-1 bytes (RFC 4254 §5.2): a server bug.",
    fix: null,
    opensshFix: null,
  },
  "data.packet-too-large": {
    stage: "data",
    title: "the server sent a channel packet larger than allowed",
    explanation: "The server ignored the maximum packet size we announced. Old devices sometimes " +
      "do; a smaller or larger announced size can avoid it.",
    fix: null,
    opensshFix: null,
  },
  "data.window-exceeded": {
    stage: "data",
    title: "the server sent more data than the window allows",
    explanation: "The server ignored flow control (RFC 4254 §5.2): a server bug.",
    fix: null,
    opensshFix: null,
  },
  "data.command-failed": {
    stage: "data",
    title: "the command exited with a non-zero status",
    explanation: "The connection and login worked; the remote command itself reported a failure " +
      "(its exit status is above). Its own output says why.",
    fix: "run the command by hand on this host to see why",
    opensshFix: null,
  },
  "data.connection-reset": {
    stage: "data",
    title: "the connection was reset",
    explanation: "The TCP connection was cut after the session was up: a firewall or NAT dropped " +
      "an idle connection, the device reloaded, or an administrator cleared the line.",
    fix: "-o ServerAliveInterval=30 (keeps idle connections alive through firewalls)",
    opensshFix: "-o ServerAliveInterval=30",
  },
  "data.output-incomplete": {
    stage: "data",
    title: "not everything the server sent reached the output",
    explanation: "The server's data arrived, but not all of it could be written to standard " +
      "output or error: the program reading the output stopped early (a closed pipe, e.g. " +
      "`| head`), the disk is full, or the file could not be written. The output is " +
      "incomplete, so the run does not count as a success.",
    fix: "check where the output goes (free disk space; a reader that reads to the end)",
    opensshFix: null,
  },

  // ------------------------------------------------------------------------------ any stage
  "*.timeout": {
    stage: "any",
    title: "the server stopped answering",
    explanation: "The stage did not complete within its time limit: nothing arrived, or what " +
      "arrived (a trickle of bytes, messages that do not advance the stage) did not complete it.",
    fix: "--timeout 30",
    opensshFix: "-o ConnectTimeout=30",
    refine: (c) => refineFlood(c),
  },
  "*.compression-error": {
    stage: "any",
    title: "the server's compressed data is corrupt",
    explanation: "Compression (zlib) was negotiated and the server sent data that does not " +
      "decompress: a server bug, often in old firmware.",
    fix: "leave out -C (or -o Compression=no)",
    opensshFix: "-o Compression=no",
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
  // Ctrl-C at a prompt (host key yes/no, password, passphrase, keyboard-interactive): exit 130.
  "*.interrupted": {
    stage: "any",
    title: "interrupted at a prompt (Ctrl-C)",
    explanation: "Ctrl-C was pressed at a prompt, so sshtrace stopped at once: the prompt was " +
      "not answered and nothing more was sent to the server, so no wrong answer can count " +
      "against the account. The exit code is 130, as for any program stopped by Ctrl-C.",
    fix: null,
    opensshFix: null,
  },
};

function noCommon(category: ListCategory, words: string): CatalogueEntry {
  const legacy = LEGACY_HARM_ORDER[category][0] ?? "";
  const flag = category === "compression" ? "-o Compression=yes" : `${FLAG[category]} +${legacy}`;
  const ssh = category === "compression"
    ? "-o Compression=yes"
    : `-o ${OPENSSH_OPTION[category]}=+${legacy}`;
  return {
    stage: "kex",
    title: `no ${words} in common with the server`,
    explanation: `The server accepts no ${words} that we offered. Enable the least harmful one ` +
      "the server offers (computed from both lists).",
    fix: flag,
    opensshFix: ssh,
    securityCost: category === "compression" ? undefined : (riskOf(legacy) ?? undefined),
    refine: refineNoCommon,
  };
}

/** Messages a flood is made of, as the trace's summaries name them. */
const FLOOD_KINDS: Record<string, string> = {
  debug: "DEBUG",
  ignore: "IGNORE",
  banner: "USERAUTH_BANNER",
  unimplemented: "UNIMPLEMENTED",
};

/**
 * A timeout at a stage the server flooded (thousands of messages the trace summed up): the
 * server was not slow, it sent the wrong thing without end; a longer limit would not help.
 */
function refineFlood(c: FailureContext): Refinement {
  let count = 0;
  const kinds = new Set<string>();
  for (const e of c.events) {
    if (e.type !== "suppressed" || e.stage !== c.stage || !(e.of in FLOOD_KINDS)) continue;
    count += e.count;
    kinds.add(FLOOD_KINDS[e.of]!);
  }
  if (count < 1000) return {};
  const names = [...kinds].join(" and ");
  return {
    title: `the server flooded stage ${c.stage} with ${names} messages instead of completing it`,
    explanation: `More than ${count} ${names} messages arrived and the stage never completed: ` +
      "a broken server, or something on the path injecting messages (before the key exchange " +
      "they are not encrypted). sshtrace counted them without keeping them and gave up at the " +
      "stage's time limit.",
    fix: "check the server and the network path; a longer --timeout does not help",
    opensshFix: null,
  };
}

function refineKexStage(c: FailureContext): Refinement {
  if (!duringRekey(c.events)) return {};
  return {
    title: "a rekey (key renewal) failed",
    explanation: "The session was up; the failure happened while renewing the keys (rekey), " +
      "which the server or our limits triggered. Some old devices handle rekeying badly; a " +
      "higher limit avoids rekeying during short sessions.",
    fix: "--rekey-limit 8G",
    opensshFix: "-o RekeyLimit=8G",
    securityCost: "keys are used for more data before renewal",
  };
}

function refineChanged(c: FailureContext): Refinement {
  const d = c.details;
  const fp = str(d, "fingerprint");
  const known = str(d, "knownFingerprint");
  const file = str(d, "file");
  const line = num(d, "line");
  const target = targetOf(c.events);
  const layerFix = str(d, "fix");
  let pattern: string | null = null;
  if (target) {
    const host = target.host.toLowerCase();
    pattern = target.port === 22 ? host : `[${host}]:${target.port}`;
  } else if (layerFix) {
    pattern = /-R "([^"]+)"/.exec(layerFix)?.[1] ?? null;
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

function refineNoMethod(c: FailureContext): Refinement {
  const offered = strings(c.details, "methods");
  const ours = strings(c.details, "ours");
  const layerFix = str(c.details, "fix");
  const title = `no authentication method in common: the server offers ${list(offered)}; ` +
    `we can do ${ours.length ? ours.join(", ") : "nothing"}`;
  const known = ["publickey", "password", "keyboard-interactive"];
  const usable = offered.filter((m) => known.includes(m));
  let fix = layerFix;
  let ssh: string | null = null;
  if (!fix) {
    if (offered.includes("publickey") && !ours.includes("publickey")) fix = "-i KEY";
    else if (usable.some((m) => m !== "publickey")) fix = "--password-env VAR";
  }
  if (usable.length) ssh = `-o PreferredAuthentications=${usable.join(",")}`;
  const explanation = `The server accepts ${list(offered)} for this user; sshtrace had ` +
    `${ours.length ? ours.join(", ") : "no key, password or prompt"} ready.` +
    (offered.length && !usable.length
      ? ` sshtrace implements none of the server's methods (it does publickey, ` +
        "keyboard-interactive and password); GSSAPI/hostbased logins need OpenSSH."
      : usable.length
      ? ` Give sshtrace what ${usable.join(" or ")} needs (a key with -i, a password with ` +
        "--password-env)."
      : "");
  return { title, explanation, fix, opensshFix: ssh };
}

/** What each channel open failure reason code (RFC 4254 §5.1) usually means. */
export const OPEN_FAILURE_HELP: Record<number, { why: string; fix: string | null }> = {
  1: {
    why: "the server forbids it: a session limit (MaxSessions), a restricted account, or a " +
      "policy against this channel type",
    fix: "close other sessions to the device; check the account's restrictions",
  },
  2: {
    why: "the server could not open it: for a session channel this is how OpenSSH refuses a " +
      "session over its limit (MaxSessions) or a failed session set-up; for a forwarding, the " +
      "target is down",
    fix: "close other sessions on this connection or to the device; check the server's logs " +
      "(MaxSessions)",
  },
  3: { why: "the server does not know this channel type", fix: null },
  4: {
    why: "the server is out of resources: too many sessions or all vty lines busy",
    fix: "close other sessions to the device (or clear stale vty lines), then retry",
  },
};

function refineOpenRefused(c: FailureContext): Refinement {
  const code = num(c.details, "reasonCode");
  const reason = str(c.details, "reason") ?? "unknown reason";
  const description = str(c.details, "description");
  const type = str(c.details, "channelType") ?? "session";
  const help = code !== null ? OPEN_FAILURE_HELP[code] : undefined;
  return {
    title: `the server refused to open a ${type} channel: ${reason}` +
      (code !== null ? ` (code ${code})` : ""),
    explanation: `The connection is authenticated, but the server would not open a ${type} ` +
      "channel" + (description ? ` ("${description}")` : "") +
      (help ? `: ${help.why}.` : "."),
    fix: help?.fix ?? null,
  };
}

function refineMacError(c: FailureContext): Refinement {
  const decisions = negotiatedDecisions(c.events);
  const chosen = (cat: Category) => decisions.find((d) => d.category === cat)?.chosen ?? null;
  const mac = chosen("macS2C");
  const cipher = chosen("cipherS2C");
  const aead = isAeadCipher(cipher);
  if (mac && !aead) {
    return { fix: `--macs -${mac}`, opensshFix: `-o MACs=-${mac}` };
  }
  if (cipher) return { fix: `--ciphers -${cipher}`, opensshFix: `-o Ciphers=-${cipher}` };
  return {};
}

/** The catalogue entry for a code: the exact entry, else the `*.suffix` entry, else null. */
export function lookupEntry(code: string): CatalogueEntry | null {
  if (Object.hasOwn(CATALOGUE, code)) return CATALOGUE[code]!;
  const dot = code.indexOf(".");
  if (dot < 0) return null;
  const wildcard = `*${code.slice(dot)}`;
  return Object.hasOwn(CATALOGUE, wildcard) ? CATALOGUE[wildcard]! : null;
}

/** Every catalogued code (exact codes and `*.suffix` patterns), in table order. */
export function catalogueCodes(): string[] {
  return Object.keys(CATALOGUE);
}
