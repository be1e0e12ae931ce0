import assert from "node:assert/strict";
import {
  DEDUCTIONS,
  GRADE_THRESHOLDS,
  gradePartial,
  gradeServer,
  letterFor,
} from "../../../lib/diagnose/grade.ts";
import type { AlgorithmLists } from "../../../lib/types.ts";
import { DROPBEAR_2022, OPENSSH_92, OPENSSH_92_LEGACY } from "../../helpers/server_offers.ts";

const withoutStrict = (l: AlgorithmLists): AlgorithmLists => ({
  ...l,
  kex: l.kex.filter((n) => n !== "kex-strict-s-v00@openssh.com"),
});

const ids = (g: ReturnType<typeof gradeServer>) => g.reasons.map((r) => r.id);

Deno.test("gradeServer() gives OpenSSH 9.2's default offer an A, docked only for encrypt-and-MAC", () => {
  const g = gradeServer(OPENSSH_92, {
    strictKex: true,
    hostKeyType: "ssh-ed25519",
    hostKeyBits: 256,
  });
  assert.equal(g.letter, "A");
  assert.equal(g.score, 95);
  assert.deepEqual(ids(g), ["encrypt-and-mac"]);
  assert.deepEqual(g.reasons[0]!.algorithms, [
    "umac-64@openssh.com",
    "umac-128@openssh.com",
    "hmac-sha2-256",
    "hmac-sha2-512",
    "hmac-sha1",
  ]);
});

Deno.test("gradeServer() fails the legacy-only offer with one reason per weakness", () => {
  const g = gradeServer(OPENSSH_92_LEGACY, {
    strictKex: true,
    hostKeyType: "ssh-rsa",
    hostKeyBits: 3072,
  });
  assert.equal(g.letter, "F");
  assert.equal(g.score, 25);
  assert.deepEqual(ids(g), [
    "small-dh-group",
    "sha1-kex",
    "sha1-hostkey",
    "cbc-mode",
    "64-bit-block",
    "weak-mac",
    "encrypt-and-mac",
    "no-post-quantum",
  ]);
  const by = Object.fromEntries(g.reasons.map((r) => [r.id, r.algorithms]));
  assert.deepEqual(by["small-dh-group"], ["diffie-hellman-group1-sha1"]);
  assert.deepEqual(by["sha1-kex"], ["diffie-hellman-group1-sha1", "diffie-hellman-group14-sha1"]);
  assert.deepEqual(by["sha1-hostkey"], ["ssh-rsa"]);
  assert.deepEqual(by["cbc-mode"], ["aes128-cbc", "3des-cbc"]);
  assert.deepEqual(by["64-bit-block"], ["3des-cbc"]);
  assert.deepEqual(by["weak-mac"], ["hmac-md5"]);
  // No EtM MAC and no chacha20: CBC alone is not Terrapin-exposed.
  assert.ok(
    !ids(gradeServer(withoutStrict(OPENSSH_92_LEGACY), { strictKex: false })).includes("terrapin"),
  );
});

Deno.test("gradeServer() gives Dropbear 2022.83 a C for SHA-1 kex and host keys", () => {
  const g = gradeServer(DROPBEAR_2022, {
    strictKex: true,
    hostKeyType: "ssh-ed25519",
    hostKeyBits: 256,
  });
  assert.equal(g.letter, "C");
  assert.equal(g.score, 70);
  assert.deepEqual(ids(g), ["sha1-kex", "sha1-hostkey", "encrypt-and-mac", "no-post-quantum"]);
  // kexguess2 and the strict-kex marker are markers, not algorithms.
  assert.deepEqual(g.reasons[0]!.algorithms, ["diffie-hellman-group14-sha1"]);
});

Deno.test("gradeServer() docks an RSA host key under 2048 bits", () => {
  const g = gradeServer(DROPBEAR_2022, {
    strictKex: true,
    hostKeyType: "ssh-rsa",
    hostKeyBits: 1024,
  });
  assert.equal(g.letter, "D");
  assert.deepEqual(g.reasons.find((r) => r.id === "small-rsa-key")?.algorithms, [
    "ssh-rsa 1024 bits",
  ]);
  const big = gradeServer(DROPBEAR_2022, {
    strictKex: true,
    hostKeyType: "ssh-rsa",
    hostKeyBits: 2048,
  });
  assert.ok(!ids(big).includes("small-rsa-key"));
});

Deno.test("gradeServer() flags chacha20-poly1305 without strict kex as Terrapin-exposed", () => {
  const g = gradeServer(withoutStrict(OPENSSH_92), { strictKex: false });
  assert.deepEqual(ids(g), ["encrypt-and-mac", "terrapin"]);
  assert.deepEqual(g.reasons[1]!.algorithms, ["chacha20-poly1305@openssh.com"]);
  assert.equal(g.letter, "B");
  // The strict-kex marker in the server's list counts as strict kex.
  assert.ok(!ids(gradeServer(OPENSSH_92, { strictKex: false })).includes("terrapin"));
});

Deno.test("gradeServer() flags CBC with an EtM MAC without strict kex as Terrapin-exposed", () => {
  const lists: AlgorithmLists = {
    ...withoutStrict(OPENSSH_92_LEGACY),
    macC2S: ["hmac-sha2-256-etm@openssh.com"],
    macS2C: ["hmac-sha2-256-etm@openssh.com"],
  };
  const t = gradeServer(lists, { strictKex: false }).reasons.find((r) => r.id === "terrapin");
  assert.deepEqual(t?.algorithms, ["aes128-cbc", "3des-cbc", "hmac-sha2-256-etm@openssh.com"]);
});

Deno.test("gradeServer() credits mlkem768x25519-sha256 as post-quantum and docks ssh-dss", () => {
  const lists: AlgorithmLists = {
    ...OPENSSH_92,
    kex: ["mlkem768x25519-sha256", "curve25519-sha256"],
    hostKey: ["ssh-ed25519", "ssh-dss"],
    macC2S: ["hmac-sha2-256-etm@openssh.com"],
    macS2C: ["hmac-sha2-256-etm@openssh.com"],
  };
  const g = gradeServer(lists, { strictKex: true });
  assert.deepEqual(ids(g), ["ssh-dss"]);
  assert.deepEqual(g.reasons[0]!.algorithms, ["ssh-dss"]);
  const perfect = gradeServer({ ...lists, hostKey: ["ssh-ed25519"] }, { strictKex: true });
  assert.deepEqual(perfect, { letter: "A", score: 100, reasons: [] });
});

Deno.test("gradeServer() docks arcfour and the none cipher hardest", () => {
  const lists: AlgorithmLists = {
    ...OPENSSH_92,
    cipherC2S: ["aes128-ctr", "arcfour256", "none"],
    cipherS2C: ["aes128-ctr"],
  };
  const r = gradeServer(lists, { strictKex: true }).reasons.find((x) => x.id === "broken-cipher");
  assert.deepEqual(r?.algorithms, ["arcfour256", "none"]);
  assert.equal(r?.deduction, 40);
});

Deno.test("gradeServer()'s score is 100 minus one deduction per reason", () => {
  for (const lists of [OPENSSH_92, OPENSSH_92_LEGACY, DROPBEAR_2022, withoutStrict(OPENSSH_92)]) {
    const g = gradeServer(lists, { strictKex: false, hostKeyType: "ssh-rsa", hostKeyBits: 1024 });
    const sum = g.reasons.reduce((s, r) => s + r.deduction, 0);
    assert.equal(g.score, Math.max(0, 100 - sum));
    assert.equal(new Set(ids(g)).size, g.reasons.length);
    for (const r of g.reasons) {
      assert.equal(r.deduction, DEDUCTIONS.find((d) => d.id === r.id)?.points);
      assert.ok(r.algorithms.length > 0);
    }
  }
});

Deno.test("letterFor() maps scores to letters at the thresholds", () => {
  assert.deepEqual(GRADE_THRESHOLDS.map((t) => t.letter), ["A", "B", "C", "D"]);
  assert.deepEqual(
    [100, 90, 89, 75, 74, 60, 59, 45, 44, 0].map(letterFor),
    ["A", "A", "B", "B", "C", "C", "D", "D", "F", "F"],
  );
});

Deno.test("gradePartial() says the RSA key's size is not graded when the key exchange ended before the host key", () => {
  // The same server graded F 25 without --legacy (no key seen) and F 5 with it (a 1024-bit
  // RSA key reached): the first grade is partial, and says why.
  const legacy = OPENSSH_92_LEGACY;
  assert.match(gradePartial(legacy, null)[0]!, /RSA host key's size is not graded.*ended before/);
  assert.deepEqual(gradePartial(legacy, { keyType: "ssh-rsa", bits: 1024 }), []);
  const full = gradeServer(legacy, { strictKex: false, hostKeyType: "ssh-rsa", hostKeyBits: 1024 });
  const partial = gradeServer(legacy, { strictKex: false });
  assert.deepEqual(ids(full).filter((id) => !ids(partial).includes(id)), ["small-rsa-key"]);
});

Deno.test("gradePartial() is empty when no RSA key is offered, and partial when another key type was used", () => {
  const noRsa: AlgorithmLists = { ...OPENSSH_92, hostKey: ["ssh-ed25519"] };
  assert.deepEqual(gradePartial(noRsa, null), []);
  assert.match(
    gradePartial(OPENSSH_92, { keyType: "ssh-ed25519", bits: 256 })[0]!,
    /used ssh-ed25519.*probe --deep/,
  );
});
