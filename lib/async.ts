/**
 * Small promise helpers used across the layers: a deferred promise, a wait with a time limit,
 * and turning anything thrown into an Error. No imports, so any module (the start-up graph of
 * every command included) may use it without pulling in a layer.
 * @module
 */

/** A promise with its settle functions. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
}

/** Does nothing (a `.catch(noop)` marks a rejection as handled). */
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

/**
 * `promise`'s outcome (its value, or its rejection), or {@link LATE} after `ms` (0: waits as
 * long as it takes). The timer is cleared either way; a rejection after `ms` is left handled.
 */
export function orLate<T>(promise: Promise<T>, ms: number): Promise<T | typeof LATE> {
  if (ms <= 0) return promise;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<typeof LATE>((resolve) => (timer = setTimeout(resolve, ms, LATE)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Turns anything thrown into an Error. */
export function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
