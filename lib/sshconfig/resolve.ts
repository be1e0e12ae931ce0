/**
 * The effective configuration for one host, as ssh(1) computes it: command-line values first
 * (`-o`, `-p`, `-l`, then `user@host`), then `-F FILE` (or ~/.ssh/config then
 * /etc/ssh/ssh_config), HostName applied, a second pass when `Match final` asked for one, then
 * defaults and the `%`/`~` expansions ssh.c performs before `ssh -G` prints. Every value keeps
 * its origin. Pure: files and host facts come through the injected {@link ConfigIo}.
 * @module
 */

import {
  AlgorithmListError,
  defaultNames,
  legacyNames,
  type ListCategory,
} from "../algorithms/names.ts";
import { digest } from "../algorithms/hash.ts";
import { MIN_RSA_BITS } from "../algorithms/pubkey.ts";
import { DEFAULT_CA_SIGNATURE_ALGORITHMS } from "../hostkeys/host_certificate.ts";
import { defaultIdentityFiles } from "../keys/default_files.ts";
import { isHarmlessValue, type KeywordInfo, KEYWORDS } from "./keywords.ts";
import {
  applyOptionLine,
  type OtherSetting,
  type PassContext,
  readConfigFile,
  SettingStore,
} from "./reader.ts";
import { ExpandError, percentExpand, tildeExpand, type TokenValues } from "./tokens.ts";
import {
  type ConfigIo,
  type ConfigTrace,
  type Origin,
  type Sourced,
  SshConfigError,
} from "./types.ts";
import { applyConfigSpec, type RekeyLimit, type Value } from "./values.ts";

/** One command-line value, in the order given (OpenSSH keeps the first). */
export type CommandLineItem =
  | { readonly kind: "option"; readonly text: string; readonly flag?: string } // -o, or -C...
  | { readonly kind: "port"; readonly value: number; readonly flag: string } // -p
  | { readonly kind: "user"; readonly value: string; readonly flag: string }; // -l

export interface ConfigRequest {
  /** The host as typed (an alias, a name or an address). */
  readonly host: string;
  /** `user@` and `:port` of the target, if given. */
  readonly targetUser?: string;
  readonly targetPort?: number;
  readonly commandLine?: readonly CommandLineItem[];
  /** `-F`: a file (relative to the working directory, as given) or `none`. */
  readonly configFile?: string;
  /** Default: the user's ~/.ssh/config and /etc/ssh/ssh_config. */
  readonly systemConfig?: string;
  /** `--legacy`: algorithm lists start from sshtrace's defaults with the legacy names after. */
  readonly legacy?: boolean;
}

/** The values sshtrace acts on, typed and expanded. */
export interface Effective {
  readonly hostname: string;
  readonly port: number;
  readonly user: string;
  /** Expanded paths (`~`, `%` tokens), in order. */
  readonly identityFiles: readonly string[];
  /** The same paths, each with its origin (`-i`, `-o`, file:line, default). */
  readonly identitySources: readonly Sourced<string>[];
  readonly certificateFiles: readonly string[];
  readonly identitiesOnly: boolean;
  readonly identityAgent?: string;
  readonly preferredAuthentications?: readonly string[];
  readonly passwordAuthentication: boolean;
  readonly kbdInteractiveAuthentication: boolean;
  readonly pubkeyAuthentication: "yes" | "no" | "unbound" | "host-bound";
  /** `ca`: CASignatureAlgorithms (its default is OpenSSH's, not a registry default). */
  readonly algorithms: Readonly<Record<ListCategory | "pubkey" | "ca", readonly string[]>>;
  readonly numberOfPasswordPrompts: number;
  readonly strictHostKeyChecking: "yes" | "off" | "ask" | "accept-new";
  readonly userKnownHostsFiles: readonly string[];
  readonly globalKnownHostsFiles: readonly string[];
  readonly hashKnownHosts: boolean;
  readonly checkHostIp: boolean;
  readonly hostKeyAlias?: string;
  readonly addressFamily: "any" | "inet" | "inet6";
  readonly bindAddress?: string;
  /** Undefined: no limit (`none`). */
  readonly connectTimeoutS?: number;
  readonly connectionAttempts: number;
  readonly serverAliveInterval: number;
  readonly serverAliveCountMax: number;
  readonly tcpKeepAlive: boolean;
  readonly compression: boolean;
  readonly rekeyLimit: RekeyLimit;
  readonly requestTty: "yes" | "no" | "force" | "auto";
  readonly sendEnv: readonly string[];
  readonly setEnv: readonly string[];
  /** One character, or `none`. */
  readonly escapeChar: string;
  readonly logLevel: string;
  readonly batchMode: boolean;
  readonly requiredRsaSize: number;
}

/** A refused keyword set to a value sshtrace cannot honour. */
export interface Refusal {
  readonly keyword: string;
  readonly value: string;
  readonly reason: string;
  readonly origin: Origin;
}

/** The effective configuration, each value with its origin, and how it was read. */
export interface SshConfig {
  /** The host as typed. */
  readonly hostArg: string;
  readonly effective: Effective;
  /** First-wins keywords (lower case), after defaults, as ssh -G shows them (expanded there). */
  readonly values: ReadonlyMap<string, Sourced<Value>>;
  /** Accumulating keywords (identityfile, certificatefile, sendenv), as written. */
  readonly lists: ReadonlyMap<string, readonly Sourced<string>[]>;
  /** Refused keywords set to something sshtrace does not do: a connection must stop. */
  readonly refusals: readonly Refusal[];
  /** Ignored keywords (and refused ones with a harmless value) that applied. */
  readonly ignored: readonly OtherSetting[];
  readonly trace: ConfigTrace;
}

const DEFAULT: Origin = { kind: "default" };

/** Reads the configuration for `request.host` and resolves it. Throws {@link SshConfigError}. */
export function resolveConfig(request: ConfigRequest, io: ConfigIo): SshConfig {
  const store = new SettingStore();
  const trace: ConfigTrace = { files: [], blocks: [], warnings: [], finalPass: false };
  const hostArg = request.host;
  const pass = (final: boolean, host: string): PassContext => ({
    io,
    hostArg,
    final,
    host,
    store,
    trace,
    wantFinal: false,
    filesOpened: 0,
  });

  const first = pass(false, hostArg);
  for (const item of request.commandLine ?? []) {
    if (item.kind === "option") applyOptionLine(first, item.text, item.flag);
    else if (item.kind === "port") {
      store.setFirst("port", item.value, { kind: "flag", flag: item.flag });
    } else store.setFirst("user", item.value, { kind: "flag", flag: item.flag });
  }
  if (request.targetUser !== undefined) {
    store.setFirst("user", request.targetUser, { kind: "target" });
  }
  if (request.targetPort !== undefined) {
    store.setFirst("port", request.targetPort, { kind: "target" });
  }
  readFiles(first, request, io);

  let hostname = hostArg;
  const configured = store.get("hostname");
  if (typeof configured === "string") {
    hostname = expand(configured, { h: hostArg }, "HostName", store.first.get("hostname")!.origin);
  }
  if (!isAddress(hostname)) hostname = hostname.toLowerCase();

  if (first.wantFinal) {
    trace.finalPass = true;
    readFiles(pass(true, hostname), request, io);
  }
  return finish(store, trace, hostArg, hostname, io, request.legacy ?? false);
}

function readFiles(ctx: PassContext, request: ConfigRequest, io: ConfigIo): void {
  const file = request.configFile;
  if (file !== undefined) {
    if (file.toLowerCase() !== "none") readConfigFile(ctx, file, true, true);
    return;
  }
  readConfigFile(ctx, `${io.home.replace(/\/$/, "")}/.ssh/config`, true, false);
  readConfigFile(ctx, request.systemConfig ?? "/etc/ssh/ssh_config", false, false);
}

const isAddress = (h: string) => h.includes(":") || /^\d+\.\d+\.\d+\.\d+$/.test(h);

/** The error for a value that cannot be expanded, at the value's file and line. */
function expandFailure(e: ExpandError, keyword: string, origin: Origin): SshConfigError {
  const [file, line] = origin.kind === "file"
    ? [origin.file, origin.line]
    : [origin.kind === "default" ? "default" : "command line", 0];
  return new SshConfigError(file, line, `${keyword}: ${e.message}`, keyword);
}

/** `text` with `~` (when `home`) and then `%` tokens expanded, as ssh.c expands `keyword`. */
function expand(
  text: string,
  values: TokenValues,
  keyword: string,
  origin: Origin,
  home?: ConfigIo,
): string {
  try {
    return percentExpand(home ? tildeExpand(text, home.home, home.localUser) : text, values);
  } catch (e) {
    if (e instanceof ExpandError) throw expandFailure(e, keyword, origin);
    throw e;
  }
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** OpenSSH's defaults for the keywords sshtrace supports (algorithms: sshtrace's own). */
function defaults(io: ConfigIo): [string, Value][] {
  return [
    ["port", 22],
    ["user", io.localUser],
    ["identitiesonly", false],
    ["passwordauthentication", true],
    ["kbdinteractiveauthentication", true],
    ["pubkeyauthentication", "yes"],
    ["numberofpasswordprompts", 3],
    ["stricthostkeychecking", "ask"],
    ["userknownhostsfile", ["~/.ssh/known_hosts", "~/.ssh/known_hosts2"]],
    ["globalknownhostsfile", ["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"]],
    ["hashknownhosts", false],
    ["checkhostip", false],
    ["addressfamily", "any"],
    ["connecttimeout", -1],
    ["connectionattempts", 1],
    ["serveraliveinterval", 0],
    ["serveralivecountmax", 3],
    ["tcpkeepalive", true],
    ["compression", false],
    ["rekeylimit", { bytes: 0, seconds: 0 }],
    ["requesttty", "auto"],
    ["escapechar", "~"],
    ["loglevel", "INFO"],
    ["batchmode", false],
    ["requiredrsasize", MIN_RSA_BITS],
  ];
}

const ALGORITHM_KEYWORDS: [string, ListCategory, ListCategory | "pubkey" | "ca"][] = [
  ["kexalgorithms", "kex", "kex"],
  ["hostkeyalgorithms", "hostKey", "hostKey"],
  ["ciphers", "cipher", "cipher"],
  ["macs", "mac", "mac"],
  ["pubkeyacceptedalgorithms", "hostKey", "pubkey"],
  ["casignaturealgorithms", "hostKey", "ca"],
];

function finish(
  store: SettingStore,
  trace: ConfigTrace,
  hostArg: string,
  hostname: string,
  io: ConfigIo,
  legacy: boolean,
): SshConfig {
  const values = new Map(store.first);
  values.set("hostname", {
    value: hostname,
    origin: store.first.get("hostname")?.origin ?? DEFAULT,
  });
  for (const [k, v] of defaults(io)) {
    if (!values.has(k)) values.set(k, { value: v, origin: DEFAULT });
  }

  // Algorithm lists: the spec applied to sshtrace's defaults (ssh -G shows the result).
  const algorithms = {} as Record<ListCategory | "pubkey" | "ca", string[]>;
  for (const [keyword, category, key] of ALGORITHM_KEYWORDS) {
    const set = values.get(keyword);
    let list = key === "ca"
      ? [...DEFAULT_CA_SIGNATURE_ALGORITHMS]
      : legacy
      ? [...defaultNames(category), ...legacyNames(category)]
      : defaultNames(category);
    if (typeof set?.value === "string") {
      let r;
      try {
        r = applyConfigSpec(category, list, set.value);
      } catch (e) {
        if (!(e instanceof AlgorithmListError)) throw e;
        const [file, line] = set.origin.kind === "file"
          ? [set.origin.file, set.origin.line]
          : ["command line", 0];
        const name = KEYWORDS.get(keyword)?.name ?? keyword;
        throw new SshConfigError(file, line, `${name}: ${e.describe(name)}`, name);
      }
      list = r.list;
      if (r.unknown.length > 0) {
        const [file, line] = set.origin.kind === "file"
          ? [set.origin.file, set.origin.line]
          : ["command line", 0];
        trace.warnings.push({
          file,
          line,
          keyword: KEYWORDS.get(keyword)?.name ?? keyword,
          problem: "unsupported-algorithm",
          detail: r.unknown.join(","),
        });
      }
    }
    algorithms[key] = list;
    values.set(keyword, { value: list.join(","), origin: set?.origin ?? DEFAULT });
  }
  algorithms.compression = defaultNames("compression");

  const lists = new Map(store.lists);
  if ((lists.get("identityfile") ?? []).length === 0) {
    lists.set(
      "identityfile",
      defaultIdentityFiles("~").map((value) => ({ value, origin: DEFAULT })),
    );
  }

  const get = <T extends Value>(k: string) => values.get(k)!.value as T;
  const port = get<number>("port");
  const user = get<string>("user");
  const alias = values.get("hostkeyalias")?.value as string | undefined;
  // The costly tokens are computed when a value uses them: %C hashes (the first digest loads
  // the crypto library) and %l/%L/%i/%u ask the system.
  const tokens: TokenValues = {
    get C() {
      const text = `${io.localHost}${hostname}${port}${user}`;
      return hex(digest("sha1", new TextEncoder().encode(text)));
    },
    get L() {
      return io.localHost.split(".")[0]!;
    },
    get i() {
      return String(io.uid);
    },
    k: alias ?? hostArg,
    get l() {
      return io.localHost;
    },
    n: hostArg,
    p: String(port),
    d: io.home,
    h: hostname,
    r: user,
    get u() {
      return io.localUser;
    },
    j: "",
  };
  const path = (p: string, keyword: string, origin: Origin) =>
    expand(p, tokens, keyword, origin, io);

  // ssh.c expands these before -G prints them.
  const knownOrigin = values.get("userknownhostsfile")!.origin;
  const known = get<readonly string[]>("userknownhostsfile").map((p) =>
    path(p, "UserKnownHostsFile", knownOrigin)
  );
  values.set("userknownhostsfile", { value: known, origin: knownOrigin });
  const agentSet = values.get("identityagent");
  let identityAgent: string | undefined;
  if (agentSet && typeof agentSet.value === "string") {
    identityAgent = envExpand(
      path(agentSet.value, "IdentityAgent", agentSet.origin),
      io,
      agentSet.origin,
    );
    values.set("identityagent", { value: identityAgent, origin: agentSet.origin });
  }

  const refusals: Refusal[] = [];
  const ignored: OtherSetting[] = [];
  for (const o of store.others) {
    if (o.info.status === "refused" && !isHarmlessValue(o.info as KeywordInfo, o.args)) {
      refusals.push({
        keyword: o.info.name,
        value: o.args.join(" "),
        reason: o.info.reason ?? "",
        origin: o.origin,
      });
    } else ignored.push(o);
  }

  const listOf = (k: string) => (lists.get(k) ?? []).map((s) => s.value);
  const paths = (k: string, keyword: string) =>
    (lists.get(k) ?? []).map((s) => path(s.value, keyword, s.origin));
  const globalOrigin = values.get("globalknownhostsfile")!.origin;
  const preferred = values.get("preferredauthentications")?.value as string | undefined;
  const timeout = get<number>("connecttimeout");
  const effective: Effective = {
    hostname,
    port,
    user,
    identityFiles: notNone(paths("identityfile", "IdentityFile")),
    identitySources: (lists.get("identityfile") ?? [])
      .map((s) => ({ value: path(s.value, "IdentityFile", s.origin), origin: s.origin }))
      .filter((s) => s.value.toLowerCase() !== "none"),
    certificateFiles: notNone(paths("certificatefile", "CertificateFile")),
    identitiesOnly: get<boolean>("identitiesonly"),
    ...(identityAgent !== undefined ? { identityAgent } : {}),
    ...(preferred !== undefined ? { preferredAuthentications: preferred.split(",") } : {}),
    passwordAuthentication: get<boolean>("passwordauthentication"),
    kbdInteractiveAuthentication: get<boolean>("kbdinteractiveauthentication"),
    pubkeyAuthentication: get<Effective["pubkeyAuthentication"]>("pubkeyauthentication"),
    algorithms,
    numberOfPasswordPrompts: get<number>("numberofpasswordprompts"),
    strictHostKeyChecking: get<Effective["strictHostKeyChecking"]>("stricthostkeychecking"),
    userKnownHostsFiles: notNone(known),
    globalKnownHostsFiles: notNone(get<readonly string[]>("globalknownhostsfile")).map((p) =>
      expand(p, {}, "GlobalKnownHostsFile", globalOrigin, io)
    ),
    hashKnownHosts: get<boolean>("hashknownhosts"),
    checkHostIp: get<boolean>("checkhostip"),
    ...(alias !== undefined ? { hostKeyAlias: alias } : {}),
    addressFamily: get<Effective["addressFamily"]>("addressfamily"),
    ...(typeof values.get("bindaddress")?.value === "string"
      ? { bindAddress: get<string>("bindaddress") }
      : {}),
    ...(timeout >= 0 ? { connectTimeoutS: timeout } : {}),
    connectionAttempts: get<number>("connectionattempts"),
    serverAliveInterval: get<number>("serveraliveinterval"),
    serverAliveCountMax: get<number>("serveralivecountmax"),
    tcpKeepAlive: get<boolean>("tcpkeepalive"),
    compression: get<boolean>("compression"),
    rekeyLimit: get<RekeyLimit>("rekeylimit"),
    requestTty: get<Effective["requestTty"]>("requesttty"),
    sendEnv: listOf("sendenv"),
    setEnv: (values.get("setenv")?.value as readonly string[] | undefined) ?? [],
    escapeChar: get<string>("escapechar"),
    logLevel: get<string>("loglevel"),
    batchMode: get<boolean>("batchmode"),
    requiredRsaSize: get<number>("requiredrsasize"),
  };
  return { hostArg, effective, values, lists, refusals, ignored, trace };
}

/** A file list without OpenSSH's `none` (no file). */
const notNone = (files: readonly string[]) => files.filter((f) => f.toLowerCase() !== "none");

/** `${VAR}` from the environment (percent_dollar_expand); an unset variable is an error. */
function envExpand(text: string, io: ConfigIo, origin: Origin): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const v = io.env(name);
    if (v === undefined) {
      const e = new ExpandError("unset-variable", name);
      throw expandFailure(e, "IdentityAgent", origin);
    }
    return v;
  });
}
