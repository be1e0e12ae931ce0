/**
 * OpenSSH known_hosts files (sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT"): parsing, host matching
 * (plain names, comma lists, `[host]:port`, hashed `|1|salt|hash`, `*` and `?` wildcards, `!`
 * negation), checking a server's host key the way ssh(1) does, and appending a new line.
 *
 * Each line is `[@marker] patterns keytype base64 [comment]`. Malformed lines are skipped and
 * reported as problems; nothing here throws for bad file content.
 * @module
 */

import { hmacDigest } from "../algorithms/hash.ts";
import { bytesEqual, WireError } from "../wire/buffer.ts";
import {
  decodeBase64,
  fingerprintSha256,
  parsePublicKey,
  publicKeyToLine,
  publicKeyType,
} from "../algorithms/pubkey.ts";
import { platform } from "../platform/mod.ts";

/** A known_hosts line that could not be used, and why. `line` is 0 for a whole-file problem. */
export interface KnownHostsProblem {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

export type KnownHostsMarker = null | "revoked" | "cert-authority";

/** One usable known_hosts line. */
export interface KnownHostsEntry {
  readonly file: string;
  /** 1-based line number. */
  readonly line: number;
  readonly marker: KnownHostsMarker;
  /** The host field exactly as written (a pattern list, or `|1|salt|hash`). */
  readonly patterns: string;
  /** Present when the host field is hashed (`|1|`): HMAC-SHA1 key and digest, 20 bytes each. */
  readonly hashed?: { readonly salt: Uint8Array; readonly hash: Uint8Array };
  readonly keyType: string;
  readonly keyBlob: Uint8Array;
  /** Text after the key, possibly empty. */
  readonly comment: string;
}

export interface KnownHostsFile {
  readonly entries: KnownHostsEntry[];
  readonly problems: KnownHostsProblem[];
}

const HASH_MAGIC = "|1|";

function parseHashedHost(field: string): { salt: Uint8Array; hash: Uint8Array } | string {
  const parts = field.slice(HASH_MAGIC.length).split("|");
  if (parts.length !== 2) return "hashed host is not |1|salt|hash";
  try {
    const salt = decodeBase64(parts[0]!, "hashed host salt");
    const hash = decodeBase64(parts[1]!, "hashed host hash");
    if (salt.length !== 20 || hash.length !== 20) {
      return `hashed host salt and hash must be 20 bytes each (got ${salt.length} and ${hash.length})`;
    }
    return { salt, hash };
  } catch (e) {
    return (e as Error).message;
  }
}

/** Parses the text of one known_hosts file. Never throws: bad lines become `problems`. */
export function parseKnownHosts(text: string, file: string): KnownHostsFile {
  const entries: KnownHostsEntry[] = [];
  const problems: KnownHostsProblem[] = [];
  const lines = text.split("\n");
  for (const [index, raw] of lines.entries()) {
    const line = index + 1;
    const content = raw.replace(/\r$/, "").trim();
    if (content === "" || content.startsWith("#")) continue;
    const problem = (message: string) => problems.push({ file, line, message });
    const fields = content.split(/[ \t]+/);
    let marker: KnownHostsMarker = null;
    if (fields[0]!.startsWith("@")) {
      const word = fields.shift()!;
      if (word === "@revoked") marker = "revoked";
      else if (word === "@cert-authority") marker = "cert-authority";
      else {
        problem(`unknown marker "${word}" (expected @revoked or @cert-authority)`);
        continue;
      }
    }
    const [patterns, keyType, keyText] = fields;
    if (patterns === undefined || keyType === undefined || keyText === undefined) {
      problem("expected: hostnames, key type and base64 key");
      continue;
    }
    if (/^\d+$/.test(keyType)) {
      problem("SSH-1 RSA key (bits exponent modulus) is not supported");
      continue;
    }
    let hashed: { salt: Uint8Array; hash: Uint8Array } | undefined;
    if (patterns.startsWith(HASH_MAGIC)) {
      const result = parseHashedHost(patterns);
      if (typeof result === "string") {
        problem(result);
        continue;
      }
      hashed = result;
    } else if (patterns.split(",").some((p) => p === "" || p === "!")) {
      problem("host list contains an empty name");
      continue;
    }
    let keyBlob: Uint8Array;
    try {
      keyBlob = decodeBase64(keyText, "key");
      const info = parsePublicKey(keyBlob);
      if (info.type !== keyType) {
        problem(`line says ${keyType} but the key inside is ${info.type}`);
        continue;
      }
    } catch (e) {
      problem(e instanceof WireError ? e.message : `unreadable key: ${(e as Error).message}`);
      continue;
    }
    const comment = fields.slice(3).join(" ");
    entries.push({
      file,
      line,
      marker,
      patterns,
      ...(hashed ? { hashed } : {}),
      keyType,
      keyBlob,
      comment,
    });
  }
  return { entries, problems };
}

// ---------------------------------------------------------------------------------------------
// Matching

/** The host string known_hosts stores: `host` for port 22, else `[host]:port` (lower case). */
export function knownHostsHostPattern(host: string, port: number): string {
  const name = host.toLowerCase();
  return port === 22 ? name : `[${name}]:${port}`;
}

/** Glob match with `*` (any run, also empty) and `?` (one character), as OpenSSH match.c. */
export function globMatch(text: string, pattern: string): boolean {
  let t = 0;
  let p = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === "?" || pattern[p] === text[t])) {
      t++;
      p++;
    } else if (p < pattern.length && pattern[p] === "*") {
      starP = p++;
      starT = t;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === "*") p++;
  return p === pattern.length;
}

/**
 * Matches a host string against a comma-separated pattern list (case-insensitive):
 * `negated` when a `!pattern` matches (the line never applies), `match` when a plain pattern
 * matches, `none` otherwise.
 */
export function matchHostPatternList(
  hostString: string,
  patternList: string,
): "match" | "negated" | "none" {
  const subject = hostString.toLowerCase();
  let positive = false;
  for (const raw of patternList.split(",")) {
    const negate = raw.startsWith("!");
    const pattern = (negate ? raw.slice(1) : raw).toLowerCase();
    if (!globMatch(subject, pattern)) continue;
    if (negate) return "negated";
    positive = true;
  }
  return positive ? "match" : "none";
}

/** Whether a known_hosts entry's host field applies to `host` on `port`. */
export function entryMatchesHost(entry: KnownHostsEntry, host: string, port: number): boolean {
  const hostString = knownHostsHostPattern(host, port);
  if (entry.hashed) {
    const digest = hmacDigest("sha1", entry.hashed.salt, new TextEncoder().encode(hostString));
    return bytesEqual(digest, entry.hashed.hash);
  }
  return matchHostPatternList(hostString, entry.patterns) === "match";
}

// ---------------------------------------------------------------------------------------------
// Checking a host key

export interface KnownHostsLocation {
  readonly file: string;
  readonly line: number;
}

export interface ChangedKey extends KnownHostsLocation {
  readonly keyType: string;
  /** SHA256 fingerprint of the key recorded on that line. */
  readonly fingerprint: string;
}

export interface HostKeyCheck {
  /**
   * `revoked`: a `@revoked` line lists this key; `known`: a line for this host has this key;
   * `changed`: lines for this host have other keys (of this type or another) and none has this
   * one; else `unknown`.
   */
  readonly status: "known" | "unknown" | "changed" | "revoked";
  /** The line that decided `known` or `revoked`. */
  readonly matched?: KnownHostsLocation;
  /** For `changed`: the lines holding the old key(s), same key type first. */
  readonly changed?: ChangedKey[];
  /**
   * `@cert-authority` lines for this host. They never make a plain key known (a host
   * certificate is checked against them: lib/hostkeys/host_certificate.ts).
   */
  readonly certAuthority: KnownHostsLocation[];
  readonly problems: KnownHostsProblem[];
}

export interface CheckHostKeyOptions {
  /** known_hosts files in order (e.g. ~/.ssh/known_hosts, /etc/ssh/ssh_known_hosts). */
  readonly files: readonly string[];
  readonly host: string;
  readonly port: number;
  /** The server's public host key blob. */
  readonly keyBlob: Uint8Array;
}

/** Reads a file's text; a missing file is empty, other failures become a problem. */
async function readKnownHostsFile(file: string): Promise<KnownHostsFile> {
  let text: string;
  try {
    text = await platform.readTextFile(file);
  } catch (e) {
    if (platform.errorKind(e) === "not-found") return { entries: [], problems: [] };
    return {
      entries: [],
      problems: [{ file, line: 0, message: `cannot read file: ${(e as Error).message}` }],
    };
  }
  return parseKnownHosts(text, file);
}

/** Reads known_hosts files in order (a missing file is empty): every usable line and problem. */
export async function loadKnownHosts(files: readonly string[]): Promise<KnownHostsFile> {
  const entries: KnownHostsEntry[] = [];
  const problems: KnownHostsProblem[] = [];
  for (const file of files) {
    const parsed = await readKnownHostsFile(file);
    entries.push(...parsed.entries);
    problems.push(...parsed.problems);
  }
  return { entries, problems };
}

/**
 * Checks a server's host key against known_hosts files as ssh(1) does. A `@revoked` line with
 * this key revokes it whatever its host patterns; a matching host line with the same key makes
 * it known (even if other lines list another key); matching lines with other keys (of any type)
 * make it changed; anything else is unknown. Missing files count as empty.
 */
export async function checkHostKey(options: CheckHostKeyOptions): Promise<HostKeyCheck> {
  const { host, port, keyBlob } = options;
  return checkHostKeyIn(await loadKnownHosts(options.files), host, port, keyBlob);
}

/** {@link checkHostKey} over lines already read. */
export function checkHostKeyIn(
  loaded: KnownHostsFile,
  host: string,
  port: number,
  keyBlob: Uint8Array,
): HostKeyCheck {
  const keyType = publicKeyType(keyBlob);
  const problems = [...loaded.problems];
  const certAuthority: KnownHostsLocation[] = [];
  const changed: ChangedKey[] = [];
  let revoked: KnownHostsLocation | undefined;
  let known: KnownHostsLocation | undefined;
  for (const entry of loaded.entries) {
    const where = { file: entry.file, line: entry.line };
    if (entry.marker === "revoked") {
      if (!revoked && bytesEqual(entry.keyBlob, keyBlob)) revoked = where;
      continue;
    }
    if (!entryMatchesHost(entry, host, port)) continue;
    if (entry.marker === "cert-authority") {
      certAuthority.push(where);
    } else if (bytesEqual(entry.keyBlob, keyBlob)) {
      known ??= where;
    } else {
      // Any other key for this host, of this type or another, makes the host's identity
      // changed (as ssh(1) does): a server that suddenly shows only a key of a type we have
      // never seen for it is not a new host.
      changed.push({
        ...where,
        keyType: entry.keyType,
        fingerprint: fingerprintSha256(entry.keyBlob),
      });
    }
  }
  if (revoked) return { status: "revoked", matched: revoked, certAuthority, problems };
  if (known) return { status: "known", matched: known, certAuthority, problems };
  if (changed.length) {
    changed.sort((a, b) => Number(b.keyType === keyType) - Number(a.keyType === keyType));
    return { status: "changed", changed, certAuthority, problems };
  }
  return { status: "unknown", certAuthority, problems };
}

// ---------------------------------------------------------------------------------------------
// Adding a host

/**
 * Appends `host-pattern type base64` to `file`, creating it (mode 0600) and its directory
 * (mode 0700) when missing. Other lines are never rewritten; a newline is added first when the
 * file does not end with one. Returns the line written (without the newline).
 */
export async function appendKnownHost(
  file: string,
  host: string,
  port: number,
  keyBlob: Uint8Array,
): Promise<string> {
  return (await recordKnownHost(file, host, port, keyBlob)).text;
}

/** Where {@link recordKnownHost} put a host's key. */
export interface RecordedKnownHost {
  /** The line (without the newline). */
  readonly text: string;
  /** Its 1-based line number in the file. */
  readonly line: number;
  /** False when the key was already recorded for the host (at `line`). */
  readonly written: boolean;
}

/**
 * {@link appendKnownHost} with OpenSSH's HashKnownHosts: with `hash`, the host field is written
 * as `|1|salt|hash` (HMAC-SHA1 of the host pattern, a fresh 20-byte salt), as ssh(1) writes it.
 * Returns the line and its real line number in the file (an existing line for the same host and
 * key, hashed or not, is not written again: its number is returned).
 */
export async function recordKnownHost(
  file: string,
  host: string,
  port: number,
  keyBlob: Uint8Array,
  options: { hash?: boolean } = {},
): Promise<RecordedKnownHost> {
  if (host === "" || /[\s,*?![\]]/.test(host) || /^[#@|]/.test(host)) {
    throw new Error(`cannot record host "${host}" in known_hosts: not a plain host name`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`cannot record port ${port} in known_hosts: not a TCP port`);
  }
  const pattern = knownHostsHostPattern(host, port);
  const keyText = publicKeyToLine(keyBlob);
  let text = `${pattern} ${keyText}`;
  if (options.hash) {
    const salt = crypto.getRandomValues(new Uint8Array(20));
    const hash = hmacDigest("sha1", salt, new TextEncoder().encode(pattern));
    text = `|1|${encodeBase64(salt)}|${encodeBase64(hash)} ${keyText}`;
  }
  // One append at a time per file in this process (a fleet check records many hosts at once),
  // and a key already recorded for the host is not written twice.
  const previous = appending.get(file) ?? Promise.resolve();
  const done = previous.catch(() => {}).then(async (): Promise<RecordedKnownHost> => {
    const { dirname } = await import("node:path"); // only here: node:path costs ~7 ms to load
    await platform.mkdir(dirname(file), { recursive: true, mode: 0o700 });
    let existing: Uint8Array = new Uint8Array(0);
    try {
      existing = await platform.readFile(file);
    } catch (e) {
      if (platform.errorKind(e) !== "not-found") throw e;
    }
    const current = new TextDecoder().decode(existing);
    const same = parseKnownHosts(current, file).entries.find((e) =>
      e.marker === null && bytesEqual(e.keyBlob, keyBlob) && entryMatchesHost(e, host, port)
    );
    if (same) {
      return {
        text: current.split("\n")[same.line - 1]!.trimEnd(),
        line: same.line,
        written: false,
      };
    }
    const needsNewline = existing.length > 0 && existing[existing.length - 1] !== 0x0a;
    const lines = current === "" ? 0 : current.split("\n").length - (needsNewline ? 0 : 1);
    await platform.writeTextFile(file, (needsNewline ? "\n" : "") + text + "\n", {
      append: true,
      mode: 0o600,
    });
    return { text, line: lines + 1, written: true };
  });
  appending.set(file, done);
  try {
    return await done;
  } finally {
    if (appending.get(file) === done) appending.delete(file);
  }
}

const encodeBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

/** The append in progress per known_hosts file (see {@link appendKnownHost}). */
const appending = new Map<string, Promise<unknown>>();
