/**
 * The command line of sshtrace: parses it (`parseArgs` from `node:util`, a Deno built-in) with
 * the command table of lib/cli/commands.ts, which also drives the help text (lib/cli/help.ts).
 * Commander, used before, cost ~37 ms of every start (BENCHMARKS.md). Pure: returns what to run
 * or throws a `usage` {@link SshError}; main.ts runs it.
 * @module
 */

import { parseArgs } from "node:util";
import { SshError } from "../errors/mod.ts";
import { SSHTRACE_VERSION } from "../about.ts";
import { type CommandLineValue, orderedValues } from "./order.ts";
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
/** The option's name for parseArgs: its long name, or its letter when it has none. */
const nameOf = (o: OptionSpec) => o.long ?? o.short!;
/** Its key in the flags: `passwordEnv` for `--password-env`, `C` for `-C`. */
const keyOf = (o: OptionSpec) => o.long ? camel(o.long) : o.short!;

/**
 * The option `arg` is when it needs the next word as its value (`--port`, `-p`, `-vp`), else
 * undefined (`--port=22`, `-p22`, a switch, an unknown option).
 */
function takesNextWord(arg: string, options: readonly OptionSpec[]): OptionSpec | undefined {
  if (arg.startsWith("--")) {
    if (arg.includes("=")) return undefined;
    const o = options.find((o) => o.long === arg.slice(2));
    return o?.value ? o : undefined;
  }
  for (let k = 1; k < arg.length; k++) {
    const o = options.find((o) => o.short === arg[k]);
    if (!o) return undefined;
    if (o.value) return k === arg.length - 1 ? o : undefined; // `-p22`: the rest is the value
  }
  return undefined;
}

/**
 * Splits `args` into options (each with its value attached: `--port=2222`, so a value starting
 * with `-`, like `--kex -x`, is a value as in commander and ssh) and positional words. `--` ends
 * the options. With `passThrough` (connect), options may also follow the first positional word
 * (the target), and the next positional word starts the remote command: it and everything after
 * it are positional, even words starting with `-`.
 */
function splitArgs(
  args: readonly string[],
  options: readonly OptionSpec[],
  passThrough: boolean,
): { optionArgs: string[]; positionals: string[] } {
  const optionArgs: string[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg.length < 2 || !arg.startsWith("-")) {
      positionals.push(arg);
      if (passThrough && positionals.length > 1) {
        positionals.push(...args.slice(i + 1));
        break;
      }
      continue;
    }
    const o = takesNextWord(arg, options);
    if (!o) {
      optionArgs.push(arg);
      continue;
    }
    if (i + 1 >= args.length) throw usage(`option '${termOf(o)}' argument missing`);
    const value = args[++i]!;
    // `-vp 2222` → `-v --port=2222`.
    if (!arg.startsWith("--") && arg.length > 2) optionArgs.push(arg.slice(0, -1));
    optionArgs.push(o.long ? `--${o.long}=${value}` : `-${o.short}${value}`);
  }
  return { optionArgs, positionals };
}

/** Commander's hint for a mistyped long option: ` (Did you mean --json?)`. */
function suggestion(word: string, options: readonly OptionSpec[]): string {
  let best = 3; // at most 3 edits away
  let similar: string[] = [];
  for (const o of options) {
    if (!o.long || o.long.length < 2) continue;
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

/** A parseArgs error (code ERR_PARSE_ARGS_*) as a one-line usage error. */
function parseArgsError(e: unknown, options: readonly OptionSpec[]): SshError {
  const { code, message = "" } = e as { code?: string; message?: string };
  if (typeof code !== "string" || !code.startsWith("ERR_PARSE_ARGS_")) throw e;
  // Node quotes the option: "Unknown option '--foo'", "Option '-v, --verbose' does not take...".
  const quoted = /'(-[^']*)'/.exec(message)?.[1] ?? "";
  const name = quoted.split(/[ ,]+/).find((w) => w.startsWith("--")) ?? quoted.split(" ")[0]!;
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && name) {
    const suggest = name.startsWith("--") ? suggestion(name.slice(2), options) : "";
    return usage(`unknown option '${name}'${suggest}`);
  }
  if (name && /does not take an argument/.test(message)) {
    return usage(`option '${name}' does not take a value`);
  }
  const o = options.find((o) => name === `--${o.long}` || name === `-${o.short}`);
  if (o && /argument missing/.test(message)) return usage(`option '${termOf(o)}' argument missing`);
  const line = message.split("\n")[0] || "invalid arguments";
  return usage(line.charAt(0).toLowerCase() + line.slice(1));
}

function parseCommand(
  name: CommandName,
  args: readonly string[],
  implicit: boolean,
):
  | { name: "help" | "version"; text: string }
  | { flags: Record<string, unknown>; positionals: string[]; optionArgs: string[] } {
  const spec: CommandSpec = COMMANDS[name];
  // Without a command word, -h and -V are the program's (sshtrace -V, sshtrace host -h).
  const options: readonly OptionSpec[] = implicit
    ? [...spec.options, VERSION, HELP]
    : [...spec.options, HELP];
  const { optionArgs, positionals } = splitArgs(args, options, name === "connect");
  const config = Object.fromEntries(options.map((o) => [nameOf(o), {
    type: o.value ? "string" as const : "boolean" as const,
    multiple: Boolean(o.repeat || o.count),
    ...(o.long && o.short ? { short: o.short } : {}),
  }]));
  let values: Record<string, string | boolean | (string | boolean)[] | undefined> = {};
  let error: SshError | undefined;
  try {
    values = parseArgs({
      args: [...optionArgs, "--", ...positionals],
      options: config,
      strict: true,
      allowPositionals: true,
    }).values;
  } catch (e) {
    error = parseArgsError(e, options);
  }
  // parseArgs takes `--C` for `-C`: an option without a long name has only its short form.
  const shortOnly = optionArgs.find((a) => options.some((o) => !o.long && a === `--${o.short}`));
  if (shortOnly) error ??= usage(`unknown option '${shortOnly}'`);
  if (error) {
    // Help wins over other mistakes, as it did with commander.
    if (!optionArgs.includes("-h") && !optionArgs.includes("--help")) throw error;
    values = { help: true };
  }
  if (values.help) {
    return { name: "help", text: implicit ? programHelp() : commandHelp(name) };
  }
  if (values.version) return { name: "version", text: `${SSHTRACE_VERSION}\n` };

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

  const flags: Record<string, unknown> = {};
  for (const o of spec.options) {
    const key = keyOf(o);
    const v = values[nameOf(o)];
    if (o.count) flags[key] = Array.isArray(v) ? v.length : 0;
    else if (o.repeat) flags[key] = v ?? [];
    else if (v !== undefined) flags[key] = v;
    else if (o.default !== undefined) flags[key] = o.default;
  }
  return { flags, positionals, optionArgs };
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
  const order = name === "lab" ? [] : orderedValues(
    r.optionArgs,
    (letter) =>
      (COMMANDS[name].options as readonly OptionSpec[]).some((o) =>
        o.short === letter && o.value !== undefined
      ),
  );
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
