import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { findMac, MAC_ALGORITHMS } from "../../../lib/algorithms/mac.ts";
import type { MacAlgorithm } from "../../../lib/algorithms/types.ts";

function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  return new Uint8Array((clean.match(/../g) ?? []).map((b) => parseInt(b, 16)));
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function mac(name: string): MacAlgorithm {
  const found = findMac(name);
  assert.ok(found, `${name} is in the registry`);
  return found;
}

/** Key of `length` bytes: "Jefe" (RFC 2202 / RFC 4231 test case 2) zero-padded. HMAC pads any
 * key shorter than the hash block with zeros, so the padded key gives the same MAC. */
function jefe(length: number): Uint8Array {
  const key = new Uint8Array(length);
  key.set(new TextEncoder().encode("Jefe"));
  return key;
}

// Test case 2 data. Its first four bytes "what" (0x77686174) become the SSH sequence number,
// so create(key)(seq, rest) must hash exactly the RFC's message.
const SEQ_WHAT = 0x77686174;
const REST = new TextEncoder().encode(" do ya want for nothing?");

const CASE_2: Record<string, string> = {
  sha256: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  sha512: "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554" +
    "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
  sha1: "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
  md5: "750c783e6ab0b503eaa86e310a5db738",
};

const HASH_OF: Record<string, string> = {
  "hmac-sha2-256-etm@openssh.com": "sha256",
  "hmac-sha2-512-etm@openssh.com": "sha512",
  "hmac-sha2-256": "sha256",
  "hmac-sha2-512": "sha512",
  "hmac-sha1-etm@openssh.com": "sha1",
  "hmac-sha1": "sha1",
  "hmac-sha1-96": "sha1",
  "hmac-md5": "md5",
  "hmac-md5-96": "md5",
};

Deno.test("MAC_ALGORITHMS lists the SHA-2 MACs first, then the legacy ones with risks", () => {
  assert.deepEqual(MAC_ALGORITHMS.map((m) => m.name), Object.keys(HASH_OF));
  // The legacy MACs, and only they, come last.
  assert.deepEqual(MAC_ALGORITHMS.slice(4), MAC_ALGORITHMS.filter((m) => m.status === "legacy"));
  for (const m of MAC_ALGORITHMS) {
    const legacy = !m.name.startsWith("hmac-sha2-");
    assert.equal(m.status, legacy ? "legacy" : "recommended", m.name);
    assert.equal(Boolean(m.risk), legacy, `${m.name} has a risk line only if legacy`);
    assert.ok((m.risk ?? "").length < 100 && !m.risk?.includes("\n"), `${m.name} risk is short`);
    assert.equal(m.etm, m.name.endsWith("-etm@openssh.com"), m.name);
  }
  assert.deepEqual(
    MAC_ALGORITHMS.map((m) => [m.keyLength, m.macLength]),
    [[32, 32], [64, 64], [32, 32], [64, 64], [20, 20], [20, 20], [20, 12], [16, 16], [16, 12]],
  );
  assert.equal(findMac("hmac-sha2-512")?.macLength, 64);
  assert.equal(findMac("umac-64@openssh.com"), undefined);
});

for (const [name, hash] of Object.entries(HASH_OF)) {
  const source = hash === "sha256" || hash === "sha512" ? "RFC 4231" : "RFC 2202";
  Deno.test(`${name} matches ${source} test case 2 with the sequence number as the first bytes`, () => {
    const alg = mac(name);
    const tag = alg.create(jefe(alg.keyLength))(SEQ_WHAT, REST);
    assert.equal(tag.length, alg.macLength);
    assert.equal(toHex(tag), CASE_2[hash]!.slice(0, alg.macLength * 2));
  });
}

Deno.test("hmac-sha2-256 matches RFC 4231 test case 1 with a 20-byte key padded to 32", () => {
  // Key 0x0b × 20, data "Hi There" = seq "Hi T" (0x48692054) ‖ "here".
  const key = new Uint8Array(32);
  key.fill(0x0b, 0, 20);
  const tag = mac("hmac-sha2-256").create(key)(0x48692054, new TextEncoder().encode("here"));
  assert.equal(toHex(tag), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
});

for (const alg of MAC_ALGORITHMS) {
  Deno.test(`${alg.name} computes HMAC over uint32 seq ‖ data for any sequence number`, () => {
    const key = new Uint8Array(alg.keyLength).map((_, i) => i * 7 + 1);
    const compute = alg.create(key);
    const data = new Uint8Array(1000).map((_, i) => i & 0xff);
    const seen = new Set<string>();
    for (const seq of [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0]) {
      const seqBytes = new Uint8Array(4);
      new DataView(seqBytes.buffer).setUint32(0, seq);
      const expected = createHmac(HASH_OF[alg.name]!, key).update(seqBytes).update(data).digest()
        .subarray(0, alg.macLength);
      const got = compute(seq, data);
      assert.equal(Object.getPrototypeOf(got), Uint8Array.prototype, "a plain Uint8Array");
      assert.equal(toHex(got), toHex(expected), `seq ${seq}`);
      seen.add(toHex(got));
    }
    assert.equal(seen.size, 5, "each sequence number gives a different MAC");
    assert.notEqual(toHex(compute(1, data)), toHex(compute(1, data.subarray(1))));
    assert.equal(compute(3, new Uint8Array(0)).length, alg.macLength);
  });
}

Deno.test("MAC create() refuses a key of the wrong length and copies the key it gets", () => {
  for (const alg of MAC_ALGORITHMS) {
    assert.throws(() => alg.create(new Uint8Array(alg.keyLength + 1)), /needs a \d+-byte key/);
    const key = new Uint8Array(alg.keyLength).fill(0x5a);
    const compute = alg.create(key);
    const before = toHex(compute(1, hex("00ff")));
    key.fill(0);
    assert.equal(toHex(compute(1, hex("00ff"))), before, alg.name);
  }
});
