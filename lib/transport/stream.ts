/** The byte stream the transport runs over: a TCP connection, a channel, an in-memory pipe. @module */

/** A bidirectional byte stream. */
export interface ByteStream {
  /** The next chunk of bytes, or null at end of stream. */
  read(): Promise<Uint8Array | null>;
  write(bytes: Uint8Array): Promise<void>;
  /** Closes both directions; a pending read resolves null or rejects. Idempotent. */
  close(): void;
  /**
   * Optional: the reader is done with the next `n` bytes `read` gave it (in stream order) and
   * keeps no view of them, so their memory may be used again for later reads.
   */
  recycle?(n: number): void;
}

/** An in-memory connected pair of byte streams (for tests and the in-process lab server). */
export function memoryPipe(): [ByteStream, ByteStream] {
  const make = () => {
    const queue: Uint8Array[] = [];
    let closed = false;
    let waiter: ((v: Uint8Array | null) => void) | null = null;
    return {
      push(bytes: Uint8Array) {
        if (closed) return;
        if (waiter) {
          const w = waiter;
          waiter = null;
          w(bytes);
        } else queue.push(bytes);
      },
      end() {
        closed = true;
        if (waiter) {
          const w = waiter;
          waiter = null;
          w(null);
        }
      },
      read(): Promise<Uint8Array | null> {
        const next = queue.shift();
        if (next) return Promise.resolve(next);
        if (closed) return Promise.resolve(null);
        return new Promise((resolve) => (waiter = resolve));
      },
    };
  };
  const aToB = make();
  const bToA = make();
  const side = (
    inbox: ReturnType<typeof make>,
    outbox: ReturnType<typeof make>,
  ): ByteStream => ({
    read: () => inbox.read(),
    write: (bytes) => {
      outbox.push(bytes.slice());
      return Promise.resolve();
    },
    close: () => {
      inbox.end();
      outbox.end();
    },
  });
  return [side(bToA, aToB), side(aToB, bToA)];
}
