/**
 * The post-quantum KEMs (lib/algorithms/pq.ts, lib/algorithms/_oqs.ts): liboqs in WebAssembly
 * against known answers (liboqs's NIST-DRBG vectors for ML-KEM-768 and sntrup761, and the C2SP
 * accumulated FIPS 203 vectors), against `@noble/post-quantum` on random keys, and the fallback
 * to JavaScript when WebAssembly is unavailable.
 */

import assert from "node:assert/strict";
import { createCipheriv, createHash } from "node:crypto";
import { ml_kem768 } from "@noble/post-quantum/ml-kem.js";
import { instantiateOqsKem, type Kem, type OqsWasm } from "../../../lib/algorithms/_oqs.ts";
import { WASM as MLKEM768_WASM } from "../../../lib/algorithms/_wasm/mlkem768.ts";
import { WASM as SNTRUP761_WASM } from "../../../lib/algorithms/_wasm/sntrup761.ts";
import { mlKem768, setKemBackendForTests, sntrup761 } from "../../../lib/algorithms/pq.ts";

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The NIST PQC AES-256-CTR DRBG (`randombytes` of the submission packages, rng.c), which KAT
 * files are generated with. Each `randombytes(out)` call ends with an update of the state.
 */
class NistKatDrbg {
  #key = new Uint8Array(32);
  #v = new Uint8Array(16);

  constructor(entropy: Uint8Array) {
    this.#update(entropy);
  }

  #block(): Uint8Array {
    for (let i = 15; i >= 0; i--) {
      this.#v[i] = (this.#v[i]! + 1) & 0xff;
      if (this.#v[i] !== 0) break;
    }
    const aes = createCipheriv("aes-256-ecb", this.#key, null).setAutoPadding(false);
    return new Uint8Array(aes.update(this.#v));
  }

  #update(data?: Uint8Array): void {
    const t = new Uint8Array(48);
    for (let i = 0; i < 3; i++) t.set(this.#block(), 16 * i);
    if (data) { for (let i = 0; i < 48; i++) t[i]! ^= data[i]!; }
    this.#key = t.slice(0, 32);
    this.#v = t.slice(32);
  }

  /** `randombytes(out)`; `final: false` continues the same call (no state update yet). */
  random(out: Uint8Array, final = true): void {
    for (let at = 0; at < out.length; at += 16) {
      out.set(this.#block().subarray(0, Math.min(16, out.length - at)), at);
    }
    if (final) this.#update();
  }
}

/**
 * liboqs's KAT (tests/kat_kem.c): a DRBG seeded with bytes 0..47 draws a 48-byte seed, a DRBG
 * seeded with it drives keypair and encaps, and the SHA-256 of the text
 * `count = 0 / seed / pk / sk / ct / ss` must equal liboqs's tests/KATs/kem/kats.json "single".
 */
async function liboqsKatHash(wasm: OqsWasm): Promise<string> {
  const seed = new Uint8Array(48);
  new NistKatDrbg(Uint8Array.from({ length: 48 }, (_, i) => i)).random(seed);
  const drbg = new NistKatDrbg(seed);
  // liboqs reads the system's entropy 256 bytes at a time, so a longer randombytes() reaches
  // the module as several 256-byte calls and a shorter last one: one DRBG call in all.
  const kem = await instantiateOqsKem(wasm, (out) => drbg.random(out, out.length !== 256));
  const { publicKey, secretKey } = kem.keypair();
  const { ciphertext, sharedSecret } = kem.encapsulate(publicKey);
  assert.deepEqual(kem.decapsulate(ciphertext, secretKey), sharedSecret);
  const H = (b: Uint8Array) => toHex(b).toUpperCase();
  const text = `count = 0\nseed = ${H(seed)}\npk = ${H(publicKey)}\nsk = ${H(secretKey)}\n` +
    `ct = ${H(ciphertext)}\nss = ${H(sharedSecret)}\n`;
  return createHash("sha256").update(text).digest("hex");
}

Deno.test("liboqs ML-KEM-768 in WebAssembly reproduces liboqs's known answer (NIST DRBG, count 0)", async () => {
  assert.equal(
    await liboqsKatHash(MLKEM768_WASM),
    "5352539586b6c3df58be6158a6250aeff402bd73060b0a3de68850ac074c17c3",
  );
});

Deno.test("liboqs sntrup761 in WebAssembly reproduces liboqs's known answer (NIST DRBG, count 0)", async () => {
  assert.equal(
    await liboqsKatHash(SNTRUP761_WASM),
    "afc42c3a5b10f4ef69654250097ebda9b9564570f4086744b24a6daf2bd1f89a",
  );
});

Deno.test("liboqs ML-KEM-768 matches the C2SP CCTV accumulated FIPS 203 vectors (first 100 tests)", async () => {
  // The same vectors and value as kex_test.ts checks @noble/post-quantum against: inputs d, z, m
  // and a random ciphertext from SHAKE-128(""); ek, dk, ct, K and the implicit-rejection K of
  // the random ciphertext absorbed into SHAKE-128. keypair() draws d ‖ z, encaps draws m.
  const count = 100;
  const rng = createHash("shake128", { outputLength: count * (32 * 3 + 1088) }).digest();
  let offset = 0;
  const take = (n: number) => {
    const out = new Uint8Array(rng.subarray(offset, offset + n));
    offset += n;
    return out;
  };
  let next: Uint8Array = new Uint8Array(0);
  const kem = await instantiateOqsKem(MLKEM768_WASM, (out) => {
    assert.equal(out.length, next.length, "the module drew the expected number of bytes");
    out.set(next);
  });
  const acc = createHash("shake128", { outputLength: 32 });
  for (let i = 0; i < count; i++) {
    const dz = take(64);
    const m = take(32);
    const randomCt = take(1088);
    next = dz;
    const { publicKey, secretKey } = kem.keypair();
    next = m;
    const { ciphertext, sharedSecret } = kem.encapsulate(publicKey);
    assert.deepEqual(kem.decapsulate(ciphertext, secretKey), sharedSecret);
    const rejected = kem.decapsulate(randomCt, secretKey);
    acc.update(publicKey).update(secretKey).update(ciphertext).update(sharedSecret)
      .update(rejected);
  }
  assert.equal(
    acc.digest("hex"),
    "8d65b902f28edc683cebee2872962fd165a4d197c9e24ec74caa4470270df0b7",
  );
});

Deno.test("liboqs ML-KEM-768 and @noble/post-quantum agree both ways on random keys", async () => {
  const { kem } = await mlKem768();
  assert.equal(kem.algorithm, "ML-KEM-768");
  for (let i = 0; i < 25; i++) {
    // WebAssembly key, noble encapsulates, WebAssembly decapsulates.
    const ours = kem.keypair();
    const theirs = ml_kem768.encapsulate(ours.publicKey);
    assert.deepEqual(kem.decapsulate(theirs.cipherText, ours.secretKey), theirs.sharedSecret);
    // noble key, WebAssembly encapsulates, noble decapsulates.
    const nobleKeys = ml_kem768.keygen();
    const enc = kem.encapsulate(nobleKeys.publicKey);
    assert.deepEqual(ml_kem768.decapsulate(enc.ciphertext, nobleKeys.secretKey), enc.sharedSecret);
    // Implicit rejection agrees too: a changed ciphertext gives the same pseudo-random secret.
    const tampered = theirs.cipherText.slice();
    tampered[i]! ^= 0x40;
    assert.deepEqual(
      kem.decapsulate(tampered, ours.secretKey),
      ml_kem768.decapsulate(tampered, ours.secretKey),
    );
  }
});

Deno.test("liboqs sntrup761 has OpenSSH's sizes and decapsulates what it encapsulates", async () => {
  const { kem, backend } = await sntrup761();
  assert.equal(backend.name, "wasm");
  assert.deepEqual(
    [kem.publicKeyLength, kem.secretKeyLength, kem.ciphertextLength, kem.sharedSecretLength],
    [1158, 1763, 1039, 32],
  );
  const { publicKey, secretKey } = kem.keypair();
  const { ciphertext, sharedSecret } = kem.encapsulate(publicKey);
  assert.deepEqual(kem.decapsulate(ciphertext, secretKey), sharedSecret);
  const tampered = ciphertext.slice();
  tampered[7]! ^= 1;
  assert.notDeepEqual(kem.decapsulate(tampered, secretKey), sharedSecret);
});

Deno.test("the WebAssembly KEMs refuse inputs of the wrong length with a RangeError", async () => {
  const kems: Kem[] = [(await mlKem768()).kem, (await sntrup761()).kem];
  for (const kem of kems) {
    assert.throws(
      () => kem.encapsulate(new Uint8Array(kem.publicKeyLength - 1)),
      (e) => e instanceof RangeError && /public key has \d+ bytes, expected/.test(e.message),
    );
    const { secretKey } = kem.keypair();
    assert.throws(
      () => kem.decapsulate(new Uint8Array(kem.ciphertextLength + 1), secretKey),
      (e) => e instanceof RangeError && /ciphertext has \d+ bytes/.test(e.message),
    );
  }
});

Deno.test("liboqs ML-KEM-768 refuses an encapsulation key whose coefficients are not reduced", async () => {
  // FIPS 203 §7.2 input check: every 12-bit coefficient must be below q = 3329.
  const { kem } = await mlKem768();
  const bad = kem.keypair().publicKey;
  bad[0] = 0xff;
  bad[1] = 0x0f; // first coefficient 0xfff = 4095
  assert.throws(() => kem.encapsulate(bad), RangeError);
});

Deno.test("the embedded WebAssembly binaries are the ones scripts/vendor-oqs-wasm.ts recorded", async () => {
  for (const wasm of [MLKEM768_WASM, SNTRUP761_WASM]) {
    const bytes = Uint8Array.fromBase64(wasm.base64);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    assert.equal(toHex(digest), wasm.sha256, wasm.algorithm);
    assert.match(wasm.source, /^@oqs\/liboqs-js@\d+\.\d+\.\d+ dist\//);
  }
});

Deno.test("mlKem768() uses liboqs in WebAssembly, or @noble/post-quantum when a test asks", async () => {
  try {
    const wasm = await mlKem768();
    assert.equal(wasm.backend.name, "wasm");
    assert.match(wasm.backend.detail, /^liboqs, WebAssembly \(@oqs\/liboqs-js@/);
    setKemBackendForTests("js");
    const js = await mlKem768();
    assert.equal(js.backend.name, "js");
    assert.match(js.backend.detail, /@noble\/post-quantum, JavaScript \(chosen by a test\)/);
    const keys = js.kem.keypair();
    const enc = wasm.kem.encapsulate(keys.publicKey);
    assert.deepEqual(js.kem.decapsulate(enc.ciphertext, keys.secretKey), enc.sharedSecret);
  } finally {
    setKemBackendForTests("auto");
  }
});

/** Runs a snippet in a fresh Deno process and returns what it printed as JSON. */
async function inFreshProcess(
  code: string,
  options: { env?: Record<string, string>; v8Flags?: string } = {},
): Promise<unknown> {
  const pq = new URL("../../../lib/algorithms/pq.ts", import.meta.url).href;
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      ...(options.v8Flags ? [`--v8-flags=${options.v8Flags}`] : []),
      `import * as pq from ${JSON.stringify(pq)}; ${code}`,
    ],
    env: { RUST_BACKTRACE: "0", NO_COLOR: "1", ...options.env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, stderr);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("without WebAssembly, ML-KEM-768 falls back to JavaScript and says why, and sntrup761 fails clearly", async () => {
  const got = await inFreshProcess(
    `const m = await pq.mlKem768(); const k = m.kem.keypair();
     const e = m.kem.encapsulate(k.publicKey);
     const same = m.kem.decapsulate(e.ciphertext, k.secretKey).join() === e.sharedSecret.join();
     let sntrup = "loaded";
     try { await pq.sntrup761(); } catch (err) { sntrup = String(err.message); }
     console.log(JSON.stringify({ backend: m.backend, same, sntrup }));`,
    { v8Flags: "--jitless" },
  ) as { backend: { name: string; detail: string }; same: boolean; sntrup: string };
  assert.equal(got.backend.name, "js");
  assert.match(got.backend.detail, /WebAssembly failed: .*WebAssembly/);
  assert.equal(got.same, true);
  assert.match(got.sntrup, /WebAssembly/);
});

Deno.test("without WebAssembly, sntrup761x25519 is left out of the default offer (mlkem768x25519 stays)", async () => {
  const registry = new URL("../../../lib/algorithms/registry.ts", import.meta.url).href;
  const got = await inFreshProcess(
    `const r = await import(${JSON.stringify(registry)});
     console.log(JSON.stringify(r.defaultNames("kex").slice(0, 3)));`,
    { v8Flags: "--jitless" },
  );
  assert.deepEqual(got, [
    "mlkem768x25519-sha256",
    "curve25519-sha256",
    "curve25519-sha256@libssh.org",
  ]);
});

Deno.test("SSHTRACE_KEM=js makes ML-KEM-768 run on @noble/post-quantum", async () => {
  const got = await inFreshProcess(
    `console.log(JSON.stringify((await pq.mlKem768()).backend));`,
    { env: { SSHTRACE_KEM: "js" } },
  );
  assert.deepEqual(got, {
    name: "js",
    detail: "@noble/post-quantum, JavaScript (SSHTRACE_KEM=js)",
  });
});
