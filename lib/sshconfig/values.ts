/**
 * The values of the supported ssh_config keywords, parsed as OpenSSH's readconf.c parses them:
 * yes/no flags, multi-state words, numbers, times (`1h30m`), sizes (`500M`), algorithm list
 * specs, and the keywords whose arguments accumulate. A bad value is a `problem` string the
 * reader words with file and line. Pure.
 * @module
 */

import { parseDynamicSpec, parseForwardSpec } from "../forward/spec.ts";
import { parseJumpSpec } from "../config/jump_spec.ts";
import {
  AlgorithmListError,
  applyListSpec,
  defaultNames,
  legacyNames,
  listableNames,
} from "../algorithms/names.ts";
import type { ListCategory } from "../algorithms/names.ts";
import { globMatch } from "../hostkeys/known_hosts.ts";

/** The size and time limits of RekeyLimit: bytes (0: the cipher's default), seconds (0: none). */
export interface RekeyLimit {
  readonly bytes: number;
  readonly seconds: number;
}

/** A parsed value: what each supported keyword holds. */
export type Value = string | number | boolean | readonly string[] | RekeyLimit;

/** How repeated lines combine: the first obtained value wins, or every value is collected. */
export type Combine = "first" | "accumulate";

export interface ValueSpec {
  readonly combine: Combine;
  /** The value of a line's arguments, or a problem in words. */
  readonly parse: (args: readonly string[]) => Value | { problem: string };
}

type Parsed = Value | { problem: string };

export const isProblem = (v: Parsed): v is { problem: string } =>
  typeof v === "object" && v !== null && "problem" in v;

/** One argument, else a problem (OpenSSH: "garbage at end of line"). */
function one(args: readonly string[], f: (arg: string) => Parsed): Parsed {
  if (args.length > 1) return { problem: `garbage at end of line: "${args.slice(1).join(" ")}"` };
  return f(args[0] ?? "");
}

/** A word from a fixed set (case-insensitive), stored as the set's canonical spelling. */
function choice(words: Record<string, string>) {
  return (args: readonly string[]) =>
    one(args, (a) => {
      const v = words[a.toLowerCase()];
      return v ??
        { problem: `unsupported value "${a}"; expected ${Object.keys(words).join(", ")}` };
    });
}

const FLAG = { yes: "yes", true: "yes", no: "no", false: "no" };

/** A yes/no flag with more states (OpenSSH's multistate tables): `states` add to or respell it. */
const multistate = (states: Record<string, string>) => choice({ ...FLAG, ...states });

const flag = (args: readonly string[]) =>
  one(args, (a) => {
    const v = FLAG[a.toLowerCase() as keyof typeof FLAG];
    return v === undefined
      ? { problem: `unsupported value "${a}"; expected yes or no` }
      : v === "yes";
  });

/** StreamLocalBindMask: an octal file mode mask up to 0777 (OpenSSH reads it with strtol(…, 8)). */
const octalMask = (args: readonly string[]) =>
  one(
    args,
    (a) =>
      /^[0-7]{1,4}$/.test(a) && parseInt(a, 8) <= 0o777
        ? parseInt(a, 8)
        : { problem: `bad mask "${a}": expected an octal mode such as 0177` },
  );

/** A whole number in [min, max]. */
const integer = (min: number, max: number, what = "number") => (args: readonly string[]) =>
  one(args, (a) => {
    if (!/^-?\d+$/.test(a)) return { problem: `invalid ${what} "${a}"` };
    const n = Number(a);
    if (n < min || n > max) return { problem: `${what} ${a} out of range (${min}-${max})` };
    return n;
  });

const TIME_UNITS: Record<string, number> = { "": 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** OpenSSH's convtime: `90`, `1h30m`, `2w`, in seconds; undefined when malformed. */
export function parseTime(text: string): number | undefined {
  if (text === "") return undefined;
  let total = 0;
  const re = /(\d+)([smhdwSMHDW]?)/y;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) return undefined;
    total += Number(m[1]) * TIME_UNITS[m[2]!.toLowerCase()]!;
    at = re.lastIndex;
  }
  return total > 0x7fffffff ? undefined : total;
}

const time = (allowNone: boolean) => (args: readonly string[]) =>
  one(args, (a) => {
    if (allowNone && a === "none") return -1;
    const t = parseTime(a);
    return t === undefined ? { problem: `invalid time value "${a}"` } : t;
  });

/** OpenSSH's scan_scaled for RekeyLimit: `1G`, `500M`, `64K`, `4096`. */
export function parseScaledSize(text: string): number | undefined {
  const m = /^(\d+)([KMGT]?)$/i.exec(text);
  if (!m) return undefined;
  const exp = m[2] ? "KMGT".indexOf(m[2].toUpperCase()) + 1 : 0;
  return Number(m[1]) * 1024 ** exp;
}

function rekeyLimit(args: readonly string[]): Parsed {
  if (args.length > 2) return { problem: `garbage at end of line: "${args.slice(2).join(" ")}"` };
  const [size = "", when] = args;
  let bytes = 0;
  if (size !== "default") {
    const n = parseScaledSize(size);
    if (n === undefined) return { problem: `bad number "${size}"` };
    if (n < 16) return { problem: `RekeyLimit too small` };
    bytes = n;
  }
  let seconds = 0;
  if (when !== undefined && when !== "none" && when !== "default") {
    const t = parseTime(when);
    if (t === undefined) return { problem: `invalid time value "${when}"` };
    seconds = t;
  }
  return { bytes, seconds };
}

/** EscapeChar: one character, `^X` (a control character) or `none`. */
function escapeChar(args: readonly string[]): Parsed {
  return one(args, (a) => {
    if (a === "none") return "none";
    if (a.length === 1) return a;
    if (a.length === 2 && a[0] === "^") {
      return String.fromCharCode(a.charCodeAt(1) & 31);
    }
    return { problem: `bad escape character "${a}"` };
  });
}

const LOG_LEVELS: Record<string, string> = {
  quiet: "QUIET",
  fatal: "FATAL",
  error: "ERROR",
  info: "INFO",
  verbose: "VERBOSE",
  debug: "DEBUG",
  debug1: "DEBUG", // OpenSSH names DEBUG1 "DEBUG"
  debug2: "DEBUG2",
  debug3: "DEBUG3",
};

/** An algorithm list spec, checked against sshtrace's registry (and its defaults for edits). */
const algorithms = (category: ListCategory, keyword: string) => (args: readonly string[]) =>
  one(args, (spec) => {
    try {
      // Checked against every name sshtrace has (with --legacy the base list has the legacy
      // ones too); the list it really leaves is computed at resolution, from the run's base.
      applyConfigSpec(category, [...defaultNames(category), ...legacyNames(category)], spec);
      return spec;
    } catch (e) {
      if (e instanceof AlgorithmListError) return { problem: e.describe(keyword) };
      throw e;
    }
  });

/**
 * Applies a configuration's list spec to `current` as {@link applyListSpec} does, except for the
 * names (and patterns) sshtrace does not know: a removal of them changes nothing (removing
 * umac-64@openssh.com, which sshtrace never offers); elsewhere they are left out and returned in
 * `unknown`, so a hardened list that also names OpenSSH-only algorithms still works. A spec with
 * no name sshtrace knows (but a removal) throws {@link AlgorithmListError}.
 */
export function applyConfigSpec(
  category: ListCategory,
  current: readonly string[],
  spec: string,
): { list: string[]; unknown: string[] } {
  const op = spec[0] === "+" || spec[0] === "-" || spec[0] === "^" ? spec[0] : "";
  const items = spec.slice(op.length).split(",").map((s) => s.trim()).filter((s) => s !== "");
  const known = listableNames(category);
  const kept = items.filter((p) => known.some((n) => globMatch(n, p)));
  const unknown = items.filter((p) => !kept.includes(p));
  if (kept.length > 0) {
    return { list: applyListSpec(category, current, op + kept.join(",")), unknown };
  }
  if (op === "-") return { list: [...current], unknown: [] };
  if (items.length === 0) throw new AlgorithmListError(category, "empty", spec);
  throw new AlgorithmListError(category, "unknown", spec, unknown[0]!, known);
}

/** Strings taken as written (expanded later where OpenSSH expands them). */
const text = (args: readonly string[]) => one(args, (a) => a);
const words = (max: number) => (args: readonly string[]): Parsed =>
  args.length > max ? { problem: `too many arguments (at most ${max})` } : [...args];

function sendEnv(args: readonly string[]): Parsed {
  const bad = args.find((a) => a.includes("="));
  return bad ? { problem: `invalid environment name "${bad}"` } : [...args];
}

function setEnv(args: readonly string[]): Parsed {
  const bad = args.find((a) => !a.includes("=") || a.startsWith("="));
  return bad ? { problem: `invalid SetEnv "${bad}": expected NAME=VALUE` } : [...args];
}

function port(args: readonly string[]): Parsed {
  return integer(1, 65535, "port")(args);
}

/**
 * A value of `count` arguments, kept as written (joined by single spaces) once `check` (the
 * parser the run reads it with) accepts it; its error, less the `prefix` naming the keyword, is
 * the problem.
 */
const checkedBy = (
  count: number,
  expected: string,
  check: (value: string) => unknown,
  prefix: RegExp,
) =>
(args: readonly string[]): Parsed => {
  if (args.length !== count) return { problem: expected };
  const value = args.join(" ");
  try {
    check(value);
  } catch (e) {
    return { problem: (e as Error).message.replace(prefix, "") };
  }
  return value;
};

/** ProxyJump: checked as the run reads it (lib/config/jump_spec.ts), kept as written. */
const proxyJump = checkedBy(1, "expected one argument", parseJumpSpec, /^ProxyJump: /);

/** LocalForward, RemoteForward: `[bind:]port host:hostport`, checked as -L is, kept as written. */
const forward = (keyword: string) =>
  checkedBy(
    2,
    "expected [bind_address:]port host:hostport",
    (value) => parseForwardSpec(value, keyword),
    new RegExp(`^${keyword} [^:]*: `),
  );

/** DynamicForward: `[bind:]port`, checked as -D is, kept as written. */
const dynamicForward = checkedBy(
  1,
  "expected [bind_address:]port",
  (value) => parseDynamicSpec(value, "DynamicForward"),
  /^DynamicForward [^:]*: /,
);

/** The supported keywords (lower case, canonical spelling) and how their values are read. */
export const VALUE_SPECS: ReadonlyMap<string, ValueSpec> = new Map<string, ValueSpec>([
  ["hostname", { combine: "first", parse: text }],
  ["port", { combine: "first", parse: port }],
  ["user", { combine: "first", parse: text }],
  ["identityfile", { combine: "accumulate", parse: text }],
  ["identitiesonly", { combine: "first", parse: flag }],
  ["identityagent", { combine: "first", parse: text }],
  ["certificatefile", { combine: "accumulate", parse: text }],
  ["preferredauthentications", { combine: "first", parse: text }],
  ["passwordauthentication", { combine: "first", parse: flag }],
  ["kbdinteractiveauthentication", { combine: "first", parse: flag }],
  [
    "pubkeyauthentication",
    {
      combine: "first",
      parse: multistate({ unbound: "unbound", "host-bound": "host-bound" }),
    },
  ],
  ["pubkeyacceptedalgorithms", {
    combine: "first",
    parse: algorithms("hostKey", "PubkeyAcceptedAlgorithms"),
  }],
  ["hostkeyalgorithms", { combine: "first", parse: algorithms("hostKey", "HostKeyAlgorithms") }],
  [
    "casignaturealgorithms",
    { combine: "first", parse: algorithms("hostKey", "CASignatureAlgorithms") },
  ],
  ["kexalgorithms", { combine: "first", parse: algorithms("kex", "KexAlgorithms") }],
  ["ciphers", { combine: "first", parse: algorithms("cipher", "Ciphers") }],
  ["macs", { combine: "first", parse: algorithms("mac", "MACs") }],
  ["numberofpasswordprompts", { combine: "first", parse: integer(0, 0x7fffffff) }],
  [
    "stricthostkeychecking",
    {
      combine: "first",
      parse: multistate({
        no: "off",
        false: "off",
        off: "off",
        ask: "ask",
        "accept-new": "accept-new",
      }),
    },
  ],
  ["userknownhostsfile", { combine: "first", parse: words(16) }],
  ["globalknownhostsfile", { combine: "first", parse: words(16) }],
  ["hashknownhosts", { combine: "first", parse: flag }],
  ["checkhostip", { combine: "first", parse: flag }],
  ["hostkeyalias", { combine: "first", parse: text }],
  [
    "addressfamily",
    { combine: "first", parse: choice({ any: "any", inet: "inet", inet6: "inet6" }) },
  ],
  ["bindaddress", { combine: "first", parse: text }],
  ["connecttimeout", { combine: "first", parse: time(true) }],
  ["connectionattempts", { combine: "first", parse: integer(1, 0x7fffffff) }],
  ["serveraliveinterval", { combine: "first", parse: time(false) }],
  ["serveralivecountmax", { combine: "first", parse: integer(0, 0x7fffffff) }],
  ["tcpkeepalive", { combine: "first", parse: flag }],
  ["compression", { combine: "first", parse: flag }],
  ["rekeylimit", { combine: "first", parse: rekeyLimit }],
  [
    "requesttty",
    {
      combine: "first",
      parse: multistate({ force: "force", auto: "auto" }),
    },
  ],
  ["sendenv", { combine: "accumulate", parse: sendEnv }],
  ["setenv", { combine: "first", parse: setEnv }],
  ["escapechar", { combine: "first", parse: escapeChar }],
  ["loglevel", { combine: "first", parse: choice(LOG_LEVELS) }],
  ["batchmode", { combine: "first", parse: flag }],
  // sshtrace's floor, MIN_RSA_BITS: smaller keys are never accepted, so asking for them is a mistake.
  ["requiredrsasize", { combine: "first", parse: integer(1024, 0x7fffffff, "RSA key size") }],
  ["ignoreunknown", { combine: "first", parse: text }],
  ["proxyjump", { combine: "first", parse: proxyJump }],
  ["localforward", { combine: "accumulate", parse: forward("LocalForward") }],
  ["remoteforward", { combine: "accumulate", parse: forward("RemoteForward") }],
  ["dynamicforward", { combine: "accumulate", parse: dynamicForward }],
  ["forwardagent", { combine: "first", parse: flag }],
  ["gatewayports", { combine: "first", parse: flag }],
  ["exitonforwardfailure", { combine: "first", parse: flag }],
  ["streamlocalbindmask", { combine: "first", parse: octalMask }],
  ["streamlocalbindunlink", { combine: "first", parse: flag }],
  // The rest of the line, as ssh_config(5) says (the words joined by single spaces).
  ["proxycommand", { combine: "first", parse: (args) => args.join(" ") }],
]);
