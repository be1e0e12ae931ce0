/**
 * When several attempts all failed (the doctor's ladder): the likely causes, ranked. Each
 * distinct failure is a candidate, explained by the failure catalogue; the one that came
 * furthest (a later stage) and recurred most ranks first, with the attempts as its evidence.
 * @module
 */

import type { SshError } from "../errors/mod.ts";
import type { TraceEvent } from "../trace.ts";
import { type Stage, STAGES } from "../types.ts";
import { explainFailure, type PriorAttempt } from "./explain.ts";

/** One failed attempt: what it was (a label), its error and its trace. */
export interface FailedAttempt {
  label: string;
  error: SshError;
  events: readonly TraceEvent[];
  /** The run's attempts before this one (named causes read them: PerSourcePenalties...). */
  history?: readonly PriorAttempt[];
}

export interface Cause {
  /** The failure's code (`kex.no-common-kex`, `version.closed`…). */
  code: string;
  /** The named cause its pattern shows (`mtu-stall`, `per-source-penalties`…), or null. */
  cause: string | null;
  /** What the traces showed for that named cause. */
  signs: string[];
  stage: Stage;
  /** The catalogue's title and fix for it. */
  title: string;
  explanation: string;
  fix: string | null;
  /** The attempts that failed this way: `rung: message`. */
  evidence: string[];
}

/** A named cause that blocks every further attempt: it ranks first whatever came before. */
const BLOCKING = new Set(["per-source-penalties"]);

/**
 * The causes of `attempts`' failures, most likely first: failures of one named cause (or, when
 * none is named, of one code) are one candidate; a blocking cause (PerSourcePenalties) first,
 * then the furthest stage, a named cause before an unnamed one, the most frequent, the latest.
 */
export function rankCauses(attempts: readonly FailedAttempt[]): Cause[] {
  const byKey = new Map<string, { cause: Cause; count: number; last: number }>();
  attempts.forEach(({ label, error, events, history }, i) => {
    const x = explainFailure(error, events, history ?? []);
    const key = x.cause ?? error.code;
    const seen = byKey.get(key);
    const line = `${label}: ${error.message}`;
    if (seen) {
      seen.cause.evidence.push(line);
      for (const s of x.evidence) if (!seen.cause.signs.includes(s)) seen.cause.signs.push(s);
      seen.count++;
      seen.last = i;
      return;
    }
    byKey.set(key, {
      cause: {
        code: error.code,
        cause: x.cause,
        signs: [...x.evidence],
        stage: error.stage as Stage,
        title: x.title,
        explanation: x.explanation,
        fix: x.fix,
        evidence: [line],
      },
      count: 1,
      last: i,
    });
  });
  const blocking = (c: Cause) => Number(c.cause !== null && BLOCKING.has(c.cause));
  return [...byKey.values()].sort((a, b) =>
    blocking(b.cause) - blocking(a.cause) ||
    STAGES.indexOf(b.cause.stage) - STAGES.indexOf(a.cause.stage) ||
    Number(b.cause.cause !== null) - Number(a.cause.cause !== null) ||
    b.count - a.count || b.last - a.last
  ).map((c) => c.cause);
}
