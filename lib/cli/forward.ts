/**
 * The CLI side of port forwarding: `-L`/`-D`/`-R` (LocalForward…) started once logged in, before
 * any command. As ssh(1): a forward that cannot be set up (a local bind failure, a refused
 * tcpip-forward) is a warning and the run goes on, unless ExitOnForwardFailure is yes — then it
 * ends the run with the forward's error. `-N`: hold the connection open for the forwards until
 * the server ends it or the user presses Ctrl-C; and `-W host:port`.
 * @module
 */

import type { Client } from "../client.ts";
import type { LocalForward } from "../forward/local.ts";
import {
  type ForwardSpecOptions,
  forwardText,
  parseDynamicSpec,
  parseForwardSpec,
} from "../forward/spec.ts";
import { SshError } from "../errors/mod.ts";
import { parseTarget, usageError } from "../config/options.ts";
import { platform, type UnixListenOptions } from "../platform/mod.ts";
import type { Settings } from "../config/options.ts";

/**
 * Parses every -L (or -R) specification (a usage error before connecting when one is bad);
 * GatewayPorts (`-g`) widens a -L given no bind address to every address.
 */
export function localForwardSpecs(
  specs: readonly string[] | undefined,
  option = "-L",
  options: ForwardSpecOptions = {},
) {
  return (specs ?? []).map((s) => parseForwardSpec(s, option, options));
}

/** Parses every -D specification (a usage error before connecting when one is bad). */
export function dynamicForwardSpecs(
  specs: readonly string[] | undefined,
  options: ForwardSpecOptions = {},
) {
  return (specs ?? []).map((s) => parseDynamicSpec(s, "-D", options));
}

/** ExitOnForwardFailure: whether a forward that cannot be set up ends the run. */
export interface ForwardFailurePolicy {
  /** @default false (a warning, and the run goes on, as ssh(1)) */
  exitOnForwardFailure?: boolean;
}

/** The Unix-socket listener options of the settings (StreamLocalBindMask, …Unlink), as ssh. */
export function unixListenOptions(
  settings: Pick<Settings, "streamLocalBindMask" | "streamLocalBindUnlink">,
): UnixListenOptions {
  return {
    mode: 0o777 & ~(settings.streamLocalBindMask ?? 0o177),
    unlink: settings.streamLocalBindUnlink ?? false,
  };
}

/**
 * What a forward that could not be set up does: with ExitOnForwardFailure, its error ends the
 * run (after the forwards already started are closed); without, a warning as ssh(1) prints it.
 */
function onForwardFailure(
  client: Client,
  e: unknown,
  policy: ForwardFailurePolicy,
  close: () => void,
): void {
  if (policy.exitOnForwardFailure || !(e instanceof SshError)) {
    close();
    throw e;
  }
  client.tracer.emit({
    stage: "session",
    type: "info",
    message: `warning: ${e.message}; going on without this forward ` +
      "(ExitOnForwardFailure yes would end the run here)",
  });
}

/** Starts a SOCKS proxy per -D on a logged-in client (a failure: see {@link onForwardFailure}). */
export function startDynamicForwards(
  client: Client,
  specs: ReturnType<typeof dynamicForwardSpecs>,
  policy: ForwardFailurePolicy = {},
): LocalForward[] {
  const started: LocalForward[] = [];
  const closeAll = () => started.forEach((f) => f.close());
  for (const spec of specs) {
    try {
      const forward = client.forwardDynamic(spec);
      started.push(forward);
      client.tracer.emit({
        stage: "session",
        type: "info",
        message: `SOCKS proxy on ${spec.bindHost}:${forward.port}: connections go out from ` +
          "the server",
      });
    } catch (e) {
      onForwardFailure(client, e, policy, closeAll);
    }
  }
  return started;
}

/** Asks the server for every -R forward in turn (a refusal: see {@link onForwardFailure}). */
export async function startRemoteForwards(
  client: Client,
  specs: ReturnType<typeof localForwardSpecs>,
  policy: ForwardFailurePolicy = {},
): Promise<void> {
  for (const spec of specs) {
    try {
      const forward = await client.forwardRemote(spec);
      client.tracer.emit({
        stage: "session",
        type: "info",
        message: `the server forwards its port ${forward.port} to ${forwardText(spec)}`,
      });
    } catch (e) {
      onForwardFailure(client, e, policy, () => {});
    }
  }
}

/** Starts the -L forwards on a logged-in client (a failure: see {@link onForwardFailure}). */
export function startLocalForwards(
  client: Client,
  specs: ReturnType<typeof localForwardSpecs>,
  policy: ForwardFailurePolicy & { unix?: UnixListenOptions } = {},
): LocalForward[] {
  const started: LocalForward[] = [];
  const closeAll = () => started.forEach((f) => f.close());
  for (const spec of specs) {
    try {
      const forward = client.forwardLocal(spec, policy.unix ? { unix: policy.unix } : {});
      started.push(forward);
      client.tracer.emit({
        stage: "session",
        type: "info",
        message: `forwarding ${forwardText(spec, forward.port)} through the server`,
      });
    } catch (e) {
      onForwardFailure(client, e, policy, closeAll);
    }
  }
  return started;
}

/**
 * `-N`: waits until the connection ends. A clean end by the server resolves; an error (or the
 * run's cancellation, which closes the connection) rejects with it.
 */
export async function holdOpen(client: Client, signal?: AbortSignal): Promise<void> {
  const error = await client.connection.finished;
  // Closing the transport on cancellation may end the connection cleanly: the abort, not the
  // clean end, is what happened (exit 130 on Ctrl-C, not 0).
  signal?.throwIfAborted();
  if (error) throw error;
}

/** The `-W` target (a usage error unless it is host:port). */
export function stdioTarget(target: string): { host: string; port: number } {
  const { host, port, user } = parseTarget(target);
  if (port === null || user !== null) {
    throw usageError(`-W ${target}: expected host:port`, { expected: "host:port" });
  }
  return { host, port };
}

/**
 * `-W host:port`: carries standard input and output to `host:port` as the server sees it (a
 * `direct-tcpip` channel), so sshtrace can be OpenSSH's ProxyCommand. Resolves when the far
 * side ends the channel (every byte it sent written to stdout); rejects with
 * `session.channel-open-refused` when the server refuses the channel.
 */
export async function stdioForward(
  client: Client,
  target: string,
  signal?: AbortSignal,
): Promise<void> {
  const { host, port } = stdioTarget(target);
  const span = client.tracer.span("session", { channel: 0 });
  const stream = await client.openDirect(host, port);
  span.end();
  client.tracer.emit({
    stage: "session",
    type: "info",
    message: `standard input and output forwarded to ${host}:${port} through the server`,
  });
  const data = client.tracer.span("data", { channel: 0 });
  const up = (async () => {
    const buf = new Uint8Array(32 * 1024);
    for (;;) {
      const n = await platform.stdin.read(buf);
      if (n === null) return;
      await stream.write(buf.slice(0, n));
    }
  })();
  up.catch(() => {}); // the far side's end decides when we are done
  try {
    for (;;) {
      const chunk = await stream.read();
      if (chunk === null) break;
      let off = 0;
      while (off < chunk.length) off += await platform.stdout.write(chunk.subarray(off));
    }
  } finally {
    stream.close();
  }
  signal?.throwIfAborted(); // the channel ended because the run was cancelled
  data.end();
}
