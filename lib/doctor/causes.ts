/**
 * When nothing worked: the likely causes, ranked. Each distinct failure of the ladder's attempts
 * is a candidate, explained by the failure catalogue; the one that came furthest (a later stage,
 * reached with the most changes kept) and recurred most ranks first, with the attempts as its
 * evidence.
 * @module
 */

import { explainFailure } from "../diagnose/explain.ts";
import { type Stage, STAGES } from "../types.ts";
import type { RungRecord } from "./ladder.ts";

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

/** The failures of `rungs`, most likely cause first. */
export function rankCauses(rungs: readonly RungRecord[]): Cause[] {
  const byCode = new Map<string, { cause: Cause; count: number; last: number }>();
  rungs.forEach((r, i) => {
    const error = r.attempt?.error;
    if (!error) return;
    const seen = byCode.get(error.code);
    const line = `${r.rung} (${r.change}): ${error.message}`;
    if (seen) {
      seen.cause.evidence.push(line);
      seen.count++;
      seen.last = i;
      return;
    }
    const x = explainFailure(error, r.attempt!.events);
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
