import assert from "node:assert/strict";
import { createHash, createPrivateKey, sign as nodeSign } from "node:crypto";
import { findHostKeyAlgorithm, HOST_KEY_ALGORITHMS } from "../../../lib/algorithms/hostkey.ts";
import {
  decodeBase64,
  fingerprintMd5,
  fingerprintSha256,
  parsePublicKey,
  parsePublicKeyLine,
  publicKeyToLine,
} from "../../../lib/algorithms/pubkey.ts";
import { concatBytes, SshReader, SshWriter, WireError } from "../../../lib/wire/buffer.ts";
import { requireTool, run, tempDir } from "../../helpers/tools.ts";

const SSH_KEYGEN = requireTool("/usr/bin/ssh-keygen");

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

async function keygen(dir: string, name: string, args: string[]): Promise<string> {
  const path = `${dir}/${name}`;
  const r = await run(SSH_KEYGEN, ["-q", "-N", "", "-C", "test@sshtrace", "-f", path, ...args]);
  assert.equal(r.code, 0, `ssh-keygen ${args.join(" ")} failed: ${r.stderr}`);
  return path;
}

async function pubBlob(keyPath: string): Promise<Uint8Array> {
  return parsePublicKeyLine(await Deno.readTextFile(`${keyPath}.pub`)).blob;
}

interface SshSig {
  publicKey: Uint8Array;
  namespace: string;
  reserved: Uint8Array;
  hashAlgorithm: string;
  signature: Uint8Array;
}

/** Parses an armored SSHSIG (PROTOCOL.sshsig). */
function parseSshSig(armored: string): SshSig {
  const body = armored
    .replace("-----BEGIN SSH SIGNATURE-----", "")
    .replace("-----END SSH SIGNATURE-----", "")
    .replace(/\s+/g, "");
  const r = new SshReader(decodeBase64(body), "SSHSIG");
  assert.equal(new TextDecoder().decode(r.raw(6)), "SSHSIG");
  assert.equal(r.uint32(), 1);
  const sig: SshSig = {
    publicKey: r.string(),
    namespace: r.text(),
    reserved: r.string(),
    hashAlgorithm: r.text(),
    signature: r.string(),
  };
  r.end();
  return sig;
}

/** The bytes an SSHSIG signature covers: MAGIC ‖ namespace ‖ reserved ‖ hash_alg ‖ H(msg). */
function sshSigSignedData(sig: SshSig, message: Uint8Array): Uint8Array {
  const digest = createHash(sig.hashAlgorithm).update(message).digest();
  return concatBytes(
    new TextEncoder().encode("SSHSIG"),
    new SshWriter()
      .string(sig.namespace)
      .string(sig.reserved)
      .string(sig.hashAlgorithm)
      .string(new Uint8Array(digest))
      .bytes(),
  );
}

/** Signs `message` with `ssh-keygen -Y sign` and returns the SSHSIG fields. */
async function sshKeygenSign(dir: string, keyPath: string, message: Uint8Array): Promise<SshSig> {
  const dataPath = `${dir}/message`;
  await Deno.writeFile(dataPath, message);
  const r = await run(SSH_KEYGEN, ["-Y", "sign", "-n", "file", "-f", keyPath, dataPath]);
  assert.equal(r.code, 0, `ssh-keygen -Y sign failed: ${r.stderr}`);
  const sig = parseSshSig(await Deno.readTextFile(`${dataPath}.sig`));
  await Deno.remove(`${dataPath}.sig`);
  return sig;
}

/** Rewrites an OpenSSH private key in PEM format and loads it into node:crypto. */
async function pemPrivateKey(keyPath: string) {
  const r = await run(SSH_KEYGEN, ["-p", "-q", "-P", "", "-N", "", "-m", "PEM", "-f", keyPath]);
  assert.equal(r.code, 0, `ssh-keygen -p -m PEM failed: ${r.stderr}`);
  return createPrivateKey(await Deno.readTextFile(keyPath));
}

interface SignedSample {
  keyBlob: Uint8Array;
  signatureBlob: Uint8Array;
  data: Uint8Array;
}

type Recipe = { keygen: string[]; signer: "ssh-keygen" } | {
  keygen: string[];
  signer: "node";
  hash: string;
};

/** How to make a real signature for each registry entry. */
const RECIPES: Record<string, Recipe> = {
  "ssh-ed25519": { keygen: ["-t", "ed25519"], signer: "ssh-keygen" },
  "ecdsa-sha2-nistp256": { keygen: ["-t", "ecdsa", "-b", "256"], signer: "ssh-keygen" },
  "ecdsa-sha2-nistp384": { keygen: ["-t", "ecdsa", "-b", "384"], signer: "ssh-keygen" },
  "ecdsa-sha2-nistp521": { keygen: ["-t", "ecdsa", "-b", "521"], signer: "ssh-keygen" },
  "rsa-sha2-512": { keygen: ["-t", "rsa", "-b", "2048"], signer: "ssh-keygen" },
  "rsa-sha2-256": { keygen: ["-t", "rsa", "-b", "2048"], signer: "node", hash: "sha256" },
  "ssh-rsa": { keygen: ["-t", "rsa", "-b", "2048"], signer: "node", hash: "sha1" },
  "ssh-dss": { keygen: ["-t", "dsa"], signer: "ssh-keygen" },
};

async function makeSample(dir: string, name: string): Promise<SignedSample> {
  const recipe = RECIPES[name];
  assert.ok(recipe, `no signing recipe for ${name}`);
  const keyPath = await keygen(dir, "key", recipe.keygen);
  const keyBlob = await pubBlob(keyPath);
  const message = new TextEncoder().encode(`exchange hash stand-in for ${name}`);
  if (recipe.signer === "ssh-keygen") {
    const sig = await sshKeygenSign(dir, keyPath, message);
    assert.deepEqual(sig.publicKey, keyBlob, "SSHSIG carries the key from the .pub file");
    assert.equal(new SshReader(sig.signature).text(), name, "ssh-keygen signed with this name");
    return { keyBlob, signatureBlob: sig.signature, data: sshSigSignedData(sig, message) };
  }
  const privateKey = await pemPrivateKey(keyPath);
  const signature = new Uint8Array(nodeSign(recipe.hash, message, privateKey));
  return { keyBlob, signatureBlob: signatureBlob(name, signature), data: message };
}

// ---------------------------------------------------------------------------------------------
// Registry

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

Deno.test("every registry entry has a signing recipe in these tests", () => {
  assert.deepEqual(
    HOST_KEY_ALGORITHMS.map((a) => a.name).sort(),
    Object.keys(RECIPES).sort(),
  );
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

// ---------------------------------------------------------------------------------------------
// Real signatures from OpenSSH (ssh-keygen -Y sign) and node:crypto, one per registry entry

for (const alg of HOST_KEY_ALGORITHMS) {
  Deno.test(`${alg.name} verify() accepts a real signature and rejects a one-byte change of the data`, async () => {
    await using dir = await tempDir();
    const { keyBlob, signatureBlob: sig, data } = await makeSample(dir.path, alg.name);
    assert.equal(await alg.verify(keyBlob, sig, data), true);
    assert.equal(await alg.verify(keyBlob, sig, flipOneByte(data, data.length - 1)), false);
    assert.equal(await alg.verify(keyBlob, sig, flipOneByte(data, 0)), false);
    // Every other entry refuses the blob: wrong signature name or wrong key type.
    for (const other of HOST_KEY_ALGORITHMS) {
      if (other !== alg) assert.equal(await other.verify(keyBlob, sig, data), false, other.name);
    }
  });
}

Deno.test("rsa-sha2-256 verify() refuses an rsa-sha2-512 signature by its name", async () => {
  await using dir = await tempDir();
  const sample = await makeSample(dir.path, "rsa-sha2-512");
  const r = new SshReader(sample.signatureBlob);
  assert.equal(r.text(), "rsa-sha2-512");
  const inner = r.string();
  const alg256 = findHostKeyAlgorithm("rsa-sha2-256")!;
  const alg512 = findHostKeyAlgorithm("rsa-sha2-512")!;
  assert.equal(await alg256.verify(sample.keyBlob, sample.signatureBlob, sample.data), false);
  // Relabelled, the SHA-512 signature still does not verify as SHA-256.
  const relabelled = signatureBlob("rsa-sha2-256", inner);
  assert.equal(await alg256.verify(sample.keyBlob, relabelled, sample.data), false);
  assert.equal(await alg512.verify(sample.keyBlob, relabelled, sample.data), false);
});

Deno.test("rsa-sha2-256 verify() left-pads a signature shorter than the modulus", async () => {
  await using dir = await tempDir();
  const keyPath = await keygen(dir.path, "key", ["-t", "rsa", "-b", "2048"]);
  const keyBlob = await pubBlob(keyPath);
  const privateKey = await pemPrivateKey(keyPath);
  const alg = findHostKeyAlgorithm("rsa-sha2-256")!;
  let found = false;
  for (let i = 0; i < 5000 && !found; i++) {
    const data = new TextEncoder().encode(`message ${i}`);
    const full = new Uint8Array(nodeSign("sha256", data, privateKey));
    if (full[0] !== 0) continue;
    found = true;
    assert.equal(full.length, 256);
    const short = full.subarray(1);
    assert.equal(await alg.verify(keyBlob, signatureBlob("rsa-sha2-256", short), data), true);
    assert.equal(
      await alg.verify(keyBlob, signatureBlob("rsa-sha2-256", flipOneByte(short, 5)), data),
      false,
    );
  }
  assert.ok(found, "no signature with a leading zero byte in 5000 tries");
});

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

const KEY_TYPES: { args: string[]; type: string; bits: number }[] = [
  { args: ["-t", "ed25519"], type: "ssh-ed25519", bits: 256 },
  { args: ["-t", "ecdsa", "-b", "256"], type: "ecdsa-sha2-nistp256", bits: 256 },
  { args: ["-t", "ecdsa", "-b", "384"], type: "ecdsa-sha2-nistp384", bits: 384 },
  { args: ["-t", "ecdsa", "-b", "521"], type: "ecdsa-sha2-nistp521", bits: 521 },
  { args: ["-t", "rsa", "-b", "2048"], type: "ssh-rsa", bits: 2048 },
  { args: ["-t", "rsa", "-b", "3072"], type: "ssh-rsa", bits: 3072 },
  { args: ["-t", "dsa"], type: "ssh-dss", bits: 1024 },
];

Deno.test("parsePublicKey() and fingerprints agree with ssh-keygen -l for every key type", async () => {
  await using dir = await tempDir();
  for (const [i, k] of KEY_TYPES.entries()) {
    const keyPath = await keygen(dir.path, `key${i}`, k.args);
    const pubText = await Deno.readTextFile(`${keyPath}.pub`);
    const line = parsePublicKeyLine(pubText);
    assert.equal(line.type, k.type);
    assert.equal(line.comment, "test@sshtrace");
    const info = parsePublicKey(line.blob);
    assert.equal(info.type, k.type);
    assert.equal(info.bits, k.bits);
    const sha = await run(SSH_KEYGEN, ["-l", "-f", `${keyPath}.pub`]);
    const md5 = await run(SSH_KEYGEN, ["-l", "-E", "md5", "-f", `${keyPath}.pub`]);
    const [shaBits, shaPrint] = sha.stdout.trim().split(" ");
    const [, md5Print] = md5.stdout.trim().split(" ");
    assert.equal(Number(shaBits), info.bits, `${k.type} bits`);
    assert.equal(fingerprintSha256(line.blob), shaPrint);
    assert.equal(fingerprintMd5(line.blob), md5Print);
    assert.equal(publicKeyToLine(line.blob, line.comment), pubText.trim());
  }
});

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
