/**
 * The command-line word splitter of sshtrace: options (with their values) and positional words,
 * by an option table (lib/cli/commands.ts). Pure, with no runtime import: it replaced `parseArgs`
 * of `node:util`, whose Node compatibility layer cost ~5–7 ms of CPU at every start (BENCHMARKS.md).
 * lib/cli/args.ts turns what it finds into flags, help, version and usage errors.
 *
 * The rules, as ssh(1), commander and parseArgs read a command line:
 * - `--name value`, `--name=value`; `-p value`, `-p22`; grouped switches `-vvq`, and a group may
 *   end with an option that takes a value: `-vp 22`, `-vp22`.
 * - A value is the next word whatever it is: `--kex -x`, `-l -h` and `-l ""` give `-x`, `-h`, "".
 * - `--` ends the options; `-` and the empty word are positional words.
 * - Options may come before, between and after positional words. With `passThrough` (a login's
 *   remote command) the second positional word ends the options: it and every word after it are
 *   positional, even words starting with `-`.
 * - A long name is matched exactly (no abbreviations); an option without a long name has only
 *   its short form (`-C`, not `--C`).
 * @module
 */

import type { OptionSpec } from "./commands.ts";

/** One option given on the command line, with its value (a switch has none). */
export interface OptionUse {
  readonly option: OptionSpec;
  readonly value?: string;
}

/** What is wrong with a command line, as data (lib/cli/args.ts words it). */
export type ArgvProblem =
  /** `name` as written (`--bogus`, `-Z`), in `word` (`-vZ`). */
  | { readonly kind: "unknown option"; readonly name: string; readonly word: string }
  /** A switch given a value: `--json=1` (`name` is `--json`). */
  | { readonly kind: "unexpected value"; readonly option: OptionSpec; readonly name: string }
  /** The command line ends where the option's value should be: `-p` as the last word. */
  | { readonly kind: "missing value"; readonly option: OptionSpec };

export interface ParsedArgv {
  /** Every option given, in command-line order (repeats included). */
  readonly uses: readonly OptionUse[];
  readonly positionals: readonly string[];
  /**
   * The first problem, or a missing value (only ever at the end), which wins over earlier
   * problems. The words after a bad one are still read: help asked for anywhere wins.
   */
  readonly problem?: ArgvProblem;
}

/** The character at `k` of `word`, a whole code point (for messages: `-😀`, not half of it). */
const charAt = (word: string, k: number) => String.fromCodePoint(word.codePointAt(k)!);

/** Splits `args` (the words after the command name) by the options of `options`. */
export function parseArgv(
  args: readonly string[],
  options: readonly OptionSpec[],
  passThrough = false,
): ParsedArgv {
  const byLong = new Map<string, OptionSpec>();
  const byShort = new Map<string, OptionSpec>();
  for (const o of options) {
    if (o.long !== undefined) byLong.set(o.long, o);
    if (o.short !== undefined) byShort.set(o.short, o);
  }
  const uses: OptionUse[] = [];
  const positionals: string[] = [];
  let problem: ArgvProblem | undefined;
  const report = (p: ArgvProblem) => void (problem ??= p);

  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    if (word === "--") {
      for (let j = i + 1; j < args.length; j++) positionals.push(args[j]!);
      break;
    }
    if (word.length < 2 || word[0] !== "-") {
      positionals.push(word);
      if (passThrough && positionals.length > 1) {
        for (let j = i + 1; j < args.length; j++) positionals.push(args[j]!);
        break;
      }
      continue;
    }
    if (word[1] === "-") {
      // `--name` or `--name=value` (an `=` right after the dashes is part of an unknown name).
      const eq = word.indexOf("=", 3);
      const name = eq < 0 ? word.slice(2) : word.slice(2, eq);
      const option = byLong.get(name);
      if (option === undefined) {
        report({ kind: "unknown option", name: `--${name}`, word });
      } else if (eq >= 0) {
        if (option.value === undefined) {
          report({ kind: "unexpected value", option, name: `--${name}` });
        } else uses.push({ option, value: word.slice(eq + 1) });
      } else if (option.value === undefined) uses.push({ option });
      else if (i + 1 < args.length) uses.push({ option, value: args[++i]! });
      else return { uses, positionals, problem: { kind: "missing value", option } };
      continue;
    }
    // `-v`, `-vvq`, `-p22`, `-vp 22`: switches, the first option taking a value ends the group.
    for (let k = 1; k < word.length; k++) {
      const option = byShort.get(word[k]!);
      if (option === undefined) {
        report({ kind: "unknown option", name: `-${charAt(word, k)}`, word });
        break; // the rest of a bad word means nothing
      }
      if (option.value === undefined) {
        uses.push({ option });
        continue;
      }
      if (k + 1 < word.length) uses.push({ option, value: word.slice(k + 1) });
      else if (i + 1 < args.length) uses.push({ option, value: args[++i]! });
      else return { uses, positionals, problem: { kind: "missing value", option } };
      break;
    }
  }
  return problem === undefined ? { uses, positionals } : { uses, positionals, problem };
}
