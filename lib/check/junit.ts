/**
 * JUnit XML for CI systems: one `<testsuite>`, one `<testcase>` per inventory host, and a
 * `<failure>` naming the failed stage and the reason. Everything from the peer or the inventory
 * is sanitized first (controls, C1, bidi controls shown as visible escapes, as in the terminal),
 * then escaped for XML; characters XML 1.0 cannot carry are replaced.
 * @module
 */

import { sanitize } from "../render/sanitize.ts";
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

/**
 * The check result as a JUnit XML document. `suiteName` names the testsuite (e.g. the
 * inventory file); `timestamp` defaults to now.
 */
export function toJunitXml(
  result: CheckResult,
  options: { suiteName?: string; timestamp?: Date } = {},
): string {
  const name = options.suiteName ?? "sshtrace check";
  const stamp = (options.timestamp ?? new Date()).toISOString().replace(/\.\d+Z$/, "");
  const counts = {
    tests: result.summary.total,
    failures: result.summary.failed,
    errors: 0,
    skipped: 0,
    time: seconds(result.ms),
  };
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({ name, ...counts })}>`,
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
  out.push("  </testsuite>", "</testsuites>", "");
  return out.join("\n");
}
