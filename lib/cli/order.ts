/**
 * The order of `-o`, `-p` and `-l` on the command line: ssh(1) keeps the first value of each
 * setting, so the settings and `sshtrace -G` need the order they were given in, which the flags
 * (one value per option, or a list per option) do not keep.
 * @module
 */

import type { OptionUse } from "./parse_argv.ts";

/** One of `-o`, `-p`, `-l` as given on the command line. */
export interface CommandLineValue {
  kind: "option" | "port" | "user";
  value: string;
  flag: string;
}

/** By long name: `-o, --option`, `-p, --port` (`-P, --port` of get/put), `-l, --login`. */
const ORDERED = new Map<string, CommandLineValue["kind"]>([
  ["option", "option"],
  ["port", "port"],
  ["login", "user"],
]);

/** The `-o`/`-p`/`-l` values among the options given (lib/cli/parse_argv.ts), in order. */
export function orderedValues(uses: readonly OptionUse[]): CommandLineValue[] {
  const out: CommandLineValue[] = [];
  for (const { option, value } of uses) {
    // check's `--login` is a switch.
    const kind = option.long !== undefined ? ORDERED.get(option.long) : undefined;
    if (kind === undefined || value === undefined) continue;
    out.push({ kind, value, flag: `-${option.short ?? option.long![0]}` });
  }
  return out;
}
