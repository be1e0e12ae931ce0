/** The CLI's output channels: the human trace on stderr, NDJSON events on stdout. @module */

import { useColor } from "../render/color.ts";
import { createHumanRenderer, type HumanRenderer } from "../render/human.ts";
import { createNdjsonSink } from "../render/ndjson.ts";
import { Tracer } from "../trace.ts";
import { platform } from "../platform/mod.ts";
import { usageError } from "../config/options.ts";

const encoder = new TextEncoder();
export const writeErr = (text: string): void =>
  void platform.stderr.writeSync(encoder.encode(text));
export const writeOut = (text: string): void =>
  void platform.stdout.writeSync(encoder.encode(text));

/** The output flags every command shares. */
export interface OutputFlags {
  verbose: number;
  quiet?: true;
  ndjson?: true;
  /** `-E FILE`: the human trace is appended to this file instead of stderr (no colour). */
  E?: string;
}

/**
 * A tracer wired to the renderers the flags ask for. `-vv` turns packet events on (for the
 * human trace and NDJSON alike); the tracer keeps the first 100 of each stage and sums up the
 * rest in one line when the stage ends, so a long download's trace stays short.
 */
export function makeOutput(flags: OutputFlags): { tracer: Tracer; human: HumanRenderer } {
  const tracer = new Tracer({ packets: flags.verbose >= 2 });
  const file = flags.E;
  if (file !== undefined) {
    try {
      platform.appendTextSync(file, "");
    } catch (e) {
      throw usageError(`-E ${file}: cannot write the trace file: ${(e as Error).message}`);
    }
  }
  const human = createHumanRenderer({
    write: file === undefined ? writeErr : (text) => platform.appendTextSync(file, text),
    color: file === undefined && useColor(platform.stderr.isTerminal()),
    verbosity: Math.min(flags.verbose, 2) as 0 | 1 | 2,
    quiet: flags.quiet ?? false,
  });
  tracer.addSink(human.sink);
  if (flags.ndjson) tracer.addSink(createNdjsonSink(writeOut));
  return { tracer, human };
}

/** An environment variable, or undefined (also without env permission). */
export function env(name: string): string | undefined {
  return platform.env(name);
}

/**
 * The output flags with ssh_config's LogLevel applied where no flag says otherwise: QUIET,
 * FATAL and ERROR show only failures (-q), DEBUG/DEBUG1 is -v, DEBUG2 and DEBUG3 are -vv.
 */
export function outputFlags<F extends { verbose: number; quiet?: true }>(
  flags: F,
  logLevel: string | undefined,
): F {
  if (!logLevel || flags.verbose > 0 || flags.quiet) return flags;
  if (["QUIET", "FATAL", "ERROR"].includes(logLevel)) return { ...flags, quiet: true };
  if (logLevel === "DEBUG" || logLevel === "DEBUG1") return { ...flags, verbose: 1 };
  if (logLevel === "DEBUG2" || logLevel === "DEBUG3") return { ...flags, verbose: 2 };
  return flags;
}
