/**
 * `sshtrace -G host`: reads ssh_config as ssh(1) does and prints the effective configuration
 * like `ssh -G` (with `-v`, each value's origin and the files and blocks read). Exits before
 * any connection. Also the Deno-backed {@link ConfigIo} the pure reader is given.
 * @module
 */

import os from "node:os";
import { parsePort, parseTarget, usageError } from "../config/options.ts";
import { dumpConfig, dumpText } from "../sshconfig/dump.ts";
import { type CommandLineItem, resolveConfig, type SshConfig } from "../sshconfig/resolve.ts";
import { type ConfigIo, originText, SshConfigError } from "../sshconfig/types.ts";
import { env } from "./output.ts";

/** Files and host facts from the running system. */
export function systemConfigIo(): ConfigIo {
  const info = (() => {
    try {
      return os.userInfo();
    } catch {
      return undefined;
    }
  })();
  return {
    readText(path: string, maxBytes: number): string | undefined {
      let file: Deno.FsFile;
      try {
        file = Deno.openSync(path, { read: true });
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return undefined;
        throw e;
      }
      try {
        if (!file.statSync().isFile) throw new Error("not a regular file");
        const buf = new Uint8Array(maxBytes + 1);
        let n = 0;
        while (n < buf.length) {
          const r = file.readSync(buf.subarray(n));
          if (r === null || r === 0) break;
          n += r;
        }
        return new TextDecoder().decode(buf.subarray(0, n));
      } finally {
        file.close();
      }
    },
    readDir(path: string): string[] | undefined {
      try {
        return [...Deno.readDirSync(path)].map((e) => e.name);
      } catch {
        return undefined;
      }
    },
    env,
    home: env("HOME") ?? info?.homedir ?? "/",
    localUser: info?.username ?? env("USER") ?? "unknown",
    uid: Deno.uid() ?? 0,
    localHost: os.hostname(),
  };
}

export interface ConfigCommand {
  readonly target: string;
  /** `-F`. */
  readonly configFile?: string;
  /** `-o`, `-p`, `-l` in the order given. */
  readonly order: readonly { kind: "option" | "port" | "user"; value: string; flag: string }[];
  readonly verbose: number;
}

/** Resolves the configuration of the command's target; a bad file is a usage error. */
export function configFor(cmd: ConfigCommand, io: ConfigIo): SshConfig {
  const target = parseTarget(cmd.target);
  const commandLine: CommandLineItem[] = cmd.order.map((o) =>
    o.kind === "option"
      ? { kind: "option", text: o.value }
      : o.kind === "port"
      ? { kind: "port", value: parsePort(o.value), flag: o.flag }
      : { kind: "user", value: o.value, flag: o.flag }
  );
  try {
    return resolveConfig({
      host: target.host,
      ...(target.user !== null ? { targetUser: target.user } : {}),
      ...(target.port !== null ? { targetPort: target.port } : {}),
      commandLine,
      ...(cmd.configFile !== undefined ? { configFile: cmd.configFile } : {}),
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
  if (cmd.verbose > 0) {
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
  out(dumpText(dumpConfig(config), cmd.verbose > 0));
  return 0;
}
