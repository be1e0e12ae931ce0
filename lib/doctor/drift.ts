/**
 * Fleet drift for `check`: the hosts whose offer differs from the majority's (per list), and
 * each host's policy results. Pure: reports in, findings out.
 * @module
 */

import type { GradeLetter } from "../diagnose/grade.ts";
import type { Report } from "../render/report.ts";
import {
  checkPolicy,
  type Observed,
  type Policy,
  type PolicyList,
  type RuleResult,
} from "./policy.ts";

/** What a probe's report shows a policy (one host key: the one negotiated). */
export function observedFromReport(report: Report): Observed {
  const key = report.hostKey;
  return {
    lists: report.kex?.server ?? null,
    hostKeys: key?.type ? [{ keyType: key.type, bits: key.bits }] : [],
    strictKex: report.kex?.strict ?? false,
    banner: report.auth?.banner ?? null,
    grade: (report.grade?.letter as GradeLetter | undefined) ?? null,
  };
}

export interface HostDrift {
  target: string;
  /** Per list that differs from the majority: what this host adds and lacks. */
  differs: { list: PolicyList; extra: string[]; missing: string[] }[];
  /** The policy's results, when a policy was given (failed rules only). */
  policyFailures: RuleResult[];
}

const LIST_KEYS: Record<PolicyList, "kex" | "hostKey" | "cipherS2C" | "macS2C"> = {
  kex: "kex",
  hostKey: "hostKey",
  cipher: "cipherS2C",
  mac: "macS2C",
};

/**
 * Per host with an offer: the lists that differ from the most common offer of that list, and
 * the rules of `policy` it fails. Hosts that match and pass are left out.
 */
export function fleetDrift(
  hosts: readonly (Report & { target: string })[],
  policy: Policy | null,
): HostDrift[] {
  const majority = new Map<PolicyList, string[]>();
  for (const list of Object.keys(LIST_KEYS) as PolicyList[]) {
    const counts = new Map<string, number>();
    for (const h of hosts) {
      const names = h.kex?.server?.[LIST_KEYS[list]];
      if (!names) continue;
      const key = JSON.stringify(names);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const top = [...counts].sort((a, b) => b[1] - a[1])[0];
    if (top) majority.set(list, JSON.parse(top[0]));
  }
  const out: HostDrift[] = [];
  for (const h of hosts) {
    const server = h.kex?.server;
    const differs: HostDrift["differs"] = [];
    if (server) {
      for (const [list, usual] of majority) {
        const names = server[LIST_KEYS[list]];
        if (JSON.stringify(names) === JSON.stringify(usual)) continue;
        differs.push({
          list,
          extra: names.filter((n) => !usual.includes(n)),
          missing: usual.filter((n) => !names.includes(n)),
        });
      }
    }
    const policyFailures = policy
      ? checkPolicy(policy, observedFromReport(h)).filter((r) => !r.pass)
      : [];
    if (differs.length || policyFailures.length) {
      out.push({ target: h.target, differs, policyFailures });
    }
  }
  return out;
}

/** Every rule's result per host (null results: the host's offer was not seen). */
export function policyResults(
  hosts: readonly (Report & { target: string; ms?: number })[],
  policy: Policy,
): { target: string; results: RuleResult[] | null; why?: string; ms?: number }[] {
  return hosts.map((h) =>
    h.kex?.server
      ? { target: h.target, results: checkPolicy(policy, observedFromReport(h)), ms: h.ms }
      : {
        target: h.target,
        results: null,
        why: `offer not seen: ${h.error?.message ?? "the probe failed before the key exchange"}`,
        ms: h.ms,
      }
  );
}

/** The findings in words (nothing when every host matches). */
export function driftText(drift: readonly HostDrift[], policy: Policy | null): string {
  if (!drift.length) {
    return policy ? `policy ${policy.name}: every host passes; no drift\n` : "no drift\n";
  }
  const out = [`drift${policy ? ` and policy ${policy.name}` : ""}:`];
  for (const d of drift) {
    out.push(`  ${d.target}`);
    for (const x of d.differs) {
      const parts = [
        x.extra.length ? `also ${x.extra.join(", ")}` : "",
        x.missing.length ? `lacks ${x.missing.join(", ")}` : "",
      ].filter(Boolean);
      out.push(
        `    ${x.list} differs from the majority${
          parts.length ? `: ${parts.join("; ")}` : " (order)"
        }`,
      );
    }
    for (const r of d.policyFailures) out.push(`    FAIL ${r.rule}: ${r.detail}`);
  }
  return out.join("\n") + "\n";
}
