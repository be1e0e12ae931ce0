/**
 * When several attempts all failed (the doctor's ladder): the likely causes, ranked. Each
 * distinct failure is a candidate, explained by the failure catalogue; the one that came
 * furthest (a later stage) and recurred most ranks first, with the attempts as its evidence.
 * @module
 */

import type { SshError } from "../errors/mod.ts";
import type { TraceEvent } from "../trace.ts";
import { type Stage, STAGES } from "../types.ts";
import { explainFailure } from "./explain.ts";

/** One failed attempt: what it was (a label), its error and its trace. */
export interface FailedAttempt {
  label: string;
  error: SshError;
  events: readonly TraceEvent[];
}

export interface Cause {
  /** The failure's code (`kex.no-common-kex`, `version.closed`…). */
  code: string;
  stage: Stage;
  /** The catalogue's title and fix for it. */
  title: string;
  explanation: string;
  fix: string | null;
  /** The attempts that failed this way: `rung: message`. */
  evidence: string[];
}

/** The causes of `attempts`' failures, most likely first. */
export function rankCauses(attempts: readonly FailedAttempt[]): Cause[] {
  const byCode = new Map<string, { cause: Cause; count: number; last: number }>();
  attempts.forEach(({ label, error, events }, i) => {
    const seen = byCode.get(error.code);
    const line = `${label}: ${error.message}`;
    if (seen) {
      seen.cause.evidence.push(line);
      seen.count++;
      seen.last = i;
      return;
    }
    const x = explainFailure(error, events);
    byCode.set(error.code, {
      cause: {
        code: error.code,
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
  return [...byCode.values()].sort((a, b) =>
    STAGES.indexOf(b.cause.stage) - STAGES.indexOf(a.cause.stage) || b.count - a.count ||
    b.last - a.last
  ).map((c) => c.cause);
}
