/**
 * Expanding an `Include` path with `*` and `?` in any component, as glob(3) does for OpenSSH:
 * matches sorted, names starting with `.` only matched by a pattern starting with `.`, and a
 * path without wildcards kept only if it exists. Reads directories through the injected
 * {@link ConfigIo}. Pure otherwise.
 * @module
 */

import { globMatch } from "../hostkeys/known_hosts.ts";
import type { ConfigIo } from "./types.ts";

const hasWildcard = (s: string) => /[*?]/.test(s);

/** The files `pattern` (an absolute path) names, sorted; at most `limit` of them. */
export function expandGlob(io: ConfigIo, pattern: string, limit: number): string[] {
  if (!hasWildcard(pattern)) return [pattern];
  const parts = pattern.split("/").filter((p, i) => p !== "" || i === 0);
  let paths = [parts[0] === "" ? "" : parts[0]!];
  for (const part of parts.slice(1)) {
    const next: string[] = [];
    for (const dir of paths) {
      if (!hasWildcard(part)) {
        next.push(`${dir}/${part}`);
        continue;
      }
      const names = [...(io.readDir(dir === "" ? "/" : dir) ?? [])].sort();
      for (const name of names) {
        if (name.startsWith(".") && !part.startsWith(".")) continue;
        if (globMatch(name, part)) next.push(`${dir}/${name}`);
        if (next.length > limit) return next.slice(0, limit + 1);
      }
    }
    paths = next;
  }
  return paths.sort();
}
