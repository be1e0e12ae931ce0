/**
 * `sshtrace -G host`: reads ssh_config as ssh(1) does and prints the effective configuration
 * like `ssh -G` (with `-v`, each value's origin and the files and blocks read). Exits before
 * any connection. Also the Deno-backed {@link ConfigIo} the pure reader is given.
 * @module
 */

import { configForwardText } from "../forward/spec.ts";
import { checkListOption, parsePort, parseTarget, usageError } from "../config/options.ts";
import { configInvalid, configRefusals } from "../sshconfig/apply.ts";
import { dumpConfig, dumpText } from "../sshconfig/dump.ts";
import { KEYWORDS } from "../sshconfig/keywords.ts";
import { type CommandLineItem, resolveConfig, type SshConfig } from "../sshconfig/resolve.ts";
import { type ConfigIo, originText, SshConfigError } from "../sshconfig/types.ts";
import type { ConnectCliFlags } from "./args.ts";
import type { CommandLineValue } from "./order.ts";
import { env } from "./output.ts";
import { platform } from "../platform/mod.ts";

/** Files and host facts from the running system. */
export function systemConfigIo(): ConfigIo {
  // Asked only when a token or Match needs it: the account lookup loads node:os (~14 ms of a
  // login's start-up), and HOME / USER answer the common questions.
  let who: ReturnType<typeof platform.user> | undefined;
  const whoami = () => (who ??= platform.user());
  let localHost: string | undefined;
  return {
    // One byte past the limit, so the reader sees an oversized file as such.
    readText: (path, maxBytes) => platform.readTextSync(path, maxBytes + 1),
    readDir: (path) => platform.readDirSync(path),
    env,
    get home() {
      return env("HOME") ?? whoami().home ?? "/";
    },
    get localUser() {
      return env("USER") ?? env("LOGNAME") ?? whoami().name ?? "unknown";
    },
    get uid() {
      return whoami().uid;
    },
    get localHost() {
      return (localHost ??= platform.hostname());
    },
  };
}

/** The flags that stand for ssh_config options (every command's subset of connect's). */
export type ConfigFlags =
  & Pick<ConnectCliFlags, "kex" | "hostkeys" | "ciphers" | "macs" | "legacy" | "F">
  & Partial<
    Pick<
      ConnectCliFlags,
      | "C"
      | "t"
      | "T"
      | "batch"
      | "rekeyLimit"
      | "identity"
      | "4"
      | "6"
      | "b"
      | "e"
      | "J"
      | "L"
      | "R"
      | "D"
      | "A"
      | "g"
    >
  >;

export interface ConfigCommand {
  readonly target: string;
  readonly flags: ConfigFlags;
  /** `-o`, `-p`, `-l` in the order given. */
  readonly order: readonly CommandLineValue[];
}

/**
 * sshtrace's own flags as the ssh_config options they stand for, each with its flag as origin;
 * they come before `-o` (a dedicated flag wins, as when connecting). `--timeout` is a per-stage
 * budget, not ConnectTimeout, and `--legacy` widens the lists edits apply to: neither is shown.
 */
function flagItems(flags: ConfigFlags): CommandLineItem[] {
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
  if (flags["4"]) add("-4", "AddressFamily=inet");
  if (flags["6"]) add("-6", "AddressFamily=inet6");
  if (flags.b !== undefined) add("-b", `BindAddress=${quote(flags.b)}`);
  if (flags.e !== undefined) add("-e", `EscapeChar=${quote(flags.e)}`);
  if (flags.rekeyLimit) add("--rekey-limit", `RekeyLimit=${flags.rekeyLimit}`);
  if (flags.J !== undefined) add("-J", `ProxyJump=${flags.J}`);
  for (const spec of flags.L ?? []) add("-L", `LocalForward=${configForwardText(spec)}`);
  for (const spec of flags.R ?? []) add("-R", `RemoteForward=${configForwardText(spec, "-R")}`);
  for (const spec of flags.D ?? []) add("-D", `DynamicForward=${spec}`);
  if (flags.A) add("-A", "ForwardAgent=yes");
  if (flags.g) add("-g", "GatewayPorts=yes");
  for (const file of flags.identity ?? []) add("-i", `IdentityFile=${quote(file)}`);
  return items;
}

/** An argument quoted for an ssh_config line. */
const quote = (text: string) => `"${text.replace(/["\\]/g, "\\$&")}"`;

/**
 * Resolves the configuration of the command's target. A bad `-o` or flag is a usage error (an
 * unknown keyword: `unsupported option`, with the keywords sshtrace supports); a bad file line
 * is a `config.invalid` error naming file and line.
 */
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
  for (const item of commandLine) {
    if (item.kind !== "option") continue;
    if (!/^\s*[A-Za-z][A-Za-z0-9]*\s*(?:=|\s)\s*\S/.test(item.text)) {
      throw usageError(`invalid -o "${item.text}": expected Key=Value`);
    }
    checkListOption(item.text, cmd.flags.legacy ?? false);
  }
  let config: SshConfig;
  try {
    config = resolveConfig({
      host: target.host,
      ...(target.user !== null ? { targetUser: target.user } : {}),
      ...(target.port !== null ? { targetPort: target.port } : {}),
      commandLine,
      ...(cmd.flags.F !== undefined ? { configFile: cmd.flags.F } : {}),
      ...(cmd.flags.legacy ? { legacy: true } : {}),
    }, io);
  } catch (e) {
    if (!(e instanceof SshConfigError)) throw e;
    if (e.file !== "command line") throw configInvalid(e);
    if (e.keyword !== undefined && /^unknown keyword/.test(e.problem)) {
      throw usageError(`unsupported option -o ${e.keyword}`, { supported: SUPPORTED_KEYWORDS });
    }
    throw usageError(`-o ${e.problem}`, { expected: "Key=Value, as in ssh_config" });
  }
  return config;
}

/** The keywords sshtrace acts on, as ssh_config(5) spells them. */
const SUPPORTED_KEYWORDS: readonly string[] = [...KEYWORDS.values()]
  .filter((k) => k.status === "supported" && k.aliasOf === undefined)
  .map((k) => k.name);

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
