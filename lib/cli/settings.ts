/**
 * A run's settings from the command line and ssh_config: the one source of a command's options
 * (probe, connect, send, netconf, check, doctor, get/put), shared by the command modules main.ts
 * loads on demand.
 * @module
 */

import type { Settings } from "../config/options.ts";
import { type ConfigCommand, configFor, systemConfigIo } from "./config.ts";
import { settingsFromConfig } from "../sshconfig/apply.ts";
import type { SshConfig } from "../sshconfig/resolve.ts";
import type { ConfigIo } from "../sshconfig/types.ts";
import { SshError } from "../errors/mod.ts";

/** The common flags, as the configuration reads them (`check` has a `--login` switch). */
export interface CommonFlags {
  port?: string;
  login?: string | true;
  option: string[];
  kex?: string;
  hostkeys?: string;
  ciphers?: string;
  macs?: string;
  legacy?: true;
  timeout: string;
  json?: true;
  ndjson?: true;
  verbose: number;
  quiet?: true;
  F?: string;
}

/**
 * The ssh_config of the target (flags and `-o` first, in the order given, then `-F FILE` or
 * ~/.ssh/config and /etc/ssh/ssh_config) and the settings it gives: the one source of a run's
 * options. A bad `-o` is a usage error, a bad file line a `config.invalid` error.
 */
export function settingsFor(
  cmd: ConfigCommand,
  io: ConfigIo = systemConfigIo(),
): { config: SshConfig; settings: Settings } {
  const config = configFor(cmd, io);
  const settings = settingsFromConfig(config);
  if (cmd.flags.legacy) settings.legacy = true;
  return { config, settings };
}

/** The per-stage time budget in milliseconds: ConnectTimeout, else `--timeout`. */
export function timeoutMs(flags: Pick<CommonFlags, "timeout">, s: Settings): number {
  const t = s.connectTimeoutS ?? Number(flags.timeout);
  if (!Number.isFinite(t) || t <= 0) {
    throw new SshError(
      "usage",
      "usage.invalid",
      `invalid --timeout "${flags.timeout}": expected seconds > 0`,
    );
  }
  return t * 1000;
}
