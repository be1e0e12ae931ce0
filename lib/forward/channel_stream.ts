/**
 * A channel as a {@link ByteStream}: what a hop hands to the next transport (the next SSH
 * connection runs inside a `direct-tcpip` channel) and what a forwarded TCP connection is
 * pumped through. Reads pull from the channel's data stream (so its window re-opens only for
 * bytes taken: back-pressure reaches the peer); writes respect the peer's window.
 * @module
 */

import type { Channel } from "../connection/channel.ts";
import type { ByteStream } from "../transport/stream.ts";

/**
 * Wraps an open channel. `close()` sends CLOSE (and does not wait for the peer's); a read after
 * the channel ended resolves null, and a read or write on a failed channel rejects with the
 * connection's staged error.
 */
export function channelStream(channel: Channel): ByteStream {
  // The far socket's end is the stream's end (no late data in a TCP tunnel).
  channel.endStreamsAtEof = true;
  const reader = channel.readable.getReader();
  // A direct-tcpip channel carries no extended data; whatever comes is discarded, not held.
  channel.stderr.cancel().catch(() => {});
  let closed = false;
  return {
    async read() {
      if (closed) return null;
      try {
        const { value, done } = await reader.read();
        return done ? null : value;
      } catch (e) {
        if (closed) return null;
        throw e;
      }
    },
    write(bytes) {
      return channel.write(bytes);
    },
    close() {
      if (closed) return;
      closed = true;
      reader.cancel().catch(() => {});
      channel.close().catch(() => {});
    },
  };
}
