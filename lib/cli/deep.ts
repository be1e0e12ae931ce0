/**
 * `sshtrace probe --deep`: runs the deep probe (lib/doctor/deep.ts) and prints it, or its JSON.
 * @module
 */

import { usageError } from "../config/options.ts";
import { deepProbe, type DeepProbeOptions, type DeepProbeResult } from "../doctor/deep.ts";
import {
  BUILTIN_POLICIES,
  checkPolicy,
  makePolicy,
  type Observed,
  parsePolicy,
  type Policy,
  type RuleResult,
} from "../doctor/policy.ts";
import { type PolicyHost, policyJunitXml } from "../check/junit.ts";
import { platform } from "../platform/mod.ts";
import { sanitize, toJson } from "../render/sanitize.ts";
import { fleetExitCode } from "../check/check.ts";
import {
  deepFleet,
  type DeepFleetEntry,
  type DeepFleetHost,
  type DeepFleetResult,
} from "../doctor/deep_fleet.ts";
import type { Stage } from "../types.ts";
import { writeOut } from "./output.ts";

const yes = (b: boolean) => (b ? "yes" : "no");

/** The deep probe in words. */
export function deepText(r: DeepProbeResult): string {
  const { host, port } = r.probe.target;
  const out = [
    `deep probe of ${host} port ${port}: ${r.connections} connections, ${r.durationMs} ms`,
  ];
  out.push(`  version     ${sanitize(r.serverVersion ?? "(none)")}`);
  out.push(`  vendor      ${sanitize(r.vendor)}`);
  if (r.probe.error && !r.lists) {
    out.push(`  failed      ${r.probe.error.stage}: ${sanitize(r.probe.error.message)}`);
    return out.join("\n") + "\n";
  }
  if (r.probe.error) {
    out.push(
      `  default     a probe with these settings fails at ${r.probe.error.stage} ` +
        `(${r.probe.error.code}); the tries below offer legacy algorithms too`,
    );
  }
  for (const k of r.hostKeys) {
    out.push(
      `  host key    ${k.keyType}${k.bits ? ` ${k.bits} bits` : ""}  ${k.sha256}  ${k.md5}`,
    );
  }
  for (const m of r.hostKeysMissing) out.push(`  host key    ${m.algorithm}: ${m.note}`);
  for (const [category, results] of Object.entries(r.alone)) {
    const accepted = results.filter((x) => x.accepted).map((x) => x.name);
    const refused = results.filter((x) => x.accepted === false).map((x) => `${x.name} (${x.note})`);
    const untested = results.filter((x) => x.accepted === null).map((x) => x.name);
    out.push(`  ${category.padEnd(11)} accepted alone: ${accepted.join(", ") || "none"}`);
    if (refused.length) out.push(`              listed but refused: ${refused.join(", ")}`);
    if (untested.length) out.push(`              not tried: ${untested.join(", ")}`);
  }
  if (r.gexSizes.length) {
    const sizes = r.gexSizes.map((g) => `${g.asked}→${g.bits ?? g.note}`).join(", ");
    out.push(`  gex groups  ${r.gexSizes[0]!.method}: ${sizes}`);
  }
  out.push(`  strict kex  ${yes(r.strictKex)}; ext-info ${yes(r.extInfo)}`);
  out.push(`  terrapin    ${r.terrapin.exposed ? "EXPOSED" : "not exposed"}: ${r.terrapin.why}`);
  out.push(`  compression ${r.compression.join(", ") || "(none listed)"}`);
  if (r.penalties.server || r.penalties.refused) {
    out.push(
      `  penalties   PerSourcePenalties (OpenSSH 9.8+): ` +
        (r.penalties.refused
          ? "the server refused this address part-way; the rest was not tried (retry later)"
          : `connections paced to stay under the threshold (waited ${
            (r.penalties.waitedMs / 1000).toFixed(1)
          } s)`),
    );
  }
  const auth = r.auth;
  if (auth) {
    out.push(`  auth        ${r.probe.target.user}: ${auth.methods.join(", ") || "(none)"}`);
  }
  if (r.grade) {
    const partial = r.grade.partial.length ? ` (partial: ${r.grade.partial.join("; ")})` : "";
    out.push(`  grade       ${r.grade.letter} ${r.grade.score}${partial}`);
    for (const reason of r.grade.reasons) out.push(`              ${reason}`);
  }
  return out.join("\n") + "\n";
}

/** What a deep probe shows a policy. */
export function observedOf(r: DeepProbeResult): Observed {
  return {
    lists: r.lists,
    hostKeys: r.hostKeys,
    strictKex: r.strictKex,
    banner: r.auth?.banner ?? null,
    grade: r.grade?.letter ?? null,
  };
}

/** Exit code of a server that fails a policy rule. */
export const POLICY_FAILED_EXIT = 3;

/** Reads a policy file, or a built-in one (`builtin:NAME`). */
export async function loadPolicy(spec: string): Promise<Policy> {
  if (spec.startsWith("builtin:")) {
    const p = BUILTIN_POLICIES[spec.slice(8)];
    if (!p) {
      throw usageError(`unknown policy ${spec}`, { supported: Object.keys(BUILTIN_POLICIES) });
    }
    return p;
  }
  let text: string;
  try {
    text = await platform.readTextFile(spec);
  } catch {
    throw usageError(`cannot read the policy file ${spec}`);
  }
  return parsePolicy(text, spec);
}

export interface DeepCliOptions {
  json: boolean;
  policy?: string;
  makePolicy?: string;
  /** With a policy: write its results as JUnit XML (a testcase per rule) to this file. */
  junit?: string;
}

/** Writes the policy's results as JUnit XML; a file that cannot be written is a usage error. */
export async function writePolicyJunit(
  file: string,
  policy: Policy,
  hosts: readonly PolicyHost[],
): Promise<void> {
  try {
    await platform.writeTextFile(file, policyJunitXml(policy.name, hosts));
  } catch (e) {
    throw usageError(`cannot write the JUnit file ${file}: ${(e as Error).message}`);
  }
}

/** Runs `probe --deep` (with a policy check or a policy to write); returns the exit code. */
export async function runDeepProbe(
  options: DeepProbeOptions,
  cli: DeepCliOptions,
): Promise<number> {
  if (cli.junit && !cli.policy) throw usageError("--junit with probe goes with --policy");
  const policy = cli.policy ? await loadPolicy(cli.policy) : null;
  const r = await deepProbe(options);
  const results = policy ? checkPolicy(policy, observedOf(r)) : null;
  if (policy && cli.junit) {
    const { host, port } = r.probe.target;
    await writePolicyJunit(cli.junit, policy, [{
      target: `${host}:${port}`,
      results: r.lists ? results : null,
      why: `offer not seen: ${r.probe.error?.message ?? "no KEXINIT"}`,
      ms: r.durationMs,
    }]);
  }
  if (cli.makePolicy && r.lists) {
    const made = makePolicy(observedOf(r), `${r.probe.target.host}:${r.probe.target.port}`);
    await platform.writeTextFile(cli.makePolicy, JSON.stringify(made, null, 2) + "\n");
  }
  const json = cli.json;
  if (json) {
    const { probe, ...rest } = r;
    writeOut(
      JSON.stringify(
        {
          ...rest,
          target: probe.target,
          auth: undefined,
          authMethods: r.auth?.methods ?? null,
          banner: r.auth?.banner ?? null,
          error: probe.error ? { code: probe.error.code, message: probe.error.message } : null,
          policy: results ? { name: policy!.name, results } : undefined,
        },
        null,
        2,
      ) + "\n",
    );
  } else {
    writeOut(deepText(r));
    if (results) writeOut(policyText(policy!, results));
    if (cli.makePolicy && r.lists) writeOut(`policy written to ${cli.makePolicy}\n`);
  }
  // The deep probe did its work when it got the server's offer, even if defaults fail.
  if (!r.lists) return r.probe.error?.exitCode ?? 1;
  return results?.some((x) => !x.pass) ? POLICY_FAILED_EXIT : 0;
}

/** The policy results in words. */
export function policyText(policy: Policy, results: readonly RuleResult[]): string {
  const failed = results.filter((x) => !x.pass).length;
  const out = [
    `policy ${policy.name}: ${failed ? `${failed} of ${results.length} rules fail` : "passes"}`,
  ];
  for (const x of results) out.push(`  ${x.pass ? "pass" : "FAIL"}  ${x.rule}: ${x.detail}`);
  return out.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------------
// check --deep: every host of an inventory

/** What `check --deep` needs besides the inventory's rows. */
export interface DeepInventoryInput {
  entries: readonly DeepFleetEntry[];
  /** The inventory file (for the JUnit suite name). */
  inventoryPath: string;
  concurrency: number;
  timeoutMs: number;
  legacy: boolean;
  algorithms?: DeepProbeOptions["algorithms"];
  knownHostsFiles?: string[];
  json: boolean;
  policy?: string;
  junit?: string;
  signal?: AbortSignal;
  /** Progress lines (`[n/total] host: grade`), or nothing. */
  progress?: (text: string) => void;
  writeOut?: (text: string) => void;
}

/** The table row of one host: target, vendor, grade, host keys, strict kex, Terrapin, time. */
function deepRow(h: DeepFleetHost): string[] {
  const r = h.result;
  if (!r.lists) {
    const e = r.probe.error;
    return [h.target, "FAIL", `${e?.stage ?? "?"}: ${e?.code ?? "no offer"}`, "", "", "", ""];
  }
  const grade = r.grade
    ? `${r.grade.letter} ${r.grade.score}${r.grade.partial.length ? "*" : ""}`
    : "-";
  const keys = r.hostKeys.map((k) =>
    `${k.keyType.replace(/^ssh-|^ecdsa-sha2-/, "")}${k.bits ? `/${k.bits}` : ""}`
  )
    .join(",");
  return [
    h.target,
    grade,
    r.vendor.replace(/ \(.*$/, ""),
    keys,
    r.strictKex ? "strict" : r.terrapin.exposed ? "TERRAPIN" : "no-strict",
    String(r.connections),
    String(r.durationMs),
  ].map((c) => sanitize(c));
}

const DEEP_HEADERS = ["HOST", "GRADE", "VENDOR", "HOST KEYS", "KEX", "CONNS", "MS"];

/** The fleet's deep probes in words: a table, the policy failures, the time taken. */
export function deepFleetText(
  fleet: DeepFleetResult,
  concurrency: number,
  policy: { name: string; hosts: PolicyHost[] } | null,
): string {
  const rows = fleet.hosts.map(deepRow);
  const widths = DEEP_HEADERS.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => c >= 5 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)).join("  ")
      .trimEnd();
  const out = [line(DEEP_HEADERS), ...rows.map(line)];
  if (fleet.hosts.some((h) => h.result.grade?.partial.length)) {
    out.push("(* partial grade: probe --deep HOST says what could not be checked)");
  }
  if (policy) {
    const failing = policy.hosts.filter((h) => !h.results || h.results.some((r) => !r.pass));
    out.push(
      "",
      failing.length
        ? `policy ${policy.name}: ${failing.length} of ${policy.hosts.length} hosts fail`
        : `policy ${policy.name}: every host passes`,
    );
    for (const h of failing) {
      out.push(`  ${sanitize(h.target)}`);
      if (!h.results) out.push(`    ${sanitize(h.why ?? "offer not seen")}`);
      for (const r of h.results?.filter((x) => !x.pass) ?? []) {
        out.push(`    FAIL ${r.rule}: ${sanitize(r.detail)}`);
      }
    }
  }
  const failed = fleet.hosts.filter((h) => !h.result.lists).length;
  const waited = fleet.hosts.reduce((t, h) => t + h.result.penalties.waitedMs, 0);
  out.push(
    "",
    `${fleet.hosts.length} hosts deep-probed in ${(fleet.ms / 1000).toFixed(1)} s ` +
      `(${concurrency} at once, ${fleet.connections} connections` +
      (waited ? `, ${(waited / 1000).toFixed(1)} s paced for PerSourcePenalties` : "") +
      `); ${failed} without an offer`,
  );
  return out.join("\n") + "\n";
}

/** Runs `check --deep`; returns the exit code (3 when a host fails the policy). */
export async function runDeepInventory(input: DeepInventoryInput): Promise<number> {
  const write = input.writeOut ?? writeOut;
  const policy = input.policy ? await loadPolicy(input.policy) : null;
  let done = 0;
  const fleet = await deepFleet(input.entries, {
    concurrency: input.concurrency,
    timeoutMs: input.timeoutMs,
    legacy: input.legacy,
    algorithms: input.algorithms,
    knownHostsFiles: input.knownHostsFiles,
    signal: input.signal,
    onResult: (h) => {
      done++;
      const g = h.result.grade;
      input.progress?.(
        `[${done}/${input.entries.length}] ${sanitize(h.target)}: ` +
          (g ? `grade ${g.letter} ${g.score}` : `no offer (${h.result.probe.error?.code})`) + "\n",
      );
    },
  });
  const policyHosts = policy
    ? {
      name: policy.name,
      hosts: fleet.hosts.map((h): PolicyHost => ({
        target: h.target,
        results: h.result.lists ? checkPolicy(policy, observedOf(h.result)) : null,
        why: `offer not seen: ${h.result.probe.error?.message ?? "no KEXINIT"}`,
        ms: h.result.durationMs,
      })),
    }
    : null;
  if (input.json) {
    write(
      toJson(
        {
          ms: fleet.ms,
          connections: fleet.connections,
          concurrency: input.concurrency,
          hosts: fleet.hosts.map((h) => {
            const { probe, auth, ...rest } = h.result;
            return {
              target: h.target,
              source: h.source,
              ...rest,
              authMethods: auth?.methods ?? null,
              error: probe.error ? { code: probe.error.code, message: probe.error.message } : null,
              policy: policyHosts?.hosts[h.index]?.results ?? undefined,
            };
          }),
        },
        2,
      ) + "\n",
    );
  } else write(deepFleetText(fleet, input.concurrency, policyHosts));
  if (input.junit && policyHosts) {
    await writePolicyJunit(input.junit, policy!, policyHosts.hosts);
  }
  const failed = fleet.hosts.filter((h) => !h.result.lists);
  if (failed.length) {
    return fleetExitCode(failed.map((h) => ({
      ok: false,
      failedStage: (h.result.probe.error?.stage as Stage | undefined) ?? "connect",
    })));
  }
  return policyHosts?.hosts.some((h) => h.results?.some((r) => !r.pass)) ? POLICY_FAILED_EXIT : 0;
}
