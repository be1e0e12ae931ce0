/**
 * The failure explanation, for the renderers, without loading the failure catalogue (17 modules)
 * on a run that succeeds: lib/diagnose/explain.ts registers {@link explainFailure} here when it
 * is loaded (lib/mod.ts and the doctor load it statically), and a run that ends in a failure
 * loads it first with {@link loadExplainer} (lib/run.ts does, for every run it drives).
 * @module
 */

import type { SshError } from "../errors/mod.ts";
import type { TraceEvent } from "../trace.ts";
import type { Explanation } from "./explain.ts";

type Explain = (error: SshError, events?: readonly TraceEvent[]) => Explanation;

let registered: Explain | null = null;

/** Called by lib/diagnose/explain.ts as it loads. */
export function provideExplainer(explain: Explain): void {
  registered = explain;
}

/** Loads the failure catalogue (once), so {@link explainLoaded} can explain a failure. */
export async function loadExplainer(): Promise<void> {
  if (!registered) await import("./explain.ts");
}

/**
 * `explainFailure(error, events)` (lib/diagnose/explain.ts), which must have been loaded: by
 * {@link loadExplainer} on the failure's way out, or by a static import of explain.ts.
 */
export function explainLoaded(error: SshError, events: readonly TraceEvent[] = []): Explanation {
  if (!registered) {
    throw new Error(
      `internal error: failure ${error.code} reached a renderer before the failure catalogue ` +
        "was loaded (await loadExplainer() on the failure's way out)",
    );
  }
  return registered(error, events);
}
