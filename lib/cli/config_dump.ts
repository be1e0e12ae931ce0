/**
 * `sshtrace -G host`: reads ssh_config as ssh(1) does and prints the effective configuration
 * like `ssh -G` (with `-v`, each value's origin and the files and blocks read). Exits before
 * any connection.
 * @module
 */

import { configRefusals } from "../sshconfig/apply.ts";
import { dumpConfig, dumpText } from "../sshconfig/dump.ts";
import { type ConfigIo, originText } from "../sshconfig/types.ts";
import type { ConnectCliFlags } from "./args.ts";
import { type ConfigCommand, configFor, systemConfigIo } from "./config.ts";

/** Runs `-G`: the configuration on stdout, warnings (and with -v the reading) on stderr. */
export function runConfigDump(
  cmd: ConfigCommand & { readonly flags: Pick<ConnectCliFlags, "verbose" | "json"> },
  out: (text: string) => void,
  err: (text: string) => void,
  io: ConfigIo = systemConfigIo(),
): number {
  const config = configFor(cmd, io);
  const { trace } = config;
  for (const w of trace.warnings) {
    err(
      w.problem === "unknown-keyword"
        ? `sshtrace: ${w.file}:${w.line}: unknown keyword "${w.keyword}" ignored ` +
          `(OpenSSH stops here unless IgnoreUnknown lists it)\n`
        : `sshtrace: ${w.file}:${w.line}: ${w.keyword}: ${w.detail} not supported by sshtrace, ` +
          `left out of the list\n`,
    );
  }
  // The same refusals a connection stops on (refused keywords, values not acted on yet).
  const refusals = configRefusals(config);
  for (const r of refusals) {
    err(
      `sshtrace: ${originText(r.origin)}: ${r.keyword} ${r.value}: refused (${r.reason}); ` +
        `a connection with this configuration stops\n`,
    );
  }
  if (cmd.flags.verbose > 0) {
    for (const f of trace.files) {
      err(
        `config: ${f.found ? "read" : "no file"} ${f.path}${
          f.pass === "final" ? " (final pass)" : ""
        }` +
          `${
            f.includedFrom ? ` (Include at ${f.includedFrom.file}:${f.includedFrom.line})` : ""
          }\n`,
      );
    }
    for (const b of trace.blocks) {
      err(
        `config: ${b.file}:${b.line}: ${b.kind} ${b.criteria}: ${
          b.matched ? "matched" : "not matched"
        }` +
          `${b.pass === "final" ? " (final pass)" : ""}\n`,
      );
    }
  }
  const lines = dumpConfig(config);
  if (cmd.flags.json) {
    out(
      JSON.stringify({
        host: config.hostArg,
        config: lines.map((l) => ({ key: l.key, value: l.value, origin: originText(l.origin) })),
        files: trace.files,
        blocks: trace.blocks,
        finalPass: trace.finalPass,
        warnings: trace.warnings,
        refusals: refusals.map((r) => ({ ...r, origin: originText(r.origin) })),
      }) + "\n",
    );
  } else out(dumpText(lines, cmd.flags.verbose > 0));
  return 0;
}
