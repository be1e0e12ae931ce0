/**
 * One run's lifecycle, the same for `probe`, `connect`, `send` and each host of `check`: run the
 * body, turn whatever it threw into a staged error recorded in the trace, end the spans left
 * open, add the diagnosis events, and build the report on demand. Cancellation goes through
 * here too: an `AbortSignal` (the library caller's, the CLI's Ctrl-C, a check's host deadline)
 * closes what the run registered, so every pending read and write wakes and rejects, and the
 * failure is named after the stage that was running.
 * @module
 */

import { gradePartial, gradeServer } from "./diagnose/grade.ts";
import { slowStages } from "./diagnose/slow.ts";
import { loadExplainer } from "./diagnose/explainer.ts";
import { buildReport, type Report } from "./render/report.ts";
import type { Tracer } from "./trace.ts";
import { type ErrorDetails, SshError } from "./errors/mod.ts";
import type { Stage } from "./types.ts";
import { STRICT_KEX_S } from "./transport/kexinit.ts";

/**
 * An abort reason that asks for a failure code of its own: `<stage>.interrupted` (Ctrl-C, exit
 * 130) or `<stage>.deadline` (a check's per-host limit). Any other reason makes the failure
 * `<stage>.aborted`, carrying the reason as its cause.
 */
export class StopReason extends Error {
  override name = "StopReason";
  readonly kind: "interrupted" | "deadline";
  readonly details: ErrorDetails;

  constructor(kind: "interrupted" | "deadline", message: string, details: ErrorDetails = {}) {
    super(message);
    this.kind = kind;
    this.details = details;
  }
}

/** The reason the CLI aborts with on Ctrl-C (SIGINT). */
export function interruptReason(): StopReason {
  return new StopReason("interrupted", "Ctrl-C; the connection was closed");
}

function reasonText(reason: unknown): string {
  if (reason instanceof Error) return reason.message || reason.name;
  return reason === undefined ? "no reason given" : String(reason);
}

/** The failure of a run stopped by `reason` while it was at `stage`. */
export function abortedError(stage: Stage, reason: unknown): SshError {
  if (reason instanceof StopReason) {
    return new SshError(
      stage,
      `${stage}.${reason.kind}`,
      reason.kind === "interrupted"
        ? `interrupted at stage ${stage}: ${reason.message}`
        : `${reason.message} (stage ${stage})`,
      reason.details,
    );
  }
  return new SshError(
    stage,
    `${stage}.aborted`,
    `cancelled at stage ${stage}: ${reasonText(reason)}`,
    { reason: reasonText(reason) },
    { cause: reason },
  );
}

/** Turns anything thrown into a staged error (an unexpected bug still gets a stage, no stack). */
export function toTraceError(e: unknown, stage: Stage): SshError {
  if (e instanceof SshError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new SshError(
    stage,
    `${stage}.internal`,
    `internal error during stage ${stage}: ${message}`,
    {},
    { cause: e },
  );
}

/**
 * The staged error for what a run threw: when `signal` was aborted, the abort's error at the
 * stage the thrown error names (the layer that was woken knows where it was); else the error
 * itself. `fallback` is the stage for anything thrown without one (a bug).
 */
export function failureOf(
  e: unknown,
  signal: AbortSignal | undefined,
  fallback: Stage,
): SshError {
  const stage = e instanceof SshError && e.stage !== "usage" ? e.stage : fallback;
  if (signal?.aborted && !(e instanceof SshError && e.stage === "usage")) {
    return abortedError(stage, signal.reason);
  }
  return toTraceError(e, stage);
}

/**
 * What a layer rethrows: once `signal` has aborted, the abort's error at the stage `e` names (see
 * {@link failureOf}); else `e` itself, untouched (the run's lifecycle stages it).
 */
export function whenAborted(e: unknown, signal: AbortSignal | undefined, fallback: Stage): unknown {
  return signal?.aborted ? failureOf(e, signal, fallback) : e;
}

/**
 * Calls `close` once when `signal` aborts (at once if it already has). Returns the function that
 * removes the listener (call it when the resource is closed anyway).
 */
export function onAbort(signal: AbortSignal | undefined, close: () => void): () => void {
  if (!signal) return () => {};
  const listener = () => {
    try {
      close();
    } catch {
      // closing twice, or a stream already gone
    }
  };
  if (signal.aborted) {
    listener();
    return () => {};
  }
  signal.addEventListener("abort", listener, { once: true });
  return () => signal.removeEventListener("abort", listener);
}

/**
 * The stage for an error that names none: the span most recently begun and still open (a bug's
 * best guess), else `connect`.
 */
export function openStage(tracer: Tracer): Stage {
  return tracer.openSpans.at(-1)?.stage ?? "connect";
}

/**
 * Adds the diagnosis events at the end of a run: stages that were slow for their kind and, when
 * asked, the security grade of the server's offer.
 */
export function emitDiagnostics(tracer: Tracer, options: { grade: boolean }): void {
  tracer.summarize();
  if (options.grade) {
    const offer = tracer.events.find((e) => e.type === "kexinit-received");
    if (offer && offer.type === "kexinit-received") {
      const key = tracer.events.find((e) => e.type === "key");
      const g = gradeServer(offer.lists, {
        strictKex: offer.lists.kex.includes(STRICT_KEX_S),
        hostKeyType: key?.type === "key" ? key.keyType : undefined,
        hostKeyBits: key?.type === "key" ? key.bits ?? undefined : undefined,
      });
      tracer.emit({
        stage: "kex",
        type: "grade",
        letter: g.letter,
        score: g.score,
        reasons: g.reasons.map((r) => ({
          deduction: r.deduction,
          reason: r.reason,
          algorithms: r.algorithms,
        })),
        partial: gradePartial(offer.lists, key?.type === "key" ? key : null),
      });
    }
  }
  for (const slow of slowStages(tracer.timings, tracer.events)) {
    tracer.emit({
      stage: slow.stage,
      type: "slow",
      ms: slow.ms,
      thresholdMs: slow.thresholdMs,
      why: slow.why,
    });
  }
}

/** What a run's body gets. */
export interface RunContext {
  readonly tracer: Tracer;
  /** Aborts when the run is cancelled: pass it to `connect()`, `probe()` and the like. */
  readonly signal: AbortSignal | undefined;
  /**
   * Registers something to close when the run is cancelled or fails (a transport, a client's
   * connection): closing wakes every read and write pending on it. Returns the unregister
   * function (call it once the thing is closed cleanly).
   */
  closeOnStop(close: () => void): () => void;
}

/** Options of {@link runLifecycle}. */
export interface RunOptions {
  tracer: Tracer;
  /** Cancels the run. */
  signal?: AbortSignal;
  /** Add the security grade of the server's offer to the diagnosis events. */
  grade: boolean;
}

/** Where a run went: its target, for the report. */
export interface RunTarget {
  host: string;
  port: number;
  user?: string;
}

/** How a run ended. */
export interface RunOutcome<T> {
  /** What the body returned (undefined when it failed). */
  value: T | undefined;
  /** The staged failure, already recorded as the trace's `error` event; null on success. */
  error: SshError | null;
  tracer: Tracer;
  /** The JSON report of the run; `exitCode` overrides the error's (a remote exit status). */
  report(target: RunTarget, exitCode?: number): Report;
}

/**
 * How long a cancelled run's body may take to wake and fail once its resources are closed,
 * before the run ends without it (a wait that closing does not reach, such as a local file).
 */
const ABORT_GRACE_MS = 1000;

/** The error a body that did not wake after cancellation is abandoned with. */
class Abandoned extends Error {}

/** `work`, or a rejection {@link ABORT_GRACE_MS} after `signal` aborts if it is still pending. */
async function untilStopped<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return await work;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let listener = () => {};
  const stopped = new Promise<never>((_, reject) => {
    listener = () => {
      timer = setTimeout(() => reject(new Abandoned("the run did not stop")), ABORT_GRACE_MS);
    };
  });
  if (signal.aborted) listener();
  else signal.addEventListener("abort", listener, { once: true });
  try {
    return await Promise.race([work, stopped]);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", listener);
    work.catch(() => {}); // an abandoned body's late failure is already accounted for
  }
}

/**
 * Runs `body` as one traced run: a failure (or cancellation) becomes a staged error recorded as
 * the trace's `error` event and closes what the body registered; then the spans still open are
 * ended and the diagnosis events added. Never throws what the body threw.
 *
 * @example
 * ```ts
 * const outcome = await runLifecycle({ tracer, signal, grade: false }, async (run) => {
 *   const client = await connect({ host, tracer: run.tracer, signal: run.signal });
 *   run.closeOnStop(() => client.transport.close());
 *   try { return await client.exec("uptime"); } finally { await client.close(); }
 * });
 * const report = outcome.report({ host, port: 22 });
 * ```
 */
export async function runLifecycle<T>(
  options: RunOptions,
  body: (run: RunContext) => Promise<T>,
): Promise<RunOutcome<T>> {
  const { tracer, signal } = options;
  const closers = new Set<() => void>();
  const closeAll = () => {
    for (const close of [...closers]) {
      closers.delete(close);
      try {
        close();
      } catch {
        // already closed
      }
    }
  };
  const stopListening = onAbort(signal, closeAll);
  const context: RunContext = {
    tracer,
    signal,
    closeOnStop(close) {
      closers.add(close);
      if (signal?.aborted) closeAll();
      return () => closers.delete(close);
    },
  };
  let value: T | undefined;
  let error: SshError | null = null;
  try {
    signal?.throwIfAborted();
    value = await untilStopped(body(context), signal);
  } catch (e) {
    error = failureOf(e, signal, openStage(tracer));
    tracer.emit({
      stage: error.stage === "usage" ? "connect" : error.stage,
      type: "error",
      code: error.code,
      message: error.message,
    });
    closeAll();
  } finally {
    stopListening();
    closers.clear();
  }
  tracer.endAll();
  emitDiagnostics(tracer, { grade: options.grade });
  // The failure catalogue, which the report and the human trace explain a failure with, is
  // loaded only when there is a failure to explain.
  if (error) await loadExplainer();
  return {
    value,
    error,
    tracer,
    report: (target, exitCode) =>
      buildReport(tracer.events, {
        host: target.host,
        port: target.port,
        user: target.user,
        error,
        timings: tracer.timings,
        channelTimings: tracer.channelTimings,
        exitCode,
      }),
  };
}
