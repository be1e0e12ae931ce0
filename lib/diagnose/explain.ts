/**
 * Explains a failure in plain words with the exact fix (from the {@link CATALOGUE}), and points
 * out stages that were slow for their kind. Pure functions over an error and the trace events:
 * no I/O, never prints, never throws.
 * @module
 */

import type { ErrorCode, SshError } from "../errors/mod.ts";
import type { TraceEvent } from "../trace.ts";
import { EXIT_CODES, exitCodeFor, type Stage } from "../types.ts";
import {
  type AlgorithmCandidate,
  CATALOGUE,
  type CatalogueEntry,
  type FailureContext,
  type FailureText,
  GENERIC_BY_STAGE,
  lookupEntry,
} from "./catalogue/mod.ts";

import { configFix } from "./config_fix.ts";
import { provideExplainer } from "./explainer.ts";
import { type PriorAttempt, recogniseCause } from "./catalogue/named.ts";

export { CATALOGUE, GENERIC_BY_STAGE, lookupEntry } from "./catalogue/mod.ts";
export type { AlgorithmCandidate, CatalogueEntry, FailureText } from "./catalogue/mod.ts";
export type { NamedCauseId, PriorAttempt } from "./catalogue/named.ts";
export { SLOW_STAGE_RULES, slowContext, slowStages } from "./slow.ts";
export type { SlowContext, SlowRule, SlowStage } from "./slow.ts";

/** A failure, explained: what broke, why, and what to type next. */
export interface Explanation {
  stage: Stage | "usage";
  code: string;
  exitCode: number;
  /** The error's own message (specific: names, numbers, lists). */
  message: string;
  /** The cause in one line. */
  title: string;
  /** Why, in plain words. */
  explanation: string;
  /** The fix as sshtrace flags (or a command), or null when only the server side can fix it. */
  fix: string | null;
  /** The OpenSSH equivalent, or null. */
  opensshFix: string | null;
  /**
   * The OpenSSH fix as lines of the user's ssh_config (under the Host block that matched, with
   * its file:line), when the run read one; else null.
   */
  configFix: string | null;
  /** The library equivalent (`ConnectOptions` as an object literal), or null. */
  libraryFix: string | null;
  /** What the fix gives up in security, or null. */
  securityCost: string | null;
  /** For no-common-algorithm failures: every usable algorithm the server offers, least harm first. */
  candidates: AlgorithmCandidate[];
  /** False when the code is not in the catalogue (a generic entry for its stage was used). */
  known: boolean;
  /**
   * The named cause the failure's pattern shows (catalogue/named.ts: `mtu-stall`,
   * `per-source-penalties`...), whose words replace the code's; null when none matched.
   */
  cause: string | null;
  /** What the trace (and the run's earlier attempts) showed for that cause. */
  evidence: string[];
}

const KNOWN_STAGES = new Set<string>(Object.keys(EXIT_CODES));

function stageOf(error: SshError): Stage | "usage" {
  const s = (error as { stage?: unknown }).stage;
  return typeof s === "string" && KNOWN_STAGES.has(s) ? (s as Stage | "usage") : "connect";
}

function fromEntry(entry: CatalogueEntry): FailureText {
  return {
    title: entry.title,
    explanation: entry.explanation,
    fix: entry.fix,
    opensshFix: entry.opensshFix,
    libraryFix: entry.libraryFix ?? null,
    securityCost: entry.securityCost ?? null,
  };
}

/**
 * Explains `error` with its catalogue entry (refined from `error.details` and `events`), the
 * only source of fix text: errors carry data, never advice. Never throws: an unknown code, or
 * odd details, give the generic entry of the error's stage.
 *
 * @example
 * ```ts
 * const why = explainFailure(error, tracer.events);
 * // why.fix: "--kex +diffie-hellman-group14-sha1"
 * // why.opensshFix: "-o KexAlgorithms=+diffie-hellman-group14-sha1"
 * // why.libraryFix: '{ algorithms: { kex: ["+diffie-hellman-group14-sha1"] } }'
 * ```
 */
export function explainFailure(
  error: SshError,
  events: readonly TraceEvent[] = [],
  history: readonly PriorAttempt[] = [],
): Explanation {
  const stage = stageOf(error);
  const code = typeof error?.code === "string" ? error.code : "";
  const message = typeof error?.message === "string" ? error.message : String(error);
  const details = error?.details && typeof error.details === "object" ? error.details : {};
  const base: Explanation = {
    stage,
    code,
    exitCode: exitCodeFor(stage, code),
    message,
    ...GENERIC_BY_STAGE[stage],
    configFix: null,
    candidates: [],
    known: false,
    cause: null,
    evidence: [],
  };
  const entry = lookupEntry(code);
  if (!entry) return base;
  let text = fromEntry(entry);
  let candidates: AlgorithmCandidate[] = [];
  if (entry.refine) {
    // The code has an entry, so it is the table's (or a family's at an odd stage: same words).
    const ctx: FailureContext = {
      code: code as ErrorCode,
      stage,
      message,
      details: details as FailureContext["details"],
      events: events ?? [],
    };
    try {
      const { candidates: c, ...refined } = entry.refine(ctx);
      text = { ...text, ...refined };
      candidates = c ?? [];
    } catch {
      // A refinement must never hide the failure: keep the entry's static words.
    }
  }
  // A named cause the pattern shows (with the run's earlier attempts) names the failure.
  const named = recogniseCause({
    code: code as ErrorCode,
    stage,
    message,
    details: details as FailureContext["details"],
    events: events ?? [],
    history: history ?? [],
  });
  if (named) text = { ...text, ...named.text };
  let inConfig: string | null = null;
  try {
    inConfig = configFix(text.opensshFix, events ?? []);
  } catch {
    // Odd events: the fix in ssh_config is left out, never the failure.
  }
  return {
    ...base,
    ...text,
    configFix: inConfig,
    candidates,
    known: true,
    cause: named?.cause.id ?? null,
    evidence: named?.evidence ?? [],
  };
}

/** Every catalogue entry in a flat form (for docs and the report). */
export function catalogueTable(): {
  code: string;
  stage: Stage | "usage" | "any";
  exitCode: number | null;
  title: string;
  fix: string | null;
  opensshFix: string | null;
  libraryFix: string | null;
  securityCost: string | null;
}[] {
  return Object.entries(CATALOGUE).map(([code, e]) => ({
    code,
    stage: e.stage,
    exitCode: e.stage === "any" ? null : EXIT_CODES[e.stage],
    title: e.title,
    fix: e.fix,
    opensshFix: e.opensshFix,
    libraryFix: e.libraryFix ?? null,
    securityCost: e.securityCost ?? null,
  }));
}

provideExplainer(explainFailure);
