/**
 * A TCP connection begun before the rest of the client is loaded. The CLI starts it as soon as
 * it knows the target, then loads the transport, key exchange and authentication modules while
 * the connection is made and the server prepares its greeting (OpenSSH's sshd forks and
 * re-executes itself: ~10 ms on loopback), and hands it to {@link openTransport} as
 * `connecting`. Traced as stage `connect`, as openTransport traces a connection it opens itself.
 * Kept small on purpose: it must load before the modules it overlaps with.
 * @module
 */

import { connectTcp, type TcpConnection, type TcpOptions } from "../net.ts";
import type { Tracer } from "../trace.ts";
import { buildOffer, type ListCategory } from "../algorithms/names.ts";
import { makeSntrup761KeyPairSoon } from "../algorithms/kem_prefetch.ts";

/** Where to connect, as {@link openTransport}'s options say it. */
export interface EarlyConnectOptions {
  host: string;
  port: number;
  timeoutMs: number;
  tracer: Tracer;
  signal?: AbortSignal;
  tcp?: TcpOptions;
  /**
   * The algorithm lists as the connection will edit them (`--kex`, KexAlgorithms, `--legacy`):
   * when the first key exchange offered is a sntrup761 hybrid, its key pair is begun now, while
   * the server prepares its greeting (lib/algorithms/kem_prefetch.ts).
   */
  algorithms?: Partial<Record<ListCategory, string[]>>;
  legacy?: boolean;
}

/** Whether the first key exchange the connection offers is a sntrup761 hybrid. */
function offersSntrup761First(options: EarlyConnectOptions): boolean {
  try {
    const first =
      buildOffer({ kex: options.algorithms?.kex ?? [] }, options.legacy ?? false).kex[0];
    return first !== undefined && first.startsWith("sntrup761x25519-sha512");
  } catch {
    return false; // a list openTransport will refuse, with its own error
  }
}

/**
 * Begins the TCP connection (stage `connect`, ended when connected). The promise is meant for
 * `openTransport({ connecting })`, which turns a failure into the staged error; until it is
 * awaited there, a failure is held, never an unhandled rejection.
 */
export function connectEarly(options: EarlyConnectOptions): Promise<TcpConnection> {
  const span = options.tracer.span("connect");
  const stream = connectTcp(
    options.host,
    options.port,
    options.timeoutMs,
    options.tracer,
    options.signal,
    options.tcp,
  ).then((connection) => {
    span.end();
    return connection;
  });
  stream.catch(() => {}); // observed by openTransport, which rethrows it staged
  if (offersSntrup761First(options)) makeSntrup761KeyPairSoon(stream);
  return stream;
}

/** A login's options, as far as they say whether and where to connect first. */
export interface LoginRoute extends Omit<EarlyConnectOptions, "port" | "timeoutMs" | "tracer"> {
  port?: number;
  timeoutMs?: number;
  jump?: readonly unknown[];
  proxyCommand?: string;
}

/**
 * {@link connectEarly} for a direct TCP login; undefined when the login goes through a jump host or
 * a ProxyCommand (the client connects those itself, later).
 */
export function connectDirectEarly(
  options: LoginRoute,
  tracer: Tracer,
): Promise<TcpConnection> | undefined {
  if (options.jump?.length || options.proxyCommand) return undefined;
  return connectEarly({
    host: options.host,
    port: options.port ?? 22,
    timeoutMs: options.timeoutMs ?? 10_000,
    tracer,
    signal: options.signal,
    tcp: options.tcp,
    algorithms: options.algorithms,
    legacy: options.legacy,
  });
}
