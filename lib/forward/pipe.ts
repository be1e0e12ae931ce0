/**
 * Carries one forwarded TCP connection over one channel, both ways, until both directions end:
 * local bytes go into the channel (its window paces us; one read buffer at a time), channel
 * bytes go to the socket (each write awaited, so the window re-opens only as the socket drains).
 * Used by `-L` (direct-tcpip) and `-R` (forwarded-tcpip) alike.
 * @module
 */

import type { Channel } from "../connection/channel.ts";
import type { Conn } from "../platform/mod.ts";

/** Bytes read from a local connection at once. */
const READ_SIZE = 32 * 1024;

/** Bytes carried each way; "?" for a direction that broke. */
export interface Carried {
  out: number | "?";
  in: number | "?";
}

async function channelToLocal(readable: ReadableStream<Uint8Array>, conn: Conn) {
  let n = 0;
  for await (const chunk of readable) {
    let off = 0;
    while (off < chunk.length) off += await conn.write(chunk.subarray(off));
    n += chunk.length;
  }
  // The far side is done: pass its end on (half-close) where the socket can, so a local client
  // waiting for the end of a reply gets it while it may still send.
  const half = conn as Conn & { closeWrite?: () => Promise<void> };
  await half.closeWrite?.().catch(() => {});
  return n;
}

async function localToChannel(conn: Conn, channel: Channel) {
  let n = 0;
  // One buffer for the connection's life: a channel write copies the bytes into its packets
  // before it resolves, so the buffer is free again for the next read.
  const buf = new Uint8Array(READ_SIZE);
  for (;;) {
    const got = await conn.read(buf);
    if (got === null) break;
    await channel.write(buf.subarray(0, got));
    n += got;
  }
  await channel.eof();
  return n;
}

/** Pipes `conn` and `channel` until both directions end, then closes both. */
export async function carry(conn: Conn, channel: Channel): Promise<Carried> {
  channel.endStreamsAtEof = true; // the far socket's end ends our writes to this one
  channel.stderr.cancel().catch(() => {});
  const [up, down] = await Promise.allSettled([
    localToChannel(conn, channel),
    channelToLocal(channel.readable, conn),
  ]);
  try {
    conn.close();
  } catch {
    // already closed
  }
  await channel.close().catch(() => {});
  const n = (r: PromiseSettledResult<number>) => r.status === "fulfilled" ? r.value : "?";
  return { out: n(up), in: n(down) };
}
