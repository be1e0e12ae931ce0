/**
 * A bounded wait for the peer's answer (the connection layer's; the general promise helpers are
 * in lib/async.ts).
 * @module
 */

import { LATE, orLate } from "../async.ts";
import { SshError } from "../errors/mod.ts";

/**
 * Bounds a wait for the peer's answer. A late answer still settles its (already rejected)
 * deferred in order, so replies stay matched to requests.
 */
export function withReplyTimeout<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
  peer = "server",
): Promise<T> {
  if (ms <= 0) return promise;
  return orLate(promise, ms).then((outcome) => {
    if (outcome !== LATE) return outcome;
    throw new SshError(
      "session",
      "session.timeout",
      `no answer from the ${peer} to ${what} within ${ms / 1000} s`,
      { timeoutMs: ms },
    );
  });
}
