/**
 * Packet protection throughput: each benchmark seals or encrypts+MACs 1 MiB as 32 packets of
 * 32 KiB, so "iter/s" in the report reads directly as MiB/s.
 *
 *   deno bench --allow-all bench/cipher_bench.ts
 * @module
 */

import { randomBytes } from "node:crypto";
import { CIPHER_ALGORITHMS } from "../lib/algorithms/cipher.ts";
import { findMac, MAC_ALGORITHMS } from "../lib/algorithms/mac.ts";
import { createZlibStream, loadZlib } from "../lib/algorithms/compression.ts";
import type { CipherAlgorithm, MacAlgorithm } from "../lib/algorithms/types.ts";

await loadZlib();

const PACKET = 32 * 1024;
const PACKETS_PER_MIB = 32;

function random(length: number): Uint8Array {
  return new Uint8Array(randomBytes(length));
}

/** A plain packet of exactly 32 KiB whose length field is consistent. */
function packet(): Uint8Array {
  const p = random(PACKET);
  new DataView(p.buffer).setUint32(0, PACKET - 4);
  p[4] = 16;
  return p;
}

function benchAead(alg: CipherAlgorithm): void {
  const key = random(alg.keyLength);
  const iv = random(alg.ivLength);
  const p = packet();
  const sealer = alg.createAead!(key, iv);
  let seq = 0;
  Deno.bench({
    name: `${alg.name} seal`,
    group: "seal 1 MiB (iter/s = MiB/s)",
    fn() {
      for (let i = 0; i < PACKETS_PER_MIB; i++) sealer.seal(seq++, p);
    },
  });
  // A sealer and opener in step (GCM counts packets), so every open() checks a good tag.
  const a = alg.createAead!(key, iv);
  const b = alg.createAead!(key, iv);
  let pairSeq = 0;
  Deno.bench({
    name: `${alg.name} seal + open`,
    group: "seal + open 1 MiB (iter/s = MiB/s)",
    fn() {
      for (let i = 0; i < PACKETS_PER_MIB; i++) {
        const wire = a.seal(pairSeq, p);
        b.packetLength(pairSeq, wire.subarray(0, 4));
        b.open(pairSeq++, wire);
      }
    },
  });
}

function benchStream(alg: CipherAlgorithm, mac: MacAlgorithm): void {
  const enc = alg.createStream!(random(alg.keyLength), random(alg.ivLength), true);
  const compute = mac.create(random(mac.keyLength));
  const p = packet();
  let seq = 0;
  Deno.bench({
    name: `${alg.name} + ${mac.name}`,
    group: "seal 1 MiB (iter/s = MiB/s)",
    fn() {
      for (let i = 0; i < PACKETS_PER_MIB; i++) {
        // Encrypt-then-MAC cost; a real EtM packet leaves its 4 length bytes in clear.
        compute(seq++, enc.update(p));
      }
    },
  });
}

const ETM = findMac("hmac-sha2-256-etm@openssh.com")!;
for (const alg of CIPHER_ALGORITHMS) {
  if (alg.createAead) benchAead(alg);
  else benchStream(alg, ETM);
}

for (const mac of MAC_ALGORITHMS) {
  const compute = mac.create(random(mac.keyLength));
  const p = packet();
  let seq = 0;
  Deno.bench({
    name: mac.name,
    group: "MAC 1 MiB (iter/s = MiB/s)",
    fn() {
      for (let i = 0; i < PACKETS_PER_MIB; i++) compute(seq++, p);
    },
  });
}

{
  const z = createZlibStream();
  const text = new TextEncoder().encode("sshtrace channel data line 0123456789\n".repeat(900))
    .subarray(0, PACKET);
  Deno.bench({
    name: "zlib compress (text)",
    group: "compression 1 MiB (iter/s = MiB/s)",
    fn() {
      for (let i = 0; i < PACKETS_PER_MIB; i++) z.compress(text);
    },
  });
}
