/**
 * sshtrace command line: parses flags (lib/cli/args.ts), builds options, picks a renderer, maps
 * errors to exit codes. All protocol work is in lib/.
 * @module
 */

import { parseCommandLine, type ParsedCommand, type TransferCliFlags } from "./lib/cli/args.ts";
import { probe } from "./lib/client.ts";
import { outputFlags, runConnect } from "./lib/cli/connect.ts";
import { tcpOptions } from "./lib/cli/connection_options.ts";
import { jumpRoute } from "./lib/cli/jump.ts";
import type { CommandLineValue } from "./lib/cli/order.ts";
import { interruptOnCtrlC } from "./lib/cli/tty.ts";
// send, check and lab are loaded when used, so logging in does not pay for their modules.
import { makeOutput, writeErr, writeOut } from "./lib/cli/output.ts";
import { parseTarget, type Settings } from "./lib/config/options.ts";
import { type ConfigCommand, configFor, systemConfigIo } from "./lib/cli/config.ts";
import {
  configRefusals,
  refusalError,
  settingsFromConfig,
  traceConfig,
} from "./lib/sshconfig/apply.ts";
import type { SshConfig } from "./lib/sshconfig/resolve.ts";
import type { ConfigIo } from "./lib/sshconfig/types.ts";
import { explainFailure } from "./lib/diagnose/explain.ts";
import { reportToJson } from "./lib/render/ndjson.ts";
import { buildReport, probeReport } from "./lib/render/report.ts";
import { sanitize } from "./lib/render/sanitize.ts";
import { platform } from "./lib/platform/mod.ts";
import { SshError } from "./lib/errors/mod.ts";

// ---------------------------------------------------------------------------------------------
// Running

/** The common flags, as the configuration reads them (`check` has a `--login` switch). */
interface CommonFlags {
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

/**
 * A copy's configuration command: its remote side names the host, and its port flag is scp's
 * `-P` (`-p` keeps times and modes there), which comes first as `-p` does for a login.
 */
export function transferConfigCommand(
  cmd: { flags: TransferCliFlags; order: readonly CommandLineValue[] },
  target: string,
): ConfigCommand {
  const order = [...cmd.order];
  if (cmd.flags.port !== undefined && !order.some((o) => o.kind === "port")) {
    order.unshift({ kind: "port", value: String(cmd.flags.port), flag: "-P" });
  }
  return { target, flags: cmd.flags, order };
}

function timeoutMs(flags: CommonFlags, s: Settings): number {
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

async function probeAction(
  targetText: string,
  flags: CommonFlags & { deep?: true; policy?: string; makePolicy?: string; junit?: string },
  order: readonly CommandLineValue[],
): Promise<number> {
  const target = parseTarget(targetText);
  const { config, settings: s } = settingsFor({ target: targetText, flags, order });
  const { tracer, human } = makeOutput(outputFlags(flags, s.logLevel));
  traceConfig(tracer, config);
  const refusals = [...configRefusals(config)];
  const port = s.port ?? target.port ?? 22;
  const timeout = timeoutMs(flags, s);
  // Behind jump hosts (-J, ProxyJump): each hop logs in with its own configuration.
  const route = await jumpRoute(s, flags, timeout);
  if (route) refusals.push(...route.refusals);
  if (refusals.length) throw refusalError(refusals);
  if ((flags.deep || flags.policy || flags.makePolicy) && (route || s.proxyCommand)) {
    throw new SshError(
      "usage",
      "usage.invalid",
      "probe --deep (and --policy) makes many connections straight to the host: not through " +
        "jump hosts or a ProxyCommand yet; probe without --deep goes through them",
    );
  }
  if (flags.deep || flags.policy || flags.makePolicy) {
    const { runDeepProbe } = await import("./lib/cli/deep.ts");
    return await runDeepProbe({
      host: target.host,
      port,
      user: s.user ?? target.user ?? undefined,
      timeoutMs: timeout,
      algorithms: s.algorithms,
      legacy: flags.legacy ?? false,
      knownHostsFiles: s.userKnownHostsFile ? [s.userKnownHostsFile] : undefined,
    }, {
      json: flags.json ?? false,
      policy: flags.policy,
      makePolicy: flags.makePolicy,
      junit: flags.junit,
    });
  }
  const interrupt = interruptOnCtrlC();
  const result = await probe({
    signal: interrupt.signal,
    host: s.hostname ?? target.host,
    port,
    user: s.user ?? target.user ?? undefined,
    timeoutMs: timeout,
    tracer,
    algorithms: s.algorithms,
    legacy: flags.legacy ?? false,
    knownHostsFiles: s.userKnownHostsFile ? [s.userKnownHostsFile] : undefined,
    tcp: tcpOptions(s),
    hostKeyAlias: s.hostKeyAlias,
    ...(route
      ? { jump: route.jump, onHop: route.hops.onHop }
      : s.proxyCommand
      ? { proxyCommand: s.proxyCommand }
      : {}),
  }).finally(interrupt.dispose);
  human.finish(result.error);
  if (flags.json) {
    const report = probeReport(result);
    writeOut(
      reportToJson(route ? { ...report, hops: route.hops.reports() } as typeof report : report),
    );
  }
  return result.error?.exitCode ?? 0;
}

/** The keywords `check` acts on (the fleet's common settings); others are refused there. */
async function runCommand(cmd: ParsedCommand): Promise<number> {
  switch (cmd.name) {
    case "help":
    case "version":
      writeOut(cmd.text);
      return 0;
    case "probe":
      return await probeAction(cmd.target, cmd.flags, cmd.order);
    case "connect": {
      const { flags } = cmd;
      const { config, settings } = settingsFor(cmd);
      return await runConnect({
        targetText: cmd.target,
        command: cmd.command,
        flags,
        settings,
        config,
        timeoutMs: timeoutMs(flags, settings),
      });
    }
    case "send": {
      const { flags } = cmd;
      const { config, settings } = settingsFor(cmd);
      const { runSend } = await import("./lib/cli/send.ts");
      return await runSend({
        targetText: cmd.target,
        command: cmd.commands,
        flags,
        settings,
        config,
        timeoutMs: timeoutMs(flags, settings),
      });
    }
    case "netconf": {
      const { flags } = cmd;
      const { settings } = settingsFor(cmd);
      const { runNetconf } = await import("./lib/cli/netconf.ts");
      return await runNetconf({
        targetText: cmd.target,
        command: [],
        flags,
        settings,
        timeoutMs: timeoutMs(flags, settings),
      });
    }
    case "check": {
      const { flags } = cmd;
      // The fleet's common settings: flags and -o only; each entry then reads ssh_config.
      const { config, settings } = settingsFor({
        target: "*",
        flags: { ...flags, F: "none" },
        order: cmd.order,
      });
      const refusals = configRefusals(config);
      if (refusals.length) throw refusalError(refusals);
      const { refuseUnusedByCheck, runCheck } = await import("./lib/cli/check.ts");
      refuseUnusedByCheck(config);
      return await runCheck({
        inventoryPath: cmd.inventory,
        flags,
        settings,
        timeoutMs: timeoutMs(flags, settings),
        // Each inventory target reads ssh_config as a connection to it would (with -F).
        configFor: (target) => settingsFor({ target, flags, order: cmd.order }),
      });
    }
    case "config": {
      const { runConfigDump } = await import("./lib/cli/config.ts");
      return runConfigDump(cmd, writeOut, writeErr);
    }
    case "doctor": {
      const { flags } = cmd;
      const { settings } = settingsFor(cmd);
      const { runDoctorCommand } = await import("./lib/cli/doctor.ts");
      return await runDoctorCommand({
        targetText: cmd.target,
        command: cmd.command,
        flags,
        settings,
        timeoutMs: timeoutMs(flags, settings),
      });
    }
    case "get":
    case "put": {
      const { flags } = cmd;
      const { parseRemoteSpec, runTransfer } = await import("./lib/cli/transfer.ts");
      const target = parseRemoteSpec(cmd.remote).target;
      const { settings } = settingsFor(transferConfigCommand(cmd, target));
      return await runTransfer({
        direction: cmd.name,
        remoteSpec: cmd.remote,
        local: cmd.local,
        flags,
        settings,
        timeoutMs: timeoutMs(flags, settings),
      });
    }
    case "lab": {
      const { runLab } = await import("./lib/cli/lab.ts");
      return await runLab(cmd.flags, writeOut);
    }
  }
}

/** Runs the CLI and returns the exit code. */
export async function main(args: string[]): Promise<number> {
  // With --json a failure before any connection still gets a report (error, no stages).
  const json = args.includes("--json");
  const report = (error: SshError) =>
    writeOut(reportToJson(buildReport([], { host: "", port: 0, error, timings: {} })));
  try {
    let cmd: ParsedCommand;
    try {
      cmd = parseCommandLine(args);
    } catch (e) {
      if (!(e instanceof SshError)) throw e;
      // Usage errors fit on one line, like every other sshtrace error.
      writeErr(`sshtrace: ${sanitize(e.message)} (run sshtrace --help for usage)\n`);
      if (json) report(e);
      return e.exitCode;
    }
    return await runCommand(cmd);
  } catch (e) {
    if (e instanceof SshError) {
      const where = e.stage === "usage" ? "usage" : `stage ${e.stage}`;
      writeErr(`sshtrace: ${sanitize(e.message)} (${where})\n`);
      const { fix } = explainFailure(e);
      if (fix) writeErr(`  try: ${sanitize(fix)}\n`);
      if (json) report(e);
      return e.exitCode;
    }
    writeErr(`sshtrace: internal error: ${sanitize(String((e as Error)?.message ?? e))}\n`);
    return 1;
  }
}

if (import.meta.main) {
  platform.exit(await main([...platform.args]));
}
