/**
 * Fix text for each audience: sshtrace's own flags, OpenSSH's options (`ssh -o`, ssh_config)
 * and the library's options (`ConnectOptions`). The only place that names them.
 * @module
 */

import type { ListCategory } from "../algorithms/registry.ts";
import type { AlgorithmCandidate } from "./catalogue/types.ts";

/** Names each category's OpenSSH option uses. */
export const OPENSSH_OPTION: Record<ListCategory, string> = {
  kex: "KexAlgorithms",
  hostKey: "HostKeyAlgorithms",
  cipher: "Ciphers",
  mac: "MACs",
  compression: "Compression",
};

/** sshtrace's own flag for each category. */
export const FLAG: Record<ListCategory, string> = {
  kex: "--kex",
  hostKey: "--hostkeys",
  cipher: "--ciphers",
  mac: "--macs",
  compression: "--compression",
};

/** `--kex +a --ciphers +b` and `-o KexAlgorithms=+a -o Ciphers=+b` for a set of algorithms. */
export function enableFlags(
  enable: readonly AlgorithmCandidate[],
): { fix: string; opensshFix: string } {
  const grouped = new Map<ListCategory, string[]>();
  for (const c of enable) {
    grouped.set(c.category, [...(grouped.get(c.category) ?? []), c.algorithm]);
  }
  const fix: string[] = [];
  const ssh: string[] = [];
  for (const [category, names] of grouped) {
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
  return { fix: fix.join(" "), opensshFix: ssh.join(" ") };
}
