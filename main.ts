/**
 * sshtrace command line: parses flags (lib/cli/args.ts), builds options, picks a renderer, maps
 * errors to exit codes. All protocol work is in lib/.
 * @module
 */

import { parseCommandLine, type ParsedCommand } from "./lib/cli/args.ts";
import { probe } from "./lib/client.ts";
import { runConnect } from "./lib/cli/connect.ts";
import { interruptOnCtrlC } from "./lib/cli/tty.ts";
// send, check and lab are loaded when used, so logging in does not pay for their modules.
import { makeOutput, writeErr, writeOut } from "./lib/cli/output.ts";
import {
  addListEdit,
  applyOption,
  emptySettings,
  parsePort,
  parseTarget,
  type Settings,
} from "./lib/config/options.ts";
import { explainFailure } from "./lib/diagnose/explain.ts";
import { reportToJson } from "./lib/render/ndjson.ts";
import { buildReport, probeReport } from "./lib/render/report.ts";
import { sanitize } from "./lib/render/sanitize.ts";
import { platform } from "./lib/platform/mod.ts";
import { SshTraceError } from "./lib/errors/mod.ts";

// ---------------------------------------------------------------------------------------------
// Running

/** The common flags, as settingsFrom reads them (`check` has a `--login` switch). */
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
}

/** Settings from flags: `-o` first, then dedicated flags (which win). */
export function settingsFrom(flags: CommonFlags): Settings {
  const s = emptySettings();
  if (flags.legacy) s.legacy = true; // list edits are checked against the legacy offer too
  for (const o of flags.option) applyOption(s, o);
  if (flags.kex) addListEdit(s, "kex", flags.kex);
  if (flags.hostkeys) addListEdit(s, "hostKey", flags.hostkeys);
  if (flags.ciphers) addListEdit(s, "cipher", flags.ciphers);
  if (flags.macs) addListEdit(s, "mac", flags.macs);
  if (flags.port !== undefined) s.port = parsePort(flags.port);
  if (typeof flags.login === "string") s.user = flags.login;
  return s;
}

function timeoutMs(flags: CommonFlags, s: Settings): number {
  const t = s.connectTimeoutS ?? Number(flags.timeout);
  if (!Number.isFinite(t) || t <= 0) {
    throw new SshTraceError(
      "usage",
      "usage.invalid",
      `invalid --timeout "${flags.timeout}": expected seconds > 0`,
    );
  }
  return t * 1000;
}

async function probeAction(
  targetText: string,
  flags: CommonFlags & { deep?: true; policy?: string; makePolicy?: string },
): Promise<number> {
  const target = parseTarget(targetText);
  const s = settingsFrom(flags);
  const { tracer, human } = makeOutput(flags);
  const port = s.port ?? target.port ?? 22;
  const timeout = timeoutMs(flags, s);
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
    }, { json: flags.json ?? false, policy: flags.policy, makePolicy: flags.makePolicy });
  }
  const interrupt = interruptOnCtrlC();
  const result = await probe({
    signal: interrupt.signal,
    host: target.host,
    port,
    user: s.user ?? target.user ?? undefined,
    timeoutMs: timeout,
    tracer,
    algorithms: s.algorithms,
    legacy: flags.legacy ?? false,
    knownHostsFiles: s.userKnownHostsFile ? [s.userKnownHostsFile] : undefined,
  }).finally(interrupt.dispose);
  human.finish(result.error);
  if (flags.json) writeOut(reportToJson(probeReport(result)));
  return result.error?.exitCode ?? 0;
}

async function runCommand(cmd: ParsedCommand): Promise<number> {
  switch (cmd.name) {
    case "help":
    case "version":
      writeOut(cmd.text);
      return 0;
    case "probe":
      return await probeAction(cmd.target, cmd.flags);
    case "connect": {
      const { flags } = cmd;
      const settings = settingsFrom(flags);
      if (flags.C) applyOption(settings, "Compression=yes");
      return await runConnect({
        targetText: cmd.target,
        command: cmd.command,
        flags,
        settings,
        timeoutMs: timeoutMs(flags, settings),
      });
    }
    case "send": {
      const { flags } = cmd;
      const settings = settingsFrom(flags);
      const { runSend } = await import("./lib/cli/send.ts");
      return await runSend({
        targetText: cmd.target,
        command: cmd.commands,
        flags,
        settings,
        timeoutMs: timeoutMs(flags, settings),
      });
    }
    case "check": {
      const { flags } = cmd;
      const settings = settingsFrom(flags);
      const { runCheck } = await import("./lib/cli/check.ts");
      return await runCheck({
        inventoryPath: cmd.inventory,
        flags,
        settings,
        timeoutMs: timeoutMs(flags, settings),
      });
    }
    case "config": {
      const { runConfigDump } = await import("./lib/cli/config.ts");
      return runConfigDump(cmd, writeOut, writeErr);
    }
    case "doctor": {
      const { flags } = cmd;
      const settings = settingsFrom(flags);
      const { runDoctorCommand } = await import("./lib/cli/doctor.ts");
      return await runDoctorCommand({
        targetText: cmd.target,
        command: cmd.command,
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
  const report = (error: SshTraceError) =>
    writeOut(reportToJson(buildReport([], { host: "", port: 0, error, timings: {} })));
  try {
    let cmd: ParsedCommand;
    try {
      cmd = parseCommandLine(args);
    } catch (e) {
      if (!(e instanceof SshTraceError)) throw e;
      // Usage errors fit on one line, like every other sshtrace error.
      writeErr(`sshtrace: ${sanitize(e.message)} (run sshtrace --help for usage)\n`);
      if (json) report(e);
      return e.exitCode;
    }
    return await runCommand(cmd);
  } catch (e) {
    if (e instanceof SshTraceError) {
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
