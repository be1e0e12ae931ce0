/**
 * Turning command-line input into client options: `[user@]host[:port]` targets and OpenSSH
 * `-o Key=Value` settings. Bad input becomes a `usage` error (exit 2) that says what is wrong.
 * @module
 */

import {
  AlgorithmListError,
  applyListSpec,
  buildOffer,
  type ListCategory,
} from "../algorithms/registry.ts";
import { MIN_RSA_BITS } from "../algorithms/pubkey.ts";
import { type ErrorDetails, SshTraceError } from "../errors/mod.ts";
import type { StrictMode } from "../hostkeys/policy.ts";

/**
 * A `usage.invalid` error. `details` carry what was expected as data: `expected` (the form the
 * input must take) or `supported` (the names accepted); the catalogue words the fix.
 */
export function usageError(
  message: string,
  details: { expected?: string; supported?: readonly string[] } = {},
): SshTraceError {
  return new SshTraceError("usage", "usage.invalid", message, details as ErrorDetails);
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

/** Settings collected from flags and `-o`. Later settings win, as in ssh(1) the first does. */
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
  /** OpenSSH's RequiredRSASize: the smallest RSA key (host or user) accepted, in bits. */
  requiredRsaSize?: number;
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
}

export function emptySettings(): Settings {
  return { identityFiles: [], algorithms: {} };
}

function yesNo(key: string, value: string): boolean {
  const v = value.toLowerCase();
  if (v === "yes" || v === "true") return true;
  if (v === "no" || v === "false") return false;
  throw usageError(`-o ${key}: expected yes or no, got "${value}"`);
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

/** Parses a byte size such as `1G`, `500M`, `64K`. */
export function parseSize(text: string): number {
  const m = /^(\d+)([KMG]?)$/i.exec(text.trim());
  if (!m) throw usageError(`invalid size "${text}": use a number with optional K, M or G`);
  const mult = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2]!.toUpperCase() as "" | "K"]!;
  return Number(m[1]) * mult;
}

/** The `-o` options sshtrace acts on (others it refuses, or accepts with no effect). */
export const SUPPORTED_OPTIONS: readonly string[] = [
  "Port",
  "User",
  "IdentityFile",
  "StrictHostKeyChecking",
  "UserKnownHostsFile",
  "KexAlgorithms",
  "HostKeyAlgorithms",
  "Ciphers",
  "MACs",
  "ConnectTimeout",
  "ServerAliveInterval",
  "ServerAliveCountMax",
  "PreferredAuthentications",
  "IdentitiesOnly",
  "BatchMode",
  "Compression",
  "RekeyLimit",
  "RequiredRSASize",
  "ProxyJump",
  "LocalForward",
  "ProxyCommand",
  "RemoteForward",
  "DynamicForward",
  "ForwardAgent",
];

/** Applies one `-o Key=Value` (or `Key Value`) to the settings. */
export function applyOption(settings: Settings, option: string): void {
  const m = /^\s*([A-Za-z]+)\s*(?:=|\s)\s*(.*?)\s*$/.exec(option);
  if (!m || m[2] === "") throw usageError(`invalid -o "${option}": expected Key=Value`);
  const key = m[1]!;
  const value = m[2]!;
  const k = key.toLowerCase();
  if (k in LIST_KEYS) return addListEdit(settings, LIST_KEYS[k]!, value);
  switch (k) {
    case "port":
      settings.port = parsePort(value);
      return;
    case "user":
      settings.user = value;
      return;
    case "identityfile":
      settings.identityFiles.push(value);
      return;
    case "stricthostkeychecking": {
      const v = value.toLowerCase();
      const map: Record<string, StrictMode> = {
        yes: "yes",
        true: "yes",
        "accept-new": "accept-new",
        no: "no",
        off: "no",
        false: "no",
        ask: "ask",
      };
      if (!map[v]) {
        throw usageError(`-o StrictHostKeyChecking: expected yes, accept-new, no or ask`);
      }
      settings.strictHostKeyChecking = map[v];
      return;
    }
    case "userknownhostsfile":
      settings.userKnownHostsFile = value.split(/\s+/)[0]!;
      return;
    case "connecttimeout":
      settings.connectTimeoutS = parsePositive(key, value);
      return;
    case "serveraliveinterval":
      settings.serverAliveInterval = parsePositive(key, value, true);
      return;
    case "serveralivecountmax":
      settings.serverAliveCountMax = parsePositive(key, value);
      return;
    case "preferredauthentications":
      settings.preferredAuthentications = value.split(",").map((s) => s.trim()).filter(Boolean);
      return;
    case "identitiesonly":
      settings.identitiesOnly = yesNo(key, value);
      return;
    case "batchmode":
      settings.batchMode = yesNo(key, value);
      return;
    case "compression":
      settings.compression = yesNo(key, value);
      // Like ssh -C: prefer zlib@openssh.com (starts after authentication), then zlib.
      if (settings.compression) addListEdit(settings, "compression", "^zlib@openssh.com,zlib");
      return;
    case "rekeylimit":
      settings.rekeyLimit = parseSize(value.split(/\s+/)[0]!);
      return;
    case "requiredrsasize": {
      const bits = parsePositive(key, value);
      if (bits < MIN_RSA_BITS) {
        throw usageError(
          `-o RequiredRSASize: ${bits} is below ${MIN_RSA_BITS}, the smallest RSA key size ` +
            "OpenSSH and sshtrace accept",
        );
      }
      settings.requiredRsaSize = bits;
      return;
    }
    case "proxycommand":
      settings.proxyCommand = value.toLowerCase() === "none" ? undefined : value;
      return;
    case "dynamicforward":
      (settings.dynamicForwards ??= []).push(value);
      return;
    case "remoteforward":
      (settings.remoteForwards ??= []).push(value);
      return;
    case "localforward":
      (settings.localForwards ??= []).push(value);
      return;
    case "proxyjump":
      settings.proxyJump = value;
      return;
    case "forwardagent":
      if (yesNo(key, value)) settings.forwardAgent = true;
      else delete settings.forwardAgent;
      return;
    case "loglevel":
    case "requesttty":
    case "addkeystoagent":
      return; // accepted for compatibility; no effect
  }
  throw usageError(
    `unsupported option -o ${key}`,
    { supported: SUPPORTED_OPTIONS },
  );
}

export function parsePositive(key: string, value: string, zeroOk = false): number {
  if (!/^\d+$/.test(value) || (!zeroOk && Number(value) === 0)) {
    throw usageError(
      `-o ${key}: expected a ${zeroOk ? "non-negative" : "positive"} whole number, got "${value}"`,
    );
  }
  return Number(value);
}
