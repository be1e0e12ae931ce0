/**
 * The lab server: a small SSH server built from sshtrace's own layers, on 127.0.0.1 only. It
 * behaves well (`modern`), like an old switch (`old-switch`), or badly on purpose (the fault
 * profiles of `faults/`). The client never imports this module.
 *
 * @example
 * ```ts
 * const lab = await startLabServer({ profile: "modern" });
 * // sshtrace demo@127.0.0.1:${lab.port}  (password demo)
 * await lab.stop();
 * ```
 * @module
 */

import type { ListCategory } from "../algorithms/registry.ts";
import { connStream } from "../net.ts";
import { platform, type TcpConn } from "../platform/mod.ts";
import type { AlgorithmLists } from "../types.ts";
import type { ByteStream } from "../transport/stream.ts";
import { serveAuth } from "./auth.ts";
import { ServerConnection } from "./connection.ts";
import { FAULT_PROFILES, type FaultProfile, findFault } from "./faults/mod.ts";
import { generateHostKeys, type HostKeys, keyTypesFor } from "./hostkeys.ts";
import { BASE_PROFILES, modernConfig } from "./profiles.ts";
import { ServerTransport, Stop } from "./transport.ts";
import type { FaultHooks, LabConfig, LabEvent, LabUser } from "./types.ts";

export type { FaultExpectation, FaultProfile } from "./faults/mod.ts";
export { FAULT_PROFILES, findFault } from "./faults/mod.ts";
export { BASE_PROFILES, DEMO_USER, SWITCH_ADMIN } from "./profiles.ts";
export { generateHostKeys, type HostKey, HostKeys, type HostKeyType } from "./hostkeys.ts";
export type { LabConfig, LabEvent, LabUser } from "./types.ts";

/** The only address the lab server listens on. */
export const LAB_HOST = "127.0.0.1";

export interface LabServerOptions {
  /** @default 0 (any free port) */
  port?: number;
  /** Must be `127.0.0.1` (the lab server never listens elsewhere). */
  host?: string;
  /** `modern` (default), `old-switch`, or a fault profile name such as `bad-mac`, `disconnect:7`. */
  profile?: string;
  /** Extra users (a user of the same name replaces the profile's). */
  users?: LabUser[];
  /** Replaces the server's lists for these categories (both directions). */
  algorithms?: Partial<Record<ListCategory, string[]>>;
  /** Host keys to use instead of generating new ones (generating RSA takes a moment). */
  hostKeys?: HostKeys;
  /** Any other configuration change, applied last. */
  config?: Partial<LabConfig>;
  /** Called for each thing the server notes about a connection. */
  onEvent?: (event: LabEvent) => void;
}

export interface LabServer {
  readonly host: "127.0.0.1";
  readonly port: number;
  readonly profile: string;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections still open. */
  readonly active: number;
  /** Unexpected server-side failures (a bug in the lab server, never a client's doing). */
  readonly errors: readonly string[];
  readonly hostKeys: HostKeys;
  /** The configuration every connection gets. */
  readonly config: LabConfig;
  /** Resolves once `count` connections have ended. */
  waitForEnded(count: number): Promise<void>;
  /** Stops listening, closes every connection and waits for them. */
  stop(): Promise<void>;
}

/** A profile resolved into a configuration and fault hooks. */
export interface ResolvedProfile {
  name: string;
  summary: string;
  config: LabConfig;
  hooks: FaultHooks;
  fault: FaultProfile | null;
}

/** Every profile name (well-behaved first, then faults; `disconnect` takes `:N`). */
export function profileNames(): string[] {
  return [...BASE_PROFILES.map((p) => p.name), ...FAULT_PROFILES.map((f) => f.name)];
}

/** Thrown for an unknown profile or a refused address. */
export class LabError extends Error {
  override name = "LabError";
}

const CATEGORY_LISTS: Record<ListCategory, (keyof AlgorithmLists)[]> = {
  kex: ["kex"],
  hostKey: ["hostKey"],
  cipher: ["cipherC2S", "cipherS2C"],
  mac: ["macC2S", "macS2C"],
  compression: ["compressionC2S", "compressionS2C"],
};

/** Resolves a profile name and the options' changes into a configuration. */
export function resolveProfile(
  name: string,
  options: Pick<LabServerOptions, "users" | "algorithms" | "config"> = {},
): ResolvedProfile {
  const base = BASE_PROFILES.find((p) => p.name === name);
  const fault = base ? null : findFault(name);
  if (!base && !fault) {
    throw new LabError(
      `unknown lab profile "${name}"; known: ${
        profileNames().join(", ")
      } (disconnect:N, N = 1..15)`,
    );
  }
  let config = base ? base.config() : modernConfig();
  if (fault?.config) config = fault.config(config);
  config = { ...config, lists: { ...config.lists } };
  for (const [category, list] of Object.entries(options.algorithms ?? {})) {
    for (const key of CATEGORY_LISTS[category as ListCategory] ?? []) config.lists[key] = [...list];
  }
  if (options.users) {
    const names = new Set(options.users.map((u) => u.name));
    config.users = [...config.users.filter((u) => !names.has(u.name)), ...options.users];
  }
  config = { ...config, ...options.config };
  return {
    name,
    summary: base?.summary ?? fault!.summary,
    config,
    hooks: fault?.hooks ?? {},
    fault: fault ?? null,
  };
}

/** Serves one connection over any byte stream until it ends. Never throws. */
export async function serveLabConnection(
  stream: ByteStream,
  setup: {
    config: LabConfig;
    hooks: FaultHooks;
    hostKeys: HostKeys;
    log?: (message: string) => void;
    onError?: (message: string) => void;
  },
): Promise<void> {
  const log = setup.log ?? (() => {});
  const t = new ServerTransport(stream, setup.config, setup.hostKeys, setup.hooks, log);
  let reason = "the client closed the connection";
  try {
    await t.handshake();
    const { user } = await serveAuth(t, log);
    await new ServerConnection(t, user, log).run();
  } catch (e) {
    if (e instanceof Stop) reason = e.message;
    else {
      reason = `server error: ${(e as Error).message}`;
      setup.onError?.((e as Error).message);
    }
  } finally {
    t.close();
    log(`closed: ${reason}`);
  }
}

/** Starts the lab server on 127.0.0.1. */
export async function startLabServer(options: LabServerOptions = {}): Promise<LabServer> {
  if (options.host !== undefined && options.host !== LAB_HOST) {
    throw new LabError(
      `the lab server listens on ${LAB_HOST} only, not on "${options.host}": it is for ` +
        "experiments on this machine",
    );
  }
  const profile = options.profile ?? "modern";
  const resolved = resolveProfile(profile, options);
  const hostKeys = options.hostKeys ??
    await generateHostKeys(keyTypesFor(resolved.config.lists.hostKey));
  const listener = platform.listenTcp(LAB_HOST, options.port ?? 0);
  const port = listener.addr.port;
  let connections = 0;
  let ended = 0;
  const errors: string[] = [];
  const open = new Map<number, ByteStream>();
  const handlers = new Set<Promise<void>>();
  let endWaiters: { count: number; resolve: () => void }[] = [];
  let stopping = false;

  const accept = (async () => {
    for (;;) {
      let conn: TcpConn;
      try {
        conn = await listener.accept();
      } catch {
        return; // listener closed
      }
      if (stopping) {
        conn.close();
        continue;
      }
      const n = ++connections;
      conn.setNoDelay(true);
      const remote = conn.remoteAddr;
      const stream = connStream(conn);
      const limit = resolved.config.maxStartups;
      if (limit !== undefined && open.size >= limit) {
        options.onEvent?.({ connection: n, message: `refused: ${open.size} connections open` });
        stream.write(new TextEncoder().encode("Exceeded MaxStartups\r\n"))
          .catch(() => {}).finally(() => stream.close());
        ended++;
        continue;
      }
      open.set(n, stream);
      const log = (message: string) => options.onEvent?.({ connection: n, message });
      log(`connection from ${remote.hostname}:${remote.port} (profile ${profile})`);
      const handler = serveLabConnection(stream, {
        config: resolved.config,
        hooks: resolved.hooks,
        hostKeys,
        log,
        onError: (message) => errors.push(`connection ${n}: ${message}`),
      }).finally(() => {
        open.delete(n);
        stream.close();
        ended++;
        endWaiters = endWaiters.filter((w) => {
          if (ended < w.count) return true;
          w.resolve();
          return false;
        });
      });
      handlers.add(handler);
      handler.finally(() => handlers.delete(handler));
    }
  })();

  return {
    host: LAB_HOST,
    port,
    profile,
    get connections() {
      return connections;
    },
    get active() {
      return open.size;
    },
    errors,
    hostKeys,
    config: resolved.config,
    waitForEnded(count: number) {
      if (ended >= count) return Promise.resolve();
      return new Promise<void>((resolve) => endWaiters.push({ count, resolve }));
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      try {
        listener.close();
      } catch {
        // already closed
      }
      await accept;
      for (const stream of open.values()) stream.close();
      await Promise.allSettled([...handlers]);
      for (const w of endWaiters.splice(0)) w.resolve();
    },
  };
}
