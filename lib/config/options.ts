/**
 * Turning command-line input into client options: `[user@]host[:port]` targets, the settings a
 * run uses (filled from ssh_config by lib/sshconfig/apply.ts) and the check of algorithm-list
 * edits. Bad input becomes a `usage` error (exit 2) that says what is wrong.
 * @module
 */

import {
  AlgorithmListError,
  applyListSpec,
  buildOffer,
  type ListCategory,
} from "../algorithms/names.ts";
import { type ErrorDetails, SshError } from "../errors/mod.ts";
import type { StrictMode } from "../hostkeys/policy.ts";

/**
 * A `usage.invalid` error. `details` carry what was expected as data: `expected` (the form the
 * input must take) or `supported` (the names accepted); the catalogue words the fix.
 */
export function usageError(
  message: string,
  details: { expected?: string; supported?: readonly string[] } = {},
): SshError {
  return new SshError("usage", "usage.invalid", message, details as ErrorDetails);
}

/** A parsed `[user@]host[:port]` (IPv6 as `[addr]:port` or a bare address). */
export interface Target {
  user: string | null;
  host: string;
  port: number | null;
}

export function parsePort(text: string, what = "port"): number {
  if (!/^\d+$/.test(text)) throw usageError(`invalid ${what} "${text}": expected a number 1-65535`);
  const n = Number(text);
  if (n < 1 || n > 65535) throw usageError(`invalid ${what} ${n}: expected 1-65535`);
  return n;
}

export function parseTarget(text: string): Target {
  let rest = text;
  let user: string | null = null;
  const at = rest.lastIndexOf("@");
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (!user) throw usageError(`empty user name in "${text}"`);
  }
  let host = rest;
  let port: number | null = null;
  const bracket = /^\[([^\]]+)\](?::(.*))?$/.exec(rest);
  if (bracket) {
    host = bracket[1]!;
    if (bracket[2] !== undefined) port = parsePort(bracket[2]);
  } else if (/[[\]]/.test(rest)) {
    throw usageError(`invalid host "${text}"`, { expected: "[IPv6 address]:port" });
  } else if ((rest.match(/:/g) ?? []).length === 1) {
    const i = rest.indexOf(":");
    host = rest.slice(0, i);
    port = parsePort(rest.slice(i + 1));
  }
  if (!host || /[\s/]/.test(host)) {
    throw usageError(`invalid host "${text}"`, { expected: "[user@]host[:port]" });
  }
  return { user, host, port };
}

/**
 * The settings of a run: what ssh_config resolution gives (lib/sshconfig/apply.ts maps the
 * effective configuration here; flags and `-o` come first there, the first value wins as in
 * ssh(1)). Unset fields keep sshtrace's defaults.
 */
export interface Settings {
  port?: number;
  user?: string;
  identityFiles: string[];
  strictHostKeyChecking?: StrictMode;
  userKnownHostsFile?: string;
  algorithms: Partial<Record<ListCategory, string[]>>;
  connectTimeoutS?: number;
  serverAliveInterval?: number;
  serverAliveCountMax?: number;
  preferredAuthentications?: string[];
  identitiesOnly?: boolean;
  batchMode?: boolean;
  compression?: boolean;
  rekeyLimit?: number;
  /** RekeyLimit's time part: rekey after this many seconds. */
  rekeySeconds?: number;
  /** OpenSSH's RequiredRSASize: the smallest RSA key (host or user) accepted, in bits. */
  requiredRsaSize?: number;
  /** CheckHostIP: the server's address is checked and recorded in known_hosts too. */
  checkHostIp?: boolean;
  /** BindAddress (`-b`): the local address to connect from. */
  bindAddress?: string;
  /** CASignatureAlgorithms: what a host certificate's CA may sign with. */
  caSignatureAlgorithms?: string[];
  /** `--legacy`: list edits are checked against the offer with the legacy names appended. */
  legacy?: boolean;
  /** ProxyJump / `-J` as written (parsed by lib/config/jump_spec.ts when the run is prepared). */
  proxyJump?: string;
  /** ProxyCommand as written (`none`: unset). */
  proxyCommand?: string;
  /** LocalForward / `-L` specifications as written, in order (lib/forward/spec.ts parses them). */
  localForwards?: string[];
  /** RemoteForward / `-R` specifications as written, in order. */
  remoteForwards?: string[];
  /** DynamicForward / `-D` specifications as written, in order. */
  dynamicForwards?: string[];
  /** ForwardAgent / `-A`: offer the local agent ($SSH_AUTH_SOCK) to the sessions. */
  forwardAgent?: boolean;
  /** GatewayPorts / `-g`: a -L/-D forward given no bind address listens on every address. */
  gatewayPorts?: boolean;
  /** ExitOnForwardFailure: a forward that cannot be set up ends the run (else a warning). */
  exitOnForwardFailure?: boolean;
  /** StreamLocalBindMask: the mask of a -L Unix socket's file mode. @default 0o177 */
  streamLocalBindMask?: number;
  /** StreamLocalBindUnlink: remove a stale -L Unix socket file before listening. */
  streamLocalBindUnlink?: boolean;
  /** The host to connect to, when ssh_config's HostName names another than the one typed. */
  hostname?: string;
  /** GlobalKnownHostsFile: read after the user's files, never written. */
  globalKnownHostsFiles?: string[];
  /** The methods Password/KbdInteractive/PubkeyAuthentication=no turn off. */
  disabledMethods?: string[];
  /** RequestTTY: yes and force ask for a pty, no never, auto when a terminal runs a shell. */
  requestTty?: "yes" | "no" | "force" | "auto";
  /** IdentityAgent: the agent socket, or `none` for no agent. */
  identityAgent?: string;
  /** LogLevel, upper case (QUIET... DEBUG3). */
  logLevel?: string;
  /** EscapeChar: one character, or `none`. */
  escapeChar?: string;
  /** SendEnv: patterns of local environment variables sent to the session. */
  sendEnv?: string[];
  /** SetEnv: `NAME=VALUE` pairs sent to the session. */
  setEnv?: string[];
  /** HashKnownHosts: host names of accepted keys are written hashed (`|1|salt|hash`). */
  hashKnownHosts?: boolean;
  /** AddressFamily inet (4) or inet6 (6). */
  addressFamily?: 4 | 6;
  /** ConnectionAttempts. */
  connectionAttempts?: number;
  /** TCPKeepAlive. */
  tcpKeepAlive?: boolean;
  /** CertificateFile: certificates offered with the private key they certify. */
  certificateFiles?: string[];
  /** HostKeyAlias: the known_hosts name of the host key. */
  hostKeyAlias?: string;
  /** PubkeyAcceptedAlgorithms: the signature algorithms user keys may be offered with. */
  pubkeyAlgorithms?: string[];
  /** NumberOfPasswordPrompts. */
  passwordPrompts?: number;
}

export function emptySettings(): Settings {
  return { identityFiles: [], algorithms: {} };
}

/** The `-o` keywords (lower case) that edit an algorithm list (Compression is yes/no). */
/** The ssh_config option (`-o`) of each algorithm category. */
export const OPENSSH_OPTION: Record<ListCategory, string> = {
  kex: "KexAlgorithms",
  hostKey: "HostKeyAlgorithms",
  cipher: "Ciphers",
  mac: "MACs",
  compression: "Compression",
};

const LIST_KEYS: Record<string, ListCategory> = Object.fromEntries(
  (["kex", "hostKey", "cipher", "mac"] as const).map((c) => [OPENSSH_OPTION[c].toLowerCase(), c]),
);

/** Adds an algorithm list edit, checking it at once so a typo fails before connecting. */
export function addListEdit(settings: Settings, category: ListCategory, spec: string): void {
  const edits = [...(settings.algorithms[category] ?? []), spec];
  try {
    let list = buildOffer({}, settings.legacy ?? false)[category];
    for (const e of edits) list = applyListSpec(category, list, e);
  } catch (e) {
    if (e instanceof AlgorithmListError) throw usageError(e.describe(OPENSSH_OPTION[category]));
    throw e;
  }
  settings.algorithms[category] = edits;
}

/**
 * Checks an algorithm-list `-o` (`KexAlgorithms=+x`) against sshtrace's registry, so a typo on
 * the command line fails before connecting (a file may name algorithms sshtrace lacks: those
 * are left out with a warning instead). Other keywords pass.
 */
export function checkListOption(text: string, legacy: boolean): void {
  const m = /^\s*([A-Za-z]+)\s*(?:=|\s)\s*(.*?)\s*$/.exec(text);
  const category = m ? LIST_KEYS[m[1]!.toLowerCase()] : undefined;
  if (category) addListEdit({ ...emptySettings(), legacy }, category, m![2]!);
}

/** Parses a byte size such as `1G`, `500M`, `64K`. */
export function parseSize(text: string): number {
  const m = /^(\d+)([KMG]?)$/i.exec(text.trim());
  if (!m) throw usageError(`invalid size "${text}": use a number with optional K, M or G`);
  const mult = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2]!.toUpperCase() as "" | "K"]!;
  return Number(m[1]) * mult;
}

export function parsePositive(key: string, value: string, zeroOk = false): number {
  if (!/^\d+$/.test(value) || (!zeroOk && Number(value) === 0)) {
    throw usageError(
      `-o ${key}: expected a ${zeroOk ? "non-negative" : "positive"} whole number, got "${value}"`,
    );
  }
  return Number(value);
}
