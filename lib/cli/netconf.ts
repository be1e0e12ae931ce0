/**
 * `sshtrace netconf [user@]host[:port]`: logs in (port 830 unless given), opens the `netconf`
 * subsystem, exchanges hellos and prints the server's capabilities, one per line (`--json`
 * adds `netconf: { sessionId, capabilities, base11 }` to the report).
 * @module
 */

import { connect } from "../client.ts";
import { type NetconfHello, netconfHello } from "../netconf/hello.ts";
import { parseTarget } from "../config/options.ts";
import { platform } from "../platform/mod.ts";
import { sanitize } from "../render/sanitize.ts";
import { prepareRun, type RunConnectInput } from "./connect.ts";

/** The NETCONF port (RFC 6242). */
export const NETCONF_PORT = 830;

/** Runs `netconf` and returns the exit code (0, or the failing stage's). */
export async function runNetconf(input: RunConnectInput): Promise<number> {
  // Port 830 unless the target or -p / -o Port names one.
  const settings = input.settings.port === undefined && parseTarget(input.targetText).port === null
    ? { ...input.settings, port: NETCONF_PORT }
    : input.settings;
  const run = await prepareRun({ ...input, settings });
  let hello: NetconfHello | null = null;
  const outcome = await run.execute(async (ctx) => {
    const client = await connect(run.options);
    ctx.closeOnStop(() => client.transport.close());
    hello = await netconfHello(client, { timeoutMs: input.timeoutMs });
    await client.close();
  });
  const got = hello as NetconfHello | null;
  if (got && !input.flags.json) {
    // Server text: control characters made visible before they reach a terminal.
    const text = got.capabilities.map((c) => sanitize(c)).join("\n") + "\n";
    const bytes = new TextEncoder().encode(text);
    let off = 0;
    while (off < bytes.length) off += await platform.stdout.write(bytes.subarray(off));
  }
  const exitCode = outcome.error?.exitCode ?? 0;
  run.finish(outcome, exitCode, got ? { netconf: got } : {});
  return exitCode;
}
