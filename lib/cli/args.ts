/**
 * The command line of sshtrace: every option described once, as data (the tables below), driving
 * both the parsing (`parseArgs` from `node:util`, a Deno built-in) and the help text. Commander,
 * used before, cost ~37 ms of every start (BENCHMARKS.md). Pure: returns what to run or throws a
 * `usage` {@link SshError}; main.ts runs it.
 * @module
 */

import { parseArgs } from "node:util";
import { SshError } from "../errors/mod.ts";
import { SSHTRACE_VERSION } from "../about.ts";
import { DEVICE_NAMES } from "../send/devices.ts";
import { type CommandLineValue, orderedValues } from "./order.ts";

// ---------------------------------------------------------------------------------------------
// The option tables

/** One command-line option. Its flag key is the camelCase of `long`, or `short` without one. */
interface OptionSpec {
  /** Long name without the dashes: `password-env` (flag key `passwordEnv`). */
  readonly long?: string;
  /** One letter: `p` for `-p`. */
  readonly short?: string;
  /** Placeholder of the value (`<port>`); without it the option is a switch (`true` or absent). */
  readonly value?: string;
  /** Repeatable: every value is collected into an array (default `[]`). */
  readonly repeat?: true;
  /** A counted switch: `-vv` and `-v -v` give 2 (default 0). */
  readonly count?: true;
  /** The value when the option is not given. */
  readonly default?: string;
  readonly help: string;
}

/** A positional argument, for the checks and the help text. */
interface ArgSpec {
  readonly name: string;
  readonly required: boolean;
  /** Takes all the remaining words. */
  readonly variadic: boolean;
  readonly help: string;
}

interface CommandSpec {
  readonly summary: string;
  readonly args: readonly ArgSpec[];
  readonly options: readonly OptionSpec[];
  /** A paragraph printed after the options in the command's help. */
  readonly note?: string;
}

/** Options every command but `lab` shares. */
const COMMON = [
  { short: "p", long: "port", value: "<port>", help: "port to connect to (default 22)" },
  { short: "l", long: "login", value: "<user>", help: "user name to log in as" },
  {
    short: "o",
    long: "option",
    value: "<Key=Value>",
    repeat: true,
    help: "OpenSSH option (repeatable)",
  },
  {
    long: "kex",
    value: "<list>",
    help: "key exchange algorithms: +a append, -a remove, ^a prepend, a,b replace",
  },
  { long: "hostkeys", value: "<list>", help: "host key algorithms (same syntax)" },
  { long: "ciphers", value: "<list>", help: "ciphers (same syntax)" },
  { long: "macs", value: "<list>", help: "MACs (same syntax)" },
  {
    long: "legacy",
    help: "also offer legacy algorithms (SHA-1, CBC, 3DES, MD5...) after modern ones",
  },
  {
    long: "timeout",
    value: "<seconds>",
    default: "10",
    help: "time budget of each stage (version, kex, each answer)",
  },
  { long: "json", help: "print one JSON report on stdout at the end" },
  { long: "ndjson", help: "print trace events as NDJSON on stdout as they happen" },
  {
    short: "v",
    long: "verbose",
    count: true,
    help: "more detail: full algorithm lists (-vv: packets)",
  },
  { short: "q", long: "quiet", help: "show only failures" },
  {
    short: "F",
    value: "<file>",
    help: "read this ssh_config (none: no file) instead of ~/.ssh/config and /etc/ssh/ssh_config",
  },
] as const satisfies readonly OptionSpec[];

/** `check` has a `--login` switch instead of `-l, --login <user>`. */
const COMMON_NO_LOGIN = COMMON.filter((
  o,
): o is Exclude<(typeof COMMON)[number], { long: "login" }> =>
  !("long" in o) || o.long !== "login"
);

/** `get`/`put` take `-P <port>` as scp does: `-p` keeps times and modes there. */
const COMMON_TRANSFER = [
  ...COMMON.filter((o): o is Exclude<(typeof COMMON)[number], { long: "port" }> =>
    !("long" in o) || o.long !== "port"
  ),
  { short: "P", long: "port", value: "<port>", help: "port to connect to (default 22)" },
] as const satisfies readonly OptionSpec[];

const IDENTITY = {
  short: "i",
  long: "identity",
  value: "<file>",
  repeat: true,
  help: "private key file (repeatable)",
} as const satisfies OptionSpec;

const SECRETS = [
  {
    long: "password-env",
    value: "<VAR>",
    help: "read the password from this environment variable",
  },
  { long: "password-file", value: "<file>", help: "read the password from this file" },
  {
    long: "passphrase-env",
    value: "<VAR>",
    help: "read key passphrases from this environment variable",
  },
  { long: "passphrase-file", value: "<file>", help: "read key passphrases from this file" },
] as const satisfies readonly OptionSpec[];

const BATCH = {
  long: "batch",
  help: "never prompt (like -o BatchMode=yes)",
} as const satisfies OptionSpec;

const TARGET = {
  name: "target",
  required: true,
  variadic: false,
  help: "[user@]host[:port]",
} as const satisfies ArgSpec;

const TRANSFER_OPTIONS = [
  ...COMMON_TRANSFER,
  { short: "r", long: "recursive", help: "copy directories" },
  { short: "p", long: "preserve", help: "keep modification times and modes (like scp -p)" },
  {
    long: "protocol",
    value: "<name>",
    default: "auto",
    help: "sftp, scp or auto (SFTP when the server has it, else SCP; the choice is traced)",
  },
  {
    long: "verify",
    help: "compare SHA-256 of both sides afterwards (sha256sum on the host, or read back)",
  },
  {
    long: "resume",
    help: "continue a partial copy (SFTP): from the temporary .NAME.sshtrace-part",
  },
  IDENTITY,
  ...SECRETS,
  BATCH,
] as const satisfies readonly OptionSpec[];

const TRANSFER_NOTE = "Files are written under a temporary name (.NAME.sshtrace-part) and " +
  "renamed when complete, so an interrupted copy (Ctrl-C: exit 130) never leaves a truncated " +
  "file under the final name. Names a server sends during -r are checked: `..`, absolute paths " +
  "and `/` inside a name are refused.";

const COMMANDS = {
  probe: {
    summary: "connect, negotiate and check the host key without credentials; list auth methods",
    args: [TARGET],
    options: [...COMMON, {
      long: "deep",
      help: "every host key, every listed algorithm offered alone, Terrapin, vendor, full grade " +
        "(many connections)",
    }, {
      long: "policy",
      value: "<file>",
      help: "check the server against a policy (JSON, or builtin:modern-hardened, " +
        "builtin:legacy-switch-minimum); exit 3 when a rule fails (implies --deep)",
    }, {
      long: "make-policy",
      value: "<file>",
      help: "write a policy this server passes, from it as the reference (implies --deep)",
    }],
  },
  connect: {
    summary: "log in and open a shell, or run a command (the default command)",
    args: [TARGET, {
      name: "command",
      required: false,
      variadic: true,
      help: "command to run instead of a shell",
    }],
    options: [
      ...COMMON,
      IDENTITY,
      { short: "C", help: "request compression (zlib@openssh.com, like ssh -C)" },
      { short: "t", help: "force a pty" },
      { short: "T", help: "disable pty allocation" },
      { short: "s", help: "the command is a subsystem name (e.g. netconf, sftp), like ssh -s" },
      { short: "4", help: "IPv4 addresses only (AddressFamily inet)" },
      { short: "6", help: "IPv6 addresses only (AddressFamily inet6)" },
      {
        short: "b",
        value: "<address>",
        help: "local address to connect from (BindAddress; refused: not implemented yet)",
      },
      {
        short: "e",
        value: "<char>",
        help: "escape character of a terminal session (EscapeChar; default ~, none: no escapes)",
      },
      { short: "E", value: "<file>", help: "append the trace to this file instead of stderr" },
      {
        short: "N",
        help: "no command and no shell: log in and stay connected until the server closes or " +
          "Ctrl-C",
      },
      { short: "n", help: "stdin from /dev/null (no input is sent; no pty unless -t)" },
      ...SECRETS,
      { long: "rekey-limit", value: "<size>", help: "rekey after this much data (e.g. 1G, 500M)" },
      BATCH,
      {
        short: "L",
        value: "<[bind:]port:host:hostport>",
        repeat: true,
        help: "forward a local port to host:hostport as the server sees it (like ssh -L)",
      },
      {
        short: "R",
        value: "<[bind:]port:host:hostport>",
        repeat: true,
        help: "have the server listen on port and forward to host:hostport as seen from here " +
          "(like ssh -R)",
      },
      {
        short: "D",
        value: "<[bind:]port>",
        repeat: true,
        help: "run a SOCKS4/5 proxy on port whose connections go out from the server (like " +
          "ssh -D)",
      },
      {
        short: "A",
        help: "forward the ssh-agent ($SSH_AUTH_SOCK) to the sessions; the server can use its " +
          "keys while connected (like ssh -A)",
      },
      { short: "N", help: "run no command: only forward ports, until Ctrl-C (like ssh -N)" },
      {
        short: "W",
        value: "<host:port>",
        help: "carry stdin and stdout to host:port through the server (like ssh -W; for " +
          "ProxyCommand)",
      },
      {
        short: "J",
        value: "<hops>",
        help: "connect through jump hosts, [user@]host[:port],… first hop first (like ssh -J; " +
          "-o ProxyJump=…)",
      },
      {
        short: "G",
        help: "print the configuration ssh_config gives the target (like ssh -G; -v: with " +
          "origins) and exit",
      },
    ],
    note: "Like ssh, options may also follow the target; the first word after it that is not " +
      "an option starts the remote command (or put -- before the command).",
  },
  netconf: {
    summary: "open the netconf subsystem (port 830 by default) and print the server's capabilities",
    args: [TARGET],
    options: [...COMMON, IDENTITY, ...SECRETS, BATCH],
  },
  send: {
    summary: "run commands through a pty shell, for devices without exec (switches)",
    args: [TARGET, {
      name: "commands",
      required: true,
      variadic: true,
      help: 'commands, each one argument (after --): -- "display version"',
    }],
    options: [
      ...COMMON,
      {
        long: "device",
        value: "<name>",
        default: "auto",
        help: `${DEVICE_NAMES.join(", ")} or auto`,
      },
      { long: "prompt", value: "<regex>", help: "the device prompt, when auto-detection fails" },
      {
        long: "command-timeout",
        value: "<seconds>",
        help: "limit for each command (default 30)",
      },
      {
        long: "encoding",
        value: "<label>",
        help: "decode output for display, e.g. gbk (default utf-8)",
      },
      {
        long: "enable",
        help: "raise the privilege level first (enable, super), answering its secret prompt",
      },
      {
        long: "enable-secret-env",
        value: "<VAR>",
        help: "read the enable / super secret from this environment variable",
      },
      {
        long: "enable-secret-file",
        value: "<file>",
        help: "read the enable secret from this file",
      },
      {
        long: "log",
        value: "<file>",
        help: "write a timestamped transcript (typed and printed; secrets masked) to this file",
      },
      {
        long: "config",
        help: "run the commands in configuration mode (system-view, configure terminal, configure)",
      },
      {
        long: "save",
        help: "with --config: save afterwards (save force, save, write memory; Junos commits)",
      },
      {
        long: "answer",
        value: "<REGEX=REPLY>",
        repeat: true,
        help:
          "answer a dialog whose line matches REGEX with REPLY + Enter (repeatable; never shown)",
      },
      IDENTITY,
      ...SECRETS,
      BATCH,
    ],
  },
  check: {
    summary: "check a fleet: probe (or log in to) every host of an inventory, in parallel",
    args: [{
      name: "inventory",
      required: true,
      variadic: false,
      help: "text ([user@]host[:port] per line) or CSV with a header; - for stdin",
    }],
    options: [
      ...COMMON_NO_LOGIN,
      { long: "concurrency", value: "<n>", help: "hosts checked at once (default 32)" },
      {
        long: "jump",
        value: "<hops>",
        help: "reach every host through these jump hosts (like -J; one connection to them, " +
          "reused; an inventory jump column wins)",
      },
      {
        long: "login",
        help: "log in (keys, agent, --password-env) instead of only probing",
      },
      { long: "command", value: "<cmd>", help: "with --login: run this command on every host" },
      {
        long: "fetch",
        value: "<path>",
        help: "with --login: copy this remote file from every host into DIR/<host>/ (backups)",
      },
      { long: "dest", value: "<dir>", help: "with --fetch: where the copies go (default .)" },
      { long: "junit", value: "<file>", help: "also write JUnit XML for CI systems" },
      {
        long: "log",
        value: "<dir>",
        help: "with --command: a transcript per host in DIR/<host>.log (secrets masked)",
      },
      {
        long: "policy",
        value: "<file>",
        help: "check every host's offer against a policy (as probe --policy); exit 3 on a failure",
      },
      { long: "drift", help: "list the hosts whose offer differs from the majority's" },
      IDENTITY,
      ...SECRETS,
    ],
  },
  get: {
    summary: "download a file (or with -r a directory) over SFTP or SCP",
    args: [
      { name: "source", required: true, variadic: false, help: "[user@]host:REMOTE" },
      {
        name: "local",
        required: false,
        variadic: false,
        help: "local file or directory (default: the current directory)",
      },
    ],
    options: TRANSFER_OPTIONS,
    note: TRANSFER_NOTE,
  },
  put: {
    summary: "upload a file (or with -r a directory) over SFTP or SCP",
    args: [
      { name: "local", required: true, variadic: false, help: "local file or directory" },
      { name: "destination", required: true, variadic: false, help: "[user@]host:REMOTE" },
    ],
    options: TRANSFER_OPTIONS,
    note: TRANSFER_NOTE,
  },
  doctor: {
    summary: "find the login that works: a ladder of traced attempts, least harmful change " +
      "first, then the settings for ssh_config, sshtrace, Paramiko/Netmiko and scrapli",
    args: [TARGET, {
      name: "command",
      required: false,
      variadic: true,
      help: "a command the login must run (after --)",
    }],
    options: [
      ...COMMON,
      {
        long: "goal",
        value: "<goal>",
        help: "probe (no credentials, the default) or login (a command sets goal command)",
      },
      { long: "write-config", value: "<file>", help: "append the working Host block to it" },
      { long: "alias", value: "<name>", help: "the Host pattern of the block (default: host)" },
      {
        long: "pacing",
        value: "<seconds>",
        help: "pause of the slower-pacing rung (default 5)",
      },
      IDENTITY,
      ...SECRETS,
      BATCH,
    ],
  },
  lab: {
    summary: "run the built-in lab SSH server on 127.0.0.1 (modern, old-switch or a fault)",
    args: [],
    options: [
      { long: "port", value: "<n>", help: "port to listen on (default: a free one)" },
      {
        long: "profile",
        value: "<name>",
        default: "modern",
        help: "modern, old-switch, a fault profile, or list",
      },
      { long: "once", help: "stop after one connection" },
      { short: "q", long: "quiet", help: "do not log connections" },
    ],
  },
} as const satisfies Record<string, CommandSpec>;

type CommandName = keyof typeof COMMANDS;

const HELP = { short: "h", long: "help", help: "display help for command" } as const;
const VERSION = { short: "V", long: "version", help: "output the version number" } as const;

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
/** `-p, --port <port>`, as in the help and the messages. */
const termOf = (o: OptionSpec) =>
  [o.short && `-${o.short}`, o.long && `--${o.long}`].filter(Boolean).join(", ") +
  (o.value ? ` ${o.value}` : "");

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

// ---------------------------------------------------------------------------------------------
// Help

const HELP_WIDTH = 80;

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}

type Section = [title: string, rows: [term: string, description: string][]];

/** Sections of `term  description` rows, the descriptions aligned across sections and wrapped. */
function helpPage(head: string[], sections: Section[], note?: string): string {
  const pad = Math.max(...sections.flatMap(([, rows]) => rows.map(([t]) => t.length)));
  const width = Math.max(HELP_WIDTH - pad - 4, 30);
  const out = [...head];
  for (const [title, rows] of sections) {
    out.push("", title);
    for (const [term, description] of rows) {
      const [first, ...more] = wrap(description, width);
      out.push(`  ${term.padEnd(pad)}  ${first}`);
      for (const l of more) out.push(`${" ".repeat(pad + 4)}${l}`);
    }
  }
  if (note) out.push("", ...wrap(note, HELP_WIDTH));
  return out.join("\n") + "\n";
}

const argTerm = (a: ArgSpec) => {
  const name = a.variadic ? `${a.name}...` : a.name;
  return a.required ? `<${name}>` : `[${name}]`;
};

const optionRows = (options: readonly OptionSpec[]): [string, string][] =>
  options.map((o) => [
    termOf(o),
    o.default === undefined ? o.help : `${o.help} (default ${o.default})`,
  ]);

function commandHelp(name: CommandName): string {
  const spec: CommandSpec = COMMANDS[name];
  const args = spec.args.map(argTerm).join(" ");
  const sections: Section[] = [];
  if (spec.args.length) sections.push(["Arguments:", spec.args.map((a) => [a.name, a.help])]);
  sections.push(["Options:", optionRows([...spec.options, HELP])]);
  return helpPage(
    [
      `Usage: sshtrace ${name === "connect" ? "[connect]" : name} [options]${
        args ? " " + args : ""
      }`,
      "",
      spec.summary,
    ],
    sections,
    spec.note,
  );
}

function programHelp(): string {
  const commands = Object.entries(COMMANDS).map(([name, spec]): [string, string] => [
    [name, ...spec.args.map(argTerm)].join(" "),
    spec.summary,
  ]);
  return helpPage(
    [
      "Usage: sshtrace [options] <target> [command...]   (log in: the connect command)",
      "       sshtrace <command> [options] [arguments]",
      "",
      "An SSH client that explains itself: every stage traced, every failure explained.",
    ],
    [
      ["Commands:", [...commands, ["help [command]", "display help for a command"]]],
      ["Common options (probe, connect, send, check):", optionRows(COMMON)],
      ["Options:", optionRows([VERSION, HELP])],
    ],
    "Run sshtrace <command> --help for all of a command's options.",
  );
}
