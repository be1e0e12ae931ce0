/**
 * `sshtrace doctor`: runs the ladder (lib/doctor/ladder.ts), prints each rung (its trace with
 * -v), then the working settings in every form, or the ranked causes; `--write-config FILE`
 * appends the Host block to an ssh_config. Exit 0 when a rung worked, else the last failure's
 * exit code. When ssh_config asks for what sshtrace does not do, no rung is tried (a login
 * would send nothing): the report lists those keywords as its causes (exit of `config.refused`).
 * @module
 */

import type { Settings } from "../config/options.ts";
import { usageError } from "../config/options.ts";
import { allForms, hostBlock } from "../doctor/forms.ts";
import { type DoctorReport, onceSource, runDoctor } from "../doctor/ladder.ts";
import type { DoctorGoal } from "../doctor/rungs.ts";
import { NAMED_CAUSES } from "../diagnose/catalogue/named.ts";
import { rankCauses } from "../diagnose/causes.ts";
import { refusalError } from "../sshconfig/apply.ts";
import type { Refusal, SshConfig } from "../sshconfig/resolve.ts";
import { isDefault } from "../doctor/settings.ts";
import { platform } from "../platform/mod.ts";
import { sanitize } from "../render/sanitize.ts";
import type { HumanRenderer } from "../render/human.ts";
import { Tracer } from "../trace.ts";
import { type ConnectFlags, prepareRun } from "./connect.ts";
import { makeOutput, writeErr, writeOut } from "./output.ts";

export interface DoctorFlags extends ConnectFlags {
  goal?: string;
  writeConfig?: string;
  alias?: string;
  pacing?: string;
}

export interface RunDoctorInput {
  targetText: string;
  command: string[];
  flags: DoctorFlags;
  settings: Settings;
  timeoutMs: number;
  /**
   * The ssh_config the settings came from: when it asks for what sshtrace does not do, the
   * ladder tries nothing.
   */
  config?: SshConfig;
}

function goalOf(flags: DoctorFlags, command: string[]): DoctorGoal {
  if (command.length) return "command";
  const g = flags.goal ?? "probe";
  if (g !== "probe" && g !== "login") {
    throw usageError(`invalid --goal "${g}"`, { supported: ["probe", "login"] });
  }
  return g;
}

/** The report in words: one block per rung, then what worked or the causes. */
export function doctorText(report: DoctorReport, alias?: string): string {
  const out: string[] = [];
  const { host, port, user } = report.target;
  out.push(`sshtrace doctor ${host} port ${port}: goal ${report.goal}`);
  report.rungs.forEach((r) => {
    if (r.outcome === "skipped") {
      out.push(`  - ${r.rung}: not tried (${r.why})`);
      return;
    }
    const result = r.outcome === "ok"
      ? "worked"
      : `failed at ${r.stage} (${r.code}: ${sanitize(r.message ?? "")})`;
    out.push(`  * ${r.rung}: ${r.change}`);
    out.push(`      ${result}${r.cause ? ` [${r.cause}]` : ""}, ${r.durationMs} ms; ${r.why}`);
  });
  if (report.working) {
    out.push("");
    const confirmed = NAMED_CAUSES.find((c) => c.id === report.confirmed);
    if (confirmed) {
      out.push(
        `Cause confirmed by the change that worked: ${confirmed.title} [${confirmed.id}]`,
        "",
      );
    }
    if (isDefault(report.working)) {
      out.push("sshtrace's defaults work: nothing to change.");
    } else {
      out.push("Minimal working settings, and what they cost:");
      for (const c of report.cost) out.push(`  - ${c}`);
    }
    for (const [title, text] of allForms(report.working, { host, port, user, alias })) {
      out.push("", `${title}:`, ...text.trimEnd().split("\n").map((l) => `  ${l}`));
    }
  } else {
    out.push(
      "",
      report.rungs.length
        ? "Nothing worked. Likely causes, most likely first:"
        : "Nothing tried: a login would send nothing, as the configuration asks for this:",
    );
    report.causes.forEach((c, i) => {
      out.push(`  ${i + 1}. ${c.title} (${c.cause ? `${c.cause}, ` : ""}${c.code})`);
      if (c.explanation) out.push(`     ${sanitize(c.explanation)}`);
      if (c.fix) out.push(`     try: ${sanitize(c.fix)}`);
      for (const s of c.signs) out.push(`     seen: ${sanitize(s)}`);
      for (const e of c.evidence) out.push(`     evidence: ${sanitize(e)}`);
    });
  }
  return out.join("\n") + "\n";
}

/** Runs the doctor command; returns the exit code. */
export async function runDoctorCommand(input: RunDoctorInput): Promise<number> {
  const { flags } = input;
  const goal = goalOf(flags, input.command);
  let pacingMs: number | undefined;
  if (flags.pacing !== undefined) {
    const s = Number(flags.pacing);
    if (!Number.isFinite(s) || s < 0) throw usageError(`invalid --pacing "${flags.pacing}"`);
    pacingMs = s * 1000;
  }
  // No trace of the run itself: each rung has its own (rendered with -v).
  const prepared = await prepareRun({ ...input, flags: { ...flags, verbose: 0, quiet: true } });
  const options = prepared.options;
  if (options.auth?.password) {
    options.auth = { ...options.auth, password: onceSource(options.auth.password) };
  }
  let human: HumanRenderer | undefined;
  const outcome = await prepared.execute(() =>
    runDoctor({
      connect: options,
      goal,
      command: input.command.join(" ") || undefined,
      pacingMs,
      tracerFor: (rung) => {
        if (flags.verbose < 1) return new Tracer();
        writeErr(`\n--- rung ${rung} ---\n`);
        const out = makeOutput({ verbose: flags.verbose - 1 });
        human = out.human;
        return out.tracer;
      },
      onAttempt: (_rung, attempt) => human?.finish(attempt.error),
    })
  );
  const refused = outcome.error?.code === "config.refused";
  const report = outcome.value ??
    (refused ? refusedReport(prepared.refusals, goal, prepared.target) : undefined);
  if (!report) throw outcome.error;
  if (flags.json) {
    writeOut(JSON.stringify(jsonReport(report), null, 2) + "\n");
  } else {
    writeOut(doctorText(report, flags.alias));
  }
  if (report.working && flags.writeConfig) {
    const { host, port, user } = report.target;
    const block = hostBlock(report.working, { host, port, user, alias: flags.alias });
    let before = "";
    try {
      before = await platform.readTextFile(flags.writeConfig);
    } catch {
      // a new file
    }
    const sep = before && !before.endsWith("\n\n") ? (before.endsWith("\n") ? "\n" : "\n\n") : "";
    await platform.writeTextFile(flags.writeConfig, before + sep + block);
    writeErr(`sshtrace: Host block appended to ${flags.writeConfig}\n`);
  }
  if (report.working) return 0;
  if (refused) return outcome.error!.exitCode;
  const last = [...report.rungs].reverse().find((r) => r.attempt?.error);
  return last?.attempt?.error?.exitCode ?? 1;
}

/**
 * The report when the configuration is refused: no rung tried, every refused keyword a piece of
 * evidence of the one cause (`config.refused`, its fix naming the first).
 */
function refusedReport(
  refusals: readonly Refusal[],
  goal: DoctorGoal,
  target: DoctorReport["target"],
): DoctorReport {
  const attempts = refusals.map((r) => ({
    label: "configuration",
    error: refusalError([r]),
    events: [],
  }));
  return {
    target,
    goal,
    rungs: [],
    working: null,
    cost: [],
    causes: rankCauses(attempts),
    confirmed: null,
  };
}

/** The report as JSON (without the traces: each rung's events would repeat the handshake). */
export function jsonReport(report: DoctorReport): unknown {
  return {
    ...report,
    rungs: report.rungs.map(({ attempt: _a, ...r }) => r),
    forms: report.working
      ? Object.fromEntries(
        allForms(report.working, { ...report.target }).map(([t, text]) => [t, text]),
      )
      : null,
  };
}
