/**
 * `sshtrace probe`: connect, negotiate, check the host key (never written) and ask which
 * authentication methods the server offers; `--deep`, `--policy` and `--make-policy` hand over
 * to lib/cli/deep.ts (loaded only then).
 * @module
 */

import { connectEarly } from "../client/early_connect.ts";
import type { ProbeFlags } from "./args.ts";
import { makeOutput, outputFlags, writeOut } from "./output.ts";
import type { CommandLineValue } from "./order.ts";
import { interruptOnCtrlC } from "./tty.ts";
import { parseTarget } from "../config/options.ts";
import { configRefusals, refusalError, traceConfig } from "../sshconfig/apply.ts";
import { reportToJson } from "../render/ndjson.ts";
import { probeReport } from "../render/report.ts";
import { settingsFor, tcpOptions, timeoutMs } from "./settings.ts";

/** Runs `probe` and returns the exit code. */
export async function runProbe(
  targetText: string,
  flags: ProbeFlags,
  order: readonly CommandLineValue[],
): Promise<number> {
  const target = parseTarget(targetText);
  const { config, settings: s } = settingsFor({ target: targetText, flags, order });
  const { tracer, human } = makeOutput(outputFlags(flags, s.logLevel));
  traceConfig(tracer, config);
  const refusals = configRefusals(config);
  if (refusals.length) throw refusalError(refusals);
  const port = s.port ?? target.port ?? 22;
  const timeout = timeoutMs(flags, s);
  if (flags.deep || flags.policy || flags.makePolicy) {
    const { runDeepProbe } = await import("./deep.ts");
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
  const host = s.hostname ?? target.host;
  const tcp = tcpOptions(s);
  let result;
  try {
    // Connect first, then load the protocol modules while the server prepares its greeting.
    const connecting = connectEarly({
      host,
      port,
      timeoutMs: timeout,
      tracer,
      signal: interrupt.signal,
      tcp,
    });
    const { probe } = await import("../client/probe.ts");
    result = await probe({
      signal: interrupt.signal,
      host,
      port,
      user: s.user ?? target.user ?? undefined,
      timeoutMs: timeout,
      tracer,
      algorithms: s.algorithms,
      legacy: flags.legacy ?? false,
      knownHostsFiles: s.userKnownHostsFile ? [s.userKnownHostsFile] : undefined,
      tcp,
      hostKeyAlias: s.hostKeyAlias,
      connecting,
    });
  } finally {
    interrupt.dispose();
  }
  human.finish(result.error);
  if (flags.json) writeOut(reportToJson(probeReport(result)));
  return result.error?.exitCode ?? 0;
}
