/**
 * JUnit XML for CI systems: one `<testsuite>`, one `<testcase>` per inventory host, and a
 * `<failure>` naming the failed stage and the reason; with a policy (`--policy`), one more
 * `<testsuite>` per host with a `<testcase>` per rule (pass, `<failure>`, or `<skipped>` when
 * the host's offer was not seen). Everything from the peer or the inventory
 * is sanitized first (controls, C1, bidi controls shown as visible escapes, as in the terminal),
 * then escaped for XML; characters XML 1.0 cannot carry are replaced.
 * @module
 */

import { sanitize } from "../render/sanitize.ts";
import type { RuleResult } from "../doctor/policy.ts";
import type { CheckResult } from "./check.ts";

/** Escapes text for XML content and attribute values (`& < > " '`, invalid characters → U+FFFD). */
export function escapeXml(text: string): string {
  return text
    // XML 1.0 allows tab, LF, CR and U+0020 and up (minus surrogates and U+FFFE/U+FFFF).
    // deno-lint-ignore no-control-regex
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, "\uFFFD")
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

function attrs(values: Record<string, string | number>): string {
  return Object.entries(values).map(([k, v]) => ` ${k}="${escapeXml(sanitize(String(v)))}"`)
    .join("");
}

/** Element text: peer text made visible (newlines kept), then escaped for XML. */
function text(value: string): string {
  return escapeXml(sanitize(value, { multiline: true }));
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

/** One host's policy results: null when its offer was not seen (`why` says why). */
export interface PolicyHost {
  target: string;
  results: readonly RuleResult[] | null;
  why?: string;
  ms?: number;
}

/** A policy's results as `<testsuite>` elements, one per host, a `<testcase>` per rule. */
function policySuites(policy: string, hosts: readonly PolicyHost[], stamp: string): string[] {
  const out: string[] = [];
  for (const h of hosts) {
    const results = h.results ?? [];
    const name = `policy ${policy}: ${h.target}`;
    const failures = results.filter((r) => !r.pass).length;
    out.push(`  <testsuite${
      attrs({
        name,
        tests: h.results ? results.length : 1,
        failures,
        errors: 0,
        skipped: h.results ? 0 : 1,
        time: seconds(h.ms ?? 0),
        timestamp: stamp,
      })
    }>`);
    const classname = `sshtrace.policy.${policy}.${h.target}`;
    if (!h.results) {
      out.push(
        `    <testcase${attrs({ classname, name: "offer", time: "0.000" })}>`,
        `      <skipped${attrs({ message: h.why ?? "the server's offer was not seen" })}/>`,
        `    </testcase>`,
      );
    }
    for (const r of results) {
      const caseAttrs = attrs({ classname, name: r.rule, time: "0.000" });
      if (r.pass) {
        out.push(`    <testcase${caseAttrs}/>`);
        continue;
      }
      out.push(
        `    <testcase${caseAttrs}>`,
        `      <failure${attrs({ type: "policy", message: `${r.rule}: ${r.detail}` })}>${
          text(`rule: ${r.rule}\ndetail: ${r.detail}\nhost: ${h.target}`)
        }</failure>`,
        `    </testcase>`,
      );
    }
    out.push("  </testsuite>");
  }
  return out;
}

const stampOf = (d: Date | undefined) => (d ?? new Date()).toISOString().replace(/\.\d+Z$/, "");

/**
 * A policy's results (`probe --deep --policy`, or per host of `check --policy`) as a JUnit XML
 * document: a `<testsuite>` per host, a `<testcase>` per rule.
 */
export function policyJunitXml(
  policy: string,
  hosts: readonly PolicyHost[],
  options: { suiteName?: string; timestamp?: Date } = {},
): string {
  const all = hosts.flatMap((h) => h.results ?? []);
  const skipped = hosts.filter((h) => !h.results).length;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${
      attrs({
        name: options.suiteName ?? `sshtrace policy ${policy}`,
        tests: all.length + skipped,
        failures: all.filter((r) => !r.pass).length,
        errors: 0,
        skipped,
        time: seconds(hosts.reduce((t, h) => t + (h.ms ?? 0), 0)),
      })
    }>`,
    ...policySuites(policy, hosts, stampOf(options.timestamp)),
    "</testsuites>",
    "",
  ].join("\n");
}

/**
 * The check result as a JUnit XML document. `suiteName` names the testsuite (e.g. the
 * inventory file); `timestamp` defaults to now.
 */
export function toJunitXml(
  result: CheckResult,
  options: {
    suiteName?: string;
    timestamp?: Date;
    /** `check --policy`: each host's results, a testsuite per host after the check's. */
    policy?: { name: string; hosts: readonly PolicyHost[] };
  } = {},
): string {
  const name = options.suiteName ?? "sshtrace check";
  const stamp = stampOf(options.timestamp);
  const counts = {
    tests: result.summary.total,
    failures: result.summary.failed,
    errors: 0,
    skipped: 0,
    time: seconds(result.ms),
  };
  // The document's totals count the policy's testcases too.
  const rules = options.policy?.hosts ?? [];
  const ruleResults = rules.flatMap((h) => h.results ?? []);
  const totals = {
    ...counts,
    tests: counts.tests + ruleResults.length + rules.filter((h) => !h.results).length,
    failures: counts.failures + ruleResults.filter((r) => !r.pass).length,
    skipped: rules.filter((h) => !h.results).length,
  };
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({ name, ...totals })}>`,
    `  <testsuite${attrs({ name, ...counts, timestamp: stamp })}>`,
  ];
  for (const h of result.hosts) {
    const caseAttrs = attrs({
      classname: `sshtrace.check.${h.server.host}`,
      name: h.target,
      time: seconds(h.ms),
    });
    if (h.ok) {
      out.push(`    <testcase${caseAttrs}/>`);
      continue;
    }
    const stage = h.failedStage ?? "data";
    const message = h.error?.message ?? `failed at stage ${stage}`;
    const body = [
      `stage: ${stage}`,
      `code: ${h.error?.code ?? ""}`,
      `message: ${message}`,
      ...(h.error?.explanation ? [`why: ${h.error.explanation}`] : []),
      ...(h.error?.fix ? [`fix: ${h.error.fix}`] : []),
      `exit code: ${h.exitCode}`,
      `inventory: ${h.source}`,
    ].join("\n");
    out.push(
      `    <testcase${caseAttrs}>`,
      `      <failure${attrs({ type: stage, message: `${stage}: ${message}` })}>${
        text(body)
      }</failure>`,
      `    </testcase>`,
    );
  }
  const shared = result.sharedHostKeys.map((s) =>
    `host key ${s.fingerprint} is shared by ${s.hosts.join(", ")}`
  );
  if (shared.length) out.push(`    <system-out>${text(shared.join("\n"))}</system-out>`);
  out.push("  </testsuite>");
  if (options.policy) out.push(...policySuites(options.policy.name, options.policy.hosts, stamp));
  out.push("</testsuites>", "");
  return out.join("\n");
}
