/**
 * Errors built from untyped parts, past the table's checks: for tests that feed the renderers
 * and the diagnosis what a bug or a newer version could produce (codes outside the table, odd
 * details, details left out).
 * @module
 */

import { type DetailsOf, type ErrorCode, SshError } from "../../lib/errors/mod.ts";
import type { Stage } from "../../lib/types.ts";

/** A `SshError` whose code and details the compiler does not check. */
export function untypedError(
  stage: Stage | "usage",
  code: string,
  message: string,
  details: Record<string, unknown> = {},
  options?: ErrorOptions,
): SshError {
  return new SshError(
    stage,
    code as ErrorCode,
    message,
    details as DetailsOf<ErrorCode>,
    options,
  );
}
