/**
 * The command line of sshtrace: parses it (lib/cli/parse_argv.ts) with the command table of
 * lib/cli/commands.ts, which also drives the help text (lib/cli/help.ts). Commander, used before,
 * cost ~37 ms of every start, and `parseArgs` of `node:util` ~5–7 ms (BENCHMARKS.md). Pure:
 * returns what to run or throws a `usage` {@link SshError}; main.ts runs it.
 * @module
 */

import { SshError } from "../errors/mod.ts";
import { SSHTRACE_VERSION } from "../about.ts";
import { type CommandLineValue, orderedValues } from "./order.ts";
import { type ArgvProblem, type OptionUse, parseArgv } from "./parse_argv.ts";
import {
  type CommandName,
  COMMANDS,
  type CommandSpec,
  HELP,
  type OptionSpec,
  termOf,
  type TRANSFER_OPTIONS,
  VERSION,
} from "./commands.ts";
import { commandHelp, programHelp } from "./help.ts";

// The flag types follow from the tables: `--password-env <VAR>` gives `passwordEnv?: string`.
type Camel<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<Camel<T>>}`
  : S;
type KeyOf<O> = O extends { long: infer L extends string } ? Camel<L>
  : O extends { short: infer S extends string } ? S
  : never;
type ValueOf<O> = O extends { count: true } ? number
  : O extends { repeat: true } ? string[]
  : O extends { value: string } ? string
  : true;
type HasDefault<O> = O extends { count: true } | { repeat: true } | { default: string } ? true
  : false;
type FlagsOf<T extends readonly OptionSpec[]> =
  & { [O in T[number] as HasDefault<O> extends true ? KeyOf<O> : never]: ValueOf<O> }
  & { [O in T[number] as HasDefault<O> extends true ? never : KeyOf<O>]?: ValueOf<O> };

export type ProbeFlags = FlagsOf<typeof COMMANDS.probe.options>;
export type ConnectCliFlags = FlagsOf<typeof COMMANDS.connect.options>;
export type SendCliFlags = FlagsOf<typeof COMMANDS.send.options>;
export type NetconfCliFlags = FlagsOf<typeof COMMANDS.netconf.options>;
export type CheckCliFlags = FlagsOf<typeof COMMANDS.check.options>;
export type LabCliFlags = FlagsOf<typeof COMMANDS.lab.options>;
export type TransferCliFlags = FlagsOf<typeof TRANSFER_OPTIONS>;
export type DoctorCliFlags = FlagsOf<typeof COMMANDS.doctor.options>;

/** What the command line asks for. */
export type ParsedCommand =
  | { name: "help" | "version"; text: string }
  | { name: "probe"; target: string; flags: ProbeFlags; order: CommandLineValue[] }
  | {
    name: "connect";
    target: string;
    command: string[];
    flags: ConnectCliFlags;
    order: CommandLineValue[];
  }
  | {
    name: "send";
    target: string;
    commands: string[];
    flags: SendCliFlags;
    order: CommandLineValue[];
  }
  | { name: "check"; inventory: string; flags: CheckCliFlags; order: CommandLineValue[] }
  | { name: "netconf"; target: string; flags: NetconfCliFlags; order: CommandLineValue[] }
  | { name: "lab"; flags: LabCliFlags }
  | {
    name: "doctor";
    target: string;
    command: string[];
    flags: DoctorCliFlags;
    order: CommandLineValue[];
  }
  | {
    name: "get" | "put";
    remote: string;
    local: string;
    flags: TransferCliFlags;
    order: CommandLineValue[];
  }
  | {
    name: "config";
    target: string;
    flags: ConnectCliFlags;
    /** `-o`, `-p`, `-l` in the order given: OpenSSH keeps the first value. */
    order: CommandLineValue[];
  };

// ---------------------------------------------------------------------------------------------
// Parsing

const usage = (message: string) => new SshError("usage", "usage.invalid", message);

const isCommand = (word: string): word is CommandName => Object.hasOwn(COMMANDS, word);
const camel = (s: string) => s.replace(/-(.)/g, (_, c: string) => c.toUpperCase());
/** Its key in the flags: `passwordEnv` for `--password-env`, `C` for `-C`. */
const keyOf = (o: OptionSpec) => o.long ? camel(o.long) : o.short!;

/** Commander's hint for a mistyped long option: ` (Did you mean --json?)`. */
function suggestion(word: string, options: readonly OptionSpec[]): string {
  let best = 3; // at most 3 edits away
  let similar: string[] = [];
  for (const o of options) {
    if (!o.long || o.long.length < 2) continue;
    // At least as many edits as the lengths differ: a long word costs no table.
    if (Math.abs(word.length - o.long.length) > best) continue;
    const d = editDistance(word, o.long);
    const length = Math.max(word.length, o.long.length);
    if ((length - d) / length <= 0.4) continue;
    if (d < best) [best, similar] = [d, [o.long]];
    else if (d === best) similar.push(o.long);
  }
  const names = similar.sort().map((s) => `--${s}`);
  if (names.length === 0) return "";
  return names.length === 1
    ? ` (Did you mean ${names[0]}?)`
    : ` (Did you mean one of ${names.join(", ")}?)`;
}

/** Edit distance counting insertions, deletions, substitutions and adjacent transpositions. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** A command-line problem (lib/cli/parse_argv.ts) as a one-line usage error. */
function problemError(problem: ArgvProblem, options: readonly OptionSpec[]): SshError {
  switch (problem.kind) {
    case "unknown option": {
      const { name, word } = problem;
      // A dash inside a group (`-v-`) is not the `--` that ends the options.
      if (name === "--") return usage(`unknown option '-' in '${word}'`);
      const suggest = name.startsWith("--") ? suggestion(name.slice(2), options) : "";
      return usage(`unknown option '${name}'${suggest}`);
    }
    case "unexpected value":
      return usage(`option '${problem.name}' does not take a value`);
    case "missing value":
      return usage(`option '${termOf(problem.option)}' argument missing`);
  }
}

function parseCommand(
  name: CommandName,
  args: readonly string[],
  implicit: boolean,
):
  | { name: "help" | "version"; text: string }
  | { flags: Record<string, unknown>; positionals: readonly string[]; uses: readonly OptionUse[] } {
  const spec: CommandSpec = COMMANDS[name];
  // Without a command word, -h and -V are the program's (sshtrace -V, sshtrace host -h).
  const options: readonly OptionSpec[] = implicit
    ? [...spec.options, VERSION, HELP]
    : [...spec.options, HELP];
  const { uses, positionals, problem } = parseArgv(args, options, name === "connect");
  const given = (o: OptionSpec) => uses.some((u) => u.option === o);
  // Help wins over other mistakes, as it did with commander; a missing value does not.
  if (problem && (problem.kind === "missing value" || !given(HELP))) {
    throw problemError(problem, options);
  }
  if (given(HELP)) return { name: "help", text: implicit ? programHelp() : commandHelp(name) };
  if (given(VERSION)) return { name: "version", text: `${SSHTRACE_VERSION}\n` };

  spec.args.forEach((a, k) => {
    if (a.required && positionals.length <= k) throw usage(`missing required argument '${a.name}'`);
  });
  const max = spec.args.length;
  if (!spec.args.some((a) => a.variadic) && positionals.length > max) {
    throw usage(
      `too many arguments for '${name}'. Expected ${max} argument${max === 1 ? "" : "s"} ` +
        `but got ${positionals.length}: ${positionals.join(", ")}.`,
    );
  }

  // Values by flag key; a later value replaces an earlier one.
  const values = new Map<string, OptionUse[]>();
  for (const u of uses) {
    const key = keyOf(u.option);
    const list = values.get(key);
    if (list) list.push(u);
    else values.set(key, [u]);
  }
  const flags: Record<string, unknown> = {};
  for (const o of spec.options) {
    const key = keyOf(o);
    const used = values.get(key);
    if (o.count) flags[key] = used?.length ?? 0;
    else if (o.repeat) flags[key] = used?.map((u) => u.value) ?? [];
    else if (used) flags[key] = used.at(-1)!.value ?? true;
    else if (o.default !== undefined) flags[key] = o.default;
  }
  return { flags, positionals, uses };
}

/**
 * Parses the command line (without the program name): the command, its arguments and flags (the
 * keys commander produced: camelCase long names, `C`/`t`/`T` for the short-only switches,
 * defaults filled in), or help or version text to print. Throws a usage SshError for an
 * unknown option, a missing value or argument, or an extra argument.
 */
export function parseCommandLine(args: readonly string[]): ParsedCommand {
  const first = args[0];
  if (first === "help") {
    const topic = args[1];
    if (topic === undefined || topic === "help") return { name: "help", text: programHelp() };
    if (!isCommand(topic)) throw usage(`unknown command '${topic}'`);
    return { name: "help", text: commandHelp(topic) };
  }
  // `sshtrace scp …` would log in to a host named "scp": point at the transfer commands.
  if (first === "scp" || first === "sftp") {
    throw usage(
      `"${first}" is not a command: copy files with sshtrace get [user@]host:REMOTE [LOCAL] ` +
        `or sshtrace put LOCAL [user@]host:REMOTE (--protocol ${first} to force ${first})`,
    );
  }
  const name: CommandName = first !== undefined && isCommand(first) ? first : "connect";
  const implicit = name !== first;
  const r = parseCommand(name, implicit ? args : args.slice(1), implicit);
  if ("text" in r) return r;
  const [p0 = "", ...rest] = r.positionals;
  // `-o`, `-p`, `-l` in the order given: ssh_config keeps the first value of each.
  const order = name === "lab" ? [] : orderedValues(r.uses);
  switch (name) {
    case "probe":
      return { name, target: p0, flags: r.flags as ProbeFlags, order };
    case "connect": {
      const flags = r.flags as ConnectCliFlags;
      if (flags.G) return { name: "config", target: p0, flags, order };
      return { name, target: p0, command: rest, flags, order };
    }
    case "send":
      return { name, target: p0, commands: rest, flags: r.flags as SendCliFlags, order };
    case "netconf":
      return { name, target: p0, flags: r.flags as NetconfCliFlags, order };
    case "check":
      return { name, inventory: p0, flags: r.flags as CheckCliFlags, order };
    case "lab":
      return { name, flags: r.flags as LabCliFlags };
    case "get":
      return {
        name,
        remote: p0,
        local: rest[0] ?? ".",
        flags: r.flags as TransferCliFlags,
        order,
      };
    case "put":
      return {
        name,
        remote: rest[0]!,
        local: p0,
        flags: r.flags as TransferCliFlags,
        order,
      };
    case "doctor":
      return { name, target: p0, command: rest, flags: r.flags as DoctorCliFlags, order };
  }
}
