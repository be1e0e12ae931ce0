/**
 * Dynamic forwarding (`-D`, DynamicForward): a local SOCKS4/4a/5 proxy whose CONNECTs become
 * `direct-tcpip` channels, host names resolved by the server. Listening, the concurrency bound
 * and the per-connection trace are the local forward's (lib/forward/local.ts); the handshake is
 * bounded in bytes (lib/forward/socks.ts) and in time.
 * @module
 */

import type { Connection } from "../connection/mux.ts";
import type { TcpConn } from "../platform/mod.ts";
import type { Tracer } from "../trace.ts";
import { openDirectTcpip } from "./direct.ts";
import { forwardLocal, type LocalForward } from "./local.ts";
import { carry } from "./pipe.ts";
import { SOCKS5_REPLY, socksHandshake, type SocksIo, socksReply } from "./socks.ts";

/** How long a SOCKS client has to finish its handshake. */
export const SOCKS_HANDSHAKE_MS = 10_000;

function connIo(conn: TcpConn): SocksIo {
  const buf = new Uint8Array(MAX_READ);
  return {
    async read() {
      const n = await conn.read(buf);
      return n === null ? null : buf.slice(0, n);
    },
    async write(bytes) {
      let off = 0;
      while (off < bytes.length) off += await conn.write(bytes.subarray(off));
    },
  };
}
const MAX_READ = 1024;

/** Starts a SOCKS proxy on `bindHost:bindPort` over an authenticated connection. */
export function forwardDynamic(
  connection: Connection,
  bind: { bindHost: string; bindPort: number },
  options: { tracer: Tracer; maxConnections?: number },
): LocalForward {
  const where = (port: number) =>
    `${bind.bindHost.includes(":") ? `[${bind.bindHost}]` : bind.bindHost}:${port}`;
  return forwardLocal(connection, { ...bind, host: "", port: 0 }, {
    ...options,
    flag: "-D",
    name: (port) => `SOCKS ${where(port)}`,
    async route(conn, id, info) {
      const from = `${conn.remoteAddr.hostname}:${conn.remoteAddr.port}`;
      const io = connIo(conn);
      let target;
      const timer = setTimeout(() => conn.close(), SOCKS_HANDSHAKE_MS);
      try {
        target = await socksHandshake(io);
      } catch (e) {
        info(`connection #${id} from ${from}: ${(e as Error).message}; closed`);
        conn.close();
        return;
      } finally {
        clearTimeout(timer);
      }
      const to = `${target.host}:${target.port}`;
      let channel;
      try {
        channel = await openDirectTcpip(connection, target.host, target.port, {
          host: conn.remoteAddr.hostname,
          port: conn.remoteAddr.port,
        });
      } catch (e) {
        const code = (e as { details?: { reasonCode?: number } }).details?.reasonCode;
        const reply = code === 1 ? SOCKS5_REPLY.notAllowed : SOCKS5_REPLY.refused;
        await io.write(socksReply(target.version, reply)).catch(() => {});
        info(`connection #${id} from ${from} to ${to} refused: ${(e as Error).message}`);
        conn.close();
        return;
      }
      await io.write(socksReply(target.version, SOCKS5_REPLY.succeeded));
      if (target.early.length) await channel.write(target.early);
      info(
        `connection #${id} from ${from} to ${to} (SOCKS${target.version}) opened ` +
          `(channel ${channel.localId})`,
      );
      const bytes = await carry(conn, channel);
      info(`connection #${id} closed: ${bytes.out} bytes out, ${bytes.in} bytes in`);
    },
  });
}
