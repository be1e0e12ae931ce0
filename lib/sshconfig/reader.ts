/**
 * Reading ssh_config files as OpenSSH's readconf.c does: one pass over the lines, `Host` and
 * `Match` switching the following lines on or off, `Include` reading other files in place (at
 * most 16 deep), the first obtained value of a keyword kept (except those that accumulate), and
 * every value checked even in blocks that do not apply. Values go into a {@link SettingStore}
 * with their origin; what was read and matched goes into a {@link ConfigTrace}. Pure: files come
 * through the injected {@link ConfigIo}.
 * @module
 */

import { canonicalKeyword, type KeywordInfo, KEYWORDS } from "./keywords.ts";
import { splitConfigLine } from "./lexer.ts";
import { matchHostLine, matchPatternList } from "./pattern.ts";
import { percentExpand, tildeExpand } from "./tokens.ts";
import {
  type ConfigIo,
  type ConfigTrace,
  type Origin,
  type Sourced,
  SshConfigError,
} from "./types.ts";
import { isProblem, type Value, VALUE_SPECS } from "./values.ts";

/** Keywords whose value is the rest of the line unsplit (a shell command). */
const RAW_KEYWORDS: ReadonlySet<string> = new Set([
  "proxycommand",
  "localcommand",
  "remotecommand",
  "knownhostscommand",
]);
import { expandGlob } from "./glob.ts";

/** OpenSSH's READCONF_MAX_DEPTH. */
export const MAX_INCLUDE_DEPTH = 16;
/** Bounds for hostile files: bytes per file, lines per file, files in all. */
export const MAX_FILE_BYTES = 1024 * 1024;
export const MAX_FILE_LINES = 20_000;
export const MAX_FILES = 256;

/** A refused or ignored keyword set in a block that applied. */
export interface OtherSetting {
  readonly keyword: string;
  readonly info: KeywordInfo;
  readonly args: readonly string[];
  readonly origin: Origin;
}

/** The values obtained so far: first-wins keywords, accumulated lists, other keywords. */
export class SettingStore {
  readonly first = new Map<string, Sourced<Value>>();
  readonly lists = new Map<string, Sourced<string>[]>();
  readonly others: OtherSetting[] = [];

  get(keyword: string): Value | undefined {
    return this.first.get(keyword)?.value;
  }

  /** Keeps `value` unless the keyword already has one. */
  setFirst(keyword: string, value: Value, origin: Origin): void {
    if (!this.first.has(keyword)) this.first.set(keyword, { value, origin });
  }

  /** Appends to a list keyword; SendEnv's `-pattern` removes the names it matches. */
  add(keyword: string, values: readonly string[], origin: Origin): void {
    let list = this.lists.get(keyword) ?? [];
    for (const v of values) {
      if (keyword === "sendenv" && v.startsWith("-")) {
        list = list.filter((e) => matchPatternList(e.value, v.slice(1), false) !== "match");
      } else list.push({ value: v, origin });
    }
    this.lists.set(keyword, list);
  }
}

/** What one pass over the configuration needs. */
export interface PassContext {
  readonly io: ConfigIo;
  /** The host as given on the command line (Host and `Match originalhost` match it). */
  readonly hostArg: string;
  /** The final pass (`Match final`, `Match canonical` true; Host matches the host name). */
  readonly final: boolean;
  /** The host name Host lines match: the host argument, or in the final pass the HostName. */
  readonly host: string;
  readonly store: SettingStore;
  readonly trace: ConfigTrace;
  /** Set when an unnegated `Match final` is seen. */
  wantFinal: boolean;
  filesOpened: number;
}

/** Where a line is read: its file, how deep in Includes, and the block state it shares. */
interface Scope {
  /** The file, or `command line` for `-o`. */
  readonly file: string;
  /** A user file (`~/.ssh/config`, `-F`): relative Include paths are under ~/.ssh. */
  readonly userConfig: boolean;
  readonly depth: number;
  /** Inside an Include from a block that does not apply: no Host or Match line applies. */
  readonly neverMatch: boolean;
  /** Whether the current Host/Match block applies (shared with the file's Includes). */
  readonly state: { active: boolean };
}

/**
 * Processes one `-o` option (or the option a flag such as `-C` stands for, with that flag as
 * origin): any keyword but Host, Match and Include, always applied.
 */
export function applyOptionLine(ctx: PassContext, text: string, flag?: string): void {
  const scope: Scope = {
    file: "command line",
    userConfig: false,
    depth: 0,
    neverMatch: false,
    state: { active: true },
  };
  processLine(ctx, scope, text, 0, flag ? { kind: "flag", flag } : { kind: "option", text });
}

/**
 * Reads one top-level file. A missing file is fine (it is recorded as not found) unless
 * `required` (`-F FILE`). `userConfig` decides where relative Include paths point.
 */
export function readConfigFile(
  ctx: PassContext,
  path: string,
  userConfig: boolean,
  required: boolean,
): void {
  const scope: Scope = {
    file: path,
    userConfig,
    depth: 0,
    neverMatch: false,
    state: { active: true },
  };
  if (!readFile(ctx, scope, undefined) && required) {
    throw new SshConfigError(path, 0, "cannot open the configuration file: no such file");
  }
}

/** Reads the scope's file line by line; false when it does not exist. */
function readFile(
  ctx: PassContext,
  scope: Scope,
  includedFrom: { file: string; line: number } | undefined,
): boolean {
  const path = scope.file;
  const at = includedFrom ?? { file: path, line: 0 };
  if (scope.depth > MAX_INCLUDE_DEPTH) {
    throw new SshConfigError(
      at.file,
      at.line,
      `Include nested more than ${MAX_INCLUDE_DEPTH} deep (a loop?) at ${path}`,
      "include",
    );
  }
  if (++ctx.filesOpened > MAX_FILES) {
    throw new SshConfigError(at.file, at.line, `more than ${MAX_FILES} files read`, "include");
  }
  let text: string | undefined;
  try {
    text = ctx.io.readText(path, MAX_FILE_BYTES);
  } catch (e) {
    throw new SshConfigError(path, 0, `cannot read: ${(e as Error).message}`);
  }
  recordFile(ctx, path, scope.depth, text !== undefined, includedFrom);
  if (text === undefined) return false;
  if (text.length > MAX_FILE_BYTES) {
    throw new SshConfigError(path, 0, `file larger than ${MAX_FILE_BYTES} bytes`);
  }
  const lines = text.split("\n");
  if (lines.length > MAX_FILE_LINES) {
    throw new SshConfigError(path, 0, `more than ${MAX_FILE_LINES} lines`);
  }
  lines.forEach((line, i) => {
    processLine(ctx, scope, line, i + 1, { kind: "file", file: path, line: i + 1 });
  });
  return true;
}

function recordFile(
  ctx: PassContext,
  path: string,
  depth: number,
  found: boolean,
  includedFrom: { file: string; line: number } | undefined,
): void {
  ctx.trace.files.push({
    path,
    pass: ctx.final ? "final" : "first",
    depth,
    found,
    ...(includedFrom ? { includedFrom } : {}),
  });
}

/** The error for the line being read. */
type Fail = (problem: string, keyword?: string) => never;

function processLine(
  ctx: PassContext,
  scope: Scope,
  text: string,
  line: number,
  origin: Origin,
): void {
  const { file, state } = scope;
  const fail: Fail = (problem, keyword) => {
    throw new SshConfigError(file, line, problem, keyword);
  };
  if (text.includes("\0")) fail("NUL byte in the line");
  const split = splitConfigLine(text);
  if (split.kind === "empty") return;
  if (split.kind === "error") {
    return fail(
      split.problem === "no-argument"
        ? `no argument after keyword "${split.keyword}"`
        : "invalid quotes",
      split.keyword,
    );
  }
  const lower = split.keyword.toLowerCase();
  const keyword = canonicalKeyword(lower);
  const info = KEYWORDS.get(keyword);
  const { args } = split;
  const commandLine = origin.kind === "option" || origin.kind === "flag";
  if (!info) {
    const ignore = ctx.store.get("ignoreunknown");
    if (typeof ignore === "string" && matchPatternList(lower, ignore, true) === "match") return;
    // A -o the user typed is refused outright, as ssh does; a file's line is a warning.
    if (commandLine) fail(`unknown keyword "${split.keyword}"`, split.keyword);
    ctx.trace.warnings.push({ file, line, keyword: split.keyword, problem: "unknown-keyword" });
    return;
  }
  switch (keyword) {
    case "host": {
      if (commandLine) fail("Host is not allowed on the command line (-o)", "host");
      if (args.some((a) => a === "")) fail("Host with an empty pattern", "host");
      const matched = !scope.neverMatch && matchHostLine(ctx.host, args).matched;
      state.active = matched;
      recordBlock(ctx, file, line, "Host", args, matched);
      return;
    }
    case "match": {
      if (commandLine) fail("Match is not allowed on the command line (-o)", "match");
      const matched = evaluateMatch(ctx, args, !scope.neverMatch, fail);
      state.active = matched;
      recordBlock(ctx, file, line, "Match", args, matched);
      return;
    }
    case "include": {
      if (commandLine) fail("Include is not allowed on the command line (-o)", "include");
      include(ctx, scope, args, line, fail);
      return;
    }
  }
  const spec = VALUE_SPECS.get(keyword);
  if (spec) {
    // A command (ProxyCommand...) is the rest of the line as written, quotes and all, for the
    // shell to read (OpenSSH's readconf.c takes it unsplit); other keywords take their words.
    const value = spec.parse(RAW_KEYWORDS.has(keyword) ? [split.rest] : args);
    if (isProblem(value)) return fail(`${info.name}: ${value.problem}`, info.name);
    if (!state.active) return;
    if (spec.combine === "first") ctx.store.setFirst(keyword, value, origin);
    else ctx.store.add(keyword, typeof value === "string" ? [value] : value as string[], origin);
    return;
  }
  if (state.active) ctx.store.others.push({ keyword, info, args, origin });
}

function recordBlock(
  ctx: PassContext,
  file: string,
  line: number,
  kind: "Host" | "Match",
  args: readonly string[],
  matched: boolean,
): void {
  ctx.trace.blocks.push({
    file,
    line,
    kind,
    criteria: args.join(" "),
    matched,
    pass: ctx.final ? "final" : "first",
  });
}

const UNSUPPORTED_CRITERIA: Record<string, string> = {
  exec: "Match exec is refused: sshtrace never runs commands from a configuration file",
  localnetwork: "Match localnetwork is not supported by sshtrace",
  tagged: "Match tagged is not supported by sshtrace",
  command: "Match command is not supported by sshtrace",
  version: "Match version is not supported by sshtrace",
  sessiontype: "Match sessiontype is not supported by sshtrace",
};

/** A Match line's verdict, as readconf.c match_cfg_line (criteria all hold). */
function evaluateMatch(
  ctx: PassContext,
  args: readonly string[],
  canMatch: boolean,
  fail: Fail,
): boolean {
  const { store } = ctx;
  const hostname = store.get("hostname");
  const host =
    (ctx.final
      ? ctx.host
      : typeof hostname === "string"
      ? percentExpandOr(hostname, ctx.hostArg)
      : ctx.hostArg).toLowerCase();
  const user = store.get("user");
  const ruser = typeof user === "string" ? user : ctx.io.localUser;
  // In an Include from a block that does not apply, nothing matches (and exec is not reached).
  let result = canMatch;
  let attributes = 0;
  for (let i = 0; i < args.length; i++) {
    let attrib = args[i]!;
    if (attrib.startsWith("#")) break;
    const negate = attrib.startsWith("!");
    if (negate) attrib = attrib.slice(1);
    const name = attrib.toLowerCase();
    if (name === "all") {
      const next = args[i + 1];
      // OpenSSH allows one attribute before it (`Match canonical all`), none after.
      if (attributes > 1 || (next !== undefined && !next.startsWith("#"))) {
        fail(`Match '${args[i]}' cannot be combined with other Match attributes`, "match");
      }
      return result && !negate;
    }
    attributes++;
    if (name === "canonical" || name === "final") {
      if (name === "final" && !negate) ctx.wantFinal = true;
      if (ctx.final === negate) result = false;
      continue;
    }
    // `host=pattern` or `host pattern`.
    const eq = attrib.indexOf("=");
    const key = eq > 0 ? name.slice(0, eq) : name;
    const pattern = eq > 0 ? attrib.slice(eq + 1) : args[++i];
    if (pattern === undefined || pattern === "" || pattern.startsWith("#")) {
      return fail(`missing argument for Match '${key}'`, "match");
    }
    let r: boolean;
    switch (key) {
      case "host":
        r = matchPatternList(host, pattern, true) === "match";
        break;
      case "originalhost":
        r = matchPatternList(ctx.hostArg.toLowerCase(), pattern, true) === "match";
        break;
      case "user":
        r = matchPatternList(ruser, pattern, false) === "match";
        break;
      case "localuser":
        r = matchPatternList(ctx.io.localUser, pattern, false) === "match";
        break;
      default: {
        const refusal = UNSUPPORTED_CRITERIA[key];
        if (!refusal) fail(`unsupported Match attribute "${key}"`, "match");
        // Like OpenSSH, a criterion after one that failed is not evaluated at all.
        if (!result) continue;
        fail(refusal!, "match");
        continue;
      }
    }
    if (r === negate) result = false;
  }
  if (attributes === 0) fail("Match needs one or more attributes", "match");
  return result;
}

/** HostName with `%h` expanded, as match_cfg_line does before the host name is final. */
function percentExpandOr(hostname: string, hostArg: string): string {
  try {
    return percentExpand(hostname, { h: hostArg });
  } catch {
    return hostname;
  }
}

function include(
  ctx: PassContext,
  scope: Scope,
  args: readonly string[],
  line: number,
  fail: Fail,
): void {
  const { io } = ctx;
  for (const arg of args) {
    if (arg === "") fail("Include with an empty path", "include");
    if (arg.startsWith("~") && !scope.userConfig) {
      fail(`bad include path ${arg}: ~ is only allowed in user configuration files`, "include");
    }
    let path = arg.startsWith("/") || arg.startsWith("~")
      ? arg
      : `${scope.userConfig ? "~/.ssh" : "/etc/ssh"}/${arg}`;
    try {
      path = tildeExpand(path, io.home, io.localUser);
    } catch (e) {
      fail((e as Error).message, "include");
    }
    const files = expandGlob(io, path, MAX_FILES);
    if (files.length > MAX_FILES) fail(`Include ${arg} matches more than ${MAX_FILES} files`);
    const from = { file: scope.file, line };
    if (files.length === 0) recordFile(ctx, path, scope.depth + 1, false, from);
    const wasActive = scope.state.active;
    for (const f of files) {
      // An included file starts active when the including block is, and its Host and Match
      // lines never apply otherwise; its last block does not leak into the including file.
      const inner: Scope = {
        file: f,
        userConfig: scope.userConfig,
        depth: scope.depth + 1,
        neverMatch: scope.neverMatch || !wasActive,
        state: { active: wasActive },
      };
      readFile(ctx, inner, from);
    }
    scope.state.active = wasActive;
  }
}
