/**
 * The fix planner of a failed negotiation: which algorithms would make it work, least harmful
 * first, and the smallest set to enable (one per failed list).
 * @module
 */

import { allNames, type ListCategory, lookupAlgorithm, riskOf } from "../../algorithms/registry.ts";
import { LEGACY_HARM_ORDER } from "../../algorithms/policy.ts";
import type { AlgorithmStatus } from "../../algorithms/types.ts";
import type { Category, Decision } from "../../types.ts";
import type { AlgorithmCandidate } from "./types.ts";

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

// Legacy algorithms from least to most harmful, per list: one home, lib/algorithms/policy.ts.
export { LEGACY_HARM_ORDER };

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
