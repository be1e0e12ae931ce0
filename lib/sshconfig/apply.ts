/**
 * From the effective ssh_config to what a login uses: the one place that maps each resolved
 * value onto sshtrace's settings, the refusals that stop a run before anything is sent (a copy's
 * fewer: {@link copyConfig}), and the `config` stage of the trace (files read, blocks matched,
 * where each value came from). Values still at their default leave the settings alone, so a run
 * without a configuration behaves as before. Pure: no I/O.
 * @module
 */

import type { ListCategory } from "../algorithms/registry.ts";
import type { Settings } from "../config/options.ts";
import { SshError } from "../errors/mod.ts";
import type { StrictMode } from "../hostkeys/policy.ts";
import type { Tracer } from "../trace.ts";
import { globMatch } from "../hostkeys/known_hosts.ts";
import { KEYWORDS } from "./keywords.ts";
import type { Refusal, SshConfig } from "./resolve.ts";
import { type Origin, originText, type Sourced, type SshConfigError } from "./types.ts";
import type { RekeyLimit, Value } from "./values.ts";

const LISTS: [keyword: string, category: ListCategory][] = [
  ["kexalgorithms", "kex"],
  ["hostkeyalgorithms", "hostKey"],
  ["ciphers", "cipher"],
  ["macs", "mac"],
];

const STRICT: Record<string, StrictMode> = {
  yes: "yes",
  off: "no",
  ask: "ask",
  "accept-new": "accept-new",
};

/**
 * Supported keywords whose value sshtrace does not act on yet, with the values it does honour
 * (the default): set to anything else, the run stops with the reason instead of ignoring it.
 */
const NOT_YET: Record<string, { honoured: (v: Value) => boolean; reason: string }> = {};

/** The settings of a login from the effective configuration (defaults left out). */
export function settingsFromConfig(config: SshConfig): Settings {
  const e = config.effective;
  const set = (k: string): boolean => {
    const v = config.values.get(k);
    return v !== undefined && v.origin.kind !== "default";
  };
  const s: Settings = { identityFiles: [], algorithms: {} };
  if (set("hostname")) s.hostname = e.hostname;
  if (set("port")) s.port = e.port;
  if (set("user")) s.user = e.user;
  // `-i` files are the flags' own (the key loader reads them first); the rest in order.
  const explicit = e.identitySources.filter((i) => !isFlag(i.origin, "-i"));
  if (explicit.some((i) => i.origin.kind !== "default")) {
    s.identityFiles = explicit.map((i) => i.value);
  }
  if (set("identitiesonly")) s.identitiesOnly = e.identitiesOnly;
  if (e.identityAgent !== undefined) s.identityAgent = e.identityAgent;
  if (e.preferredAuthentications) s.preferredAuthentications = [...e.preferredAuthentications];
  const off = [
    !e.pubkeyAuthentication || e.pubkeyAuthentication === "no" ? "publickey" : null,
    e.kbdInteractiveAuthentication ? null : "keyboard-interactive",
    e.passwordAuthentication ? null : "password",
  ].filter((m): m is string => m !== null);
  if (off.length) s.disabledMethods = off;
  for (const [keyword, category] of LISTS) {
    if (set(keyword)) s.algorithms[category] = [e.algorithms[category].join(",")];
  }
  if (set("compression")) s.compression = e.compression;
  if (e.compression) {
    // Like ssh -C: prefer zlib@openssh.com (starts after authentication), then zlib.
    s.algorithms.compression = ["^zlib@openssh.com,zlib"];
  }
  if (set("stricthostkeychecking")) s.strictHostKeyChecking = STRICT[e.strictHostKeyChecking];
  if (set("userknownhostsfile")) {
    s.userKnownHostsFile = e.userKnownHostsFiles[0];
    s.globalKnownHostsFiles = [...e.userKnownHostsFiles.slice(1)];
  }
  if (set("globalknownhostsfile")) {
    s.globalKnownHostsFiles = [...(s.globalKnownHostsFiles ?? []), ...e.globalKnownHostsFiles];
  } else if (s.globalKnownHostsFiles) {
    s.globalKnownHostsFiles.push(...e.globalKnownHostsFiles);
  }
  // ConnectTimeout 0 (or none) sets no limit of its own: each stage keeps --timeout.
  if (e.connectTimeoutS) s.connectTimeoutS = e.connectTimeoutS;
  if (set("serveraliveinterval")) s.serverAliveInterval = e.serverAliveInterval;
  if (set("serveralivecountmax")) s.serverAliveCountMax = e.serverAliveCountMax;
  if (set("rekeylimit") && e.rekeyLimit.bytes > 0) s.rekeyLimit = e.rekeyLimit.bytes;
  if (set("rekeylimit") && e.rekeyLimit.seconds > 0) s.rekeySeconds = e.rekeyLimit.seconds;
  if (set("requiredrsasize")) s.requiredRsaSize = e.requiredRsaSize;
  if (set("casignaturealgorithms")) s.caSignatureAlgorithms = [...e.algorithms.ca];
  if (set("batchmode")) s.batchMode = e.batchMode;
  if (set("requesttty")) s.requestTty = e.requestTty;
  if (set("loglevel")) s.logLevel = e.logLevel.toUpperCase();
  if (set("escapechar")) s.escapeChar = e.escapeChar;
  if (set("numberofpasswordprompts")) s.passwordPrompts = e.numberOfPasswordPrompts;
  if (set("pubkeyacceptedalgorithms")) s.pubkeyAlgorithms = [...e.algorithms.pubkey];
  if (e.hostKeyAlias !== undefined) s.hostKeyAlias = e.hostKeyAlias.toLowerCase();
  if (e.certificateFiles.length) s.certificateFiles = [...e.certificateFiles];
  if (e.sendEnv.length) s.sendEnv = [...e.sendEnv];
  if (e.setEnv.length) s.setEnv = [...e.setEnv];
  if (set("hashknownhosts")) s.hashKnownHosts = e.hashKnownHosts;
  if (e.addressFamily !== "any") s.addressFamily = e.addressFamily === "inet" ? 4 : 6;
  if (set("connectionattempts")) s.connectionAttempts = e.connectionAttempts;
  if (set("tcpkeepalive")) s.tcpKeepAlive = e.tcpKeepAlive;
  if (set("checkhostip")) s.checkHostIp = e.checkHostIp;
  if (e.bindAddress !== undefined) s.bindAddress = e.bindAddress;
  // Jump hosts and forwarding: kept as written; lib/config/jump_spec.ts and lib/forward/spec.ts
  // parse them when the run is prepared (the reader already checked them, naming file:line).
  const first = (k: string) => config.values.get(k);
  const all = (k: string) => (config.lists.get(k) ?? []).map((v) => String(v.value));
  // As ssh(1): whichever of ProxyJump and ProxyCommand is set first wins (even as `none`);
  // the other is ignored. The values map keeps the order in which keywords were first set.
  const jump = first("proxyjump");
  const command = first("proxycommand");
  const order = [...config.values.keys()];
  const jumpWins = !command || (jump && order.indexOf("proxyjump") < order.indexOf("proxycommand"));
  if (jump && jumpWins && String(jump.value).toLowerCase() !== "none") {
    s.proxyJump = String(jump.value);
  }
  if (command && !jumpWins && String(command.value).toLowerCase() !== "none") {
    s.proxyCommand = String(command.value);
  }
  if (all("localforward").length) s.localForwards = all("localforward");
  if (all("remoteforward").length) s.remoteForwards = all("remoteforward");
  if (all("dynamicforward").length) s.dynamicForwards = all("dynamicforward");
  if (first("forwardagent")?.value === true) s.forwardAgent = true;
  if (first("gatewayports")?.value === true) s.gatewayPorts = true;
  if (first("exitonforwardfailure")?.value === true) s.exitOnForwardFailure = true;
  const mask = first("streamlocalbindmask");
  if (mask) s.streamLocalBindMask = Number(mask.value);
  if (first("streamlocalbindunlink")?.value === true) s.streamLocalBindUnlink = true;
  return s;
}

/**
 * The environment a session sends, as ssh(1) does: SetEnv's `NAME=VALUE` pairs, then the local
 * variables SendEnv's patterns match (`*`, `?`; a `-pattern` removes earlier matches), each name
 * once. `names` and `get` read the local environment.
 */
export function sessionEnvironment(
  settings: Pick<Settings, "sendEnv" | "setEnv">,
  names: readonly string[],
  get: (name: string) => string | undefined,
): [string, string][] {
  const out = new Map<string, string>();
  for (const pair of settings.setEnv ?? []) {
    const eq = pair.indexOf("=");
    out.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  let patterns: string[] = [];
  for (const p of settings.sendEnv ?? []) {
    if (p.startsWith("-")) patterns = patterns.filter((q) => !globMatch(q, p.slice(1)));
    else patterns.push(p);
  }
  for (const name of [...names].sort()) {
    if (out.has(name) || !patterns.some((p) => globMatch(name, p))) continue;
    const value = get(name);
    if (value !== undefined) out.set(name, value);
  }
  return [...out];
}

const isFlag = (o: Origin, flag: string) => o.kind === "flag" && o.flag === flag;

/**
 * What stops a run before it connects: keywords sshtrace refuses (ProxyJump, ForwardAgent...)
 * and supported keywords set to a value it does not act on yet, each with its origin.
 */
export function configRefusals(config: SshConfig): Refusal[] {
  const out = [...config.refusals];
  for (const [keyword, rule] of Object.entries(NOT_YET)) {
    const v = config.values.get(keyword);
    const list = config.lists.get(keyword);
    if (v && v.origin.kind !== "default" && !rule.honoured(v.value)) {
      out.push(refusal(keyword, v, rule.reason));
    } else if (list?.length && list[0]!.origin.kind !== "default") {
      out.push(refusal(keyword, list[0]!, rule.reason));
    }
  }
  return out;
}

function refusal(keyword: string, v: Sourced<Value>, reason: string): Refusal {
  return {
    keyword: KEYWORDS.get(keyword)?.name ?? keyword,
    value: valueText(v.value),
    reason,
    origin: v.origin,
  };
}

function valueText(v: Value): string {
  if (Array.isArray(v)) return v.join(" ");
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (typeof v === "object") {
    const r = v as RekeyLimit;
    return `${r.bytes} ${r.seconds}`;
  }
  return String(v);
}

/**
 * What scp(1) and sftp(1) put on the command line of the ssh they run, so a copy (get/put)
 * neither uses nor refuses these keywords of ssh_config: by keyword, the overriding option.
 * Theirs come before the user's `-o` (ssh keeps the first value) but ForwardAgent=no, which
 * comes after it: `-o ForwardAgent=yes` still forwards the agent.
 */
const COPY_OVERRIDES: ReadonlyMap<string, string> = new Map([
  ["forwardx11", "ForwardX11=no"],
  ["permitlocalcommand", "PermitLocalCommand=no"],
  ["localcommand", "PermitLocalCommand=no"],
  ["clearallforwardings", "ClearAllForwardings=yes"],
  ["localforward", "ClearAllForwardings=yes"],
  ["remoteforward", "ClearAllForwardings=yes"],
  ["dynamicforward", "ClearAllForwardings=yes"],
  ["permitremoteopen", "ClearAllForwardings=yes"],
  ["tunnel", "ClearAllForwardings=yes"],
  ["tunneldevice", "ClearAllForwardings=yes"],
  ["controlmaster", "ControlMaster=no"],
  ["controlpersist", "ControlMaster=no"],
  ["remotecommand", "RemoteCommand=none"],
  ["requesttty", "RequestTTY=no"],
  ["forwardagent", "ForwardAgent=no"],
]);

/** A keyword a copy does not use: its value, where it was set, the option overriding it. */
export interface CopyUnused {
  readonly keyword: string;
  readonly value: string;
  readonly origin: Origin;
  /** The option scp and sftp give their ssh, e.g. `ForwardX11=no`. */
  readonly override: string;
}

/**
 * The configuration as a copy reads it (scp and sftp run ssh with {@link COPY_OVERRIDES}): the
 * refusals that still stop it, and the keywords set that it does not use.
 */
export function copyConfig(config: SshConfig): { refusals: Refusal[]; unused: CopyUnused[] } {
  const refusals: Refusal[] = [];
  const unused: CopyUnused[] = [];
  for (const r of configRefusals(config)) {
    const override = COPY_OVERRIDES.get(r.keyword.toLowerCase());
    if (override) unused.push({ ...r, override });
    else refusals.push(r);
  }
  for (const [k, override] of COPY_OVERRIDES) {
    const v = config.values.get(k) ?? config.lists.get(k)?.[0];
    if (!v || v.origin.kind === "default") continue;
    // The user's own -o ForwardAgent=yes comes before scp's ForwardAgent=no.
    if (k === "forwardagent" && v.origin.kind !== "file") continue;
    unused.push({
      keyword: KEYWORDS.get(k)?.name ?? k,
      value: valueText(v.value),
      origin: v.origin,
      override,
    });
  }
  return { refusals, unused };
}

/** The `config.refused` error for the first refusal (all of them in its details). */
export function refusalError(refusals: readonly Refusal[]): SshError {
  const r = refusals[0]!;
  return new SshError(
    "config",
    "config.refused",
    `${originText(r.origin)}: ${r.keyword} ${r.value}: not supported by sshtrace (${r.reason}); ` +
      "nothing was sent",
    {
      keyword: r.keyword,
      value: r.value,
      reason: r.reason,
      origin: originText(r.origin),
      others: refusals.slice(1).map((o) => `${originText(o.origin)}: ${o.keyword}`),
    },
  );
}

/** The `config.invalid` error for a configuration that cannot be read (names file:line). */
export function configInvalid(e: SshConfigError): SshError {
  return new SshError("config", "config.invalid", `configuration: ${e.message}`, {
    file: e.file,
    line: e.line,
    keyword: e.keyword ?? null,
    problem: e.problem,
  });
}

/**
 * The `config` stage of a run: the files read, the Host and Match lines evaluated, every value
 * not at its default with its origin, the warnings (unknown keywords, algorithms left out), and
 * the command's own `notes` on it (what it leaves unused).
 */
export function traceConfig(
  tracer: Tracer,
  config: SshConfig,
  notes: readonly string[] = [],
): void {
  const span = tracer.span("config");
  const { trace } = config;
  for (const f of trace.files) {
    tracer.emit({
      stage: "config",
      type: "file",
      path: f.path,
      found: f.found,
      pass: f.pass,
      includedFrom: f.includedFrom ?? null,
    });
  }
  for (const b of trace.blocks) {
    tracer.emit({ stage: "config", type: "block", ...b });
  }
  for (const [k, v] of config.values) {
    if (v.origin.kind === "default") continue;
    tracer.emit({
      stage: "config",
      type: "value",
      keyword: KEYWORDS.get(k)?.name ?? k,
      value: valueText(v.value),
      origin: originText(v.origin),
    });
  }
  for (const [k, list] of config.lists) {
    for (const v of list) {
      if (v.origin.kind === "default") continue;
      tracer.emit({
        stage: "config",
        type: "value",
        keyword: KEYWORDS.get(k)?.name ?? k,
        value: v.value,
        origin: originText(v.origin),
      });
    }
  }
  for (const w of trace.warnings) {
    tracer.emit({
      stage: "config",
      type: "warning",
      file: w.file,
      line: w.line,
      keyword: w.keyword,
      problem: w.problem === "unknown-keyword"
        ? "unknown keyword, ignored (OpenSSH stops here unless IgnoreUnknown lists it)"
        : `${w.detail} not implemented by sshtrace, left out of the list`,
    });
  }
  for (const message of notes) tracer.emit({ stage: "config", type: "info", message });
  span.end();
}
