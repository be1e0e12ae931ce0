/**
 * The packet-level seam over a byte stream (`StreamPacketConn`): packets in order with and
 * without read-ahead, sequence numbers, staged errors, and read-ahead's bounds: a packet that
 * fails stops it, and nothing after a bad packet is handed up. Runs on the `node:crypto` backend,
 * whose Web Crypto openers read ahead.
 */
import assert from "node:assert/strict";
import { findCipher } from "../../../lib/algorithms/cipher.ts";
import { findMac } from "../../../lib/algorithms/mac.ts";
import { setCryptoBackendForTests } from "../../../lib/algorithms/crypto_provider.ts";
import { Tracer } from "../../../lib/trace.ts";
import { SshError } from "../../../lib/errors/mod.ts";
import { type DirectionKeys, PacketSealer } from "../../../lib/transport/packet.ts";
import { StreamPacketConn } from "../../../lib/transport/packet_conn.ts";
import { memoryPipe } from "../../../lib/transport/stream.ts";
import { concatBytes } from "../../../lib/wire/buffer.ts";

setCryptoBackendForTests("node");

const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));

function keys(cipherName: string, macName: string | null): DirectionKeys {
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

const payload = (i: number) => concatBytes(new Uint8Array([94, i]), random(100 + i * 37));

/** A conn reading `n` packets sealed with `k` and written in one chunk (`corrupt`: flip one). */
async function connWith(k: DirectionKeys, n: number, corrupt?: number) {
  const [a, b] = memoryPipe();
  const sealer = new PacketSealer();
  sealer.setKeys(k);
  const wires = Array.from({ length: n }, (_, i) => sealer.seal(payload(i)));
  if (corrupt !== undefined) wires[corrupt]![wires[corrupt]!.length - 1]! ^= 1;
  await a.write(concatBytes(...wires));
  a.close();
  const tracer = new Tracer({ packets: true });
  const conn = new StreamPacketConn(b, { peer: "server", timeoutMs: 0, stage: "data", tracer });
  conn.setReadKeys(k, false);
  return { conn, tracer, wires };
}

for (
  const [cipher, mac] of [["aes128-gcm@openssh.com", null], [
    "aes128-ctr",
    "hmac-sha2-256-etm@openssh.com",
  ]] as const
) {
  for (const ahead of [false, true]) {
    Deno.test(`StreamPacketConn hands up ${cipher} packets in order (read-ahead ${ahead})`, async () => {
      const k = keys(cipher, mac);
      const { conn, tracer, wires } = await connWith(k, 40);
      conn.readAhead = ahead;
      for (let i = 0; i < 40; i++) {
        const p = await conn.readPacket(0);
        assert.deepEqual(p?.subarray(0, 2), new Uint8Array([94, i]));
        assert.equal(conn.lastReadSeq, i);
        if (i > 0) continue;
        // Read-ahead framed (and started opening) the next 15 packets at once.
        const left = wires.slice(ahead ? 16 : 1).reduce((n, w) => n + w.length, 0);
        assert.equal(conn.reader.buffered, left);
      }
      assert.equal(await conn.readPacket(0), null, "a clean end between packets");
      const seqs = tracer.events.filter((e) => e.type === "packet").map((e) =>
        (e as unknown as { seq: number }).seq
      );
      assert.deepEqual(seqs, Array.from({ length: 40 }, (_, i) => i), "-vv sees every packet");
    });
  }

  Deno.test(`StreamPacketConn read-ahead stops at a bad ${cipher} packet`, async () => {
    const { conn } = await connWith(keys(cipher, mac), 30, 5);
    conn.readAhead = true;
    for (let i = 0; i < 5; i++) assert.equal((await conn.readPacket(0))?.[1], i);
    await assert.rejects(conn.readPacket(0), (e: unknown) => {
      assert.ok(e instanceof SshError);
      assert.equal(e.code, "data.mac-error");
      return true;
    });
    // Nothing after the bad packet is handed up: the next read tries the stream again and
    // fails on what follows (framed with the wrong sequence number), never on packet 6 intact.
    const next = await conn.readPacket(0).catch((e) => e);
    assert.ok(!(next instanceof Uint8Array) || next[1] !== 6);
  });
}

Deno.test("StreamPacketConn blames the stage it is given and names the peer", async () => {
  const [a, b] = memoryPipe();
  await a.write(new Uint8Array([0, 0, 0, 12, 4])); // half a plaintext header, then the end
  a.close();
  const conn = new StreamPacketConn(b, { peer: "client", timeoutMs: 0, stage: "auth" });
  await assert.rejects(conn.readPacket(), (e: unknown) => {
    assert.ok(e instanceof SshError);
    assert.equal(e.code, "auth.closed");
    assert.match(e.message, /the client closed the connection during stage auth/);
    return true;
  });
});

for (const backend of ["node", "auto"] as const) {
  Deno.test(`StreamPacketConn frames stream-cipher packets that arrive in small pieces (${backend})`, async () => {
    setCryptoBackendForTests(backend);
    try {
      // Without EtM the first block is decrypted to read the length: a packet is begun once,
      // however many reads its rest takes.
      const k = keys("aes192-ctr", "hmac-sha2-256");
      const [a, b] = memoryPipe();
      const sealer = new PacketSealer();
      sealer.setKeys(k);
      const wire = concatBytes(...Array.from({ length: 5 }, (_, i) => sealer.seal(payload(i))));
      const conn = new StreamPacketConn(b, { peer: "server", timeoutMs: 0, stage: "data" });
      conn.setReadKeys(k, false);
      conn.readAhead = true;
      const writes = (async () => {
        for (let o = 0; o < wire.length; o += 7) await a.write(wire.subarray(o, o + 7));
        a.close();
      })();
      for (let i = 0; i < 5; i++) {
        assert.deepEqual((await conn.readPacket(0))?.subarray(0, 2), new Uint8Array([94, i]));
      }
      assert.equal(await conn.readPacket(0), null);
      await writes;
    } finally {
      setCryptoBackendForTests("node");
    }
  });
}
