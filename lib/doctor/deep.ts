/**
 * `probe --deep`: everything a server offers, not only what one connection negotiates. A normal
 * probe first (methods, banner); then one connection per host key type (as ssh-keyscan does)
 * and one per algorithm the server lists, offered alone, to see which it really accepts; then
 * strict kex, ext-info, Terrapin exposure, compression, a vendor guess, and a grade that says
 * when it is partial. Never throws for a connection failure; never prints.
 *
 * Every connection ends before authentication: OpenSSH 9.8+ counts each as a `noauth` penalty
 * (PerSourcePenalties). So the deep probe reuses what its first probe negotiated (that host key
 * type, kex, cipher and MAC need no connection of their own), paces its connections to such a
 * server to keep the penalty under OpenSSH's threshold (penalty.ts), and stops once the server
 * refuses the address anyway.
 * @module
 */

import { allNames, findHostKey, type ListCategory } from "../algorithms/registry.ts";
import { probe, type ProbeOptions, type ProbeResult } from "../client.ts";
import { openTransport } from "../client/open_transport.ts";
import { type GradeLetter, gradeServer } from "../diagnose/grade.ts";
import { hasPenalties, priorAttempt } from "../diagnose/catalogue/named.ts";
import { explainFailure, type PriorAttempt } from "../diagnose/explain.ts";
import { PenaltyPacer } from "./penalty.ts";
import { SshError } from "../errors/mod.ts";
import { type TraceEvent, Tracer } from "../trace.ts";
import { EXT_INFO_S, STRICT_KEX_S } from "../transport/kexinit.ts";
import type { AlgorithmLists } from "../types.ts";

type EventOf<T extends TraceEvent["type"]> = Extract<TraceEvent, { type: T }>;

/** A host key the server holds. */
export interface DeepHostKey {
  /** The signature algorithm used to fetch it. */
  algorithm: string;
  keyType: string;
  bits: number | null;
  sha256: string;
  md5: string;
}

/** One algorithm offered alone. */
export interface AloneResult {
  name: string;
  /** True: negotiated and completed the key exchange; null: sshtrace cannot try it. */
  accepted: boolean | null;
  /** Why it failed (error code), or why it was not tried. */
  note: string | null;
}

export interface DeepProbeResult {
  probe: ProbeResult;
  /** The server's version line (also when the probe failed after it), or null. */
  serverVersion: string | null;
  /** The server's KEXINIT lists, or null when the probe did not get them. */
  lists: AlgorithmLists | null;
  hostKeys: DeepHostKey[];
  /** Host key algorithms listed that could not be fetched, with why. */
  hostKeysMissing: { algorithm: string; note: string }[];
  alone: Partial<Record<"kex" | "cipher" | "mac", AloneResult[]>>;
  /** Per preferred size asked (min 1024, max 8192): the group size the server answered, or why not. */
  gexSizes: { method: string; asked: number; bits: number | null; note: string | null }[];
  strictKex: boolean;
  extInfo: boolean;
  /** Terrapin (CVE-2023-48795): chacha20-poly1305 or a CBC cipher with an EtM MAC, no strict kex. */
  terrapin: { exposed: boolean; why: string };
  compression: string[];
  /** The answer to the `none` request (methods, banner), or null. */
  auth: ProbeResult["auth"];
  vendor: string;
  grade: {
    letter: GradeLetter;
    score: number;
    reasons: string[];
    /** Set when parts could not be checked: which. */
    partial: string[];
  } | null;
  connections: number;
  durationMs: number;
  /** PerSourcePenalties: whether the server has them (OpenSSH 9.8+), the pauses, a refusal. */
  penalties: { server: boolean; waitedMs: number; refused: boolean };
}

/** What to probe and how (the probe's options; `alone: false` skips the per-algorithm tries). */
export interface DeepProbeOptions extends ProbeOptions {
  alone?: boolean;
  /**
   * The PerSourcePenalties budget (seconds of modelled penalty) the connections to an OpenSSH
   * 9.8+ server keep under; 0 turns pacing off (a server with `PerSourcePenalties no`).
   * @default 10
   */
  penaltyBudgetS?: number;
  /** Replaces the pacer's pause (tests). */
  sleep?: (ms: number) => Promise<void>;
  /** A pacer shared with other deep probes of the same server (a fleet run). */
  pacer?: PenaltyPacer;
}

/** Vendor and firmware hints from the version line's software field. */
const VENDORS: readonly [RegExp, string][] = [
  [/^OpenSSH_/, "OpenSSH"],
  [/^dropbear/i, "Dropbear"],
  [/^Cisco-/, "Cisco IOS / IOS XE"],
  [/^HUAWEI-/, "Huawei VRP"],
  [/^Comware-/, "H3C / HPE Comware"],
  [/^RomSShell_/, "Allegro RomSShell (HP ProCurve and other embedded devices)"],
  [/^NetScreen/, "Juniper ScreenOS"],
  [/^ROSSSH/, "MikroTik RouterOS"],
  [/^mpSSH_/, "HPE iLO"],
  [/^paramiko_/, "Paramiko (Python)"],
  [/^Go$/, "Go x/crypto/ssh"],
  [/^libssh/, "libssh"],
  [/^Erlang\//, "Erlang/OTP ssh"],
  [/^AsyncSSH_/, "AsyncSSH (Python)"],
  [/^FortiSSH/i, "Fortinet FortiOS"],
  [/^SSHD$/, "Apache MINA SSHD (Java)"],
  [/^APACHE-SSHD/i, "Apache MINA SSHD (Java)"],
];

/** A vendor guess from the software field, or from the offer when the field is blank. */
export function guessVendor(software: string, lists: AlgorithmLists | null): string {
  for (const [re, name] of VENDORS) if (re.test(software)) return name;
  if (software === "" || software === "-") {
    const legacyOnly = lists &&
      !lists.kex.some((n) => /curve25519|ecdh|group1[468]-sha(256|512)/.test(n));
    return "unknown: blank software field (seen on some Huawei and H3C firmware)" +
      (legacyOnly ? "; legacy-only offer suggests old firmware" : "");
  }
  return `unknown (${software})`;
}

/** Terrapin exposure from the server's lists. */
export function terrapinOf(lists: AlgorithmLists): DeepProbeResult["terrapin"] {
  if (lists.kex.includes(STRICT_KEX_S)) {
    return { exposed: false, why: "strict kex offered (kex-strict-s-v00@openssh.com)" };
  }
  const chacha = lists.cipherS2C.includes("chacha20-poly1305@openssh.com");
  const cbcEtm = lists.cipherS2C.some((n) => /-cbc$/.test(n)) &&
    lists.macS2C.some((n) => n.endsWith("-etm@openssh.com"));
  if (chacha || cbcEtm) {
    return {
      exposed: true,
      why: `no strict kex, and ${chacha ? "chacha20-poly1305" : "a CBC cipher with an EtM MAC"} ` +
        "is offered",
    };
  }
  return { exposed: false, why: "no strict kex, but no affected cipher/MAC mode is offered" };
}

/** The preferred group sizes a deep probe asks a group exchange for. */
const GEX_SIZES = [1024, 2048, 4096, 8192];
/** The group exchange's trace note naming the group the server sent (kex_ffdh.ts). */
const GEX_SENT = /^server sent a (\d+)-bit group/;

/** Thrown by the trace sink that ends a group-size request once the group is seen. */
class GroupSeen extends Error {}

/** The note of an algorithm the first probe negotiated (no connection of its own). */
export const REUSED = "negotiated by the first probe";

const LIST_OF_ALONE = { kex: "kex", cipher: "cipherS2C", mac: "macS2C" } as const;

/** Runs the deep probe. */
export async function deepProbe(options: DeepProbeOptions): Promise<DeepProbeResult> {
  const started = performance.now();
  let connections = 1;
  // One pacer per server: a fleet run passes the one its other rows to this server share.
  const pacer = options.pacer ??
    new PenaltyPacer({ budgetS: options.penaltyBudgetS, sleep: options.sleep });
  const waitedBefore = pacer.waitedMs;
  const reserved = await pacer.beforeConnect();
  const base = await probe(options);
  const received = base.events.find((e): e is EventOf<"kexinit-received"> =>
    e.type === "kexinit-received"
  );
  const lists = received?.lists ?? null;
  const version = base.events.find((e): e is EventOf<"received"> => e.type === "received");
  const result: DeepProbeResult = {
    probe: base,
    lists,
    hostKeys: [],
    hostKeysMissing: [],
    alone: {},
    gexSizes: [],
    strictKex: lists?.kex.includes(STRICT_KEX_S) ?? false,
    extInfo: lists?.kex.includes(EXT_INFO_S) ?? false,
    terrapin: lists
      ? terrapinOf(lists)
      : { exposed: false, why: "unknown: the probe got no KEXINIT" },
    compression: lists?.compressionS2C ?? [],
    auth: null,
    serverVersion: version?.line ?? null,
    vendor: guessVendor(version?.software ?? "", lists),
    grade: null,
    connections: 1,
    durationMs: 0,
    penalties: { server: hasPenalties(version?.software ?? null), waitedMs: 0, refused: false },
  };
  const history: PriorAttempt[] = [priorAttempt(base.error?.code ?? null, base.events)];
  pacer.record("noauth", version?.software ?? null, reserved);
  const partial: string[] = [];
  // The methods for the user: with legacy algorithms when the defaults did not negotiate.
  result.auth = base.auth;
  if (!base.auth && base.error?.code.startsWith("kex.no-common-") && !options.legacy) {
    connections++;
    const reserved = await pacer.beforeConnect();
    const again = await probe({ ...options, legacy: true, tracer: undefined });
    pacer.record("noauth", version?.software ?? null, reserved);
    history.push(priorAttempt(again.error?.code ?? null, again.events));
    result.auth = again.auth;
  }
  let penalised = false;

  /** One connection up to the host key (never written), with `category` replaced by `name`. */
  const tryAlone = async (
    category: ListCategory,
    name: string,
    gexRequest?: { min: number; preferred: number; max: number },
  ) => {
    connections++;
    const reserved = await pacer.beforeConnect();
    // A group-size request ends once the server's group is known: the exchange itself (an
    // 8192-bit exponentiation takes a second of CPU on each side) tells nothing more.
    const stop = new AbortController();
    let groupSeen = false;
    const tracer = new Tracer({
      sinks: gexRequest
        ? [(e) => {
          if (groupSeen || e.type !== "exchange" || !GEX_SENT.test(e.detail)) return;
          groupSeen = true;
          stop.abort("the group size is known");
          throw new GroupSeen();
        }]
        : [],
    });
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    try {
      const t = await openTransport({
        ...options,
        signal,
        tracer,
        strictHostKeyChecking: "report",
        // Everything sshtrace implements in the other lists: only `name` may decide.
        legacy: true,
        algorithms: { [category]: [name] },
        gexRequest,
      });
      await t.disconnect(11, "probe finished").catch(() => {});
      return done(null, tracer.events, reserved);
    } catch (e) {
      if (groupSeen) return done(null, tracer.events, reserved);
      if (!(e instanceof SshError)) throw e;
      // Refused for now ("Not allowed at this time", or closed at once after OpenSSH 9.8+
      // answered): every further connection would lengthen the block.
      if (explainFailure(e, tracer.events, history).cause === "per-source-penalties") {
        penalised = true;
      }
      return done(e, tracer.events, reserved);
    }
  };
  const done = (error: SshError | null, events: readonly TraceEvent[], reserved: number) => {
    const software = events.find((e): e is EventOf<"received"> => e.type === "received")
      ?.software ?? null;
    pacer.record("noauth", software, reserved);
    if (software !== null && hasPenalties(software)) result.penalties.server = true;
    history.push(priorAttempt(error?.code ?? null, events));
    return { error, events };
  };
  // What the first probe negotiated needs no connection of its own.
  const firstKey = base.events.find((e): e is EventOf<"key"> => e.type === "key");
  const firstChosen = new Map<string, string>();
  for (const e of base.events) {
    if (e.type !== "negotiated") continue;
    for (const d of e.decisions) if (d.chosen) firstChosen.set(d.category, d.chosen);
  }

  if (lists) {
    // Host keys: one connection per key type (rsa-sha2-512, rsa-sha2-256 and ssh-rsa share one).
    const seenTypes = new Set<string>();
    for (const alg of lists.hostKey) {
      const info = findHostKey(alg);
      if (!info) {
        result.hostKeysMissing.push({ algorithm: alg, note: "not implemented by sshtrace" });
        continue;
      }
      if (seenTypes.has(info.keyType)) continue;
      if (penalised) break;
      seenTypes.add(info.keyType);
      if (firstKey && firstKey.keyType === info.keyType) {
        result.hostKeys.push({
          algorithm: firstChosen.get("hostKey") ?? alg,
          keyType: firstKey.keyType,
          bits: firstKey.bits,
          sha256: firstKey.fingerprint,
          md5: firstKey.md5,
        });
        continue;
      }
      const a = await tryAlone("hostKey", alg);
      const key = a.events.find((e): e is EventOf<"key"> => e.type === "key");
      if (key) {
        result.hostKeys.push({
          algorithm: alg,
          keyType: key.keyType,
          bits: key.bits,
          sha256: key.fingerprint,
          md5: key.md5,
        });
      } else {
        result.hostKeysMissing.push({ algorithm: alg, note: a.error?.code ?? "no key seen" });
      }
    }
    if (options.alone !== false) {
      for (const category of ["kex", "cipher", "mac"] as const) {
        const out: AloneResult[] = [];
        const mine = allNames(category);
        for (const name of lists[LIST_OF_ALONE[category]]) {
          if (name === STRICT_KEX_S || name === EXT_INFO_S) continue;
          if (!mine.includes(name)) {
            out.push({ name, accepted: null, note: "not implemented by sshtrace" });
            continue;
          }
          if (firstChosen.get(LIST_OF_ALONE[category]) === name) {
            out.push({ name, accepted: true, note: REUSED });
            continue;
          }
          if (penalised) {
            out.push({ name, accepted: null, note: "not tried: the server refuses this address" });
            continue;
          }
          const a = await tryAlone(category, name);
          out.push({ name, accepted: a.error === null, note: a.error?.code ?? null });
        }
        result.alone[category] = out;
      }
    }
    // Group exchange: the group the server returns for each preferred size.
    const gex = lists.kex.find((n) =>
      n.startsWith("diffie-hellman-group-exchange-") && allNames("kex").includes(n)
    );
    if (gex && options.alone !== false) {
      for (const asked of GEX_SIZES) {
        if (penalised) break;
        const a = await tryAlone("kex", gex, { min: 1024, preferred: asked, max: 8192 });
        const note = a.events.map((e) => e.type === "exchange" ? e.detail : "").find((d) =>
          GEX_SENT.test(d)
        );
        const bits = note ? Number(GEX_SENT.exec(note)![1]) : null;
        result.gexSizes.push({
          method: gex,
          asked,
          bits,
          note: bits === null ? a.error?.code ?? "no group seen" : null,
        });
      }
    }
    // The grade of the offer with the weakest host key found (smallest RSA/DSA first).
    const weakest = [...result.hostKeys].sort((a, b) =>
      Number(b.keyType === "ssh-dss") - Number(a.keyType === "ssh-dss") ||
      (a.bits ?? Infinity) - (b.bits ?? Infinity)
    )[0];
    if (!result.hostKeys.length) {
      partial.push("no host key could be fetched");
    }
    for (const m of result.hostKeysMissing) {
      partial.push(`host key ${m.algorithm}: ${m.note}`);
    }
    if (penalised) {
      partial.push("the server refused further connections (PerSourcePenalties)");
    }
    const g = gradeServer(lists, {
      strictKex: result.strictKex,
      hostKeyType: weakest?.keyType,
      hostKeyBits: weakest?.bits ?? undefined,
    });
    result.grade = {
      letter: g.letter,
      score: g.score,
      reasons: g.reasons.map((r) =>
        `-${r.deduction} ${r.reason}`
      ),
      partial,
    };
  }
  result.connections = connections;
  result.penalties.waitedMs = pacer.waitedMs - waitedBefore;
  result.penalties.refused = penalised;
  result.durationMs = Math.round(performance.now() - started);
  return result;
}
