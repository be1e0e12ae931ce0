/**
 * The two packet-crypto backends: OpenSSL's libcrypto through FFI (used when it loads and passes
 * its known-answer tests) and `node:crypto`. Here: OpenSSL is the one in use on this machine, the
 * two agree byte for byte on every cipher and MAC in both directions (sealed by one, opened by the
 * other, across sequence numbers and counter carries), tampering is caught by OpenSSL's
 * transforms, and the fallback is taken, with its reason, without `--allow-ffi` or with
 * `SSHTRACE_CRYPTO=node`.
 */

import assert from "node:assert/strict";
import { CIPHER_ALGORITHMS, CipherIntegrityError } from "../../../lib/algorithms/cipher.ts";
import { MAC_ALGORITHMS } from "../../../lib/algorithms/mac.ts";
import {
  cryptoBackend,
  cryptoProvider,
  setCryptoBackendForTests,
} from "../../../lib/algorithms/crypto_provider.ts";
import { openssl } from "../../../lib/algorithms/_openssl.ts";
import type { CipherAlgorithm } from "../../../lib/algorithms/types.ts";
import { concatBytes } from "../../../lib/wire/buffer.ts";
import { DENO_DIR } from "../../helpers/cli.ts";

const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
type Backend = "node" | "auto";

/** Runs `make` with the given backend in force, then restores OpenSSL. */
function withBackend<T>(backend: Backend, make: () => T): T {
  setCryptoBackendForTests(backend);
  try {
    return make();
  } finally {
    setCryptoBackendForTests("auto");
  }
}

/** A plain packet of `payload` bytes, padded as the transport does. */
function packet(payloadLength: number, alg: CipherAlgorithm): Uint8Array {
  const align = Math.max(8, alg.blockSize);
  const base = (alg.createAead ? 1 : 5) + payloadLength;
  let padding = align - (base % align);
  if (padding < 4) padding += align;
  const p = new Uint8Array(5 + payloadLength + padding);
  new DataView(p.buffer).setUint32(0, p.length - 4);
  p[4] = padding;
  p.set(random(payloadLength + padding), 5);
  return p;
}

Deno.test("OpenSSL 3 is the packet-crypto backend here, after its known-answer tests", () => {
  const backend = cryptoBackend();
  assert.equal(backend.name, "openssl", backend.detail);
  assert.match(backend.detail, /^OpenSSL 3\.\d+\.\d+ \(\/.*libcrypto\.so\.3\)$/);
  assert.ok(openssl());
  assert.equal(cryptoProvider().backend, backend, "the provider is chosen once");
  withBackend("node", () => {
    assert.equal(cryptoProvider().backend.name, "node");
    assert.equal(cryptoBackend().name, "node");
  });
  assert.equal(cryptoBackend().name, "openssl", "and chosen again after the test");
});

const SIZES = [0, 1, 15, 16, 100, 32768, 35000 - 64, 7];
const SEQS = [0, 1, 0xfffffffe, 0xffffffff, 0, 2, 3, 4];
/** An IV whose counter part is about to carry (CTR: low 64 bits all ones; GCM: all ones). */
const carryingIv = (alg: CipherAlgorithm) => {
  const iv = random(alg.ivLength);
  iv.fill(0xff, Math.max(0, alg.ivLength - 8));
  return iv;
};

for (const alg of CIPHER_ALGORITHMS.filter((c) => c.status !== "legacy")) {
  for (const [sealWith, openWith] of [["auto", "node"], ["node", "auto"]] as const) {
    const label = (b: Backend) => (b === "auto" ? "OpenSSL" : "node:crypto");
    Deno.test(`${alg.name}: sealed by ${label(sealWith)}, opened by ${label(openWith)}`, () => {
      const key = random(alg.keyLength);
      const iv = carryingIv(alg);
      const packets = SIZES.map((n) => packet(n, alg));
      if (alg.createAead) {
        const sealer = withBackend(sealWith, () => alg.createAead!(key, iv));
        const opener = withBackend(openWith, () => alg.createAead!(key, iv));
        packets.forEach((p, i) => {
          const seq = SEQS[i]!;
          const wire = sealer.seal(seq, p);
          assert.equal(opener.packetLength(seq, wire.subarray(0, 4)), p.length - 4);
          assert.deepEqual(opener.open(seq, wire), p, `packet ${i}`);
        });
      } else {
        const enc = withBackend(sealWith, () => alg.createStream!(key, iv, true));
        const dec = withBackend(openWith, () => alg.createStream!(key, iv, false));
        for (const p of packets) {
          const wire = enc.update(p);
          const first = dec.update(wire.subarray(0, 16));
          assert.deepEqual(concatBytes(first, dec.update(wire.subarray(16))), p);
        }
      }
    });
  }
}

for (const alg of CIPHER_ALGORITHMS.filter((c) => c.createAead)) {
  Deno.test(`${alg.name} on OpenSSL refuses a flipped tag, body or length byte`, () => {
    const key = random(alg.keyLength);
    const iv = random(alg.ivLength);
    const p = packet(1000, alg);
    const wire = alg.createAead!(key, iv).seal(5, p);
    for (const index of [0, 3, 4, 500, wire.length - 17, wire.length - 16, wire.length - 1]) {
      const bad = wire.slice();
      bad[index]! ^= 1;
      const opener = alg.createAead!(key, iv);
      assert.throws(() => opener.open(5, bad), CipherIntegrityError, `byte ${index}`);
    }
    // A wrong sequence number (chacha) or a skipped invocation counter (GCM) fails too.
    const skipped = alg.createAead!(key, iv);
    skipped.seal(0, p);
    assert.throws(() => skipped.open(6, wire), CipherIntegrityError);
    assert.deepEqual(alg.createAead!(key, iv).open(5, wire), p);
  });
}

for (const alg of MAC_ALGORITHMS) {
  Deno.test(`${alg.name}: OpenSSL and node:crypto give the same MAC`, () => {
    for (
      const [keyLength, size] of [[alg.keyLength, 0], [alg.keyLength, 33], [alg.keyLength, 32768]]
    ) {
      const key = random(keyLength!);
      const data = random(size!);
      const more = random(17);
      const fast = alg.create(key);
      const slow = withBackend("node", () => alg.create(key));
      for (const seq of [0, 1, 0x7fffffff, 0xffffffff]) {
        const a = fast(seq, data, more);
        assert.equal(a.length, alg.macLength);
        assert.deepEqual(a, slow(seq, data, more));
        assert.deepEqual(fast(seq, concatBytes(data, more)), a, "split or joined, the same");
      }
    }
  });
}

Deno.test("OpenSSL contexts check sizes and refuse use after free()", () => {
  const ossl = openssl()!;
  assert.throws(() => ossl.aesCtr(128, random(15), random(16), true), RangeError);
  assert.throws(() => ossl.aesGcm(256, random(32), random(16), true), RangeError);
  assert.throws(() => ossl.chacha20(random(32), random(12)), RangeError);
  const ctx = ossl.aesCtr(256, random(32), random(16), false);
  assert.throws(() => ctx.update(random(32), new Uint8Array(16)), RangeError);
  ctx.free();
  assert.throws(() => ctx.update(random(16), new Uint8Array(16)), /after free/);
  ctx.free(); // twice is harmless
  const poly = ossl.poly1305();
  assert.throws(() => poly.tag(random(16), random(10), new Uint8Array(16)), RangeError);
});

async function backendOf(permissions: string[], env: Record<string, string> = {}) {
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      script,
      `import { cryptoBackend } from ${
        JSON.stringify(new URL("../../../lib/algorithms/crypto_provider.ts", import.meta.url).href)
      }; console.log(JSON.stringify(cryptoBackend()));`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...permissions, script],
      env: { RUST_BACKTRACE: "0", NO_COLOR: "1", DENO_DIR, ...env },
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    return JSON.parse(new TextDecoder().decode(out.stdout));
  } finally {
    await Deno.remove(script);
  }
}

Deno.test("the backend falls back to node:crypto, with its reason, without FFI or when asked", async () => {
  // No permission at all: not even for the environment variable; never a prompt.
  assert.deepEqual(await backendOf(["--no-prompt"]), {
    name: "node",
    detail: "node:crypto (no --allow-ffi, so OpenSSL cannot be used)",
  });
  assert.deepEqual(await backendOf(["-A"], { SSHTRACE_CRYPTO: "node" }), {
    name: "node",
    detail: "node:crypto (SSHTRACE_CRYPTO=node)",
  });
  assert.equal((await backendOf(["-A"])).name, "openssl");
});
