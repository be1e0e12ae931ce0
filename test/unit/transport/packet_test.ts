import assert from "node:assert/strict";
import { allNames, findCipher, findMac } from "../../../lib/algorithms/registry.ts";
import {
  type DirectionKeys,
  MAX_PACKET_LENGTH,
  PacketError,
  PacketOpener,
  PacketSealer,
} from "../../../lib/transport/packet.ts";

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

/** A sealer and opener sharing one direction's keys (or plaintext when `keys` is null). */
function pair(keys: DirectionKeys | null, seq = 0): [PacketSealer, PacketOpener] {
  const sealer = new PacketSealer();
  const opener = new PacketOpener();
  if (keys) {
    sealer.setKeys(keys);
    opener.setKeys(keys);
  }
  sealer.seq = seq;
  opener.seq = seq;
  return [sealer, opener];
}

/** Opens one wire packet the way the transport does: header first, then the rest. */
function open(opener: PacketOpener, wire: Uint8Array): Uint8Array {
  const header = wire.subarray(0, opener.headerSize);
  const need = opener.begin(header);
  assert.equal(header.length + need, wire.length, "the opener asks for exactly the packet");
  return opener.finish(wire.subarray(header.length));
}

/** A plaintext packet with the given fields (no checks: for malformed cases). */
function plainPacket(packetLength: number, padding: number, total: number): Uint8Array {
  const b = new Uint8Array(total);
  new DataView(b.buffer).setUint32(0, packetLength);
  b[4] = padding;
  return b;
}

/** Every cipher with every MAC (AEAD ciphers once, with no MAC). */
function pairings(): [string, string | null][] {
  const out: [string, string | null][] = [];
  for (const c of allNames("cipher")) {
    if (findCipher(c)!.createAead) out.push([c, null]);
    else for (const m of allNames("mac")) out.push([c, m]);
  }
  return out;
}

for (const [cipher, mac] of pairings()) {
  const label = mac ? `${cipher} with ${mac}` : cipher;
  Deno.test(`PacketSealer and PacketOpener round-trip ${label} across the 2^32 sequence wrap`, () => {
    const [sealer, opener] = pair(keysFor(cipher, mac), 0xfffffffe);
    const payloads = [new Uint8Array([94]), random(1), random(17), random(1000), random(33)];
    const seqs: number[] = [];
    for (const payload of payloads) {
      seqs.push(sealer.seq);
      const wire = sealer.seal(payload);
      assert.deepEqual(open(opener, wire), payload);
    }
    assert.deepEqual(seqs, [0xfffffffe, 0xffffffff, 0, 1, 2]);
    assert.equal(opener.seq, 3);
    assert.equal(sealer.bytesSinceKex, opener.bytesSinceKex);
  });

  Deno.test(`PacketOpener reports a flipped MAC or tag byte of ${label} as a mac error`, () => {
    const [sealer, opener] = pair(keysFor(cipher, mac));
    const wire = sealer.seal(random(40));
    wire[wire.length - 1]! ^= 0x80;
    assert.throws(() => open(opener, wire), (e: unknown) => {
      assert.ok(e instanceof PacketError);
      assert.equal(e.kind, "mac");
      assert.match(e.message, /message authentication failed/);
      return true;
    });
  });
}

Deno.test("PacketOpener refuses a packet sealed with a different sequence number", () => {
  const keys = keysFor("aes128-ctr", "hmac-sha2-256");
  const [sealer] = pair(keys, 5);
  const [, opener] = pair(keys, 6);
  assert.throws(() => open(opener, sealer.seal(random(10))), { name: "PacketError", kind: "mac" });
});

Deno.test("PacketSealer pads to the block size with at least 4 bytes of random padding", () => {
  for (
    const [cipher, mac] of [["aes128-ctr", "hmac-sha2-256"], [
      "aes128-ctr",
      "hmac-sha2-256-etm@openssh.com",
    ]]
  ) {
    const keys = keysFor(cipher!, mac!);
    for (let n = 1; n < 40; n++) {
      const [sealer] = pair(keys);
      const wire = sealer.seal(random(n));
      const body = wire.length - 32; // hmac-sha2-256 is 32 bytes
      assert.equal(body % 16, mac!.includes("etm") ? 4 : 0, `${mac} payload ${n}`);
      const padding = body - 4 - 1 - n;
      assert.ok(padding >= 4 && padding < 4 + 16, `padding ${padding}`);
    }
  }
  const [plain] = pair(null);
  const wire = plain.seal(random(3)); // 5 + 3 = 8: a whole block of padding is added
  assert.equal(wire.length, 16);
  assert.equal(wire[4], 8);
});

Deno.test("PacketOpener accepts a plaintext packet of 35000 bytes in total", () => {
  const [, opener] = pair(null);
  const wire = plainPacket(34996, 4, 35000);
  wire[5] = 94;
  const payload = open(opener, wire);
  assert.equal(payload.length, 34996 - 1 - 4);
  assert.equal(payload[0], 94);
});

Deno.test("chacha20-poly1305 carries a packet_length of 35000", () => {
  const [sealer, opener] = pair(keysFor("chacha20-poly1305@openssh.com", null));
  const payload = random(34991); // 1 + 34991 + 8 padding = 35000
  const wire = sealer.seal(payload);
  assert.notEqual(new DataView(wire.buffer).getUint32(0), 35000, "the length is encrypted");
  assert.equal(wire.length, 4 + 35000 + 16);
  assert.deepEqual(open(opener, wire), payload);
});

Deno.test("PacketOpener refuses a packet_length of 256 KiB before reading it", () => {
  const [, opener] = pair(null);
  assert.throws(
    () => opener.begin(plainPacket(MAX_PACKET_LENGTH, 4, 8)),
    (e: unknown) => {
      assert.ok(e instanceof PacketError);
      assert.equal(e.kind, "length");
      assert.match(e.message, /packet length 262144 is over the limit \(262144\)/);
      return true;
    },
  );
  assert.throws(() => opener.begin(plainPacket(0xffffffff, 4, 8)), /over the limit/);
});

Deno.test("PacketOpener refuses a plaintext length that is not a multiple of the block size", () => {
  const [, opener] = pair(null);
  assert.throws(() => opener.begin(plainPacket(13, 4, 8)), {
    name: "PacketError",
    kind: "length",
    message: "packet length 13 is not a multiple of the cipher block size 8",
  });
});

Deno.test("PacketOpener refuses a non-multiple of 16 under aes128-ctr (encrypted length)", () => {
  const keys = keysFor("aes128-ctr", "hmac-sha2-256");
  const [, opener] = pair(keys);
  // Encrypt a forged first block whose length field is 20 (20 + 4 = 24, not a multiple of 16).
  const forged = plainPacket(20, 4, 16);
  const streamer = keys.cipher.createStream!(keys.encKey, keys.iv, true);
  assert.throws(
    () => opener.begin(streamer.update(forged)),
    /not a multiple of the cipher block size 16/,
  );
});

Deno.test("PacketOpener refuses a packet_length under 5 (zero-length packet)", () => {
  const [, opener] = pair(null);
  assert.throws(() => opener.begin(plainPacket(0, 0, 8)), /packet length 0 is too small/);
});

Deno.test("PacketOpener refuses padding under 4 bytes", () => {
  const [, opener] = pair(null);
  const wire = plainPacket(12, 3, 16);
  assert.throws(() => open(opener, wire), {
    name: "PacketError",
    kind: "padding",
    message: "padding of 3 bytes is under the minimum of 4",
  });
});

Deno.test("PacketOpener refuses padding longer than the packet", () => {
  const [, opener] = pair(null);
  assert.throws(() => open(opener, plainPacket(12, 200, 16)), { kind: "padding" });
});

Deno.test("PacketOpener refuses an AEAD packet whose length is not a multiple of 16", () => {
  const keys = keysFor("aes128-gcm@openssh.com", null);
  const [, opener] = pair(keys);
  // GCM sends the length in clear: 4 + 20 bytes would not fill whole blocks.
  assert.throws(
    () => opener.begin(plainPacket(20, 0, 4)),
    /not a multiple of the cipher block size 16/,
  );
});
