/**
 * The CLI side of jump hosts (`-J`, `-o ProxyJump`): the hop list from the settings, and one
 * section of trace per hop — a header line, then the hop's own events through a renderer of its
 * own (human on stderr; NDJSON events tagged with `hop`) — and a full JSON report per jump host
 * for `--json`'s `hops` array.
 * @module
 */

import { parseJumpSpec } from "../config/jump_spec.ts";
import { usageError } from "../config/options.ts";
import { resolveConfig } from "../sshconfig/resolve.ts";
import { type ConfigIo, SshConfigError } from "../sshconfig/types.ts";
import { systemConfigIo } from "./config.ts";
import { hopText } from "../config/jump_spec.ts";
import type { ConnectOptions } from "../client.ts";
import type { HopTrace, JumpHost } from "../jump/chain.ts";
import { useColor } from "../render/color.ts";
import { createHumanRenderer } from "../render/human.ts";
import { toJson } from "../render/sanitize.ts";
import { buildReport, type Report } from "../render/report.ts";
import { Tracer } from "../trace.ts";
import { platform } from "../platform/mod.ts";
import { type OutputFlags, writeErr, writeOut } from "./output.ts";

/**
 * The jump hosts a ProxyJump value names (none: an empty list), each with its own Host block of
 * ssh_config applied as OpenSSH does for a hop (HostName, Port, User; what the entry itself says
 * wins). A configuration that cannot be read is a usage error naming file:line.
 */
export function jumpHosts(proxyJump: string | undefined, io?: ConfigIo): JumpHost[] {
  if (proxyJump === undefined) return [];
  const files = io ?? systemConfigIo();
  return parseJumpSpec(proxyJump).map((h) => {
    let config;
    try {
      config = resolveConfig({
        host: h.host,
        ...(h.user !== null ? { targetUser: h.user } : {}),
        ...(h.port !== null ? { targetPort: h.port } : {}),
      }, files);
    } catch (e) {
      if (e instanceof SshConfigError) {
        throw usageError(`configuration of jump host ${h.host}: ${e.message}`, {
          expected: "a valid ssh_config line",
        });
      }
      throw e;
    }
    const { hostname, port, user } = config.effective;
    return { host: hostname, port, user };
  });
}

/** The per-hop output of one run through jump hosts. */
export interface HopOutput {
  /** For `ConnectOptions.onHop`. */
  onHop: NonNullable<ConnectOptions["onHop"]>;
  /** The hops begun so far (jump hosts, then the target). */
  readonly hops: readonly HopTrace[];
  /** One full report per jump host reached or tried, with its position. */
  reports(): (Report & { hop: number; hops: number; role: "jump" })[];
}

/** Creates the per-hop output for the flags (nothing is printed with -q). */
export function hopOutput(flags: OutputFlags): HopOutput {
  const hops: HopTrace[] = [];
  const header = (hop: HopTrace) => {
    if (flags.quiet) return;
    const role = hop.target ? "target" : "jump host";
    writeErr(`── hop ${hop.index} of ${hop.of}: ${hopText(hop)} (${role}) ──\n`);
  };
  return {
    hops,
    onHop(hop) {
      hops.push(hop);
      header(hop);
      if (hop.target) return;
      const tracer = new Tracer({ packets: flags.verbose >= 2 });
      const human = createHumanRenderer({
        write: writeErr,
        color: useColor(platform.stderr.isTerminal()),
        verbosity: Math.min(flags.verbose, 2) as 0 | 1 | 2,
        quiet: flags.quiet ?? false,
      });
      tracer.addSink(human.sink);
      if (flags.ndjson) {
        // The same line as the run's NDJSON sink writes, tagged with the hop.
        tracer.addSink((e) => writeOut(toJson({ ...e, hop: hop.index }) + "\n"));
      }
      return tracer;
    },
    reports() {
      return hops.filter((h) => !h.target).map((h) => ({
        hop: h.index,
        hops: h.of,
        role: "jump" as const,
        ...buildReport(h.tracer.events, {
          host: h.host,
          port: h.port,
          user: h.user,
          error: h.error,
          timings: h.tracer.timings,
        }),
      }));
    },
  };
}
