/**
 * Worker of lib/algorithms/kem_prefetch.ts: makes one sntrup761 key pair, posts it (its buffers
 * transferred, not copied) and ends. Imported anywhere else (a test importing every module), it
 * does nothing.
 * @module
 */

import { sntrup761 } from "./pq.ts";

const scope = globalThis as unknown as {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  close(): void;
};
if ("WorkerGlobalScope" in globalThis) {
  const { kem } = await sntrup761();
  const { publicKey, secretKey } = kem.keypair();
  scope.postMessage(
    { publicKey, secretKey },
    [publicKey.buffer as ArrayBuffer, secretKey.buffer as ArrayBuffer],
  );
  scope.close();
}
