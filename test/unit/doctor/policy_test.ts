/** Server policies: rules checked against an observed server, made from a reference, parsed. */

import assert from "node:assert/strict";
import {
  BUILTIN_POLICIES,
  checkPolicy,
  makePolicy,
  type Observed,
  parsePolicy,
} from "../../../lib/doctor/policy.ts";
import { SshError } from "../../../lib/errors/mod.ts";

const both = (names: string[]) => [names, names] as const;
function observed(change: Partial<Observed> = {}): Observed {
  const [c1, c2] = both(["aes128-ctr", "aes128-cbc"]);
  const [m1, m2] = both(["hmac-sha2-256", "hmac-sha1"]);
  return {
    lists: {
      kex: ["curve25519-sha256", "diffie-hellman-group14-sha1", "kex-strict-s-v00@openssh.com"],
      hostKey: ["rsa-sha2-512", "ssh-rsa"],
      cipherC2S: c1,
      cipherS2C: c2,
      macC2S: m1,
      macS2C: m2,
      compressionC2S: ["none"],
      compressionS2C: ["none"],
    },
    hostKeys: [{ keyType: "ssh-rsa", bits: 2048 }],
    strictKex: true,
    banner: null,
    grade: "D",
    ...change,
  };
}

const failed = (results: { rule: string; pass: boolean }[]) =>
  results.filter((r) => !r.pass).map((r) => r.rule);

Deno.test("a policy made from a server passes that server, and names each rule", () => {
  const policy = makePolicy(observed(), "sw1");
  assert.deepEqual(policy.allowed?.kex, ["curve25519-sha256", "diffie-hellman-group14-sha1"]);
  assert.deepEqual(policy.minHostKeyBits, { "ssh-rsa": 2048 });
  const results = checkPolicy(policy, observed());
  assert.deepEqual(failed(results), []);
  assert.ok(results.length >= 10);
});

Deno.test("a drifted server fails the rules that drifted, with the difference", () => {
  const policy = makePolicy(observed(), "sw1");
  const drifted = observed({
    hostKeys: [{ keyType: "ssh-rsa", bits: 1024 }],
    strictKex: false,
    grade: "F",
  });
  drifted.lists!.cipherS2C = ["aes128-ctr", "aes128-cbc", "3des-cbc"];
  const results = checkPolicy(policy, drifted);
  assert.deepEqual(failed(results), [
    "allowed.cipher",
    "minHostKeyBits.ssh-rsa",
    "strictKex",
    "minGrade",
  ]);
  assert.match(results.find((r) => r.rule === "allowed.cipher")!.detail, /3des-cbc/);
});

Deno.test("the built-in policies: a legacy offer fails modern-hardened, passes the switch minimum", () => {
  const o = observed({
    lists: { ...observed().lists!, cipherC2S: ["aes128-ctr"], cipherS2C: ["aes128-ctr"] },
  });
  o.lists!.macC2S = o.lists!.macS2C = ["hmac-sha2-256"];
  assert.deepEqual(failed(checkPolicy(BUILTIN_POLICIES["legacy-switch-minimum"]!, o)), []);
  const hardened = failed(checkPolicy(BUILTIN_POLICIES["modern-hardened"]!, o));
  assert.ok(hardened.includes("allowed.kex") && hardened.includes("minGrade"), hardened.join());
});

Deno.test("parsePolicy() refuses unknown keys, lists and grades as usage errors", () => {
  assert.equal(parsePolicy('{"strictKex": true}', "p.json").name, "p.json");
  for (
    const bad of ["[1]", "{", '{"colour": 1}', '{"allowed": {"ciphers": []}}', '{"minGrade": "E"}']
  ) {
    assert.throws(
      () => parsePolicy(bad, "p.json"),
      (e) => e instanceof SshError && e.code === "usage.invalid",
      bad,
    );
  }
});
