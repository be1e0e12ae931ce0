/**
 * The ProxyJump / `-J` list: `[user@]host[:port]` or `ssh://[user@]host[:port]` entries,
 * comma separated, first hop first; `none` means no jump host (as in ssh_config). Each entry is
 * checked as a target is ({@link parseTarget}); the list is bounded.
 * @module
 */

import { parseTarget, type Target, usageError } from "./options.ts";

/** Most jump hosts one chain may have (OpenSSH has no limit; a longer chain is a typo or a loop). */
export const MAX_HOPS = 16;

/** One jump host as written: port and user are null when the entry does not say. */
export type HopSpec = Target;

/**
 * Parses a ProxyJump value. Throws a usage error naming the entry for an empty entry, a bad
 * port, a URL with a path, or more than {@link MAX_HOPS} hops.
 *
 * @example
 * ```ts
 * parseJumpSpec("admin@bastion:2222,ssh://core");
 * // [{ user: "admin", host: "bastion", port: 2222 }, { user: null, host: "core", port: null }]
 * ```
 */
export function parseJumpSpec(text: string): HopSpec[] {
  const value = text.trim();
  if (value.toLowerCase() === "none") return [];
  const entries = value.split(",");
  if (entries.length > MAX_HOPS) {
    throw usageError(
      `ProxyJump: ${entries.length} jump hosts; at most ${MAX_HOPS} are supported`,
      { expected: `at most ${MAX_HOPS} comma-separated [user@]host[:port]` },
    );
  }
  return entries.map((entry, i) => {
    let rest = entry.trim();
    if (!rest) {
      throw usageError(`ProxyJump: jump host ${i + 1} of "${text}" is empty`, {
        expected: "[user@]host[:port],…",
      });
    }
    if (/^ssh:\/\//i.test(rest)) {
      rest = rest.slice(6).replace(/\/$/, "");
      if (rest.includes("/")) {
        throw usageError(`ProxyJump: "${entry}" has a path; an ssh:// URL names a host only`, {
          expected: "ssh://[user@]host[:port]",
        });
      }
    }
    return parseTarget(rest);
  });
}

/** A hop as text for traces and errors: `user@host:port` with only the parts given. */
export function hopText(hop: { host: string; port?: number | null; user?: string | null }): string {
  const host = hop.host.includes(":") ? `[${hop.host}]` : hop.host;
  return `${hop.user ? `${hop.user}@` : ""}${host}${hop.port ? `:${hop.port}` : ""}`;
}
