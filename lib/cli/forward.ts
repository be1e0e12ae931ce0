/**
 * The CLI side of port forwarding: `-L` / LocalForward started once logged in (a bind failure
 * ends the run, as ssh -o ExitOnForwardFailure=yes does), and `-N`: hold the connection open
 * for the forwards until the server ends it or the user presses Ctrl-C.
 * @module
 */

import type { Client } from "../client.ts";
import type { LocalForward } from "../forward/local.ts";
import { forwardText, parseForwardSpec } from "../forward/spec.ts";

/** Parses every -L specification (a usage error before connecting when one is malformed). */
export function localForwardSpecs(specs: readonly string[] | undefined) {
  return (specs ?? []).map((s) => parseForwardSpec(s));
}

/** Starts the forwards on a logged-in client; on a failure the ones started are closed. */
export function startLocalForwards(
  client: Client,
  specs: ReturnType<typeof localForwardSpecs>,
): LocalForward[] {
  const started: LocalForward[] = [];
  try {
    for (const spec of specs) {
      const forward = client.forwardLocal(spec);
      started.push(forward);
      client.tracer.emit({
        stage: "session",
        type: "info",
        message: `forwarding ${forwardText(spec, forward.port)} through the server`,
      });
    }
  } catch (e) {
    for (const f of started) f.close();
    throw e;
  }
  return started;
}

/**
 * `-N`: waits until the connection ends. A clean end by the server resolves; an error (or the
 * run's cancellation, which closes the connection) rejects with it.
 */
export async function holdOpen(client: Client): Promise<void> {
  const error = await client.connection.finished;
  if (error) throw error;
}
