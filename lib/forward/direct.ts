/**
 * `direct-tcpip` channels (RFC 4254 §7.2): ask the server to open a TCP connection to a host
 * and port as seen from the server, and carry its bytes. A jump hop runs the next SSH
 * connection inside one; `-L` carries each accepted local connection in one. Also OpenSSH's
 * `direct-streamlocal@openssh.com` (its PROTOCOL §2.4): the same to a Unix socket's path on the
 * server (`-L …:/remote.sock`).
 * @module
 */

import { SshWriter } from "../wire/buffer.ts";
import type { Channel } from "../connection/channel.ts";
import type { Connection } from "../connection/mux.ts";
import type { ChannelOptions } from "../connection/types.ts";

/** Where the forwarded connection claims to come from (the originator in the open request). */
export interface Originator {
  host: string;
  port: number;
}

/** The type-specific part of a `direct-tcpip` (or `forwarded-tcpip`) CHANNEL_OPEN. */
export function tcpipOpenData(host: string, port: number, origin: Originator): Uint8Array {
  return new SshWriter(64)
    .string(host)
    .uint32(port)
    .string(origin.host)
    .uint32(origin.port)
    .bytes();
}

/**
 * Opens a `direct-tcpip` channel to `host:port` (resolved and connected by the server).
 * Rejects with `session.channel-open-refused` (reason code and text in its details) when the
 * server refuses: forwarding disabled (code 1), or the connection failed there (code 2).
 */
export function openDirectTcpip(
  connection: Connection,
  host: string,
  port: number,
  origin: Originator = { host: "127.0.0.1", port: 0 },
  options: ChannelOptions = {},
): Promise<Channel> {
  return connection.openChannel("direct-tcpip", tcpipOpenData(host, port, origin), options);
}

/** OpenSSH's channel type for a connection to a Unix socket on the server. */
export const DIRECT_STREAMLOCAL = "direct-streamlocal@openssh.com";

/**
 * Opens a `direct-streamlocal@openssh.com` channel to the Unix socket `path` on the server
 * (string path, string reserved, uint32 reserved). Rejects with `session.channel-open-refused`
 * when the server refuses (forwarding off, no such socket, or a server without the extension).
 */
export function openDirectStreamlocal(
  connection: Connection,
  path: string,
  options: ChannelOptions = {},
): Promise<Channel> {
  const data = new SshWriter(64).string(path).string("").uint32(0).bytes();
  return connection.openChannel(DIRECT_STREAMLOCAL, data, options);
}
