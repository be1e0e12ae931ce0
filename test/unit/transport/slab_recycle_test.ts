/**
 * Reuse of socket read memory (`connStream`'s blocks): a block is used again only once the
 * reader has released every byte read into it, and packets handed up never change afterwards.
 */
import assert from "node:assert/strict";
import { findCipher } from "../../../lib/algorithms/cipher.ts";
import { connStream } from "../../../lib/net.ts";
import type { Conn } from "../../../lib/platform/mod.ts";
import { type DirectionKeys, PacketSealer } from "../../../lib/transport/packet.ts";
import { StreamPacketConn } from "../../../lib/transport/packet_conn.ts";
import { BufferedReader } from "../../../lib/transport/reader.ts";
import type { ByteStream } from "../../../lib/transport/stream.ts";
import { concatBytes } from "../../../lib/wire/buffer.ts";

const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));

/** A Conn that yields `data` in reads of varying sizes (at most what each read asks for). */
function fakeConn(data: Uint8Array): Conn {
  let off = 0;
  let turn = 0;
  return {
    read(p) {
      if (off >= data.length) return Promise.resolve(null);
      const sizes = [65536, 1000, 250_000, 40_000, 7];
      const n = Math.min(p.length, data.length - off, sizes[turn++ % sizes.length]!);
      p.set(data.subarray(off, off + n));
      off += n;
      return Promise.resolve(n);
    },
    write: (p) => Promise.resolve(p.length),
    close() {},
  };
}

const pattern = (n: number) => new Uint8Array(n).map((_, i) => i);

Deno.test("connStream reuses a full block only after every byte read into it was released", async () => {
  const stream = connStream(fakeConn(pattern(8 * 1024 * 1024)));
  const seen = new Set<ArrayBufferLike>();
  // Stream positions where each block's bytes end (once the next block starts).
  const ends = new Map<ArrayBufferLike, number>();
  let handed = 0;
  let last: ArrayBufferLike | null = null;
  for (let i = 0; i < 15; i++) {
    const chunk = (await stream.read())!;
    if (chunk.buffer !== last) {
      assert.ok(!seen.has(chunk.buffer), "a block was reused while its bytes were still held");
      if (last) ends.set(last, handed);
      seen.add(chunk.buffer);
      last = chunk.buffer;
    }
    handed += chunk.length;
  }
  // Full blocks (256 KiB) in order; the first held back by one byte.
  const full = [...ends.keys()].filter((b) => b.byteLength === 256 * 1024);
  assert.ok(full.length >= 3, `${full.length} full blocks`);
  const held = full[0]!;
  stream.recycle!(ends.get(held)! - 1);
  let reused = false;
  for (let i = 0; i < 40; i++) {
    const chunk = await stream.read();
    if (!chunk) break;
    assert.notEqual(chunk.buffer, held, "a block was reused before its last byte was released");
    if (chunk.byteOffset === 0 && seen.has(chunk.buffer)) reused = true;
  }
  assert.ok(!reused, "a block was reused before the blocks ahead of it were released");
  // All released: a later block is one of the earlier ones.
  stream.recycle!(1);
  stream.recycle!(handed - ends.get(held)!);
  for (let i = 0; i < 40 && !reused; i++) {
    const chunk = await stream.read();
    if (!chunk) break;
    if (chunk.byteOffset === 0 && seen.has(chunk.buffer)) reused = true;
  }
  assert.ok(reused, "no block was reused after every byte was released");
});

Deno.test("BufferedReader.release hands the stream exactly the bytes taken, not those buffered", async () => {
  const released: number[] = [];
  const chunks = [random(100), random(50)];
  const stream: ByteStream = {
    read: () => Promise.resolve(chunks.shift() ?? null),
    write: () => Promise.resolve(),
    close() {},
    recycle: (n) => void released.push(n),
  };
  const reader = new BufferedReader(stream, "data", 0);
  await reader.ensure(120, 0);
  reader.take(30);
  reader.take(40);
  reader.release();
  reader.release(); // nothing new taken: not passed on
  reader.take(70);
  reader.release();
  assert.deepEqual(released, [70, 70]);
  assert.equal(reader.buffered, 10);
});

for (const cipherName of ["aes128-gcm@openssh.com", "chacha20-poly1305@openssh.com", "none"]) {
  Deno.test(`packets read over reused blocks stay intact (${cipherName})`, async () => {
    const cipher = findCipher(cipherName);
    const keys: DirectionKeys | null = cipher
      ? {
        cipher,
        mac: null,
        encKey: random(cipher.keyLength),
        iv: random(cipher.ivLength),
        macKey: new Uint8Array(0),
      }
      : null; // "none": packets as they are before the first NEWKEYS
    const sealer = new PacketSealer();
    if (keys) sealer.setKeys(keys);
    const payloads = Array.from(
      { length: 400 },
      (_, i) => concatBytes(new Uint8Array([94]), random(1 + (i * 7919) % 32_000)),
    );
    const wire = concatBytes(...payloads.map((p) => sealer.seal(p)));
    const conn = new StreamPacketConn(connStream(fakeConn(wire)), {
      peer: "server",
      timeoutMs: 0,
      stage: "data",
    });
    if (keys) conn.setReadKeys(keys, false);
    conn.readAhead = true; // followed only where the opener can read ahead
    const got: Uint8Array[] = [];
    for (;;) {
      const p = await conn.readPacket(0);
      if (!p) break;
      got.push(p);
    }
    // Checked at the end: a payload viewing reused memory would have changed by now.
    assert.equal(got.length, payloads.length);
    for (let i = 0; i < payloads.length; i++) assert.deepEqual(got[i], payloads[i], `packet ${i}`);
  });
}
