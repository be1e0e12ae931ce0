/**
 * A long read keeps no memory per wait: every fill() of a connection's life must not leave
 * anything behind on the reader (a copy of 4 GiB makes ~130 000 of them).
 */

import assert from "node:assert/strict";
import { Session } from "node:inspector";
import { BufferedReader } from "../../../lib/transport/reader.ts";
import type { ByteStream } from "../../../lib/transport/stream.ts";

/** Heap bytes in use after a full collection (asked through the inspector). */
async function heapAfterGc(): Promise<number> {
  const session = new Session();
  session.connect();
  const alive = setInterval(() => {}, 1000); // the inspector's answer does not hold the event loop
  try {
    await new Promise<void>((resolve, reject) =>
      session.post("HeapProfiler.collectGarbage", (e: Error | null) => e ? reject(e) : resolve())
    );
  } finally {
    clearInterval(alive);
    session.disconnect();
  }
  return Deno.memoryUsage().heapUsed;
}

Deno.test("fill() leaves nothing behind per wait: 50 000 reads of a stream keep the heap flat", async () => {
  const chunk = new Uint8Array(16);
  const stream: ByteStream = {
    read: () => Promise.resolve(chunk),
    write: () => Promise.resolve(),
    close: () => {},
  };
  for (const timeoutMs of [0, 60_000]) {
    const reader = new BufferedReader(stream, "data", timeoutMs);
    const drain = async (n: number) => {
      for (let i = 0; i < n; i++) {
        await reader.fill();
        reader.take(reader.buffered);
      }
    };
    await drain(1000); // warm up (code, feedback)
    const before = await heapAfterGc();
    await drain(50_000);
    const grown = (await heapAfterGc()) - before;
    // Racing each read against one promise that lives as long as the reader left ~300 bytes
    // per read on it (15 MB here).
    assert.ok(grown < 2_000_000, `heap grew by ${grown} bytes (timeout ${timeoutMs})`);
  }
});
