/**
 * Fix text for each audience: sshtrace's own flags, OpenSSH's options (`ssh -o`, ssh_config)
 * and the library's options (`ConnectOptions`). The only place that names them.
 * @module
 */

import type { ListCategory } from "../algorithms/registry.ts";
import { OPENSSH_OPTION } from "../config/options.ts";
import type { AlgorithmCandidate } from "./catalogue/types.ts";

export { OPENSSH_OPTION };

/** sshtrace's own flag for each category. */
export const FLAG: Record<ListCategory, string> = {
  kex: "--kex",
  hostKey: "--hostkeys",
  cipher: "--ciphers",
  mac: "--macs",
  compression: "--compression",
};

/**
 * `ConnectOptions` written as an object literal for a library fix: `libraryOptions({ timeoutMs:
 * 30_000 })` gives `{ timeoutMs: 30_000 }`. Strings are quoted; numbers from 10,000 up get `_`
 * separators; `raw` values are written as given (placeholders such as `PORT`).
 */
export function libraryOptions(options: Record<string, unknown>): string {
  const show = (v: unknown): string => {
    if (v instanceof Raw) return v.text;
    if (typeof v === "string") return JSON.stringify(v);
    if (typeof v === "number") {
      return Math.abs(v) >= 10_000 ? String(v).replace(/\B(?=(\d{3})+(?!\d))/g, "_") : String(v);
    }
    if (Array.isArray(v)) return `[${v.map(show).join(", ")}]`;
    if (v && typeof v === "object") {
      const entries = Object.entries(v).map(([k, x]) => `${k}: ${show(x)}`);
      return entries.length ? `{ ${entries.join(", ")} }` : "{}";
    }
    return String(v);
  };
  return show(options);
}

/** A value written as is by {@link libraryOptions} (a placeholder such as `PORT`). */
export class Raw {
  constructor(readonly text: string) {}
}

/** `raw("PORT")`: a placeholder in a {@link libraryOptions} literal. */
export function raw(text: string): Raw {
  return new Raw(text);
}

/** The library fix that raises every network wait to `seconds`. */
export function libraryTimeout(seconds: number): string {
  return libraryOptions({ timeoutMs: seconds * 1000 });
}

/**
 * `--kex +a --ciphers +b`, `-o KexAlgorithms=+a -o Ciphers=+b` and
 * `{ algorithms: { kex: ["+a"], cipher: ["+b"] } }` for a set of algorithms.
 */
export function enableFlags(
  enable: readonly AlgorithmCandidate[],
): { fix: string; opensshFix: string; libraryFix: string } {
  const grouped = new Map<ListCategory, string[]>();
  for (const c of enable) {
    grouped.set(c.category, [...(grouped.get(c.category) ?? []), c.algorithm]);
  }
  const fix: string[] = [];
  const ssh: string[] = [];
  const library: Record<string, string[]> = {};
  for (const [category, names] of grouped) {
    library[category] = [`+${names.join(",")}`];
    if (category === "compression") {
      // Compression is a yes/no option in OpenSSH (and in sshtrace's -o Compression).
      const value = names.includes("none") ? "no" : "yes";
      fix.push(`-o Compression=${value}`);
      ssh.push(`-o Compression=${value}`);
      continue;
    }
    fix.push(`${FLAG[category]} +${names.join(",")}`);
    ssh.push(`-o ${OPENSSH_OPTION[category]}=+${names.join(",")}`);
  }
  return {
    fix: fix.join(" "),
    opensshFix: ssh.join(" "),
    libraryFix: libraryOptions({ algorithms: library }),
  };
}
