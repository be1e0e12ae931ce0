/**
 * The settings the doctor changes, rung by rung: algorithms added (a legacy set), removed (group
 * exchange) or pinned (a shorter KEXINIT), SHA-1 RSA signatures, a smaller channel window, and
 * slower pacing. Pure data; {@link toConnectOptions} turns them into library options and the
 * output forms (forms.ts) into other tools' settings.
 * @module
 */

import { buildOffer, type ListCategory, lookupAlgorithm, riskOf } from "../algorithms/registry.ts";
import type { ConnectOptions } from "../client.ts";

/** The lists the doctor may change, in KEXINIT order. */
export const DOCTOR_LISTS: readonly ListCategory[] = ["kex", "hostKey", "cipher", "mac"];

/** What the doctor changed from sshtrace's defaults (cumulative over the rungs kept). */
export interface DoctorSettings {
  /** Algorithms appended per list (the smallest legacy set that negotiates). */
  add: Partial<Record<ListCategory, string[]>>;
  /** Names or wildcards removed per list (e.g. `diffie-hellman-group-exchange-*`). */
  remove: Partial<Record<ListCategory, string[]>>;
  /** Lists replaced by these names (a shorter KEXINIT); wins over `add` and `remove`. */
  only: Partial<Record<ListCategory, string[]>>;
  /** Sign user authentication with `ssh-rsa` (SHA-1) when the server refuses rsa-sha2. */
  rsaSha1: boolean;
  /** Accept 1024-bit groups in group exchange (sshtrace's `--legacy` minimum). */
  smallDhGroups: boolean;
  /** Send our version line only after the server's greeting. */
  versionAfterGreeting: boolean;
  /** Leave out the strict-kex marker (a server whose strict kex is broken). */
  noStrictKex: boolean;
  /** Our channel window and maximum packet (bytes), for devices with little memory. */
  window: number | null;
  /** Wait this long before each attempt (ms), for devices that refuse rapid connections. */
  pacingMs: number;
}

/** sshtrace's defaults: nothing changed. */
export function defaultSettings(): DoctorSettings {
  return {
    add: {},
    remove: {},
    only: {},
    rsaSha1: false,
    smallDhGroups: false,
    versionAfterGreeting: false,
    noStrictKex: false,
    window: null,
    pacingMs: 0,
  };
}

/** True when nothing differs from the defaults. */
export function isDefault(s: DoctorSettings): boolean {
  return !Object.keys(s.add).length && !Object.keys(s.remove).length &&
    !Object.keys(s.only).length && !s.rsaSha1 && !s.smallDhGroups && !s.versionAfterGreeting &&
    !s.noStrictKex &&
    s.window === null &&
    s.pacingMs === 0;
}

/** A copy with `change` applied (lists merged per category, duplicates dropped). */
export function withChange(s: DoctorSettings, change: Partial<DoctorSettings>): DoctorSettings {
  const merge = (
    a: Partial<Record<ListCategory, string[]>>,
    b: Partial<Record<ListCategory, string[]>> | undefined,
  ) => {
    const out: Partial<Record<ListCategory, string[]>> = {};
    for (const [k, v] of Object.entries(a)) out[k as ListCategory] = [...v];
    for (const [k, v] of Object.entries(b ?? {})) {
      const key = k as ListCategory;
      out[key] = [...new Set([...(out[key] ?? []), ...v])];
    }
    return out;
  };
  return {
    add: merge(s.add, change.add),
    remove: merge(s.remove, change.remove),
    only: { ...s.only, ...change.only },
    rsaSha1: change.rsaSha1 ?? s.rsaSha1,
    smallDhGroups: change.smallDhGroups ?? s.smallDhGroups,
    versionAfterGreeting: change.versionAfterGreeting ?? s.versionAfterGreeting,
    noStrictKex: change.noStrictKex ?? s.noStrictKex,
    window: change.window ?? s.window,
    pacingMs: change.pacingMs ?? s.pacingMs,
  };
}

/** The OpenSSH-syntax list edits of each list (`+a,b`, `-a`, or a replacing list). */
export function listEdits(s: DoctorSettings): Partial<Record<ListCategory, string[]>> {
  const out: Partial<Record<ListCategory, string[]>> = {};
  for (const c of DOCTOR_LISTS) {
    const only = s.only[c];
    if (only?.length) {
      out[c] = [only.join(",")];
      continue;
    }
    const edits: string[] = [];
    if (s.remove[c]?.length) edits.push(`-${s.remove[c]!.join(",")}`);
    if (s.add[c]?.length) edits.push(`+${s.add[c]!.join(",")}`);
    if (edits.length) out[c] = edits;
  }
  return out;
}

/** The library options of an attempt with these settings (on top of `base`). */
export function toConnectOptions(s: DoctorSettings, base: ConnectOptions): ConnectOptions {
  const algorithms = { ...base.algorithms };
  for (const [c, edits] of Object.entries(listEdits(s))) {
    const key = c as ListCategory;
    algorithms[key] = [...(algorithms[key] ?? []), ...edits];
  }
  const out: ConnectOptions = { ...base, algorithms };
  if (s.smallDhGroups) {
    // `legacy` lowers the group-exchange minimum to 1024 bits; the lists are written out so it
    // adds no legacy algorithm to them.
    const offer = buildOffer(algorithms, base.legacy ?? false);
    out.legacy = true;
    out.algorithms = Object.fromEntries(
      Object.entries(offer).map(([c, names]) => [c, [names.join(",")]]),
    );
  }
  if (s.rsaSha1) out.auth = { ...base.auth, legacy: true };
  if (s.versionAfterGreeting) out.versionAfterGreeting = true;
  if (s.noStrictKex) out.strictKex = false;
  if (s.window !== null) {
    out.windowSize = s.window;
    out.maxPacket = s.window;
  }
  return out;
}

/** One line per weakening the settings accept (legacy algorithms with their risk, SHA-1…). */
export function securityCost(s: DoctorSettings): string[] {
  const costs: string[] = [];
  const lists = [...DOCTOR_LISTS.flatMap((c) => s.add[c] ?? []), ...Object.values(s.only).flat()];
  for (const name of new Set(lists)) {
    if (lookupAlgorithm(name)?.status !== "legacy") continue;
    costs.push(`${name}: ${riskOf(name) ?? "a legacy algorithm"}`);
  }
  if (s.rsaSha1) {
    costs.push("ssh-rsa user signatures: SHA-1, open to chosen-prefix collisions");
  }
  if (s.noStrictKex) {
    costs.push(
      "no strict kex: Terrapin (CVE-2023-48795) prefix truncation is possible with " +
        "chacha20-poly1305 or a CBC cipher with an EtM MAC",
    );
  }
  if (s.smallDhGroups) {
    costs.push("1024-bit Diffie-Hellman groups: within reach of precomputation (Logjam)");
  }
  if (s.remove.kex?.some((n) => n.startsWith("diffie-hellman-group-exchange"))) {
    costs.push("no group exchange: none (fixed groups or elliptic curves are used instead)");
  }
  if (s.window !== null) costs.push(`${s.window}-byte window: none (slower bulk transfers)`);
  if (s.pacingMs) costs.push(`${s.pacingMs} ms between connections: none (slower)`);
  return costs;
}
