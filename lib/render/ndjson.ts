/**
 * Machine-readable output: trace events as NDJSON (one JSON object per line) and the report as
 * pretty JSON. Both go through {@link toJson}: every control character (C0 and C1), bidi control
 * and line separator in peer text is a `\uXXXX` escape, so printing the output cannot drive or
 * reorder a terminal.
 * @module
 */

import type { TraceSink } from "../trace.ts";
import type { Report } from "./report.ts";
import { toJson } from "./sanitize.ts";

/** A sink writing each event as one JSON line. */
export function createNdjsonSink(write: (text: string) => void): TraceSink {
  return (event) => write(toJson(event) + "\n");
}

/** The report as pretty JSON (2-space indent), ending in a newline. */
export function reportToJson(report: Report): string {
  return toJson(report, 2) + "\n";
}
