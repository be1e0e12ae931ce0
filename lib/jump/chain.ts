/**
 * Jump hosts (ProxyJump / `-J`): each hop is a full SSH connection (version, key exchange, its
 * own host key check against known_hosts, its own authentication) that runs inside a
 * `direct-tcpip` channel of the hop before it; the first hop runs over TCP. No local port, no
 * subprocess. Each hop traces into a tracer of its own, so its stages, timings and algorithms
 * stay apart from the others'; a hop's failure names the hop ("hop 2 of 3 (bastion:22) failed
 * at stage auth: …") and keeps its stage and code, so the exit code and the fix are that
 * stage's.
 *
 * The connect function is passed in (not imported) so this module and the client facade do not
 * import each other.
 * @module
 */

import type { Client, ConnectOptions } from "../client.ts";
import { SshError } from "../errors/mod.ts";
import { channelStream } from "../forward/channel_stream.ts";
import { openDirectTcpip } from "../forward/direct.ts";
import { Tracer } from "../trace.ts";
import type { ByteStream } from "../transport/stream.ts";
import { hopText } from "../config/jump_spec.ts";

/**
 * One jump host: where it is and, optionally, options of its own. Options left unset are taken
 * from the target's (authentication, known_hosts files, host key checking, algorithms,
 * timeouts), as a library caller usually wants one set of credentials for the whole path —
 * unless `standalone` says the hop's options are complete (the CLI resolves each hop's own
 * ssh_config as `ssh -J` does, and a hop then takes nothing from the target's options).
 */
export type JumpHost =
  & Omit<ConnectOptions, "jump" | "stream" | "tunnel" | "tracer" | "signal" | "onHop">
  & {
    host: string;
    /** The options are the hop's whole set: nothing is inherited from the target's. */
    standalone?: boolean;
  };

/** A hop of a chain as it is being connected (jump hosts first, the target last). */
export interface HopTrace {
  /** 1-based position; `of` counts the jump hosts and the target. */
  index: number;
  of: number;
  host: string;
  port: number;
  user: string;
  /** True for the last hop (the destination), whose trace is the run's own. */
  target: boolean;
  /** The hop's tracer (a jump host's own; the run's for the target). */
  tracer: Tracer;
  /** The hop's failure, once it failed. */
  error: SshError | null;
}

/** What {@link openJumpChain} gives the target's connection. */
export interface JumpChain {
  /** The connected jump hosts, first hop first. */
  clients: Client[];
  /** Opens the tunnel to the target through the last jump host (as `ConnectOptions.tunnel`). */
  tunnel: (tracer: Tracer) => Promise<ByteStream>;
  /** The target's hop record (its tracer is the run's). */
  target: HopTrace;
  /** Closes every jump host, last hop first. */
  close(): Promise<void>;
}

const where = (hop: HopTrace) => hopText({ host: hop.host, port: hop.port });

/** A hop's failure, named after the hop; its stage and code (hence exit code and fix) kept. */
export function failedAtHop(e: unknown, hop: HopTrace): unknown {
  if (!(e instanceof SshError) || e.stage === "usage") return e;
  if (e.code === "connect.jump-refused" || "hop" in e.details) return e;
  const named = new SshError(
    e.stage,
    e.code,
    `hop ${hop.index} of ${hop.of} (${where(hop)}) failed at stage ${e.stage}: ${e.message}`,
    { ...e.details, hop: hop.index, hops: hop.of, hopHost: hop.host, hopPort: hop.port } as never,
    { cause: e },
  );
  return named;
}

/**
 * The tunnel from `via` (a connected hop) to `next`: a `direct-tcpip` channel, traced in the
 * next hop's connect stage. A refusal becomes `connect.jump-refused` naming both hops.
 */
export function tunnelThrough(via: Client, viaHop: HopTrace, next: HopTrace) {
  return async (tracer: Tracer): Promise<ByteStream> => {
    tracer.emit({ stage: "connect", type: "resolving", host: next.host, port: next.port });
    let channel;
    try {
      channel = await openDirectTcpip(via.connection, next.host, next.port);
    } catch (e) {
      if (e instanceof SshError && e.code === "session.channel-open-refused") {
        const d = e.details as { reasonCode?: number; reason?: string; description?: string };
        throw new SshError(
          "connect",
          "connect.jump-refused",
          `hop ${next.index} of ${next.of} (${where(next)}) failed at stage connect: the jump ` +
            `host ${where(viaHop)} (hop ${viaHop.index}) refused the tunnel to ` +
            `${where(next)}: ${d.reason ?? "refused"} (code ${d.reasonCode ?? 0})` +
            (d.description ? `: ${d.description}` : ""),
          {
            host: next.host,
            port: next.port,
            jumpHost: viaHop.host,
            jumpPort: viaHop.port,
            hop: viaHop.index,
            hops: next.of,
            reasonCode: d.reasonCode ?? 0,
            reason: d.reason ?? "",
            description: d.description ?? "",
          },
          { cause: e },
        );
      }
      throw e;
    }
    tracer.emit({
      stage: "connect",
      type: "connected",
      host: next.host,
      port: next.port,
      remoteAddress: `via ${where(viaHop)} (direct-tcpip channel ${channel.localId})`,
    });
    return channelStream(channel);
  };
}

/**
 * Connects every jump host of `options.jump` in turn, each through the one before, and returns
 * the tunnel for the target. On failure every hop already connected is closed and the error
 * names the hop that failed. `connectOne` is `connect()` (lib/client.ts).
 */
export async function openJumpChain(
  options: ConnectOptions,
  connectOne: (options: ConnectOptions) => Promise<Client>,
  localUser: string,
): Promise<JumpChain> {
  const jumps = options.jump ?? [];
  const of = jumps.length + 1;
  const clients: Client[] = [];
  const close = async () => {
    for (const c of clients.slice().reverse()) await c.close().catch(() => {});
  };
  const hopOf = (index: number, host: string, port: number | undefined, user: string) => ({
    index,
    of,
    host,
    port: port ?? 22,
    user,
    target: index === of,
    tracer: options.tracer ?? new Tracer(),
    error: null,
  });
  let prev: { client: Client; hop: HopTrace } | null = null;
  for (const [i, jump] of jumps.entries()) {
    const hop: HopTrace = hopOf(i + 1, jump.host, jump.port, jump.user ?? localUser);
    hop.tracer = options.onHop?.(hop) ?? new Tracer();
    // The target's way in is not the hops' (a hop may have a ProxyCommand of its own).
    const { jump: _j, tunnel: _t, stream: _s, onHop: _o, proxyCommand: _p, ...inherited } = options;
    const { standalone, ...own } = jump;
    const hopOptions: ConnectOptions = {
      ...(standalone ? {} : inherited),
      ...own,
      // As ssh(1): a jump host's user is its own (or the local user), not the target's.
      user: hop.user,
      auth: standalone ? jump.auth : jump.auth ?? options.auth,
      tracer: hop.tracer,
      signal: options.signal,
      tunnel: prev ? tunnelThrough(prev.client, prev.hop, hop) : undefined,
    };
    try {
      const client = await connectOne(hopOptions);
      clients.push(client);
      prev = { client, hop };
    } catch (e) {
      const error = failedAtHop(e, hop);
      if (error instanceof SshError) {
        hop.error = error;
        hop.tracer.emit({
          stage: error.stage === "usage" ? "connect" : error.stage,
          type: "error",
          code: error.code,
          message: error.message,
        });
      }
      hop.tracer.endAll();
      await close();
      throw error;
    }
  }
  const target = hopOf(of, options.host, options.port, options.user ?? localUser);
  options.onHop?.(target);
  const last = prev!;
  return { clients, tunnel: tunnelThrough(last.client, last.hop, target), target, close };
}
