import assert from "node:assert/strict";
import { createHash, createPublicKey, type KeyObject, verify } from "node:crypto";
import { Buffer } from "node:buffer";
import {
  KeyFileError,
  type KeyFileErrorReason,
  loadPrivateKeyFile,
  parsePrivateKey,
} from "../../../lib/keys/private_key.ts";
import { parsePublicKey } from "../../../lib/algorithms/pubkey.ts";
import type { Signer } from "../../../lib/auth/types.ts";
import { SshReader, SshWriter } from "../../../lib/wire/buffer.ts";
import { requireTool, run, tempDir } from "../../helpers/tools.ts";

const SSH_KEYGEN = "/usr/bin/ssh-keygen";
const OPENSSL = "/usr/bin/openssl";
const PASS = "secretpass";

const dir = await tempDir("sshtrace-keys-");
globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(dir.path, { recursive: true });
  } catch {
    // already gone
  }
});

const made = new Map<string, Promise<string>>();

/** Runs ssh-keygen once per name; returns the private key path (public key at `.pub`). */
function keygen(name: string, args: string[]): Promise<string> {
  let p = made.get(name);
  if (!p) {
    p = (async () => {
      requireTool(SSH_KEYGEN);
      const path = `${dir.path}/${name}`;
      const r = await run(SSH_KEYGEN, ["-q", "-C", `comment-${name}`, "-f", path, ...args]);
      assert.equal(r.code, 0, `ssh-keygen ${args.join(" ")} failed: ${r.stderr}`);
      return path;
    })();
    made.set(name, p);
  }
  return p;
}

async function pubBlobOf(path: string): Promise<Uint8Array> {
  const line = await Deno.readTextFile(`${path}.pub`);
  return new Uint8Array(Buffer.from(line.trim().split(/\s+/)[1]!, "base64"));
}

/** A node public key built from the SSH public key blob, independently of the code under test. */
function publicKeyFromBlob(blob: Uint8Array): KeyObject {
  const r = new SshReader(blob, "test blob");
  const type = r.text();
  const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64url");
  const unsigned = (b: Uint8Array) => (b[0] === 0 ? b.subarray(1) : b);
  if (type === "ssh-ed25519") {
    return createPublicKey({
      key: { kty: "OKP", crv: "Ed25519", x: b64(r.string()) },
      format: "jwk",
    });
  }
  if (type.startsWith("ecdsa-sha2-")) {
    const curve = { nistp256: "P-256", nistp384: "P-384", nistp521: "P-521" }[r.text()]!;
    const q = r.string();
    const half = (q.length - 1) / 2;
    return createPublicKey({
      key: { kty: "EC", crv: curve, x: b64(q.subarray(1, 1 + half)), y: b64(q.subarray(1 + half)) },
      format: "jwk",
    });
  }
  if (type === "ssh-rsa") {
    const e = unsigned(r.string());
    const n = unsigned(r.string());
    return createPublicKey({ key: { kty: "RSA", n: b64(n), e: b64(e) }, format: "jwk" });
  }
  throw new Error(`test helper cannot build ${type}`);
}

/** The SPKI public key `ssh-keygen -e -m PKCS8` exports (used for DSA). */
async function publicKeyFromSshKeygen(path: string): Promise<KeyObject> {
  const r = await run(SSH_KEYGEN, ["-e", "-m", "PKCS8", "-f", `${path}.pub`]);
  assert.equal(r.code, 0, r.stderr);
  return createPublicKey(r.stdout);
}

const HASHES: Record<string, string> = {
  "ssh-ed25519": "",
  "ecdsa-sha2-nistp256": "sha256",
  "ecdsa-sha2-nistp384": "sha384",
  "ecdsa-sha2-nistp521": "sha512",
  "rsa-sha2-512": "sha512",
  "rsa-sha2-256": "sha256",
  "ssh-rsa": "sha1",
  "ssh-dss": "sha1",
};

/** Verifies an SSH signature blob over `data` with node:crypto. */
function verifySshSignature(key: KeyObject, data: Uint8Array, sigBlob: Uint8Array, alg: string) {
  const r = new SshReader(sigBlob, "signature");
  assert.equal(r.text(), alg);
  let sig = r.string();
  r.end();
  const hash = HASHES[alg]!;
  if (alg.startsWith("ecdsa-")) {
    const size = { sha256: 32, sha384: 48, sha512: 66 }[hash]!;
    const inner = new SshReader(sig, "ecdsa signature");
    const fix = (b: Uint8Array) => {
      const t = b[0] === 0 ? b.subarray(1) : b;
      const out = new Uint8Array(size);
      out.set(t, size - t.length);
      return out;
    };
    const rr = fix(inner.string());
    const ss = fix(inner.string());
    inner.end();
    sig = new Uint8Array([...rr, ...ss]);
    assert.ok(verify(hash, data, { key, dsaEncoding: "ieee-p1363" }, sig), `${alg} verifies`);
  } else if (alg === "ssh-dss") {
    assert.equal(sig.length, 40);
    assert.ok(verify(hash, data, { key, dsaEncoding: "ieee-p1363" }, sig), `${alg} verifies`);
  } else if (alg === "ssh-ed25519") {
    assert.equal(sig.length, 64);
    assert.ok(verify(null, data, key, sig), `${alg} verifies`);
  } else {
    assert.ok(verify(hash, data, key, sig), `${alg} verifies`);
  }
  // A changed message must not verify.
  const other = data.slice();
  other[0] ^= 1;
  const h = hash === "" ? null : hash;
  const opts = alg.startsWith("ecdsa-") || alg === "ssh-dss"
    ? { key, dsaEncoding: "ieee-p1363" as const }
    : key;
  assert.equal(verify(h, other, opts, sig), false);
}

/** Checks a signature with `ssh-keygen -Y check-novalidate` on an SSHSIG we assemble. */
async function checkWithSshKeygen(signer: Signer, algorithm: string): Promise<void> {
  const message = new TextEncoder().encode("message signed by sshtrace\n");
  const namespace = "sshtrace-test";
  const hash = new Uint8Array(createHash("sha512").update(message).digest());
  const toSign = new SshWriter().raw(new TextEncoder().encode("SSHSIG")).string(namespace)
    .string("").string("sha512").string(hash).bytes();
  const sig = await signer.sign(toSign, algorithm);
  const file = new SshWriter().raw(new TextEncoder().encode("SSHSIG")).uint32(1)
    .string(signer.publicBlob).string(namespace).string("").string("sha512").string(sig).bytes();
  const b64 = Buffer.from(file).toString("base64").replace(/(.{70})/g, "$1\n");
  const armored = `-----BEGIN SSH SIGNATURE-----\n${b64.trim()}\n-----END SSH SIGNATURE-----\n`;
  const sigPath = `${dir.path}/sig-${crypto.randomUUID()}`;
  await Deno.writeTextFile(sigPath, armored);
  const r = await run(SSH_KEYGEN, ["-Y", "check-novalidate", "-n", namespace, "-s", sigPath], {
    stdin: message,
  });
  assert.equal(r.code, 0, `ssh-keygen rejected the ${algorithm} signature: ${r.stderr}`);
}

/** The decoded body of an unencrypted OpenSSH key file and the offset of its check ints. */
function privateSectionOf(text: string): { blob: Uint8Array; checkAt: number } {
  const lines = text.trimEnd().split("\n");
  const blob = new Uint8Array(Buffer.from(lines.slice(1, -1).join(""), "base64"));
  const outer = new SshReader(blob.subarray(15), "outer");
  for (const _field of ["cipher", "kdf", "kdf options"]) outer.string();
  outer.uint32();
  outer.string();
  outer.uint32();
  return { blob, checkAt: 15 + outer.position };
}

const givePass = (p: string | null) => () => Promise.resolve(p);

async function expectKeyError(
  promise: Promise<unknown>,
  reason: KeyFileErrorReason,
  source: string,
  secret?: string,
): Promise<KeyFileError> {
  let caught: unknown;
  try {
    await promise;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof KeyFileError, `expected KeyFileError, got ${caught}`);
  assert.equal(caught.reason, reason, caught.message);
  assert.ok(caught.message.includes(source), `message names the file: ${caught.message}`);
  if (secret) {
    assert.ok(!caught.message.includes(secret), "message must not contain the passphrase");
    assert.ok(!JSON.stringify(caught).includes(secret));
    assert.ok(!String(caught.cause ?? "").includes(secret));
  }
  return caught;
}

interface KeyCase {
  name: string;
  args: string[];
  type: string;
  bits: number;
  pass?: string;
}

const data = crypto.getRandomValues(new Uint8Array(200));

async function checkKey(c: KeyCase): Promise<Signer> {
  const path = await keygen(c.name, c.args);
  let asked = 0;
  const signer = await loadPrivateKeyFile(path, {
    passphrase: () => {
      asked++;
      return Promise.resolve(c.pass ?? null);
    },
  });
  assert.equal(asked, c.pass ? 1 : 0, "the passphrase is asked only for encrypted keys");
  assert.equal(signer.type, c.type);
  assert.equal(signer.bits, c.bits);
  assert.equal(signer.source, path);
  assert.deepEqual(signer.publicBlob, await pubBlobOf(path));
  const info = parsePublicKey(signer.publicBlob);
  assert.deepEqual([info.type, info.bits], [c.type, c.bits]);
  const key = c.type === "ssh-dss"
    ? await publicKeyFromSshKeygen(path)
    : publicKeyFromBlob(signer.publicBlob);
  for (const alg of signer.algorithms) {
    verifySshSignature(key, data, await signer.sign(data, alg), alg);
  }
  return signer;
}

const PLAIN: KeyCase[] = [
  { name: "ed25519", args: ["-t", "ed25519", "-N", ""], type: "ssh-ed25519", bits: 256 },
  {
    name: "ecdsa256",
    args: ["-t", "ecdsa", "-b", "256", "-N", ""],
    type: "ecdsa-sha2-nistp256",
    bits: 256,
  },
  {
    name: "ecdsa384",
    args: ["-t", "ecdsa", "-b", "384", "-N", ""],
    type: "ecdsa-sha2-nistp384",
    bits: 384,
  },
  {
    name: "ecdsa521",
    args: ["-t", "ecdsa", "-b", "521", "-N", ""],
    type: "ecdsa-sha2-nistp521",
    bits: 521,
  },
  { name: "rsa", args: ["-t", "rsa", "-b", "2048", "-N", ""], type: "ssh-rsa", bits: 2048 },
  { name: "dsa", args: ["-t", "dsa", "-N", ""], type: "ssh-dss", bits: 1024 },
];

for (const c of PLAIN) {
  Deno.test(`parsePrivateKey() reads an unencrypted OpenSSH ${c.type} key and signs verifiably`, async () => {
    const signer = await checkKey(c);
    assert.equal(signer.comment, `comment-${c.name}`);
    await checkWithSshKeygen(signer, signer.algorithms[0]!);
  });
}

Deno.test("an RSA signer offers rsa-sha2-512, rsa-sha2-256 and ssh-rsa, best first", async () => {
  const signer = await checkKey(PLAIN[4]!);
  assert.deepEqual(signer.algorithms, ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]);
  await checkWithSshKeygen(signer, "rsa-sha2-256");
  const sig = new SshReader(await signer.sign(data, "rsa-sha2-256"));
  assert.equal(sig.text(), "rsa-sha2-256");
  assert.equal(sig.string().length, 256, "an RSA signature is as long as the modulus");
});

Deno.test("a signer refuses an algorithm its key cannot produce", async () => {
  const signer = await checkKey(PLAIN[0]!);
  assert.deepEqual(signer.algorithms, ["ssh-ed25519"]);
  await assert.rejects(signer.sign(data, "rsa-sha2-512"), /cannot sign with rsa-sha2-512/);
});

Deno.test("a signer does not show key material when serialised", async () => {
  const path = await keygen("ed25519", PLAIN[0]!.args);
  const signer = await loadPrivateKeyFile(path);
  const json = JSON.stringify(signer);
  const text = Deno.inspect(signer, { depth: 10, showHidden: true });
  const { blob, checkAt } = privateSectionOf(await Deno.readTextFile(path));
  const inner = new SshReader(blob.subarray(checkAt), "private section");
  inner.uint32();
  inner.uint32();
  assert.equal(inner.text(), "ssh-ed25519");
  inner.string();
  const seed = Buffer.from(inner.string().subarray(0, 32));
  assert.equal(seed.length, 32);
  for (const form of ["base64", "base64url", "hex"] as const) {
    assert.ok(!json.includes(seed.toString(form)));
    assert.ok(!text.includes(seed.toString(form)));
  }
});

const ENCRYPTED: KeyCase[] = [
  {
    name: "ed25519-default-cipher",
    args: ["-t", "ed25519", "-N", PASS],
    type: "ssh-ed25519",
    bits: 256,
    pass: PASS,
  },
  ...[
    "aes128-ctr",
    "aes192-ctr",
    "aes256-ctr",
    "aes128-cbc",
    "aes256-cbc",
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
    "chacha20-poly1305@openssh.com",
  ].map((cipher) => ({
    name: `ed25519-${cipher}`,
    args: ["-t", "ed25519", "-N", PASS, "-Z", cipher],
    type: "ssh-ed25519",
    bits: 256,
    pass: PASS,
  })),
  {
    name: "ecdsa384-enc",
    args: ["-t", "ecdsa", "-b", "384", "-N", PASS],
    type: "ecdsa-sha2-nistp384",
    bits: 384,
    pass: PASS,
  },
  {
    name: "rsa-enc-chacha",
    args: ["-t", "rsa", "-b", "2048", "-N", PASS, "-Z", "chacha20-poly1305@openssh.com"],
    type: "ssh-rsa",
    bits: 2048,
    pass: PASS,
  },
  {
    name: "dsa-enc",
    args: ["-t", "dsa", "-N", PASS],
    type: "ssh-dss",
    bits: 1024,
    pass: PASS,
  },
];

for (const c of ENCRYPTED) {
  const cipher = c.args.includes("-Z") ? c.args[c.args.indexOf("-Z") + 1] : "aes256-ctr (default)";
  Deno.test(`parsePrivateKey() decrypts an OpenSSH ${c.type} key encrypted with ${cipher}`, async () => {
    await checkKey(c);
  });
}

for (
  const cipher of [
    "aes256-ctr",
    "aes256-cbc",
    "aes256-gcm@openssh.com",
    "chacha20-poly1305@openssh.com",
  ]
) {
  Deno.test(`a wrong passphrase for a key encrypted with ${cipher} gives "wrong-passphrase" without echoing it`, async () => {
    const path = await keygen(`ed25519-wrong-${cipher}`, [
      "-t",
      "ed25519",
      "-N",
      PASS,
      "-Z",
      cipher,
    ]);
    const wrong = "Wrong-Horse-Battery";
    const e = await expectKeyError(
      loadPrivateKeyFile(path, { passphrase: givePass(wrong) }),
      "wrong-passphrase",
      path,
      wrong,
    );
    assert.ok(!e.message.includes(PASS));
    await expectKeyError(
      loadPrivateKeyFile(path, { passphrase: givePass("") }),
      "wrong-passphrase",
      path,
    );
  });
}

Deno.test('an encrypted key with no passphrase available gives "needs-passphrase"', async () => {
  const path = await keygen("ed25519-default-cipher", ENCRYPTED[0]!.args);
  await expectKeyError(loadPrivateKeyFile(path), "needs-passphrase", path);
  await expectKeyError(
    loadPrivateKeyFile(path, { passphrase: givePass(null) }),
    "needs-passphrase",
    path,
  );
  const pem = await keygen("rsa-pem-enc", ["-t", "rsa", "-b", "2048", "-m", "PEM", "-N", PASS]);
  await expectKeyError(loadPrivateKeyFile(pem), "needs-passphrase", pem);
  const p8 = await keygen("rsa-pkcs8-enc", ["-t", "rsa", "-b", "2048", "-m", "PKCS8", "-N", PASS]);
  await expectKeyError(loadPrivateKeyFile(p8), "needs-passphrase", p8);
});

Deno.test('a key cipher we do not implement (3des-cbc) gives "unsupported" naming it', async () => {
  const path = await keygen("ed25519-3des", ["-t", "ed25519", "-N", PASS, "-Z", "3des-cbc"]);
  const e = await expectKeyError(
    loadPrivateKeyFile(path, { passphrase: givePass(PASS) }),
    "unsupported",
    path,
    PASS,
  );
  assert.match(e.message, /unsupported key cipher 3des-cbc/);
});

const PEM_CASES: (KeyCase & { label: string })[] = [
  {
    name: "rsa-pem",
    args: ["-t", "rsa", "-b", "2048", "-m", "PEM", "-N", ""],
    type: "ssh-rsa",
    bits: 2048,
    label: "RSA PRIVATE KEY",
  },
  {
    name: "rsa-pem-enc",
    args: ["-t", "rsa", "-b", "2048", "-m", "PEM", "-N", PASS],
    type: "ssh-rsa",
    bits: 2048,
    pass: PASS,
    label: "RSA PRIVATE KEY",
  },
  {
    name: "ecdsa256-pem",
    args: ["-t", "ecdsa", "-b", "256", "-m", "PEM", "-N", ""],
    type: "ecdsa-sha2-nistp256",
    bits: 256,
    label: "EC PRIVATE KEY",
  },
  {
    name: "ecdsa521-pem",
    args: ["-t", "ecdsa", "-b", "521", "-m", "PEM", "-N", ""],
    type: "ecdsa-sha2-nistp521",
    bits: 521,
    label: "EC PRIVATE KEY",
  },
  {
    name: "dsa-pem",
    args: ["-t", "dsa", "-m", "PEM", "-N", ""],
    type: "ssh-dss",
    bits: 1024,
    label: "DSA PRIVATE KEY",
  },
  {
    name: "rsa-pkcs8",
    args: ["-t", "rsa", "-b", "2048", "-m", "PKCS8", "-N", ""],
    type: "ssh-rsa",
    bits: 2048,
    label: "PRIVATE KEY",
  },
  {
    name: "ecdsa384-pkcs8",
    args: ["-t", "ecdsa", "-b", "384", "-m", "PKCS8", "-N", ""],
    type: "ecdsa-sha2-nistp384",
    bits: 384,
    label: "PRIVATE KEY",
  },
  {
    name: "rsa-pkcs8-enc",
    args: ["-t", "rsa", "-b", "2048", "-m", "PKCS8", "-N", PASS],
    type: "ssh-rsa",
    bits: 2048,
    pass: PASS,
    label: "ENCRYPTED PRIVATE KEY",
  },
  {
    name: "ecdsa256-pkcs8-enc",
    args: ["-t", "ecdsa", "-b", "256", "-m", "PKCS8", "-N", PASS],
    type: "ecdsa-sha2-nistp256",
    bits: 256,
    pass: PASS,
    label: "ENCRYPTED PRIVATE KEY",
  },
];

for (const c of PEM_CASES) {
  Deno.test(`parsePrivateKey() reads a ${c.pass ? "passphrase-protected " : ""}PEM "${c.label}" ${c.type} key (${c.name})`, async () => {
    const path = await keygen(c.name, c.args);
    assert.ok((await Deno.readTextFile(path)).startsWith(`-----BEGIN ${c.label}-----`));
    const signer = await checkKey(c);
    assert.equal(signer.comment, "");
  });
}

for (const name of ["rsa-pem-enc", "rsa-pkcs8-enc"]) {
  Deno.test(`a wrong passphrase for the PEM key ${name} gives "wrong-passphrase" without echoing it`, async () => {
    const c = PEM_CASES.find((p) => p.name === name)!;
    const path = await keygen(c.name, c.args);
    const wrong = "Wrong-Horse-Battery";
    await expectKeyError(
      loadPrivateKeyFile(path, { passphrase: givePass(wrong) }),
      "wrong-passphrase",
      path,
      wrong,
    );
  });
}

Deno.test("parsePrivateKey() reads a PKCS#8 Ed25519 key made by openssl", async () => {
  requireTool(OPENSSL);
  const path = `${dir.path}/openssl-ed25519.pem`;
  const gen = await run(OPENSSL, ["genpkey", "-algorithm", "ed25519", "-out", path]);
  assert.equal(gen.code, 0, gen.stderr);
  const der = await new Deno.Command(OPENSSL, {
    args: ["pkey", "-in", path, "-pubout", "-outform", "DER"],
  }).output();
  assert.equal(der.code, 0);
  const raw = der.stdout.subarray(der.stdout.length - 32);
  const signer = await loadPrivateKeyFile(path);
  assert.equal(signer.type, "ssh-ed25519");
  assert.deepEqual(signer.publicBlob, new SshWriter().string("ssh-ed25519").string(raw).bytes());
  verifySshSignature(
    publicKeyFromBlob(signer.publicBlob),
    data,
    await signer.sign(data, "ssh-ed25519"),
    "ssh-ed25519",
  );
});

Deno.test('a truncated OpenSSH key file gives "malformed"', async () => {
  const path = await keygen("ed25519", PLAIN[0]!.args);
  const text = await Deno.readTextFile(path);
  // Cut in the middle: no END line.
  await expectKeyError(
    parsePrivateKey(text.slice(0, text.length / 2), { source: path }),
    "malformed",
    path,
  );
  // Lines dropped from the body but the END line kept: the decoded blob is short.
  const lines = text.trimEnd().split("\n");
  const short = [lines[0], lines[1], lines.at(-1)].join("\n") + "\n";
  const e = await expectKeyError(parsePrivateKey(short, { source: path }), "malformed", path);
  assert.match(e.message, /truncated|corrupt/);
});

Deno.test('a truncated encrypted key gives "malformed", not a passphrase error', async () => {
  const path = await keygen("ed25519-default-cipher", ENCRYPTED[0]!.args);
  const lines = (await Deno.readTextFile(path)).trimEnd().split("\n");
  const short = [...lines.slice(0, 3), lines.at(-1)].join("\n") + "\n";
  await expectKeyError(
    parsePrivateKey(short, { source: path, passphrase: givePass(PASS) }),
    "malformed",
    path,
    PASS,
  );
});

Deno.test('garbage, a public key and a corrupted private section give "malformed"', async () => {
  await expectKeyError(
    parsePrivateKey("hello, this is not a key\n", { source: "/tmp/garbage" }),
    "malformed",
    "/tmp/garbage",
  );
  await expectKeyError(
    parsePrivateKey(
      "-----BEGIN OPENSSH PRIVATE KEY-----\n!!!!\n-----END OPENSSH PRIVATE KEY-----\n",
      {
        source: "/tmp/bad64",
      },
    ),
    "malformed",
    "/tmp/bad64",
  );
  await expectKeyError(
    parsePrivateKey(
      "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAAAAAAAAAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
      { source: "/tmp/nomagic" },
    ),
    "malformed",
    "/tmp/nomagic",
  );
  await expectKeyError(
    parsePrivateKey("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n", {
      source: "/tmp/badrsa",
    }),
    "malformed",
    "/tmp/badrsa",
  );
  const path = await keygen("ed25519", PLAIN[0]!.args);
  const pub = await Deno.readTextFile(`${path}.pub`);
  const e = await expectKeyError(
    parsePrivateKey(pub, { source: `${path}.pub` }),
    "malformed",
    path,
  );
  assert.match(e.message, /public key/);
  // Flip one byte of the first check int of an unencrypted key.
  const text = await Deno.readTextFile(path);
  const lines = text.trimEnd().split("\n");
  const { blob, checkAt } = privateSectionOf(text);
  blob[checkAt] = blob[checkAt]! ^ 0xff;
  const corrupted = [lines[0], Buffer.from(blob).toString("base64"), lines.at(-1)].join("\n");
  const c = await expectKeyError(parsePrivateKey(corrupted, { source: path }), "malformed", path);
  assert.match(c.message, /check values/);
});

Deno.test("parsePrivateKey() rejects a file whose public key is not the private key's", async () => {
  const path = await keygen("ed25519", PLAIN[0]!.args);
  const other = await keygen("ed25519-other", PLAIN[0]!.args);
  const text = await Deno.readTextFile(path);
  const lines = text.trimEnd().split("\n");
  const { blob, checkAt } = privateSectionOf(text);
  const otherBlob = await pubBlobOf(other);
  // The outer public key string ends 4 bytes (the section length) before the check ints.
  blob.set(otherBlob, checkAt - 4 - otherBlob.length);
  const swapped = [lines[0], Buffer.from(blob).toString("base64"), lines.at(-1)].join("\n");
  const e = await expectKeyError(parsePrivateKey(swapped, { source: path }), "malformed", path);
  assert.match(e.message, /public key does not match/);
  // The unmodified file still parses (the edit above is what broke it).
  await parsePrivateKey(text, { source: path });
});
