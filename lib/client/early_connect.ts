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

/** Where to connect, as {@link openTransport}'s options say it. */
export interface EarlyConnectOptions {
  host: string;
  port: number;
  timeoutMs: number;
  tracer: Tracer;
  signal?: AbortSignal;
  tcp?: TcpOptions;
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
  return stream;
}
