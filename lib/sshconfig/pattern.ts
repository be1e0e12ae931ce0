/**
 * ssh_config pattern lists, as OpenSSH's match.c: `Host` takes blank-separated patterns (each
 * matched alone, `!` negating), `Match host`/`user` take comma lists where a matching `!pattern`
 * vetoes the list. The glob itself (`*`, `?`) is the one known_hosts uses. Pure.
 * @module
 */

import { globMatch } from "../hostkeys/known_hosts.ts";

/**
 * OpenSSH's match_pattern_list: `match` when a plain pattern of the comma list matches,
 * `negated` when a `!pattern` matches (which wins), `none` otherwise. With `lower`, the patterns
 * are compared in lower case (host names; the subject must already be lower case).
 */
export function matchPatternList(
  subject: string,
  list: string,
  lower: boolean,
): "match" | "negated" | "none" {
  let positive = false;
  for (const raw of list.split(",")) {
    const negated = raw.startsWith("!");
    let pattern = negated ? raw.slice(1) : raw;
    if (lower) pattern = pattern.toLowerCase();
    if (!globMatch(subject, pattern)) continue;
    if (negated) return "negated";
    positive = true;
  }
  return positive ? "match" : "none";
}

/**
 * Whether a `Host` line's patterns select `host`: the first matching `!pattern` vetoes the block,
 * else any matching pattern selects it. Returns the pattern that decided, for the trace.
 */
export function matchHostLine(
  host: string,
  patterns: readonly string[],
): { matched: boolean; by?: string } {
  let by: string | undefined;
  for (const p of patterns) {
    const negated = p.startsWith("!");
    if (!globMatch(host, negated ? p.slice(1) : p)) continue;
    if (negated) return { matched: false, by: p };
    by ??= p;
  }
  return by === undefined ? { matched: false } : { matched: true, by };
}
