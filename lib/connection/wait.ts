/**
 * Small promise helpers of the connection layer: a deferred promise, a bounded wait for the
 * peer's answer, and turning anything thrown into an Error.
 * @module
 */

import { SshError } from "../errors/mod.ts";

/** A promise with its settle functions. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
}

export const noop = () => {};

/** A promise with its settle functions; marked handled so an unawaited rejection is harmless. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(noop);
  return { promise, resolve, reject };
}

/** What {@link orLate} gives when time ran out. */
export const LATE = Symbol("late");

/** `promise`'s outcome, or {@link LATE} after `ms` (0: waits as long as it takes). */
export function orLate<T>(promise: Promise<T>, ms: number): Promise<T | typeof LATE> {
  if (ms <= 0) return promise;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<typeof LATE>((resolve) => (timer = setTimeout(resolve, ms, LATE)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

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

/** Turns anything thrown into an Error. */
export function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
