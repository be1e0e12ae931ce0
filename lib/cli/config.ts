/**
 * `sshtrace -G host`: reads ssh_config as ssh(1) does and prints the effective configuration
 * like `ssh -G` (with `-v`, each value's origin and the files and blocks read). Exits before
 * any connection. Also the Deno-backed {@link ConfigIo} the pure reader is given.
 * @module
 */

import { configForwardText } from "../forward/spec.ts";
import { parsePort, parseTarget, usageError } from "../config/options.ts";
import { dumpConfig, dumpText } from "../sshconfig/dump.ts";
import { type CommandLineItem, resolveConfig, type SshConfig } from "../sshconfig/resolve.ts";
import { type ConfigIo, originText, SshConfigError } from "../sshconfig/types.ts";
import type { ConnectCliFlags } from "./args.ts";
import type { CommandLineValue } from "./order.ts";
import { env } from "./output.ts";
import { platform } from "../platform/mod.ts";

/** Files and host facts from the running system. */
export function systemConfigIo(): ConfigIo {
  const who = platform.user();
  return {
    // One byte past the limit, so the reader sees an oversized file as such.
    readText: (path, maxBytes) => platform.readTextSync(path, maxBytes + 1),
    readDir: (path) => platform.readDirSync(path),
    env,
    home: env("HOME") ?? who.home ?? "/",
    localUser: who.name ?? env("USER") ?? "unknown",
    uid: who.uid,
    localHost: platform.hostname(),
  };
}

export interface ConfigCommand {
  readonly target: string;
  readonly flags: ConnectCliFlags;
  /** `-o`, `-p`, `-l` in the order given. */
  readonly order: readonly CommandLineValue[];
}

/**
 * sshtrace's own flags as the ssh_config options they stand for, each with its flag as origin;
 * they come before `-o` (a dedicated flag wins, as when connecting). `--timeout` is a per-stage
 * budget, not ConnectTimeout, and `--legacy` widens the lists edits apply to: neither is shown.
 */
function flagItems(flags: ConnectCliFlags): CommandLineItem[] {
  const items: CommandLineItem[] = [];
  const add = (flag: string, text: string) => items.push({ kind: "option", text, flag });
  if (flags.kex) add("--kex", `KexAlgorithms=${flags.kex}`);
  if (flags.hostkeys) add("--hostkeys", `HostKeyAlgorithms=${flags.hostkeys}`);
  if (flags.ciphers) add("--ciphers", `Ciphers=${flags.ciphers}`);
  if (flags.macs) add("--macs", `MACs=${flags.macs}`);
  if (flags.C) add("-C", "Compression=yes");
  if (flags.t) add("-t", "RequestTTY=yes");
  if (flags.T) add("-T", "RequestTTY=no");
  if (flags.batch) add("--batch", "BatchMode=yes");
  if (flags.rekeyLimit) add("--rekey-limit", `RekeyLimit=${flags.rekeyLimit}`);
  if (flags.J !== undefined) add("-J", `ProxyJump=${flags.J}`);
  for (const spec of flags.L) add("-L", `LocalForward=${configForwardText(spec)}`);
  for (const spec of flags.R) add("-R", `RemoteForward=${configForwardText(spec, "-R")}`);
  for (const spec of flags.D) add("-D", `DynamicForward=${spec}`);
  if (flags.A) add("-A", "ForwardAgent=yes");
  for (const file of flags.identity) add("-i", `IdentityFile="${file.replace(/["\\]/g, "\\$&")}"`);
  return items;
}

/** Resolves the configuration of the command's target; a bad file is a usage error. */
export function configFor(cmd: ConfigCommand, io: ConfigIo): SshConfig {
  const target = parseTarget(cmd.target);
  const commandLine: CommandLineItem[] = [
    ...flagItems(cmd.flags),
    ...cmd.order.map((o): CommandLineItem =>
      o.kind === "option"
        ? { kind: "option", text: o.value }
        : o.kind === "port"
        ? { kind: "port", value: parsePort(o.value), flag: o.flag }
        : { kind: "user", value: o.value, flag: o.flag }
    ),
  ];
  try {
    return resolveConfig({
      host: target.host,
      ...(target.user !== null ? { targetUser: target.user } : {}),
      ...(target.port !== null ? { targetPort: target.port } : {}),
      commandLine,
      ...(cmd.flags.F !== undefined ? { configFile: cmd.flags.F } : {}),
    }, io);
  } catch (e) {
    if (e instanceof SshConfigError) {
      throw usageError(`configuration: ${e.message}`, { expected: "a valid ssh_config line" });
    }
    throw e;
  }
}

/** Runs `-G`: the configuration on stdout, warnings (and with -v the reading) on stderr. */
export function runConfigDump(
  cmd: ConfigCommand,
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
  for (const r of config.refusals) {
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
        refusals: config.refusals.map((r) => ({ ...r, origin: originText(r.origin) })),
      }) + "\n",
    );
  } else out(dumpText(lines, cmd.flags.verbose > 0));
  return 0;
}
