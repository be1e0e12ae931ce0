import assert from "node:assert/strict";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { chacha20orig } from "@noble/ciphers/chacha.js";
import { poly1305 } from "@noble/ciphers/_poly1305.js";
import {
  CIPHER_ALGORITHMS,
  CipherIntegrityError,
  findCipher,
} from "../../../lib/algorithms/cipher.ts";
import { CBC_CIPHERS } from "../../../lib/algorithms/cipher_cbc.ts";
import {
  COMPRESSION_ALGORITHMS,
  CompressionError,
  createZlibStream,
  findCompression,
  loadZlib,
} from "../../../lib/algorithms/compression.ts";
import type { CipherAlgorithm } from "../../../lib/algorithms/types.ts";
import { concatBytes } from "../../../lib/wire/buffer.ts";
import { hex, toHex } from "../../helpers/hex.ts";

await loadZlib();

/** Random bytes as a plain Uint8Array (node's randomBytes gives a Buffer). */
function random(length: number): Uint8Array {
  return new Uint8Array(randomBytes(length));
}

function cipher(name: string): CipherAlgorithm {
  const found = findCipher(name);
  assert.ok(found, `${name} is in the registry`);
  return found;
}

/** A plain SSH packet: uint32 packet_length ‖ byte padding_length ‖ payload ‖ padding. */
function plainPacket(payload: Uint8Array, blockSize: number, lengthInClear: boolean): Uint8Array {
  const align = Math.max(8, blockSize);
  // AEAD and EtM: the 4-byte length is outside the aligned part.
  const base = (lengthInClear ? 1 : 5) + payload.length;
  let padding = align - (base % align);
  if (padding < 4) padding += align;
  const packet = new Uint8Array(5 + payload.length + padding);
  new DataView(packet.buffer).setUint32(0, packet.length - 4);
  packet[4] = padding;
  packet.set(payload, 5);
  packet.set(random(padding), 5 + payload.length);
  return packet;
}

// SP 800-38A F.2 / F.5 plaintext (four blocks).
const SP800_38A_PLAIN = hex(
  `6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51
   30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710`,
);
const KEY_128 = hex("2b7e151628aed2a6abf7158809cf4f3c");
const KEY_192 = hex("8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b");
const KEY_256 = hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");

/** Encrypts in two calls (one block, then the rest) to check the state carries over. */
function streamTwice(
  alg: CipherAlgorithm,
  key: Uint8Array,
  iv: Uint8Array,
  enc: boolean,
  data: Uint8Array,
) {
  const t = alg.createStream!(key, iv, enc);
  const first = t.update(data.subarray(0, alg.blockSize));
  const rest = t.update(data.subarray(alg.blockSize));
  return concatBytes(first, rest);
}

function checkStreamVector(
  name: string,
  key: Uint8Array,
  iv: Uint8Array,
  plain: Uint8Array,
  expected: string,
): void {
  const alg = cipher(name);
  const ct = streamTwice(alg, key, iv, true, plain);
  assert.equal(toHex(ct), expected.replace(/\s+/g, ""));
  const back = streamTwice(alg, key, iv, false, ct);
  assert.deepEqual(back, plain);
}

// ---------------------------------------------------------------------------------------------
// AES-CTR and CBC known answers

Deno.test("aes128-ctr matches NIST SP 800-38A F.5.1 across two update calls", () => {
  checkStreamVector(
    "aes128-ctr",
    KEY_128,
    hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"),
    SP800_38A_PLAIN,
    `874d6191b620e3261bef6864990db6ce 9806f66b7970fdff8617187bb9fffdff
     5ae4df3edbd5d35e5b4f09020db03eab 1e031dda2fbe03d1792170a0f3009cee`,
  );
});

Deno.test("aes192-ctr matches NIST SP 800-38A F.5.3", () => {
  checkStreamVector(
    "aes192-ctr",
    KEY_192,
    hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"),
    SP800_38A_PLAIN,
    `1abc932417521ca24f2b0459fe7e6e0b 090339ec0aa6faefd5ccc2c6f4ce8e94
     1e36b26bd1ebc670d1bd1d665620abf7 4f78a7f6d29809585a97daec58c6b050`,
  );
});

Deno.test("aes256-ctr matches NIST SP 800-38A F.5.5", () => {
  checkStreamVector(
    "aes256-ctr",
    KEY_256,
    hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"),
    SP800_38A_PLAIN,
    `601ec313775789a5b7a7f504bbf3d228 f443e3ca4d62b59aca84e990cacaf5c5
     2b0930daa23de94ce87017ba2d84988d dfc9c58db67aada613c2dd08457941a6`,
  );
});

Deno.test("aes128-cbc matches NIST SP 800-38A F.2.1 and chains across calls", () => {
  checkStreamVector(
    "aes128-cbc",
    KEY_128,
    hex("000102030405060708090a0b0c0d0e0f"),
    SP800_38A_PLAIN,
    `7649abac8119b246cee98e9b12e9197d 5086cb9b507219ee95db113a917678b2
     73bed6b8e3c1743b7116e69e22229516 3ff1caa1681fac09120eca307586e1a7`,
  );
});

Deno.test("aes192-cbc (chained over ECB) matches NIST SP 800-38A F.2.3", () => {
  checkStreamVector(
    "aes192-cbc",
    KEY_192,
    hex("000102030405060708090a0b0c0d0e0f"),
    SP800_38A_PLAIN,
    `4f021db243bc633d7178183a9fa071e8 b4d9ada9ad7dedf4e5e738763f69145a
     571b242012fb7ae07fa9baac3df102e0 08b0e27988598881d920a9e64f5615cd`,
  );
});

Deno.test("aes256-cbc matches NIST SP 800-38A F.2.5", () => {
  checkStreamVector(
    "aes256-cbc",
    KEY_256,
    hex("000102030405060708090a0b0c0d0e0f"),
    SP800_38A_PLAIN,
    `f58c4c04d6e5f1ba779eabfb5f7bfbd6 9cfc4e967edb808d679f777bc6702c7d
     39f23369a9d9bacfa530e26304231461 b2eb05e2c39be9fcda6c19078c6a9d1b`,
  );
});

Deno.test("3des-cbc matches the SP 800-67 example block and an openssl vector", () => {
  // Key and "The qufck brown fox jump" from NIST SP 800-67 (its first ECB block is
  // a826fd8ce53b855f, which CBC with a zero IV reproduces); the rest from
  // `openssl enc -des-ede3-cbc -nopad -K ... -iv 0000000000000000`.
  checkStreamVector(
    "3des-cbc",
    hex("0123456789abcdef23456789abcdef01456789abcdef0123"),
    new Uint8Array(8),
    new TextEncoder().encode("The qufck brown fox jumps over t"),
    "a826fd8ce53b855f 854b649a0a3903c9 70d563820afe8b35 6f5e1519e499d854",
  );
});

Deno.test("stream ciphers refuse a partial block and a wrong key length", () => {
  for (const alg of CIPHER_ALGORITHMS.filter((c) => c.createStream)) {
    const t = alg.createStream!(new Uint8Array(alg.keyLength), new Uint8Array(alg.ivLength), true);
    assert.throws(() => t.update(new Uint8Array(alg.blockSize + 1)), RangeError, alg.name);
    assert.throws(
      () =>
        alg.createStream!(new Uint8Array(alg.keyLength - 1), new Uint8Array(alg.ivLength), true),
      /needs a \d+-byte key/,
    );
  }
});

// ---------------------------------------------------------------------------------------------
// AES-GCM

Deno.test("node:crypto AES-GCM matches McGrew-Viega test cases 4 and 16", () => {
  const plain = hex(
    `d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72
     1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39`,
  );
  const aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  const iv = hex("cafebabefacedbaddecaf888");
  const cases = [
    {
      name: "aes-128-gcm" as const,
      key: hex("feffe9928665731c6d6a8f9467308308"),
      ct: `42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e
           21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091`,
      tag: "5bc94fbc3221a5db94fae95ae7121a47",
    },
    {
      name: "aes-256-gcm" as const,
      key: hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"),
      ct: `522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa
           8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662`,
      tag: "76fc6ece0f4e1768cddf8853bb2d551b",
    },
  ];
  for (const c of cases) {
    const enc = createCipheriv(c.name, c.key, iv);
    enc.setAAD(aad);
    const ct = concatBytes(enc.update(plain), enc.final());
    assert.equal(toHex(ct), c.ct.replace(/\s+/g, ""));
    assert.equal(toHex(enc.getAuthTag()), c.tag);
    const dec = createDecipheriv(c.name, c.key, iv);
    dec.setAAD(aad);
    dec.setAuthTag(hex(c.tag));
    assert.deepEqual(concatBytes(dec.update(ct), dec.final()), plain);
  }
});

// Packets sealed by python3-asyncssh 2.10.1 (an independent SSH implementation).
const GCM_PACKET = hex("000000200a73736874726163652067636d2074657374203132330102030405060708090a");

Deno.test("aes128-gcm@openssh.com seals like asyncssh and increments the invocation counter", () => {
  const alg = cipher("aes128-gcm@openssh.com");
  const key = hex("404142434445464748494a4b4c4d4e4f");
  const iv = hex("000102030405060708090a0b");
  const expected = [
    "000000207b87f52bb52ef3056c066d1cb835069d4d7ce625233d257e567446bad424d86b" +
    "c70cdd6bf6b4f3967982d67bde00295c",
    "00000020aed4a5106ed8455e93ef2fb28ecd62b6a1d542523e4767c1999c8add3ddc18d9" +
    "64df982e118ecb0e4d8cc32c0238a831",
    "000000200779413f549b580d82331564b26990c1bee4fac1f578612d8ba6f037b32ccffc" +
    "1907391e73b1208d1d8946fd340a2866",
  ];
  const sealer = alg.createAead!(key, iv);
  const opener = alg.createAead!(key, iv);
  expected.forEach((wire, i) => {
    // The sequence number does not enter GCM: only the per-packet counter does.
    const sealed = sealer.seal(1000 + i * 7, GCM_PACKET);
    assert.equal(toHex(sealed), wire, `packet ${i}`);
    assert.equal(opener.packetLength(i, sealed.subarray(0, 4)), 32);
    assert.deepEqual(opener.open(i, sealed), GCM_PACKET);
  });
});

Deno.test("aes256-gcm@openssh.com wraps the 64-bit counter without touching the fixed field", () => {
  const alg = cipher("aes256-gcm@openssh.com");
  const key = hex("404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f");
  const iv = hex("0a0b0c0dfffffffffffffffe");
  const expected = [
    "00000020fbe040d0804a577c5a5b54d7914ba8063cb8d2ff8e37a753ceb9648950da0bf5" +
    "5b0df0658b03bf4d0aa2f0e61422a899",
    "000000200dbbc1c77c70a30115a24ad5ad1ba2fdd0579d32db6ec9bd6a1f8c533d9a44a4" +
    "30df5cb3216bf570234777ae3fcbd7aa",
    "00000020de4587882c6c5c67c0b50546815f0e963b413fe978c11b7dc6bd80cfcbed3b66" +
    "d25e98a9cf82fc8cd9877c55aa2d0467",
  ];
  const sealer = alg.createAead!(key, iv);
  expected.forEach((wire, i) => assert.equal(toHex(sealer.seal(i, GCM_PACKET)), wire));
  // The third IV is 0a0b0c0d ‖ 0000000000000000: check it with a direct call.
  const direct = createCipheriv("aes-256-gcm", key, hex("0a0b0c0d0000000000000000"));
  direct.setAAD(GCM_PACKET.subarray(0, 4));
  const body = concatBytes(direct.update(GCM_PACKET.subarray(4)), direct.final());
  assert.equal(
    toHex(concatBytes(GCM_PACKET.subarray(0, 4), body, direct.getAuthTag())),
    expected[2],
  );
});

// ---------------------------------------------------------------------------------------------
// chacha20-poly1305@openssh.com

const CHACHA_KEY = new Uint8Array(64).map((_, i) => i);
const CHACHA_PACKET = hex(
  "000000200a7373687472616365206368616368612074657374210102030405060708090a",
);

Deno.test("chacha20-poly1305@openssh.com seals like asyncssh for several sequence numbers", () => {
  const alg = cipher("chacha20-poly1305@openssh.com");
  const vectors: [number, string][] = [
    [
      0,
      "94450e7912cb3159d994c7b276413f09ce202646d8c59686958c5a5eeffcf9142d3d7c56" +
      "efc81c5f9e018b84b25ca13e5f109c88",
    ],
    [
      7,
      "a39afc8a2235662b3af14b3d094dd898b6ecbb4d14c655450ac23c81436e1ed9875b0a5e" +
      "42472bd19044eb99bc24befd8c9bb9ed",
    ],
    [
      0xfffffffe,
      "69a614e83d092ff4aa56ed5887dd27861f7a5f6eb565fd5e25708e53eb4233648e0872be" +
      "2dc090fd9538bbf81dee826fc1441415",
    ],
  ];
  const aead = alg.createAead!(CHACHA_KEY, new Uint8Array(0));
  for (const [seq, wire] of vectors) {
    const sealed = aead.seal(seq, CHACHA_PACKET);
    assert.equal(toHex(sealed), wire, `seq ${seq}`);
    assert.equal(aead.packetLength(seq, sealed.subarray(0, 4)), 32);
    assert.deepEqual(aead.open(seq, sealed), CHACHA_PACKET);
  }
});

Deno.test("chacha20-poly1305@openssh.com agrees with noble chacha20orig and poly1305", () => {
  const alg = cipher("chacha20-poly1305@openssh.com");
  const key = random(64);
  const aead = alg.createAead!(key, new Uint8Array(0));
  for (const seq of [0, 1, 255, 256, 0x01020304, 0xffffffff]) {
    const packet = plainPacket(random(200 + seq % 50), 8, true);
    const nonce = new Uint8Array(8);
    new DataView(nonce.buffer).setUint32(4, seq);
    const k2 = key.subarray(0, 32);
    const k1 = key.subarray(32);
    const encLength = chacha20orig(k1, nonce, packet.subarray(0, 4));
    const polyKey = chacha20orig(k2, nonce, new Uint8Array(32));
    const encBody = chacha20orig(k2, nonce, packet.subarray(4), undefined, 1);
    const body = concatBytes(encLength, encBody);
    const expected = concatBytes(body, poly1305(body, polyKey));
    assert.deepEqual(aead.seal(seq, packet), expected, `seq ${seq}`);
  }
});

Deno.test("chacha20-poly1305@openssh.com refuses a packet opened with the wrong sequence number", () => {
  const aead = cipher("chacha20-poly1305@openssh.com").createAead!(CHACHA_KEY, new Uint8Array(0));
  const sealed = aead.seal(5, CHACHA_PACKET);
  assert.throws(() => aead.open(6, sealed), CipherIntegrityError);
  assert.notEqual(aead.packetLength(6, sealed.subarray(0, 4)), 32);
});

// ---------------------------------------------------------------------------------------------
// Every registry entry

Deno.test("CIPHER_ALGORITHMS lists the recommended ciphers in order, then the legacy ones", () => {
  assert.deepEqual(CIPHER_ALGORITHMS.map((c) => c.name), [
    "chacha20-poly1305@openssh.com",
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
    "aes128-ctr",
    "aes192-ctr",
    "aes256-ctr",
    "aes128-cbc",
    "aes192-cbc",
    "aes256-cbc",
    "3des-cbc",
  ]);
  assert.deepEqual(CIPHER_ALGORITHMS.slice(6), CBC_CIPHERS);
  for (const c of CIPHER_ALGORITHMS) {
    const legacy = c.name.endsWith("-cbc");
    assert.equal(c.status, legacy ? "legacy" : "recommended", c.name);
    assert.equal(Boolean(c.risk), legacy, `${c.name} has a risk line only if legacy`);
    assert.ok(!c.risk?.includes("\n"), `${c.name} risk is one line`);
    assert.notEqual(Boolean(c.createStream), Boolean(c.createAead), `${c.name} has one factory`);
    assert.equal(c.tagLength, c.createAead ? 16 : 0, c.name);
    assert.ok(c.spec.length > 0);
  }
  assert.equal(findCipher("aes256-ctr")?.keyLength, 32);
  assert.equal(findCipher("chacha20-poly1305@openssh.com")?.blockSize, 8);
  assert.equal(findCipher("arcfour"), undefined);
});

const SEQS = [0, 1, 2, 0xfffffffe, 0xffffffff, 0, 3];

for (const alg of CIPHER_ALGORITHMS) {
  Deno.test(`${alg.name} round-trips packets of several sizes with changing sequence numbers`, () => {
    const key = random(alg.keyLength);
    const iv = random(alg.ivLength);
    const packets = SEQS.map((_, i) =>
      plainPacket(random([0, 1, 17, 1000, 32768, 5, 300][i]!), alg.blockSize, !!alg.createAead)
    );
    if (alg.createAead) {
      const sealer = alg.createAead(key, iv);
      const opener = alg.createAead(key, iv);
      packets.forEach((packet, i) => {
        const seq = SEQS[i]!;
        const wire = sealer.seal(seq, packet);
        assert.equal(wire.length, packet.length + alg.tagLength);
        assert.notDeepEqual(wire.subarray(5, packet.length), packet.subarray(5));
        assert.equal(opener.packetLength(seq, wire.subarray(0, 4)), packet.length - 4);
        assert.deepEqual(opener.open(seq, wire), packet);
      });
    } else {
      const enc = alg.createStream!(key, iv, true);
      const dec = alg.createStream!(key, iv, false);
      for (const packet of packets) {
        const wire = enc.update(packet);
        assert.equal(wire.length, packet.length);
        assert.notDeepEqual(wire, packet);
        // A receiver decrypts the first block to learn the length, then the rest.
        const first = dec.update(wire.subarray(0, alg.blockSize));
        const rest = dec.update(wire.subarray(alg.blockSize));
        assert.deepEqual(concatBytes(first, rest), packet);
      }
    }
  });
}

for (const alg of CIPHER_ALGORITHMS.filter((c) => c.createAead)) {
  Deno.test(`${alg.name} open() throws when a tag, body or length byte is flipped`, () => {
    const key = random(alg.keyLength);
    const iv = random(alg.ivLength);
    const packet = plainPacket(random(100), alg.blockSize, true);
    const wire = alg.createAead!(key, iv).seal(9, packet);
    for (const index of [wire.length - 1, wire.length - 16, 20, 4, 0]) {
      const bad = wire.slice();
      bad[index]! ^= 0x80;
      // A fresh opener each time, so GCM's counter matches the sealer's first packet.
      const opener = alg.createAead!(key, iv);
      assert.throws(() => opener.open(9, bad), CipherIntegrityError, `byte ${index}`);
    }
    assert.deepEqual(alg.createAead!(key, iv).open(9, wire), packet);
    assert.throws(() => alg.createAead!(key, iv).open(9, wire.subarray(0, 10)), RangeError);
  });
}

Deno.test("cipher factories copy key and IV, even when given a node Buffer view", () => {
  for (const alg of CIPHER_ALGORITHMS) {
    const key = randomBytes(alg.keyLength);
    const iv = randomBytes(alg.ivLength);
    const keyCopy = new Uint8Array(key);
    const ivCopy = new Uint8Array(iv);
    const packet = plainPacket(random(64), alg.blockSize, !!alg.createAead);
    if (alg.createAead) {
      const sealer = alg.createAead(key, iv);
      const wire = sealer.seal(1, packet);
      sealer.seal(2, packet);
      key.fill(0);
      iv.fill(0);
      assert.deepEqual(alg.createAead(keyCopy, ivCopy).open(1, wire), packet, alg.name);
    } else {
      const enc = alg.createStream!(key, iv, true);
      const wire = enc.update(packet);
      enc.update(packet);
      key.fill(0);
      iv.fill(0);
      assert.deepEqual(alg.createStream!(keyCopy, ivCopy, false).update(wire), packet, alg.name);
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Compression

Deno.test("COMPRESSION_ALGORITHMS offers none by default and marks zlib methods legacy", () => {
  assert.deepEqual(COMPRESSION_ALGORITHMS.map((c) => [c.name, c.status, c.delayed]), [
    ["none", "recommended", false],
    ["zlib@openssh.com", "legacy", true],
    ["zlib", "legacy", false],
  ]);
  assert.match(findCompression("zlib@openssh.com")?.risk ?? "", /CRIME/);
  assert.equal(findCompression("lz4"), undefined);
});

const PAYLOADS = [
  "SSH_MSG_CHANNEL_DATA hello hello hello hello",
  "",
  "x".repeat(70000),
  "SSH_MSG_CHANNEL_DATA hello hello hello hello again",
].map((s) => new TextEncoder().encode(s));

Deno.test("createZlibStream() round-trips packets and keeps its dictionary across them", () => {
  const a = createZlibStream();
  const b = createZlibStream();
  for (const payload of [...PAYLOADS, random(40000), PAYLOADS[0]!]) {
    assert.deepEqual(b.decompress(a.compress(payload)), payload);
  }
  // A payload sent twice in a row: the second copy is a back-reference into the first.
  const c = createZlibStream();
  const first = c.compress(PAYLOADS[3]!);
  const second = c.compress(PAYLOADS[3]!);
  assert.ok(second.length < first.length / 3, `repeat ${second.length} vs first ${first.length}`);
  assert.ok(a.compress(PAYLOADS[2]!).length < 1000, "70000 repeated bytes compress well");
});

Deno.test("createZlibStream() refuses corrupt data and an oversized result", () => {
  assert.throws(() => createZlibStream().decompress(hex("78 9c ff ff ff ff")), CompressionError);
  const big = createZlibStream().compress(new Uint8Array(300_000));
  assert.throws(() => createZlibStream().decompress(big), /exceeds 262144 bytes/);
  const small = createZlibStream({ maxDecompressed: 1000 });
  assert.throws(
    () => small.decompress(createZlibStream().compress(new Uint8Array(1001))),
    /exceeds/,
  );
});
