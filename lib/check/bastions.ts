/**
 * Jump hosts for fleet checks (`check --jump`, the inventory's `jump` column): one connection
 * per distinct jump chain, opened when the first host behind it starts and reused by every host
 * behind it (each host's own connection runs in a `direct-tcpip` channel of it). A chain that
 * fails fails each host behind it with the chain's error, naming the jump host.
 * @module
 */

import { type Client, connect, type ConnectOptions } from "../client.ts";
import { parseJumpSpec } from "../config/jump_spec.ts";
import { failedAtHop, type HopTrace, tunnelThrough } from "../jump/chain.ts";
import { Tracer } from "../trace.ts";
import type { ByteStream } from "../transport/stream.ts";

/** How every bastion is reached and authenticated (the check's own options). */
export type BastionOptions = Omit<ConnectOptions, "host" | "port" | "user" | "jump" | "tracer">;

/** The connections to the jump chains of one check. */
export class BastionPool {
  #options: BastionOptions;
  #defaultUser: string;
  #chains = new Map<string, Promise<{ client: Client; hop: HopTrace }>>();

  constructor(options: BastionOptions, defaultUser: string) {
    this.#options = options;
    this.#defaultUser = defaultUser;
  }

  /** The chain `spec` (ProxyJump syntax), connected once. */
  #chain(spec: string): Promise<{ client: Client; hop: HopTrace }> {
    let chain = this.#chains.get(spec);
    if (!chain) {
      const hops = parseJumpSpec(spec);
      const last = hops.at(-1)!;
      const hop: HopTrace = {
        index: hops.length,
        of: hops.length + 1,
        host: last.host,
        port: last.port ?? 22,
        user: last.user ?? this.#defaultUser,
        target: false,
        tracer: new Tracer(),
        error: null,
      };
      chain = connect({
        ...this.#options,
        host: hop.host,
        port: hop.port,
        user: hop.user,
        tracer: hop.tracer,
        // The pool outlives each host: only closing it ends the bastions.
        signal: undefined,
        jump: hops.slice(0, -1).map((h) => ({
          host: h.host,
          ...(h.port !== null ? { port: h.port } : {}),
          ...(h.user !== null ? { user: h.user } : {}),
        })),
      }).then((client) => ({ client, hop }), (e) => {
        throw failedAtHop(e, hop);
      });
      chain.catch(() => {});
      this.#chains.set(spec, chain);
    }
    return chain;
  }

  /**
   * The tunnel to `host:port` through the chain `spec` (for `ConnectOptions.tunnel`): rejects
   * with the chain's error if the chain could not be connected.
   */
  tunnel(spec: string, host: string, port: number): (tracer: Tracer) => Promise<ByteStream> {
    return async (tracer) => {
      const { client, hop } = await this.#chain(spec);
      const next: HopTrace = { ...hop, index: hop.of, host, port, target: true, tracer };
      return await tunnelThrough(client, hop, next)(tracer);
    };
  }

  /** How many chains were opened (each a connection to its bastions). */
  get size(): number {
    return this.#chains.size;
  }

  /** Closes every chain. */
  async close(): Promise<void> {
    const chains = [...this.#chains.values()];
    this.#chains.clear();
    for (const chain of chains) {
      await chain.then(({ client }) => client.close(), () => {}).catch(() => {});
    }
  }
}
