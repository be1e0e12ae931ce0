/**
 * Machine-readable output: trace events as NDJSON (one JSON object per line) and the report as
 * pretty JSON. JSON escapes every control character, so peer text cannot reach the terminal raw.
 * @module
 */

import type { TraceSink } from "../trace.ts";
import type { Report } from "./report.ts";

/** A sink writing each event as one JSON line. */
export function createNdjsonSink(write: (text: string) => void): TraceSink {
  return (event) => write(JSON.stringify(event) + "\n");
}

/** The report as pretty JSON (2-space indent), ending in a newline. */
export function reportToJson(report: Report): string {
  return JSON.stringify(report, null, 2) + "\n";
}
