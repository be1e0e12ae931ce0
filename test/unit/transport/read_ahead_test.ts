/**
 * The download path's read-ahead: AES-GCM `openAsync` and AES-CTR `updateAsync` (Web Crypto) agree
 * with the synchronous `node:crypto` path and can be mixed with it packet by packet;
 * `PacketOpener.finishAsync` opens several packets in flight in order and reports a bad tag, bad
 * MAC or bad padding as `PacketError`; the reader joins adjacent chunks and shares one read
 * between `prefetch` and `fill` (downloads through a real sshd across rekeys:
 * test/interop/transport/read_ahead_sshd_test.ts).
 * Read-ahead is the `node:crypto` backend's path (OpenSSL's transforms are synchronous and fast),
 * so this file runs with that backend throughout.
 */

import assert from "node:assert/strict";
import { createCipheriv } from "node:crypto";
import {
  CipherIntegrityError,
  findCipher,
  type ReadAheadAead,
  type ReadAheadStream,
} from "../../../lib/algorithms/cipher.ts";
import { findMac } from "../../../lib/algorithms/mac.ts";
import {
  type DirectionKeys,
  PacketError,
  PacketOpener,
  PacketSealer,
} from "../../../lib/transport/packet.ts";
import { BufferedReader } from "../../../lib/transport/reader.ts";
import { setCryptoBackendForTests } from "../../../lib/algorithms/crypto_provider.ts";
import type { ByteStream } from "../../../lib/transport/stream.ts";

setCryptoBackendForTests("node");

const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));

function keysFor(cipherName: string, macName: string | null): DirectionKeys {
  const cipher = findCipher(cipherName)!;
  const mac = macName === null ? null : findMac(macName)!;
  return {
    cipher,
    mac,
    encKey: random(cipher.keyLength),
    iv: random(cipher.ivLength),
    macKey: random(mac?.keyLength ?? 0),
  };
}

function pair(keys: DirectionKeys): [PacketSealer, PacketOpener] {
  const sealer = new PacketSealer();
  const opener = new PacketOpener();
  sealer.setKeys(keys);
  opener.setKeys(keys);
  return [sealer, opener];
}

/** Frames one wire packet and starts opening it asynchronously (as the transport does). */
function startOpen(opener: PacketOpener, wire: Uint8Array): Promise<Uint8Array> {
  const size = opener.headerSize;
  const need = opener.begin(wire.subarray(0, size));
  assert.equal(size + need, wire.length);
  return opener.finishAsync(wire.subarray(size), wire);
}

/** Opens one wire packet synchronously. */
function openSync(opener: PacketOpener, wire: Uint8Array): Uint8Array {
  const size = opener.headerSize;
  opener.begin(wire.subarray(0, size));
  return opener.finish(wire.subarray(size), wire);
}

const READ_AHEAD_SUITES: [string, string | null][] = [
  ["aes128-gcm@openssh.com", null],
  ["aes256-gcm@openssh.com", null],
  ["aes128-ctr", "hmac-sha2-256-etm@openssh.com"],
  ["aes192-ctr", "hmac-sha2-512-etm@openssh.com"],
  ["aes256-ctr", "hmac-sha1-etm@openssh.com"],
];

Deno.test("AES-GCM openAsync returns the body open() returns and rejects a bad tag", async () => {
  for (const name of ["aes128-gcm@openssh.com", "aes256-gcm@openssh.com"]) {
    const alg = findCipher(name)!;
    const key = random(alg.keyLength);
    const iv = random(alg.ivLength);
    const sealer = alg.createAead!(key, iv);
    const sync = alg.createAead!(key, iv);
    const async = alg.createAead!(key, iv) as ReadAheadAead;
    assert.equal(typeof async.openAsync, "function");
    for (let i = 0; i < 3; i++) {
      const packet = random(4 + 48);
      new DataView(packet.buffer).setUint32(0, 48);
      const wire = sealer.seal(i, packet);
      const expected = sync.open(i, wire);
      const body = await async.openAsync(i, wire);
      assert.deepEqual(body, expected.subarray(4));
    }
    const packet = new Uint8Array(4 + 32);
    new DataView(packet.buffer).setUint32(0, 32);
    const wire = sealer.seal(3, packet);
    wire[10]! ^= 1;
    await assert.rejects(async.openAsync(3, wire), CipherIntegrityError);
  }
});

Deno.test("AES-CTR updateAsync and update share one counter, across a carry out of the IV", async () => {
  for (const bits of [128, 192, 256]) {
    const alg = findCipher(`aes${bits}-ctr`)!;
    const key = random(bits / 8);
    // The low 64 bits are about to wrap: the counter must carry into the high half.
    const iv = new Uint8Array(16).fill(0xff);
    iv[0] = 0x12;
    iv[15] = 0xfd;
    const data = random(16 * 40);
    const expected = new Uint8Array(createCipheriv(`aes-${bits}-ctr`, key, iv).update(data));
    const t = alg.createStream!(key, iv, false) as ReadAheadStream;
    const parts = [
      t.update(data.subarray(0, 32)),
      await t.updateAsync(data.subarray(32, 96)),
      t.update(data.subarray(96, 160)),
      t.update(data.subarray(160, 176)),
    ];
    // Several in flight at once, then the synchronous path again.
    const pending = [
      t.updateAsync(data.subarray(176, 320)),
      t.updateAsync(data.subarray(320, 480)),
    ];
    parts.push(...(await Promise.all(pending)), t.update(data.subarray(480)));
    const joined = new Uint8Array(data.length);
    let o = 0;
    for (const p of parts) {
      joined.set(p, o);
      o += p.length;
    }
    assert.deepEqual(joined, expected, `aes${bits}-ctr`);
  }
});

for (const [cipher, mac] of READ_AHEAD_SUITES) {
  const label = mac ? `${cipher} + ${mac}` : cipher;
  Deno.test(`PacketOpener.finishAsync opens ${label} packets in flight, in order`, async () => {
    const [sealer, opener] = pair(keysFor(cipher, mac));
    assert.equal(opener.canReadAhead, true);
    const payloads = Array.from({ length: 12 }, (_, i) => random(1 + i * 997));
    const wires = payloads.map((p) => sealer.seal(p));
    // Mixed: a few synchronously, a batch in flight, then synchronously again.
    assert.deepEqual(openSync(opener, wires[0]!), payloads[0]);
    const inFlight = wires.slice(1, 9).map((w) => startOpen(opener, w));
    const opened = await Promise.all(inFlight);
    opened.forEach((p, i) => assert.deepEqual(p, payloads[i + 1]));
    for (let i = 9; i < 12; i++) assert.deepEqual(openSync(opener, wires[i]!), payloads[i]);
    assert.equal(opener.seq, 12);
  });

  Deno.test(`PacketOpener.finishAsync reports a tampered ${label} packet as a MAC failure`, async () => {
    const [sealer, opener] = pair(keysFor(cipher, mac));
    const good = sealer.seal(random(100));
    const bad = sealer.seal(random(100));
    bad[bad.length - 20]! ^= 0x40;
    const [first, second] = await Promise.allSettled([
      startOpen(opener, good),
      startOpen(opener, bad),
    ]);
    assert.equal(first.status === "fulfilled" && first.value.length, 100);
    assert.ok(second.status === "rejected");
    assert.ok(second.reason instanceof PacketError && second.reason.kind === "mac");
  });
}

Deno.test("PacketOpener.finishAsync rejects bad padding with the same error finish() throws", async () => {
  const keys = keysFor("aes128-gcm@openssh.com", null);
  const alg = keys.cipher;
  const sealer = alg.createAead!(keys.encKey, keys.iv);
  const opener = new PacketOpener();
  opener.setKeys(keys);
  // padding_length 3 (under the minimum of 4) in an otherwise well-formed, well-tagged packet.
  const packet = new Uint8Array(4 + 32);
  new DataView(packet.buffer).setUint32(0, 32);
  packet[4] = 3;
  await assert.rejects(
    startOpen(opener, sealer.seal(0, packet)),
    (e: unknown) => e instanceof PacketError && e.kind === "padding",
  );
});

Deno.test("PacketOpener without read-ahead support falls back to finish() in finishAsync", async () => {
  for (
    const [cipher, mac] of [["chacha20-poly1305@openssh.com", null], [
      "aes128-ctr",
      "hmac-sha2-256",
    ]] as const
  ) {
    const [sealer, opener] = pair(keysFor(cipher, mac));
    assert.equal(opener.canReadAhead, false);
    const payload = random(500);
    assert.deepEqual(await startOpen(opener, sealer.seal(payload)), payload);
  }
});

/** A stream that hands out the given chunks, one per read, then ends; counts reads. */
function chunkStream(chunks: Uint8Array[]): ByteStream & { reads: number } {
  const s = {
    reads: 0,
    read(): Promise<Uint8Array | null> {
      s.reads++;
      return Promise.resolve(chunks.shift() ?? null);
    },
    write: () => Promise.resolve(),
    close() {},
  };
  return s;
}

Deno.test("BufferedReader joins adjacent views of one buffer and copies only across buffers", async () => {
  const slab = random(64);
  const other = random(16);
  const stream = chunkStream([slab.subarray(0, 10), slab.subarray(10, 40), other]);
  const reader = new BufferedReader(stream, "data", 0);
  await reader.ensure(40, 0);
  const joined = reader.take(40)!;
  assert.equal(joined.buffer, slab.buffer, "adjacent views come back as one view, not a copy");
  assert.deepEqual(joined, slab.subarray(0, 40));
  await reader.ensure(16, 0);
  const header = reader.peekExact(4);
  assert.deepEqual(header, other.subarray(0, 4));
  assert.equal(reader.buffered, 16);
});

Deno.test("BufferedReader.prefetch starts one read that a later fill() waits for", async () => {
  const stream = chunkStream([random(8), random(8)]);
  const reader = new BufferedReader(stream, "data", 0);
  reader.prefetch();
  reader.prefetch();
  assert.equal(stream.reads, 1);
  assert.equal(await reader.fill(0), true);
  assert.equal(stream.reads, 1, "fill() used the read prefetch() started");
  assert.equal(reader.buffered, 8);
  assert.equal(await reader.fill(0), true);
  assert.equal(await reader.fill(0), false);
  assert.equal(reader.buffered, 16);
});

Deno.test("BufferedReader keeps a failed background read and throws it from fill()", async () => {
  const stream: ByteStream = {
    read: () => Promise.reject(new Error("socket gone")),
    write: () => Promise.resolve(),
    close() {},
  };
  const reader = new BufferedReader(stream, "data", 0);
  reader.prefetch();
  await new Promise((r) => setTimeout(r, 0));
  await assert.rejects(reader.fill(0), (e: unknown) => {
    const err = e as { code?: string; message: string };
    return err.code === "data.connection-reset" && /socket gone/.test(err.message);
  });
});
