/**
 * The effective configuration as `ssh -G` prints it (OpenSSH 9.2's readconf.c
 * dump_client_config): the same lower-case keys, value formats and order, for the keywords
 * sshtrace supports. With origins, each line also says where its value came from. Pure: returns
 * lines, the CLI prints them.
 * @module
 */

import { opensshDynamicText, opensshForwardText } from "../forward/spec.ts";
import type { SshConfig } from "./resolve.ts";
import { type Origin, originText } from "./types.ts";
import type { RekeyLimit, Value } from "./values.ts";

/** One printed line: `key value`, and the origin of the value. */
export interface DumpLine {
  readonly key: string;
  readonly value: string;
  readonly origin: Origin;
}

type Format = (v: Value) => string;
const yesNo: Format = (v) => (v ? "yes" : "no");
const trueFalse: Record<string, string> = { yes: "true", no: "false", off: "false" };
const multi: Format = (v) => trueFalse[String(v)] ?? String(v);
const plain: Format = (v) => String(v);
const words: Format = (v) => (v as readonly string[]).join(" ");
const rekey: Format = (v) => `${(v as RekeyLimit).bytes} ${(v as RekeyLimit).seconds}`;

/** OpenSSH prints the escape character through vis(3): control characters as `\^X`. */
const escape: Format = (v) => {
  const s = String(v);
  if (s === "none") return "none";
  const c = s.charCodeAt(0);
  if (c < 32) return `\\^${String.fromCharCode(c + 64)}`;
  if (c === 127) return "\\^?";
  return s;
};
const timeout: Format = (v) => ((v as number) < 0 ? "none" : String(v));

/** The printed keys in ssh -G's order: [key, format, how a list is printed]. */
const ORDER: readonly [string, Format, ("one-line" | "each")?][] = [
  ["user", plain],
  ["hostname", plain],
  ["port", plain],
  ["addressfamily", plain],
  ["batchmode", yesNo],
  ["checkhostip", yesNo],
  ["compression", yesNo],
  ["exitonforwardfailure", yesNo],
  ["gatewayports", yesNo],
  ["hashknownhosts", yesNo],
  ["identitiesonly", yesNo],
  ["kbdinteractiveauthentication", yesNo],
  ["passwordauthentication", yesNo],
  ["pubkeyauthentication", multi],
  ["requesttty", multi],
  ["streamlocalbindunlink", yesNo],
  ["stricthostkeychecking", multi],
  ["tcpkeepalive", yesNo],
  ["connectionattempts", plain],
  ["numberofpasswordprompts", plain],
  ["serveralivecountmax", plain],
  ["serveraliveinterval", plain],
  ["requiredrsasize", plain],
  ["bindaddress", plain],
  ["ciphers", plain],
  ["hostkeyalgorithms", plain],
  ["hostkeyalias", plain],
  ["identityagent", plain],
  ["ignoreunknown", plain],
  ["kexalgorithms", plain],
  ["casignaturealgorithms", plain],
  ["loglevel", plain],
  ["macs", plain],
  ["preferredauthentications", plain],
  ["pubkeyacceptedalgorithms", plain],
  ["dynamicforward", (v) => opensshDynamicText(String(v)), "each"],
  ["localforward", (v) => opensshForwardText(String(v)), "each"],
  ["remoteforward", (v) => opensshForwardText(String(v)), "each"],
  ["identityfile", plain, "each"],
  ["certificatefile", plain, "each"],
  ["globalknownhostsfile", words],
  ["userknownhostsfile", words],
  ["sendenv", plain, "each"],
  ["setenv", plain, "each"],
  ["forwardagent", yesNo],
  ["connecttimeout", timeout],
  ["escapechar", escape],
  ["rekeylimit", rekey],
  ["streamlocalbindmask", (v) => `0${Number(v).toString(8)}`],
  ["proxyjump", plain],
  ["proxycommand", plain],
];

/** The lines `sshtrace -G` prints, `host` first, as ssh -G. */
export function dumpConfig(config: SshConfig): DumpLine[] {
  const out: DumpLine[] = [{ key: "host", value: config.hostArg, origin: { kind: "target" } }];
  for (const [key, format, list] of ORDER) {
    if (list === "each") {
      const items = config.lists.get(key) ?? [];
      if (items.length === 0 && key === "setenv") {
        const set = config.values.get("setenv");
        for (const v of (set?.value as readonly string[] | undefined) ?? []) {
          out.push({ key, value: v, origin: set!.origin });
        }
      }
      for (const item of items) out.push({ key, value: format(item.value), origin: item.origin });
      continue;
    }
    const set = config.values.get(key);
    if (set === undefined) continue;
    out.push({ key, value: format(set.value), origin: set.origin });
  }
  return out;
}

/** The lines as text: `key value`, or with origins `key value  # origin`. */
export function dumpText(lines: readonly DumpLine[], origins: boolean): string {
  return lines.map((l) =>
    origins ? `${l.key} ${l.value}  # ${originText(l.origin)}` : `${l.key} ${l.value}`
  ).join("\n") + "\n";
}
