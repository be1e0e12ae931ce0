// Host-key algorithms checked against OpenSSH: signatures made by ssh-keygen (and node:crypto on
// keys ssh-keygen made) verify, and parsed keys and fingerprints agree with ssh-keygen -l. The
// known-answer and malformed-input tests need nothing but Deno: test/unit/algorithms/hostkey_test.ts.
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
import { concatBytes, SshReader, SshWriter } from "../../../lib/wire/buffer.ts";
import { requireTool, run, tempDir } from "../../helpers/tools.ts";

const SSH_KEYGEN = "/usr/bin/ssh-keygen";

function signatureBlob(name: string, signature: Uint8Array): Uint8Array {
  return new SshWriter().string(name).string(signature).bytes();
}

function flipOneByte(data: Uint8Array, index = 0): Uint8Array {
  const copy = data.slice();
  copy[index] = copy[index]! ^ 0x01;
  return copy;
}

async function keygen(dir: string, name: string, args: string[]): Promise<string> {
  requireTool(SSH_KEYGEN);
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

Deno.test("every registry entry has a signing recipe in these tests", () => {
  assert.deepEqual(
    HOST_KEY_ALGORITHMS.map((a) => a.name).sort(),
    Object.keys(RECIPES).sort(),
  );
});

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
