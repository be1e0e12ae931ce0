/**
 * chacha20-poly1305@openssh.com on a runtime whose `node:crypto` has no raw ChaCha20 (Bun, the
 * standalone executable): the node:crypto provider then streams @noble/ciphers' ChaCha20. Here
 * that path is forced under Deno and checked against OpenSSL both ways, across sequence numbers
 * and packet sizes (the open path reads 60 bytes of block 0 first: an unaligned stream).
 */

import assert from "node:assert/strict";
import { CIPHER_ALGORITHMS } from "../../../lib/algorithms/cipher.ts";
import { setCryptoBackendForTests } from "../../../lib/algorithms/crypto_provider.ts";
import { useChacha20FallbackForTests } from "../../../lib/algorithms/node_loader.ts";
import type { AeadTransform } from "../../../lib/algorithms/types.ts";

const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
const alg = CIPHER_ALGORITHMS.find((c) => c.name === "chacha20-poly1305@openssh.com")!;

/** A padded plain packet (length, padding length, payload, padding) of `payload` bytes. */
function packet(payload: number): Uint8Array {
  let padding = 8 - ((1 + payload) % 8);
  if (padding < 4) padding += 8;
  const p = random(5 + payload + padding);
  new DataView(p.buffer).setUint32(0, p.length - 4);
  p[4] = padding;
  return p;
}

async function fallbackAead(key: Uint8Array): Promise<AeadTransform> {
  await useChacha20FallbackForTests(true);
  setCryptoBackendForTests("node");
  try {
    return alg.createAead!(key, new Uint8Array(0));
  } finally {
    setCryptoBackendForTests("auto");
  }
}

Deno.test("chacha20-poly1305 through @noble/ciphers' ChaCha20 agrees with OpenSSL both ways", async () => {
  try {
    const key = random(64);
    const fallback = await fallbackAead(key);
    const openssl = alg.createAead!(key, new Uint8Array(0));
    const seqs = [0, 1, 2, 0xfffffffe, 0xffffffff, 7];
    const sizes = [0, 1, 59, 60, 64, 32768];
    seqs.forEach((seq, i) => {
      const p = packet(sizes[i]!);
      const sealed = fallback.seal(seq, p);
      assert.deepEqual(sealed, openssl.seal(seq, p), `seal of packet ${i}`);
      assert.equal(openssl.packetLength(seq, sealed.subarray(0, 4)), p.length - 4);
      assert.deepEqual(openssl.open(seq, sealed), p);
      assert.equal(fallback.packetLength(seq, sealed.subarray(0, 4)), p.length - 4);
      assert.deepEqual(fallback.open(seq, sealed), p, `open of packet ${i}`);
    });
    const tampered = fallback.seal(3, packet(100));
    tampered[10]! ^= 1;
    assert.throws(() => fallback.open(3, tampered), /tag does not match/);
  } finally {
    await useChacha20FallbackForTests(false);
  }
});
