/**
 * Path rules of transfers: POSIX joins for remote paths, the temporary name a copy is written
 * under until it is complete, and the check every name a server sends must pass before it
 * becomes a local path (the CVE-2019-6111 class: `..`, absolute paths, `/` inside a name).
 * @module
 */

import { SshError } from "../errors/mod.ts";

/** The last component of a path (`/a/b/` → `b`). */
export function basename(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  const i = trimmed.lastIndexOf("/");
  return i < 0 ? trimmed : trimmed.slice(i + 1);
}

/**
 * The local name for a downloaded remote path: its last component, without a switch's file
 * system prefix (`flash:startup.cfg` → `startup.cfg`).
 */
export function localNameFor(remote: string): string {
  const base = basename(remote);
  const colon = base.lastIndexOf(":");
  return colon >= 0 && colon < base.length - 1 ? base.slice(colon + 1) : base;
}

/** Everything before the last component (`a/b` → `a`, `b` → `.`, `/b` → `/`). */
export function dirname(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  const i = trimmed.lastIndexOf("/");
  if (i < 0) return ".";
  return i === 0 ? "/" : trimmed.slice(0, i);
}

/** Joins a directory and a name with one `/`. */
export function join(dir: string, name: string): string {
  if (dir === "" || dir === ".") return name;
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

/** The suffix of temporary names: a copy lives under `.<name>.sshtrace-part` until complete. */
export const PART_SUFFIX = ".sshtrace-part";

/** The temporary name a copy to `path` is written under (same directory, so rename is atomic). */
export function partName(path: string): string {
  return join(dirname(path), `.${basename(path)}${PART_SUFFIX}`);
}

/** Why a name from a server cannot be a local file name, or null when it is safe. */
export function unsafeReason(name: string): string | null {
  if (name === "") return "an empty name";
  if (name === "." || name === "..") return `"${name}"`;
  if (name.includes("/")) return name.startsWith("/") ? "an absolute path" : "a `/` inside a name";
  if (name.includes("\\")) return "a `\\` inside a name";
  if (name.includes("\0")) return "a NUL byte";
  return null;
}

/**
 * Checks a name a server sent for an entry of `directory` (a recursive download, an SCP `C`/`D`
 * line); throws `transfer.unsafe-name` unless it is one plain component.
 */
export function checkServerName(name: string, directory: string): string {
  const why = unsafeReason(name);
  if (why) {
    throw new SshError(
      "transfer",
      "transfer.unsafe-name",
      `the server sent the name ${JSON.stringify(name)} (${why}) for an entry of ${directory}: ` +
        "refused, it would be written outside the destination",
      { name, directory },
    );
  }
  return name;
}
