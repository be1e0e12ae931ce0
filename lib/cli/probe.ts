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
import { SshError } from "../errors/mod.ts";
import { configRefusals, refusalError, traceConfig } from "../sshconfig/apply.ts";
import { reportToJson } from "../render/ndjson.ts";
import { probeReport } from "../render/report.ts";
import { settingsFor, timeoutMs } from "./settings.ts";
import { tcpOptions } from "./connection_options.ts";

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
  const refusals = [...configRefusals(config)];
  const port = s.port ?? target.port ?? 22;
  const timeout = timeoutMs(flags, s);
  // Behind jump hosts (-J, ProxyJump): each hop logs in with its own configuration.
  const route = s.proxyJump ? await (await import("./jump.ts")).jumpRoute(s, flags, timeout) : null;
  if (route) refusals.push(...route.refusals);
  if (refusals.length) throw refusalError(refusals);
  const deep = flags.deep || flags.policy || flags.makePolicy;
  if (deep && (route || s.proxyCommand)) {
    throw new SshError(
      "usage",
      "usage.invalid",
      "probe --deep (and --policy) makes many connections straight to the host: not through " +
        "jump hosts or a ProxyCommand yet; probe without --deep goes through them",
    );
  }
  if (deep) {
    const { runDeepProbe } = await import("./deep.ts");
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
  const host = s.hostname ?? target.host;
  const tcp = tcpOptions(s);
  let result;
  try {
    // A direct probe connects first, then loads the protocol modules while the server
    // prepares its greeting.
    const connecting = route || s.proxyCommand ? undefined : connectEarly({
      host,
      port,
      timeoutMs: timeout,
      tracer,
      signal: interrupt.signal,
      tcp,
      algorithms: s.algorithms,
      legacy: flags.legacy ?? false,
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
      ...(connecting ? { connecting } : {}),
      ...(route
        ? { jump: route.jump, onHop: route.hops.onHop }
        : s.proxyCommand
        ? { proxyCommand: s.proxyCommand }
        : {}),
    });
  } finally {
    interrupt.dispose();
  }
  human.finish(result.error);
  if (flags.json) {
    const report = probeReport(result);
    writeOut(
      reportToJson(route ? { ...report, hops: route.hops.reports() } as typeof report : report),
    );
  }
  return result.error?.exitCode ?? 0;
}
