import assert from "node:assert/strict";
import { findHostKeyAlgorithm, HOST_KEY_ALGORITHMS } from "../../../lib/algorithms/hostkey.ts";
import {
  fingerprintMd5,
  fingerprintSha256,
  parsePublicKey,
  parsePublicKeyLine,
  publicKeyToLine,
} from "../../../lib/algorithms/pubkey.ts";
import { concatBytes, SshReader, SshWriter, WireError } from "../../../lib/wire/buffer.ts";

function hex(text: string): Uint8Array {
  return new Uint8Array((text.match(/../g) ?? []).map((b) => parseInt(b, 16)));
}

function signatureBlob(name: string, signature: Uint8Array): Uint8Array {
  return new SshWriter().string(name).string(signature).bytes();
}

function flipOneByte(data: Uint8Array, index = 0): Uint8Array {
  const copy = data.slice();
  copy[index] = copy[index]! ^ 0x01;
  return copy;
}

Deno.test("HOST_KEY_ALGORITHMS lists recommended algorithms first, then legacy ones", () => {
  assert.deepEqual(HOST_KEY_ALGORITHMS.map((a) => a.name), [
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "rsa-sha2-512",
    "rsa-sha2-256",
    "ssh-rsa",
    "ssh-dss",
  ]);
  assert.deepEqual(HOST_KEY_ALGORITHMS.map((a) => a.status), [
    ...Array(6).fill("recommended"),
    "legacy",
    "legacy",
  ]);
  for (const a of HOST_KEY_ALGORITHMS) {
    assert.equal(typeof a.risk === "string" && a.risk.length > 0, a.status === "legacy", a.name);
    assert.match(a.spec, /^RFC \d+$/);
  }
  assert.deepEqual(HOST_KEY_ALGORITHMS.map((a) => a.keyType), [
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
    "ssh-rsa",
    "ssh-rsa",
    "ssh-dss",
  ]);
});

Deno.test("findHostKeyAlgorithm() finds entries by name and returns undefined otherwise", () => {
  assert.equal(findHostKeyAlgorithm("rsa-sha2-256")?.keyType, "ssh-rsa");
  assert.equal(findHostKeyAlgorithm("ssh-dss")?.status, "legacy");
  assert.equal(findHostKeyAlgorithm("ssh-ed448"), undefined);
});

// ---------------------------------------------------------------------------------------------
// Ed25519 known answers (RFC 8032 §7.1, TEST 1..3)

const RFC8032 = [
  {
    name: "TEST 1",
    publicKey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    message: "",
    signature: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155" +
      "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
  },
  {
    name: "TEST 2",
    publicKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
    message: "72",
    signature: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da" +
      "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
  },
  {
    name: "TEST 3",
    publicKey: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
    message: "af82",
    signature: "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac" +
      "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
  },
];

for (const v of RFC8032) {
  Deno.test(`ssh-ed25519 verify() accepts RFC 8032 ${v.name} and rejects a changed signature`, async () => {
    const alg = findHostKeyAlgorithm("ssh-ed25519")!;
    const keyBlob = new SshWriter().string("ssh-ed25519").string(hex(v.publicKey)).bytes();
    const sig = hex(v.signature);
    const data = hex(v.message);
    assert.equal(await alg.verify(keyBlob, signatureBlob("ssh-ed25519", sig), data), true);
    assert.equal(
      await alg.verify(keyBlob, signatureBlob("ssh-ed25519", flipOneByte(sig, 10)), data),
      false,
    );
    assert.equal(
      await alg.verify(keyBlob, signatureBlob("ssh-ed25519", sig), concatBytes(data, hex("00"))),
      false,
    );
  });
}

Deno.test("ecdsa-sha2-nistp256 verify() pads a short r to the fixed width", async () => {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const point = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const keyBlob = new SshWriter().string("ecdsa-sha2-nistp256").string("nistp256").string(point)
    .bytes();
  const alg = findHostKeyAlgorithm("ecdsa-sha2-nistp256")!;
  let found = false;
  for (let i = 0; i < 5000 && !found; i++) {
    const data = new TextEncoder().encode(`message ${i}`);
    const p1363 = new Uint8Array(
      await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, data),
    );
    if (p1363[0] !== 0 || p1363[1]! >= 0x80) continue;
    found = true;
    const inner = new SshWriter()
      .mpintBytes(p1363.subarray(0, 32))
      .mpintBytes(p1363.subarray(32))
      .bytes();
    assert.ok(new SshReader(inner).string().length < 32, "r is encoded shorter than 32 bytes");
    const sig = signatureBlob("ecdsa-sha2-nistp256", inner);
    assert.equal(await alg.verify(keyBlob, sig, data), true);
    assert.equal(await alg.verify(keyBlob, sig, flipOneByte(data)), false);
  }
  assert.ok(found, "no signature with a leading zero byte in 5000 tries");
});

Deno.test("verify() throws WireError for malformed signature blobs", async () => {
  const v = RFC8032[0]!;
  const alg = findHostKeyAlgorithm("ssh-ed25519")!;
  const keyBlob = new SshWriter().string("ssh-ed25519").string(hex(v.publicKey)).bytes();
  const good = signatureBlob("ssh-ed25519", hex(v.signature));
  await assert.rejects(alg.verify(keyBlob, good.subarray(0, good.length - 1), hex("")), WireError);
  await assert.rejects(alg.verify(keyBlob, concatBytes(good, hex("00")), hex("")), WireError);
  await assert.rejects(
    alg.verify(keyBlob, signatureBlob("ssh-ed25519", hex("0102")), hex("")),
    WireError,
  );
  const shortKey = new SshWriter().string("ssh-ed25519").string(hex("0102")).bytes();
  await assert.rejects(alg.verify(shortKey, good, hex("")), WireError);
  const dss = findHostKeyAlgorithm("ssh-dss")!;
  const dssKey = new SshWriter().string("ssh-dss").mpint(23n).mpint(11n).mpint(4n).mpint(8n)
    .bytes();
  await assert.rejects(
    dss.verify(dssKey, signatureBlob("ssh-dss", new Uint8Array(39)), hex("")),
    WireError,
  );
});

Deno.test("verify() returns false when the key type does not fit the algorithm", async () => {
  const v = RFC8032[0]!;
  const keyBlob = new SshWriter().string("ssh-ed25519").string(hex(v.publicKey)).bytes();
  const rsa = findHostKeyAlgorithm("rsa-sha2-512")!;
  const sig = signatureBlob("rsa-sha2-512", new Uint8Array(256));
  assert.equal(await rsa.verify(keyBlob, sig, hex("")), false);
});

// ---------------------------------------------------------------------------------------------
// Public keys and fingerprints

Deno.test("parsePublicKey() gives unknown types with 0 bits", () => {
  const blob = new SshWriter().string("sk-ssh-ed25519@openssh.com").string("x").bytes();
  assert.deepEqual(parsePublicKey(blob), { type: "sk-ssh-ed25519@openssh.com", bits: 0, blob });
  const ec = new SshWriter().string("ecdsa-sha2-nistp192").bytes();
  assert.equal(parsePublicKey(ec).bits, 0);
});

Deno.test("parsePublicKey() gives a certificate its type and the size of the key it certifies", () => {
  const rest = new SshWriter().uint32(0).uint32(1).string("id").bytes(); // fields after the key
  const rsa = new SshWriter().string("ssh-rsa-cert-v01@openssh.com").string("nonce")
    .mpint(65537n).mpint((1n << 3071n) + 1n).raw(rest).bytes();
  assert.deepEqual(parsePublicKey(rsa), {
    type: "ssh-rsa-cert-v01@openssh.com",
    bits: 3072,
    blob: rsa,
  });
  const ed = new SshWriter().string("ssh-ed25519-cert-v01@openssh.com").string("nonce")
    .string(new Uint8Array(32)).raw(rest).bytes();
  assert.equal(parsePublicKey(ed).bits, 256);
  const cut = new SshWriter().string("ssh-ed25519-cert-v01@openssh.com").string("x").bytes();
  assert.throws(() => parsePublicKey(cut), WireError);
});

Deno.test("parsePublicKey() throws WireError for malformed blobs", () => {
  const point = new Uint8Array(65);
  point[0] = 4;
  const ec = new SshWriter().string("ecdsa-sha2-nistp256").string("nistp256").string(point).bytes();
  assert.equal(parsePublicKey(ec).bits, 256);
  const bad = [
    new Uint8Array([0, 0, 0]),
    ec.subarray(0, ec.length - 1),
    concatBytes(ec, hex("00")),
    new SshWriter().string("ecdsa-sha2-nistp256").string("nistp384").string(point).bytes(),
    new SshWriter().string("ecdsa-sha2-nistp384").string("nistp384").string(point).bytes(),
    new SshWriter().string("ssh-ed25519").string(new Uint8Array(31)).bytes(),
    new SshWriter().string("ssh-rsa").mpint(65537n).bytes(),
    new SshWriter().string("ssh-rsa").mpint(65537n).string(hex("80")).bytes(),
    new SshWriter().string("ssh-dss").mpint(1n).mpint(1n).mpint(1n).bytes(),
  ];
  for (const blob of bad) assert.throws(() => parsePublicKey(blob), WireError);
});

Deno.test("parsePublicKey() counts RSA modulus bits without the mpint sign byte", () => {
  const n = (1n << 2047n) + 12345n;
  const blob = new SshWriter().string("ssh-rsa").mpint(65537n).mpint(n).bytes();
  assert.equal(parsePublicKey(blob).bits, 2048);
  const odd = new SshWriter().string("ssh-rsa").mpint(3n).mpint((1n << 1023n) - 1n).bytes();
  assert.equal(parsePublicKey(odd).bits, 1023);
});

Deno.test("fingerprintSha256() and fingerprintMd5() give ssh-keygen's values for the RFC 8032 TEST 1 key", () => {
  // ssh-keygen -l [-E md5] -f on a .pub line holding this key.
  const keyBlob = new SshWriter().string("ssh-ed25519").string(hex(RFC8032[0]!.publicKey)).bytes();
  assert.equal(fingerprintSha256(keyBlob), "SHA256:bbXpuKG6zhzdmnxq256TlqzFBzRl2f6OOg722cYNbU8");
  assert.equal(fingerprintMd5(keyBlob), "MD5:cf:07:be:9d:68:ae:65:54:6d:a0:93:c3:6f:bd:0d:82");
});

Deno.test("parsePublicKeyLine() rejects bad base64, missing fields and mismatched types", () => {
  const blob = new SshWriter().string("ssh-ed25519").string(hex(RFC8032[0]!.publicKey)).bytes();
  const line = publicKeyToLine(blob, "me@host");
  assert.match(line, /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/=]+ me@host$/);
  assert.deepEqual(parsePublicKeyLine(`  ${line}\n`), {
    type: "ssh-ed25519",
    blob,
    comment: "me@host",
  });
  assert.equal(parsePublicKeyLine(publicKeyToLine(blob)).comment, "");
  assert.throws(() => parsePublicKeyLine("ssh-ed25519"), WireError);
  assert.throws(() => parsePublicKeyLine("ssh-ed25519 AAAA$$$$"), WireError);
  assert.throws(() => parsePublicKeyLine(line.replace("ssh-ed25519 ", "ssh-rsa ")), WireError);
});
