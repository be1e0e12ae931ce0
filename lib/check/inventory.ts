/**
 * Fleet inventories for `sshtrace check`: plain text (`[user@]host[:port]` per line, `#`
 * comments, blank lines) or CSV with a header row naming a `host` column (plus optional `port`,
 * `user`, `device`, `legacy`, per-host credentials by reference — `password_env`,
 * `password_file`, `enable_secret_env`, `enable_secret_file`, `key` — `enable_level`, `jump`
 * and `commands`, several separated by `;`; any other column is kept as-is). A column holding a secret itself
 * (`password`, `secret`, `enable_secret`) is refused: the CSV names where the secret is. A bad line is a `usage` error
 * (exit 2) that names `file:line` and says what is wrong.
 * @module
 */

import { parseJumpSpec } from "../config/jump_spec.ts";
import type { ListCategory } from "../algorithms/registry.ts";
import type { Signer } from "../auth/types.ts";
import type { ConnectOptions } from "../client.ts";
import type { StrictMode } from "../hostkeys/policy.ts";
import { parsePort, parseTarget, usageError } from "../config/options.ts";
import { platform } from "../platform/mod.ts";

/** One host to check, as read from one inventory line. */
export interface InventoryEntry {
  /** 1-based line number in the inventory file. */
  line: number;
  /** Where it came from, `file:line` (for messages). */
  source: string;
  /** The target as written (text inventories) or rebuilt as `[user@]host[:port]` (CSV). */
  target: string;
  host: string;
  /** null: use the default (the `--port`/`-o Port` setting, else 22). */
  port: number | null;
  /** null: use the default (`-l`, else $USER). */
  user: string | null;
  /** CSV `device` column (e.g. a vendor/OS tag), or null. */
  device: string | null;
  /** CSV `legacy` column: offer legacy algorithms for this host; null when not given. */
  legacy: boolean | null;
  /** Where this host's secrets are (never the secrets): CSV credential columns. */
  credentials: HostCredentials;
  /** CSV `commands` (`;`-separated): what to run on this host instead of `--command`. */
  commands: string[] | null;
  /** Every other CSV column, by header name (empty for text inventories). */
  extra: Record<string, string>;
  /** CSV `jump` column: jump hosts in ProxyJump syntax (`none`: none), or null when not given. */
  jump?: string | null;
  /**
   * CSV `enable_level` column: the level `send` asks for with the row's enable secret (`super
   * 15`, `enable 15`), or null for the command's default.
   */
  enableLevel?: number | null;
  /** The address to connect to when ssh_config's HostName names another than `host`. */
  connectHost?: string;
  /** This host's algorithm list edits (ssh_config), instead of the fleet's. */
  algorithms?: Partial<Record<ListCategory, string[]>>;
  /** What ssh_config sets for this host beyond its target, applied over the fleet's options. */
  overrides?: HostOverrides;
}

/**
 * A host's own connection options (from its ssh_config): the client options a login to it
 * would use, its host key policy, credentials from its IdentityFile/CertificateFile lines and
 * its authentication methods.
 */
export type HostOverrides =
  & Omit<
    Partial<ConnectOptions>,
    "host" | "port" | "user" | "tracer" | "signal" | "auth" | "jump" | "tunnel" | "stream" | "ask"
  >
  & {
    strictHostKeyChecking?: Exclude<StrictMode, "ask">;
    /** Keys of the host's IdentityFile/CertificateFile/IdentitiesOnly/IdentityAgent. */
    signers?: () => Promise<Signer[]>;
    /** PreferredAuthentications without the methods the host's ssh_config turns off. */
    methods?: string[];
  };

/** Per-host credentials: the NAME of an environment variable or a file path, never a secret. */
export interface HostCredentials {
  passwordEnv: string | null;
  passwordFile: string | null;
  enableSecretEnv: string | null;
  enableSecretFile: string | null;
  /** A private key file. */
  key: string | null;
}

const NO_CREDENTIALS: HostCredentials = {
  passwordEnv: null,
  passwordFile: null,
  enableSecretEnv: null,
  enableSecretFile: null,
  key: null,
};

const CREDENTIAL_COLUMNS = {
  password_env: "passwordEnv",
  password_file: "passwordFile",
  enable_secret_env: "enableSecretEnv",
  enable_secret_file: "enableSecretFile",
  key: "key",
} as const;

/** Columns that would hold a secret itself: refused. */
const SECRET_COLUMNS = ["password", "secret", "enable_secret", "enable_password", "passphrase"];

const KNOWN_COLUMNS = [
  "host",
  "port",
  "user",
  "device",
  "legacy",
  "commands",
  "jump",
  "enable_level",
  ...Object.keys(CREDENTIAL_COLUMNS),
] as const;

/** The form of an inventory line. */
const ONE_TARGET_PER_LINE = "one [user@]host[:port] per line";

function fail(source: string, message: string, expected?: string): never {
  throw usageError(`${source}: ${message}`, expected ? { expected } : {});
}

/** Splits one CSV record (RFC 4180 quoting: `"a,b"`, `""` for a quote). */
export function splitCsvLine(text: string, source: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = "";
    // Leading spaces before a quoted field are tolerated.
    let j = i;
    while (text[j] === " " || text[j] === "\t") j++;
    if (text[j] === '"') {
      i = j + 1;
      for (;;) {
        if (i >= text.length) {
          fail(source, "unterminated quoted field", 'a closing " for the quoted field');
        }
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i++];
      }
      while (text[i] === " " || text[i] === "\t") i++;
      if (i < text.length && text[i] !== ",") {
        fail(source, `unexpected text after a quoted field: "${text.slice(i, i + 20)}"`);
      }
    } else {
      const end = text.indexOf(",", i);
      field = (end < 0 ? text.slice(i) : text.slice(i, end)).trim();
      i = end < 0 ? text.length : end;
    }
    out.push(field);
    if (i >= text.length) return out;
    i++; // the comma
  }
}

function parseBool(value: string, source: string): boolean | null {
  const v = value.trim().toLowerCase();
  if (v === "") return null;
  if (["yes", "true", "1", "y", "on"].includes(v)) return true;
  if (["no", "false", "0", "n", "off"].includes(v)) return false;
  return fail(source, `invalid legacy value "${value}": expected yes or no`);
}

/** True when `line` looks like a CSV header: comma-separated with a `host` column. */
function isCsvHeader(line: string): boolean {
  if (!line.includes(",")) return false;
  try {
    return splitCsvLine(line, "").some((h) => h.trim().toLowerCase() === "host");
  } catch {
    return false;
  }
}

/** Removes a `#` comment: a whole-line one, or one after whitespace (text inventories). */
function stripComment(line: string): string {
  const t = line.trim();
  if (t.startsWith("#")) return "";
  const m = /\s#/.exec(t);
  return (m ? t.slice(0, m.index) : t).trim();
}

function entryError(source: string, e: unknown): never {
  const message = e instanceof Error ? e.message : String(e);
  return fail(source, message, ONE_TARGET_PER_LINE);
}

/**
 * Parses an inventory's text. `file` is only used in messages (`file:line: ...`).
 * Throws a `usage` {@link SshError} on the first bad line, or when no host is listed.
 *
 * @example
 * ```ts
 * const entries = parseInventory("admin@10.0.0.1\n10.0.0.2:2222  # core\n", "hosts.txt");
 * // [{ host: "10.0.0.1", user: "admin", port: null, line: 1, ... }, { host: "10.0.0.2", port: 2222, ... }]
 * ```
 */
export function parseInventory(text: string, file = "inventory"): InventoryEntry[] {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const first = lines.findIndex((l) => stripComment(l) !== "");
  if (first >= 0 && isCsvHeader(lines[first]!)) return parseCsv(lines, first, file);
  const entries: InventoryEntry[] = [];
  lines.forEach((raw, i) => {
    const source = `${file}:${i + 1}`;
    const body = stripComment(raw);
    if (body === "") return;
    if (/\s/.test(body)) {
      fail(
        source,
        `expected one target per line, got "${body}"`,
        ONE_TARGET_PER_LINE,
      );
    }
    let t;
    try {
      t = parseTarget(body);
    } catch (e) {
      entryError(source, e);
    }
    entries.push({
      line: i + 1,
      source,
      target: body,
      host: t.host,
      port: t.port,
      user: t.user,
      device: null,
      legacy: null,
      credentials: NO_CREDENTIALS,
      commands: null,
      extra: {},
    });
  });
  if (entries.length === 0) {
    throw usageError(
      `${file}: the inventory lists no hosts`,
      { expected: ONE_TARGET_PER_LINE },
    );
  }
  return entries;
}

function parseCsv(lines: string[], headerIndex: number, file: string): InventoryEntry[] {
  const header = splitCsvLine(lines[headerIndex]!, `${file}:${headerIndex + 1}`).map((h) =>
    h.trim()
  );
  const lower = header.map((h) => h.toLowerCase());
  const seen = new Set<string>();
  for (const [i, h] of lower.entries()) {
    const source = `${file}:${headerIndex + 1}`;
    if (h === "") fail(source, `column ${i + 1} of the header has no name`);
    if (seen.has(h)) fail(source, `the header names the column "${header[i]}" twice`);
    if (SECRET_COLUMNS.includes(h)) {
      fail(
        source,
        `the column "${header[i]}" would hold a secret in the inventory`,
        "the name of an environment variable (password_env, enable_secret_env) or a file " +
          "(password_file, enable_secret_file) holding it",
      );
    }
    seen.add(h);
  }
  const col = (name: string) => lower.indexOf(name);
  const entries: InventoryEntry[] = [];
  for (let i = headerIndex + 1; i < lines.length; i++) {
    const source = `${file}:${i + 1}`;
    const raw = lines[i]!;
    if (raw.trim() === "" || raw.trim().startsWith("#")) continue;
    const fields = splitCsvLine(raw, source);
    if (fields.length > header.length) {
      fail(source, `${fields.length} fields but the header has ${header.length} columns`);
    }
    const get = (name: string) => {
      const c = col(name);
      return c >= 0 ? (fields[c] ?? "").trim() : "";
    };
    const hostText = get("host");
    if (hostText === "") fail(source, "the host column is empty");
    let t;
    try {
      t = parseTarget(hostText);
    } catch (e) {
      entryError(source, e);
    }
    let port = t.port;
    const portText = get("port");
    if (portText !== "") {
      try {
        port = parsePort(portText);
      } catch (e) {
        entryError(source, e);
      }
    }
    let user = t.user;
    const userText = get("user");
    if (userText !== "") {
      if (/[\s@]/.test(userText)) fail(source, `invalid user name "${userText}"`);
      user = userText;
    }
    const extra: Record<string, string> = {};
    header.forEach((h, c) => {
      if (!(KNOWN_COLUMNS as readonly string[]).includes(lower[c]!)) extra[h] = fields[c] ?? "";
    });
    const jump = get("jump") || null;
    if (jump !== null) {
      try {
        parseJumpSpec(jump);
      } catch (e) {
        entryError(source, e);
      }
    }
    const levelText = get("enable_level");
    if (levelText !== "" && (!/^\d{1,2}$/.test(levelText) || Number(levelText) > 15)) {
      fail(source, `invalid enable_level "${levelText}": expected a privilege level 0-15`);
    }
    const credentials = { ...NO_CREDENTIALS };
    for (const [column, field] of Object.entries(CREDENTIAL_COLUMNS)) {
      const value = get(column);
      if (value === "") continue;
      if (column.endsWith("_env") && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
        fail(source, `${column}: "${value}" is not an environment variable name`);
      }
      credentials[field] = value;
    }
    const commandsText = get("commands");
    const commands = commandsText === ""
      ? null
      : commandsText.split(";").map((c) => c.trim()).filter((c) => c !== "");
    const hostPart = t.host.includes(":") ? `[${t.host}]` : t.host;
    entries.push({
      line: i + 1,
      source,
      target: `${user ? user + "@" : ""}${hostPart}${port !== null ? ":" + port : ""}`,
      host: t.host,
      port,
      user,
      device: get("device") || null,
      legacy: parseBool(get("legacy"), source),
      credentials,
      commands: commands?.length ? commands : null,
      extra,
      jump,
      enableLevel: levelText === "" ? null : Number(levelText),
    });
  }
  if (entries.length === 0) {
    throw usageError(`${file}: the inventory lists no hosts (only a header)`);
  }
  return entries;
}

/** Reads and parses an inventory file (`-` reads standard input). */
export async function readInventory(path: string): Promise<InventoryEntry[]> {
  let text: string;
  try {
    text = path === "-"
      ? await new Response(platform.stdin.readable).text()
      : await platform.readTextFile(path);
  } catch (e) {
    throw usageError(`cannot read the inventory ${path}: ${(e as Error).message}`);
  }
  return parseInventory(text, path === "-" ? "stdin" : path);
}
