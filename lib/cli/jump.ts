/**
 * The CLI side of jump hosts (`-J`, `-o ProxyJump`): the hop list from the settings, and one
 * section of trace per hop — a header line, then the hop's own events through a renderer of its
 * own (human on stderr; NDJSON events tagged with `hop`) — and a full JSON report per jump host
 * for `--json`'s `hops` array.
 * @module
 */

import { MAX_HOPS, parseJumpSpec } from "../config/jump_spec.ts";
import { type Settings, usageError } from "../config/options.ts";
import { type CommandLineItem, resolveConfig, type SshConfig } from "../sshconfig/resolve.ts";
import { settingsFromConfig, traceConfig } from "../sshconfig/apply.ts";
import { type ConfigIo, SshConfigError } from "../sshconfig/types.ts";
import { systemConfigIo } from "./config.ts";
import { hopText } from "../config/jump_spec.ts";
import type { ConnectOptions } from "../client.ts";
import type { HopTrace } from "../jump/chain.ts";
import { useColor } from "../render/color.ts";
import { createHumanRenderer } from "../render/human.ts";
import { toJson } from "../render/sanitize.ts";
import { buildReport, type Report } from "../render/report.ts";
import { Tracer } from "../trace.ts";
import { platform } from "../platform/mod.ts";
import { type OutputFlags, writeErr, writeOut } from "./output.ts";
import type { JumpHost } from "../jump/chain.ts";
import type { Refusal } from "../sshconfig/resolve.ts";
import { configRefusals } from "../sshconfig/apply.ts";
import { passwordSource } from "./credentials.ts";
import { loginOptions } from "./login_options.ts";
import type { ConnectFlags } from "./connect.ts";

/** A jump host of a run: its configuration, resolved as the `ssh` that ssh -J runs would. */
export interface HopConfig {
  /** The entry as written (`user@host:port`). */
  entry: string;
  config: SshConfig;
  settings: Settings;
  host: string;
  port: number;
  user: string;
}

/** What a hop's configuration is read with: ssh -J passes `-F` (and `-v`) to the hop, no `-o`. */
export interface HopRequest {
  configFile?: string;
  legacy?: boolean;
}

/**
 * The jump hosts a ProxyJump value names, first hop first (none: an empty list), each with its
 * own configuration resolved as OpenSSH does. For `-J a,b target`, ssh runs `ssh -J a -W
 * target b`: hop `b` is read with `-l`/`-p` from its entry and ProxyJump `a` (so b's own
 * ProxyJump and ProxyCommand do not apply), and `a`, read with nothing but its entry, follows
 * its own ProxyJump (more hops before it) or ProxyCommand (its way in). Every hop's Host and
 * Match blocks give its HostName, Port, User, IdentityFile, known_hosts, algorithms,
 * ConnectTimeout…; the target's `-o` and flags are not passed (as ssh -J). A configuration that
 * cannot be read is a usage error naming the hop and file:line; a chain longer than
 * {@link MAX_HOPS} (a ProxyJump loop) is one too.
 */
export function jumpHosts(
  proxyJump: string | undefined,
  io?: ConfigIo,
  request: HopRequest = {},
): HopConfig[] {
  if (proxyJump === undefined) return [];
  const files = io ?? systemConfigIo();
  const out: HopConfig[] = [];
  const resolve = (value: string, depth: number): void => {
    const specs = parseJumpSpec(value);
    if (!specs.length) return;
    if (depth + specs.length > MAX_HOPS) {
      throw usageError(
        `ProxyJump: more than ${MAX_HOPS} jump hosts once each hop's own ProxyJump is ` +
          `followed (a loop?): ${value}`,
        { expected: "a chain of jump hosts without a loop" },
      );
    }
    const last = specs.at(-1)!;
    const extra = specs.slice(0, -1);
    const commandLine: CommandLineItem[] = [];
    if (last.user !== null) commandLine.push({ kind: "user", value: last.user, flag: "-J" });
    if (last.port !== null) commandLine.push({ kind: "port", value: last.port, flag: "-J" });
    if (extra.length) {
      commandLine.push({
        kind: "option",
        text: `ProxyJump=${extra.map(hopText).join(",")}`,
        flag: "-J",
      });
    }
    let config: SshConfig;
    try {
      config = resolveConfig({
        host: last.host,
        commandLine,
        ...(request.configFile !== undefined ? { configFile: request.configFile } : {}),
        ...(request.legacy ? { legacy: true } : {}),
      }, files);
    } catch (e) {
      if (e instanceof SshConfigError) {
        throw usageError(`configuration of jump host ${last.host}: ${e.message}`, {
          expected: "a valid ssh_config line",
        });
      }
      throw e;
    }
    const settings = settingsFromConfig(config);
    if (request.legacy) settings.legacy = true;
    // The hops before this one: its own ProxyJump (the rest of the -J list, or its Host block's).
    if (settings.proxyJump !== undefined) resolve(settings.proxyJump, depth + 1);
    const { hostname, port, user } = config.effective;
    out.push({ entry: hopText(last), config, settings, host: hostname, port, user });
  };
  resolve(proxyJump, 0);
  return out;
}

/** The per-hop output of one run through jump hosts. */
export interface HopOutput {
  /** For `ConnectOptions.onHop`. */
  onHop: NonNullable<ConnectOptions["onHop"]>;
  /** The tracer of jump host `index` (1-based), made before the run so its options can use it. */
  tracerFor(index: number): Tracer;
  /** The hops begun so far (jump hosts, then the target). */
  readonly hops: readonly HopTrace[];
  /** One full report per jump host reached or tried, with its position. */
  reports(): (Report & { hop: number; hops: number; role: "jump" })[];
}

/**
 * Creates the per-hop output for the flags (nothing is printed with -q). `configs` are the jump
 * hosts' configurations: each is traced as its hop's `config` stage when the hop begins.
 */
export function hopOutput(flags: OutputFlags, configs: readonly HopConfig[] = []): HopOutput {
  const hops: HopTrace[] = [];
  const tracers = new Map<number, Tracer>();
  const header = (hop: HopTrace) => {
    if (flags.quiet) return;
    const role = hop.target ? "target" : "jump host";
    writeErr(`── hop ${hop.index} of ${hop.of}: ${hopText(hop)} (${role}) ──\n`);
  };
  const tracerFor = (index: number) => {
    const made = tracers.get(index);
    if (made) return made;
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
      tracer.addSink((e) => writeOut(toJson({ ...e, hop: index }) + "\n"));
    }
    tracers.set(index, tracer);
    return tracer;
  };
  return {
    hops,
    tracerFor,
    onHop(hop) {
      hops.push(hop);
      header(hop);
      if (hop.target) return;
      const tracer = tracerFor(hop.index);
      const config = configs[hop.index - 1];
      if (config) traceHopConfig(tracer, config);
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

/**
 * A jump host's `config` stage: its files, the Host/Match lines that matched (file:line) and
 * its values, then a note that the target's command-line options were not passed to it.
 */
function traceHopConfig(tracer: Tracer, hop: HopConfig): void {
  traceConfig(tracer, hop.config);
  tracer.emit({
    stage: "config",
    type: "info",
    message: `jump host ${hop.entry} uses its own configuration, as ssh -J does: the ` +
      "target's -o options and flags (-i, -A, -L…) do not apply to it; set them in its Host block",
  });
}

/** A run's way through its jump hosts: their options, their output, their refusals. */
export interface JumpRoute {
  jump: JumpHost[];
  hops: HopOutput;
  /** What the hops' own configurations ask for that sshtrace does not do (stops the run). */
  refusals: Refusal[];
}

/**
 * The jump hosts of `settings.proxyJump` (null: none), each with its own configuration resolved
 * as ssh -J does (lib/cli/jump.ts) and turned into complete client options here.
 */
export async function jumpRoute(
  settings: Settings,
  flags: ConnectFlags,
  timeoutMs: number,
  password?: Awaited<ReturnType<typeof passwordSource>>,
): Promise<JumpRoute | null> {
  const hopConfigs = jumpHosts(settings.proxyJump, undefined, {
    ...(flags.F !== undefined ? { configFile: flags.F } : {}),
    ...(flags.legacy ? { legacy: true } : {}),
  });
  if (!hopConfigs.length) return null;
  const hops = hopOutput(flags, hopConfigs);
  const source = password === undefined
    ? await passwordSource(flags, settings.batchMode ?? flags.batch ?? false)
    : password;
  // ssh -J passes the hop `-F` and `-v` only: -i and the other flags are the target's.
  const hopFlags: ConnectFlags = { ...flags, identity: undefined };
  const jump = hopConfigs.map((hop, i): JumpHost => {
    const { tracer: _t, ...own } = loginOptions({
      settings: hop.settings,
      flags: hopFlags,
      tracer: hops.tracerFor(i + 1),
      timeoutMs: hop.settings.connectTimeoutS ? hop.settings.connectTimeoutS * 1000 : timeoutMs,
      target: { host: hop.host, port: hop.port, user: hop.user },
      password: source,
    });
    // Only the first hop has no ProxyJump: its ProxyCommand (if any) is its way in.
    if (hop.settings.proxyJump === undefined && hop.settings.proxyCommand) {
      own.proxyCommand = hop.settings.proxyCommand;
    }
    return { ...own, standalone: true };
  });
  return { jump, hops, refusals: hopConfigs.flatMap((h) => configRefusals(h.config)) };
}
