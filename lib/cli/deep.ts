/**
 * `sshtrace probe --deep`: runs the deep probe (lib/doctor/deep.ts) and prints it, or its JSON.
 * @module
 */

import { deepProbe, type DeepProbeOptions, type DeepProbeResult } from "../doctor/deep.ts";
import { sanitize } from "../render/sanitize.ts";
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
  out.push(`  strict kex  ${yes(r.strictKex)}; ext-info ${yes(r.extInfo)}`);
  out.push(`  terrapin    ${r.terrapin.exposed ? "EXPOSED" : "not exposed"}: ${r.terrapin.why}`);
  out.push(`  compression ${r.compression.join(", ") || "(none listed)"}`);
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

/** Runs `probe --deep`; returns the exit code (the base probe's). */
export async function runDeepProbe(options: DeepProbeOptions, json: boolean): Promise<number> {
  const r = await deepProbe(options);
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
        },
        null,
        2,
      ) + "\n",
    );
  } else writeOut(deepText(r));
  // The deep probe did its work when it got the server's offer, even if defaults fail.
  return r.lists ? 0 : r.probe.error?.exitCode ?? 1;
}
