/**
 * The staged error every layer throws: a code from the table (./codes.ts), the stage it
 * follows from, and details of the type the table gives that code.
 * @module
 */

import { exitCodeFor } from "../types.ts";
import type { DetailsOf, ErrorCode, ErrorDetails, StageOf } from "./codes.ts";

/** The arguments after the message: details (optional when the code's type allows `{}`). */
export type DetailsArgs<C extends ErrorCode> = Record<never, never> extends DetailsOf<C>
  ? [details?: DetailsOf<C>, options?: ErrorOptions]
  : [details: DetailsOf<C>, options?: ErrorOptions];

/**
 * The details of an error of code `C`: the table's type for `C`, readable as plain data too
 * (an error caught as `SshError` has the union of every code's details).
 */
export type ErrorDetailsOf<C extends ErrorCode> = DetailsOf<C> & ErrorDetails;

/**
 * A failure at a named stage. `code` is a stable identifier (e.g. `kex.no-common-cipherC2S`)
 * used by the failure catalogue; the compiler checks `stage` (the code's prefix) and `details`
 * (the type the table gives the code) at every `new`. `details` carries the same data as the
 * event emitted before it. The message may quote the server's words as sent: print it through
 * `sanitize()` (lib/render/sanitize.ts), as the CLI does.
 *
 * @example
 * ```ts
 * new SshError("connect", "connect.refused", "connection refused", { host, port });
 * ```
 */
export class SshError<C extends ErrorCode = ErrorCode> extends Error {
  override name = "SshError";
  readonly stage: StageOf<C>;
  readonly code: C;
  readonly details: ErrorDetailsOf<C>;

  constructor(stage: StageOf<C>, code: C, message: string, ...[details, options]: DetailsArgs<C>) {
    super(message, options);
    this.stage = stage;
    this.code = code;
    this.details = (details ?? {}) as ErrorDetailsOf<C>;
  }

  get exitCode(): number {
    return exitCodeFor(this.stage, this.code);
  }
}
