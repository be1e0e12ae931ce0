/**
 * The fix in the user's own ssh_config: when the OpenSSH fix of a failure is a `-o Key=Value`
 * change, the lines to put under the Host block that matched the target (and where that block
 * starts), or the line to change when the file already sets the keyword (ssh_config keeps the
 * first value, so a line added later would not count). Built from the `config` stage of the
 * trace; null for a run that read no configuration (a library call). Pure.
 * @module
 */

import type { TraceEvent } from "../trace.ts";

type ConfigEvent<T extends string> = Extract<TraceEvent, { stage: "config"; type: T }>;

/** The `-o Key=Value` options of an OpenSSH fix, as `[Key, Value]`. */
function options(opensshFix: string): [string, string][] {
  return [...opensshFix.matchAll(/(?:^|\s)-o\s*([A-Za-z]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]);
}

/**
 * The ssh_config lines that apply `opensshFix` for the target of this run, with the file and
 * line to edit; null when the fix has no `-o` option or the run read no configuration.
 */
export function configFix(opensshFix: string | null, events: readonly TraceEvent[]): string | null {
  if (!opensshFix) return null;
  const opts = options(opensshFix);
  if (!opts.length) return null;
  const of = <T extends string>(type: T) =>
    events.filter((e): e is ConfigEvent<T> & TraceEvent => e.stage === "config" && e.type === type);
  if (!events.some((e) => e.stage === "config")) return null;
  const values = of("value");
  const out: string[] = [];
  const add: [string, string][] = [];
  for (const [key, value] of opts) {
    const set = values.find((v) => v.keyword.toLowerCase() === key.toLowerCase());
    const at = set && /^(.*):(\d+)$/.exec(set.origin);
    if (at && !set.origin.startsWith("-")) {
      out.push(`change ${set.keyword} at ${set.origin} to: ${set.keyword} ${value}`);
    } else add.push([key, value]);
  }
  if (add.length) {
    const lines = add.map(([k, v]) => `  ${k} ${v}`).join("\n");
    // The most specific Host block that matched: the first one not matching every host.
    const host = of("block").find((b) =>
      b.kind === "Host" && b.matched && b.pass === "first" && b.criteria.trim() !== "*"
    );
    const target = events.find((e) => e.type === "resolving");
    if (host) {
      out.push(`add under "Host ${host.criteria}" (${host.file}:${host.line}):\n${lines}`);
    } else {
      const name = target && target.type === "resolving" ? target.host : "HOST";
      out.push(`add to ~/.ssh/config:\nHost ${name}\n${lines}`);
    }
  }
  return out.join("\n");
}
