/**
 * The sntrup761 key pair made ahead on a worker thread (lib/algorithms/kem_prefetch.ts): a real
 * key pair of the right sizes, handed out once, and a worker that stops when discarded.
 */

import assert from "node:assert/strict";
import {
  discardPrefetchedKeyPair,
  prefetchSntrup761KeyPair,
  takeSntrup761KeyPair,
} from "../../../lib/algorithms/kem_prefetch.ts";
import { sntrup761 } from "../../../lib/algorithms/pq.ts";

Deno.test("a sntrup761 key pair made on a worker decapsulates what the main thread encapsulates, and is handed out once", async () => {
  prefetchSntrup761KeyPair({ always: true });
  const keys = await takeSntrup761KeyPair();
  assert.ok(keys, "no key pair came back from the worker");
  const { kem } = await sntrup761();
  assert.equal(keys.publicKey.length, kem.publicKeyLength);
  assert.equal(keys.secretKey.length, kem.secretKeyLength);
  const { ciphertext, sharedSecret } = kem.encapsulate(keys.publicKey);
  assert.deepEqual(kem.decapsulate(ciphertext, keys.secretKey), sharedSecret);
  assert.equal(await takeSntrup761KeyPair(), null, "a key pair was handed out twice");
});

Deno.test("without a prefetch there is no key pair, and a discarded one is never handed out", async () => {
  assert.equal(await takeSntrup761KeyPair(), null);
  prefetchSntrup761KeyPair({ always: true });
  discardPrefetchedKeyPair();
  assert.equal(await takeSntrup761KeyPair(), null);
});

Deno.test("a worker that starts but never answers is given up: no key pair, and no hang", async () => {
  prefetchSntrup761KeyPair({
    always: true,
    workerUrl: new URL("./_silent_kem_worker.ts", import.meta.url).href,
    giveUpMs: 300,
  });
  const started = performance.now();
  assert.equal(await takeSntrup761KeyPair(), null);
  const waited = performance.now() - started;
  assert.ok(waited >= 250 && waited < 3000, `waited ${waited} ms`);
  assert.equal(await takeSntrup761KeyPair(), null);
});
