/**
 * sshtrace command line: parses flags (lib/cli/args.ts), then loads the one command module it
 * needs with a literal dynamic `import()` (each listed in scripts/compile.sh), so `--version`
 * loads no protocol code and `probe` no login, transfer, forwarding or doctor code
 * (test/unit/cli/module_budget_test.ts keeps each command's static graph within its budget).
 * Maps errors to exit codes. All protocol work is in lib/.
 * @module
 */

import { parseCommandLine, type ParsedCommand } from "./lib/cli/args.ts";
import { sanitize } from "./lib/render/sanitize.ts";
import { platform } from "./lib/platform/mod.ts";
import { SshError } from "./lib/errors/mod.ts";
import type { CommandLineValue } from "./lib/cli/order.ts";
import {
  discardPrefetchedKeyPair,
  prefetchSntrup761KeyPair,
} from "./lib/algorithms/kem_prefetch.ts";

const encoder = new TextEncoder();
const writeOut = (text: string): void => void platform.stdout.writeSync(encoder.encode(text));
const writeErr = (text: string): void => void platform.stderr.writeSync(encoder.encode(text));

/**
 * Whether a command that connects may offer sntrup761x25519 (the default offer does; a `--kex`
 * or `-o KexAlgorithms` that does not name it does not): then its key pair is begun on a worker
 * thread before anything else (lib/algorithms/kem_prefetch.ts).
 */
function mayOfferSntrup761(flags: { kex?: string }, order: readonly CommandLineValue[]): boolean {
  const lists = [
    ...(flags.kex !== undefined ? [flags.kex] : []),
    ...order.filter((o) => o.kind === "option" && /^\s*kexalgorithms\b/i.test(o.value))
      .map((o) => o.value),
  ];
  return lists.every((list) => /sntrup761/.test(list));
}

async function runCommand(cmd: ParsedCommand): Promise<number> {
  switch (cmd.name) {
    case "help":
    case "version":
      writeOut(cmd.text);
      return 0;
    case "probe": {
      const { deep, policy, makePolicy } = cmd.flags;
      const deepRun = deep || policy !== undefined || makePolicy !== undefined;
      if (!deepRun && mayOfferSntrup761(cmd.flags, cmd.order)) prefetchSntrup761KeyPair();
      const { runProbe } = await import("./lib/cli/probe.ts");
      return await runProbe(cmd.target, cmd.flags, cmd.order);
    }
    case "connect": {
      if (mayOfferSntrup761(cmd.flags, cmd.order)) prefetchSntrup761KeyPair();
      const { runConnectCommand } = await import("./lib/cli/connect.ts");
      return await runConnectCommand(cmd);
    }
    case "send": {
      const { flags } = cmd;
      const [{ settingsFor, timeoutMs }, { runSend }] = await Promise.all([
        import("./lib/cli/settings.ts"),
        import("./lib/cli/send.ts"),
      ]);
      const { config, settings } = settingsFor(cmd);
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
      const [{ settingsFor, timeoutMs }, { runNetconf }] = await Promise.all([
        import("./lib/cli/settings.ts"),
        import("./lib/cli/netconf.ts"),
      ]);
      const { config, settings } = settingsFor(cmd);
      return await runNetconf({
        targetText: cmd.target,
        command: [],
        flags,
        settings,
        config,
        timeoutMs: timeoutMs(flags, settings),
      });
    }
    case "check": {
      const { flags } = cmd;
      const [{ settingsFor, timeoutMs }, { refuseUnusedByCheck, runCheck }, apply] = await Promise
        .all([
          import("./lib/cli/settings.ts"),
          import("./lib/cli/check.ts"),
          import("./lib/sshconfig/apply.ts"),
        ]);
      // The fleet's common settings: flags and -o only; each entry then reads ssh_config.
      const { config, settings } = settingsFor({
        target: "*",
        flags: { ...flags, F: "none" },
        order: cmd.order,
      });
      const refusals = apply.configRefusals(config);
      if (refusals.length) throw apply.refusalError(refusals);
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
      const { runConfigDump } = await import("./lib/cli/config_dump.ts");
      return runConfigDump(cmd, writeOut, writeErr);
    }
    case "doctor": {
      const { flags } = cmd;
      const [{ settingsFor, timeoutMs }, { runDoctorCommand }] = await Promise.all([
        import("./lib/cli/settings.ts"),
        import("./lib/cli/doctor.ts"),
      ]);
      const { config, settings } = settingsFor(cmd);
      return await runDoctorCommand({
        targetText: cmd.target,
        command: cmd.command,
        flags,
        settings,
        config,
        timeoutMs: timeoutMs(flags, settings),
      });
    }
    case "get":
    case "put": {
      const { flags } = cmd;
      if (mayOfferSntrup761(flags, cmd.order)) prefetchSntrup761KeyPair();
      const [{ settingsFor, timeoutMs }, transfer] = await Promise.all([
        import("./lib/cli/settings.ts"),
        import("./lib/cli/transfer.ts"),
      ]);
      const target = transfer.parseRemoteSpec(cmd.remote).target;
      // Its remote side names the host; its port flag (scp's -P) is in the order as -p is.
      const { config, settings } = settingsFor({ target, flags, order: cmd.order });
      return await transfer.runTransfer({
        direction: cmd.name,
        remoteSpec: cmd.remote,
        local: cmd.local,
        flags,
        settings,
        config,
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
  const report = async (error: SshError) => {
    const [{ reportToJson }, { buildReport }] = await Promise.all([
      import("./lib/render/ndjson.ts"),
      import("./lib/render/report.ts"),
      import("./lib/diagnose/explain.ts"), // the report explains the failure
    ]);
    writeOut(reportToJson(buildReport([], { host: "", port: 0, error, timings: {} })));
  };
  try {
    let cmd: ParsedCommand;
    try {
      cmd = parseCommandLine(args);
    } catch (e) {
      if (!(e instanceof SshError)) throw e;
      // Usage errors fit on one line, like every other sshtrace error.
      writeErr(`sshtrace: ${sanitize(e.message)} (run sshtrace --help for usage)\n`);
      if (json) await report(e);
      return e.exitCode;
    }
    return await runCommand(cmd);
  } catch (e) {
    if (e instanceof SshError) {
      const where = e.stage === "usage" ? "usage" : `stage ${e.stage}`;
      writeErr(`sshtrace: ${sanitize(e.message)} (${where})\n`);
      // The failure catalogue is loaded only when there is a failure to explain.
      const { explainFailure } = await import("./lib/diagnose/explain.ts");
      const { fix } = explainFailure(e);
      if (fix) writeErr(`  try: ${sanitize(fix)}\n`);
      if (json) await report(e);
      return e.exitCode;
    }
    writeErr(`sshtrace: internal error: ${sanitize(String((e as Error)?.message ?? e))}\n`);
    return 1;
  } finally {
    discardPrefetchedKeyPair();
  }
}

if (import.meta.main) {
  platform.exit(await main([...platform.args]));
}
