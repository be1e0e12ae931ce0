/**
 * The doctor's ladder: attempts, each a fully traced connection, least harmful change first,
 * until one reaches the goal (probe, login, or login and a command). A change is kept only when
 * its attempt got further than the one before; the report says, per rung, what it changed, what
 * happened and why the doctor moved on. Credentials are the caller's (a password source asked at
 * most once: see {@link onceSource}); `connect()` sends them only after the host key is accepted.
 * Never prints.
 * @module
 */

import type { PasswordSource } from "../auth/userauth.ts";
import { connect, type ConnectOptions, probe } from "../client.ts";
import { SshError } from "../errors/mod.ts";
import { Tracer } from "../trace.ts";
import { type Stage, STAGES } from "../types.ts";
import { type Cause, rankCauses } from "../diagnose/causes.ts";
import { type NamedCauseId, priorAttempt } from "../diagnose/catalogue/named.ts";
import { explainFailure, type PriorAttempt } from "../diagnose/explain.ts";
import { OPENSSH_PENALTIES, PenaltyPacer } from "./penalty.ts";
import { type Attempt, type DoctorGoal, type RungOptions, RUNGS } from "./rungs.ts";
import {
  defaultSettings,
  type DoctorSettings,
  securityCost,
  toConnectOptions,
  withChange,
} from "./settings.ts";

/** One rung of the ladder as it ran (or was passed over). */
export interface RungRecord {
  /** `modern` for the first attempt, else the rung's id. */
  rung: string;
  /** What this attempt changed. */
  change: string;
  /** `ok`: reached the goal; `failed`; `skipped`: the rung did not apply to the failure. */
  outcome: "ok" | "failed" | "skipped";
  /** The failure's stage and code (failed), or null. */
  stage: Stage | null;
  code: string | null;
  message: string | null;
  /** Why the ladder moved on (or stopped), in words. */
  why: string;
  /** Whether the change was kept for the next rungs. */
  kept: boolean;
  /** The named cause its failure shows (`mtu-stall`, `per-source-penalties`…), or null. */
  cause: string | null;
  durationMs: number;
  /** The attempt's trace (empty when skipped). */
  attempt: Attempt | null;
}

export interface DoctorReport {
  target: { host: string; port: number; user: string | null };
  goal: DoctorGoal;
  rungs: RungRecord[];
  /** The settings that worked, or null when nothing did. */
  working: DoctorSettings | null;
  /** What the working settings give up in security. */
  cost: string[];
  /** When nothing worked: the likely causes, most likely first. */
  causes: Cause[];
  /**
   * When a rung that answers a named cause worked after the defaults failed: that cause, now
   * confirmed (`greeting-first` when our version line after the greeting worked…), or null.
   */
  confirmed: NamedCauseId | null;
}

/** Runs one attempt; the default connects for real (see {@link realAttempt}). */
export type AttemptRunner = (
  options: ConnectOptions,
  goal: DoctorGoal,
  command: string | null,
) => Promise<Attempt>;

export interface DoctorOptions {
  /** Where and how to connect: host, port, user, auth, known_hosts, timeout, signal… */
  connect: ConnectOptions;
  /** @default "probe" */
  goal?: DoctorGoal;
  /** For goal `command`. */
  command?: string;
  /** The pause of the slower-pacing rung (ms). @default 5000 */
  pacingMs?: number;
  /** Each attempt's tracer (the CLI renders each); a new silent tracer when omitted. */
  tracerFor?: (rung: string) => Tracer;
  /** Called after each attempt (the CLI ends that rung's rendered trace). */
  onAttempt?: (rung: string, attempt: Attempt) => void;
  /** Replaces the real attempts (tests). */
  attempt?: AttemptRunner;
  /** Replaces the pause (tests). */
  sleep?: (ms: number) => Promise<void>;
  /**
   * The PerSourcePenalties budget (seconds) the attempts to an OpenSSH 9.8+ server keep under
   * (penalty.ts); 0 turns this pacing off. @default 10
   */
  penaltyBudgetS?: number;
}

/** A password source that asks its `inner` source once and remembers the answer. */
export function onceSource(inner: PasswordSource): PasswordSource {
  let answer: Promise<string | null> | undefined;
  return {
    fromUser: inner.fromUser,
    get: (request) => (answer ??= inner.get(request)),
  };
}

/** One real attempt: a probe, or a login (and the command), with `options`. */
export const realAttempt: AttemptRunner = async (options, goal, command) => {
  const tracer = options.tracer!;
  if (goal === "probe") {
    const r = await probe(options);
    return { error: r.error, events: r.events };
  }
  try {
    const client = await connect(options);
    try {
      // The output is not looked at: read and counted, not kept (a server decides its size).
      if (goal === "command" && command !== null) await client.exec(command, { keepBytes: 0 });
    } finally {
      await client.close().catch(() => {});
    }
    return { error: null, events: tracer.events };
  } catch (e) {
    if (!(e instanceof SshError)) throw e;
    return { error: e, events: tracer.events };
  }
};

/**
 * How far an attempt got: twice the index of its failed stage (past the last when it worked),
 * plus one when a failure in the key exchange came after the algorithms were agreed.
 */
function progress(a: Attempt): number {
  if (!a.error) return 2 * STAGES.length;
  const agreed = a.error.stage === "kex" &&
    a.events.some((e) => e.type === "negotiated" && e.decisions.every((d) => d.chosen !== null));
  return 2 * STAGES.indexOf(a.error.stage as Stage) + (agreed ? 1 : 0);
}

const PENALISED = "refused by OpenSSH's PerSourcePenalties: the ladder stops (each attempt " +
  "lengthens the block)";

/** Runs the ladder. Never throws for a connection failure: the report holds it. */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const goal = options.goal ?? "probe";
  const run = options.attempt ?? realAttempt;
  const sleep = options.sleep ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms)));
  const rungOptions: RungOptions = { goal, pacingMs: options.pacingMs ?? 5000 };
  const base = options.connect;
  const report: DoctorReport = {
    target: { host: base.host, port: base.port ?? 22, user: base.user ?? null },
    goal,
    rungs: [],
    working: null,
    cost: [],
    causes: [],
    confirmed: null,
  };

  // Every attempt that does not log in counts for OpenSSH 9.8+'s PerSourcePenalties (a failed
  // login five times more): the pacer keeps the server's penalty under its threshold.
  const pacer = new PenaltyPacer({ budgetS: options.penaltyBudgetS, sleep });
  const history: PriorAttempt[] = [];
  const attempt = async (rung: string, settings: DoctorSettings): Promise<[Attempt, number]> => {
    if (settings.pacingMs) await sleep(settings.pacingMs);
    const reserved = await pacer.beforeConnect(
      goal === "probe" ? OPENSSH_PENALTIES.noauth : OPENSSH_PENALTIES.authfail,
    );
    const tracer = options.tracerFor?.(rung) ?? new Tracer();
    const start = performance.now();
    const a: Attempt = await run(
      toConnectOptions(settings, { ...base, tracer }),
      goal,
      options.command ?? null,
    );
    const prior = priorAttempt(a.error?.code ?? null, a.events);
    a.cause = a.error ? explainFailure(a.error, a.events, history).cause : null;
    history.push(prior);
    pacer.record(
      prior.authenticated ? "authenticated" : a.error?.stage === "auth" ? "authfail" : "noauth",
      prior.software,
      reserved,
    );
    options.onAttempt?.(rung, a);
    return [a, Math.round(performance.now() - start)];
  };
  const record = (
    rung: string,
    change: string,
    a: Attempt | null,
    ms: number,
    why: string,
    kept: boolean,
  ) =>
    report.rungs.push({
      rung,
      change,
      outcome: !a ? "skipped" : a.error ? "failed" : "ok",
      stage: (a?.error?.stage as Stage | undefined) ?? null,
      code: a?.error?.code ?? null,
      message: a?.error?.message ?? null,
      why,
      kept,
      cause: a?.cause ?? null,
      durationMs: ms,
      attempt: a,
    });

  let settings = defaultSettings();
  let [last, ms] = await attempt("modern", settings);
  if (!last.error) {
    record("modern", "sshtrace's defaults", last, ms, `reached the goal (${goal})`, true);
    return finish(report, settings);
  }
  if (last.cause === "per-source-penalties") {
    record("modern", "sshtrace's defaults", last, ms, PENALISED, false);
    report.causes = rankCauses([{ label: "modern", error: last.error, events: last.events }]);
    return report;
  }
  record("modern", "sshtrace's defaults", last, ms, "the rungs below answer this failure", true);

  // Walk the rungs; after a kept change, start again from the first rung (a legacy set may
  // reveal a quirk, a quirk may reveal a second missing list). Each rung's change runs once.
  const tried = new Set<string>();
  for (let i = 0; i < RUNGS.length; i++) {
    if (options.connect.signal?.aborted) break;
    const rung = RUNGS[i]!;
    const p = rung.propose(last, settings, rungOptions);
    if ("skip" in p) {
      if (!report.rungs.some((r) => r.rung === rung.id && r.why === p.skip)) {
        record(rung.id, rung.title, null, 0, p.skip, false);
      }
      continue;
    }
    const key = `${rung.id}:${JSON.stringify(p.change)}`;
    if (tried.has(key)) continue;
    tried.add(key);
    const next = withChange(settings, p.change);
    const [a, t] = await attempt(rung.id, next);
    if (!a.error) {
      record(rung.id, p.what, a, t, `reached the goal (${goal})`, true);
      report.confirmed = rung.confirms ?? null;
      return finish(report, next);
    }
    if (a.cause === "per-source-penalties") {
      // Every further attempt would lengthen the block: the ladder stops here.
      record(
        rung.id,
        p.what,
        a,
        t,
        PENALISED,
        false,
      );
      break;
    }
    if (progress(a) > progress(last)) {
      record(rung.id, p.what, a, t, `got further (now fails at ${a.error.stage}): kept`, true);
      settings = next;
      last = a;
      i = -1;
    } else {
      record(rung.id, p.what, a, t, `no better (fails at ${a.error.stage}): undone`, false);
    }
  }
  // Each failure explained with the attempts before it (PerSourcePenalties reads them).
  const ran = report.rungs.filter((r) => r.attempt);
  report.causes = rankCauses(
    ran.flatMap((r, i) =>
      r.attempt?.error
        ? [{
          label: `${r.rung} (${r.change})`,
          error: r.attempt.error,
          events: r.attempt.events,
          history: history.slice(0, i),
        }]
        : []
    ),
  );
  return report;
}

function finish(report: DoctorReport, settings: DoctorSettings): DoctorReport {
  report.working = settings;
  report.cost = securityCost(settings);
  return report;
}
