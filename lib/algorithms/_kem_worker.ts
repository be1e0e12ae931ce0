/**
 * Worker of lib/algorithms/kem_prefetch.ts: makes one sntrup761 key pair, posts it (its buffers
 * transferred, not copied) and ends. Imported anywhere else (a test importing every module), it
 * does nothing.
 * @module
 */

import { sntrup761 } from "./pq.ts";

const scope = globalThis as unknown as {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  close?(): void;
  Bun?: { isMainThread: boolean };
};
// A worker: Deno's and the browsers' have a WorkerGlobalScope, Bun's (the standalone
// executable) has none but says it is not the main thread.
if ("WorkerGlobalScope" in globalThis || scope.Bun?.isMainThread === false) {
  const { kem } = await sntrup761();
  const { publicKey, secretKey } = kem.keypair();
  scope.postMessage(
    { publicKey, secretKey },
    [publicKey.buffer as ArrayBuffer, secretKey.buffer as ArrayBuffer],
  );
  scope.close?.(); // Bun's workers have no close(): the parent ends it on the message
}
