import assert from "node:assert/strict";
import {
  AlgorithmListError,
  allNames,
  applyListSpec,
  buildOffer,
  defaultNames,
  legacyNames,
  type ListCategory,
  lookupAlgorithm,
  REGISTRIES,
  riskOf,
} from "../../../lib/algorithms/registry.ts";
import type { AlgorithmInfo } from "../../../lib/algorithms/types.ts";
import { CATEGORIES, negotiateAll, selectAlgorithm } from "../../../lib/transport/negotiate.ts";
import type { AlgorithmLists } from "../../../lib/types.ts";

const LIST_CATEGORIES = Object.keys(REGISTRIES) as ListCategory[];

/** The default offer of each category, in the order the issue fixes. */
const EXPECTED_DEFAULTS: Record<ListCategory, string[]> = {
  kex: [
    "mlkem768x25519-sha256",
    "sntrup761x25519-sha512",
    "sntrup761x25519-sha512@openssh.com",
    "curve25519-sha256",
    "curve25519-sha256@libssh.org",
    "ecdh-sha2-nistp256",
    "ecdh-sha2-nistp384",
    "ecdh-sha2-nistp521",
    "diffie-hellman-group-exchange-sha256",
    "diffie-hellman-group16-sha512",
    "diffie-hellman-group18-sha512",
    "diffie-hellman-group14-sha256",
  ],
  hostKey: [
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "rsa-sha2-512",
    "rsa-sha2-256",
  ],
  cipher: [
    "chacha20-poly1305@openssh.com",
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
    "aes128-ctr",
    "aes192-ctr",
    "aes256-ctr",
  ],
  mac: [
    "hmac-sha2-256-etm@openssh.com",
    "hmac-sha2-512-etm@openssh.com",
    "hmac-sha2-256",
    "hmac-sha2-512",
  ],
  compression: ["none"],
};

/** Names that must never be offered unless the user asks for legacy algorithms. */
const KNOWN_LEGACY = [
  "diffie-hellman-group1-sha1",
  "diffie-hellman-group14-sha1",
  "diffie-hellman-group-exchange-sha1",
  "ssh-rsa",
  "ssh-dss",
  "aes128-cbc",
  "aes192-cbc",
  "aes256-cbc",
  "3des-cbc",
  "hmac-sha1",
  "hmac-sha1-96",
  "hmac-sha1-etm@openssh.com",
  "hmac-md5",
  "hmac-md5-96",
  "zlib",
  "zlib@openssh.com",
];

function entries(category: ListCategory): readonly AlgorithmInfo[] {
  return REGISTRIES[category] as readonly AlgorithmInfo[];
}

for (const category of LIST_CATEGORIES) {
  Deno.test(`defaultNames("${category}") is exactly the issue's default order`, () => {
    assert.deepEqual(defaultNames(category), EXPECTED_DEFAULTS[category]);
  });
}

Deno.test("every category of the registry has an expected default order in this test", () => {
  assert.deepEqual([...LIST_CATEGORIES].sort(), Object.keys(EXPECTED_DEFAULTS).sort());
});

Deno.test("no legacy algorithm appears in any default offer", () => {
  const offer = buildOffer();
  for (const category of LIST_CATEGORIES) {
    for (const name of offer[category]) {
      assert.notEqual(lookupAlgorithm(name)?.status, "legacy", `${name} is legacy`);
      assert.ok(!KNOWN_LEGACY.includes(name), `${name} is offered by default`);
    }
  }
});

Deno.test("the well-known weak algorithms are registered as legacy", () => {
  for (const name of KNOWN_LEGACY) {
    assert.equal(lookupAlgorithm(name)?.status, "legacy", name);
  }
});

Deno.test("every legacy entry carries a one-line risk that riskOf() returns", () => {
  for (const category of LIST_CATEGORIES) {
    for (const entry of entries(category)) {
      if (entry.status !== "legacy") {
        assert.equal(riskOf(entry.name), undefined, `${entry.name} is not legacy`);
        continue;
      }
      assert.equal(typeof entry.risk, "string", `${entry.name} has no risk line`);
      assert.ok(entry.risk!.trim().length > 10, `${entry.name}'s risk line is too short`);
      assert.ok(!entry.risk!.includes("\n"), `${entry.name}'s risk spans lines`);
      assert.equal(riskOf(entry.name), entry.risk);
    }
  }
});

Deno.test("every registry entry has a spec reference and a known status", () => {
  for (const category of LIST_CATEGORIES) {
    for (const entry of entries(category)) {
      assert.ok(entry.spec.trim().length > 0, `${entry.name} names no spec`);
      assert.ok(["recommended", "supported", "legacy"].includes(entry.status), entry.name);
    }
  }
});

Deno.test("algorithm names are unique within each category and across categories", () => {
  const all: string[] = [];
  for (const category of LIST_CATEGORIES) {
    const names = allNames(category);
    assert.equal(new Set(names).size, names.length, `duplicates in ${category}`);
    all.push(...names);
  }
  assert.equal(new Set(all).size, all.length);
});

Deno.test("allNames() lists the defaults first, then the legacy names, in table order", () => {
  for (const category of LIST_CATEGORIES) {
    assert.deepEqual(
      [...allNames(category)].sort(),
      [...defaultNames(category), ...legacyNames(category)].sort(),
    );
  }
});

Deno.test("buildOffer({}, false) offers the defaults of every category", () => {
  const offer = buildOffer({}, false);
  for (const category of LIST_CATEGORIES) {
    assert.deepEqual(offer[category], EXPECTED_DEFAULTS[category]);
  }
});

Deno.test("buildOffer({}, true) appends every legacy algorithm after the modern ones", () => {
  const offer = buildOffer({}, true);
  for (const category of LIST_CATEGORIES) {
    const legacy = legacyNames(category);
    assert.deepEqual(offer[category], [...EXPECTED_DEFAULTS[category], ...legacy]);
  }
  assert.ok(legacyNames("kex").includes("diffie-hellman-group1-sha1"));
  assert.ok(legacyNames("cipher").includes("3des-cbc"));
});

Deno.test("buildOffer() applies edits after the legacy names are appended", () => {
  const offer = buildOffer({ kex: ["^diffie-hellman-group1-sha1"] }, true);
  assert.equal(offer.kex[0], "diffie-hellman-group1-sha1");
  assert.equal(offer.kex.filter((n) => n === "diffie-hellman-group1-sha1").length, 1);
  const removed = buildOffer({ cipher: ["-*-cbc"] }, true);
  assert.ok(removed.cipher.every((n) => !n.endsWith("-cbc")));
  assert.ok(removed.cipher.length > 0);
});

Deno.test("applyListSpec() appends, removes, prepends and replaces as OpenSSH does", () => {
  const base = ["curve25519-sha256", "ecdh-sha2-nistp256", "diffie-hellman-group14-sha256"];
  assert.deepEqual(applyListSpec("kex", base, "+diffie-hellman-group1-sha1"), [
    ...base,
    "diffie-hellman-group1-sha1",
  ]);
  assert.deepEqual(applyListSpec("kex", base, "-ecdh-sha2-nistp256"), [
    "curve25519-sha256",
    "diffie-hellman-group14-sha256",
  ]);
  assert.deepEqual(applyListSpec("kex", base, "^diffie-hellman-group14-sha256"), [
    "diffie-hellman-group14-sha256",
    "curve25519-sha256",
    "ecdh-sha2-nistp256",
  ]);
  assert.deepEqual(applyListSpec("kex", base, "ecdh-sha2-nistp384,curve25519-sha256"), [
    "ecdh-sha2-nistp384",
    "curve25519-sha256",
  ]);
  // Appending a name already present leaves the list as it is.
  assert.deepEqual(applyListSpec("kex", base, "+curve25519-sha256"), base);
});

Deno.test("applyListSpec() expands wildcards against the registry", () => {
  const all = buildOffer({}, true).mac;
  assert.deepEqual(
    applyListSpec("mac", all, "-hmac-md5*"),
    all.filter((n) => !n.startsWith("hmac-md5")),
  );
  assert.deepEqual(applyListSpec("mac", [], "hmac-sha2-???"), ["hmac-sha2-256", "hmac-sha2-512"]);
  assert.deepEqual(applyListSpec("cipher", [], "aes*-gcm@openssh.com"), [
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
  ]);
});

Deno.test("applyListSpec() refuses unknown names, empty lists and lists left empty", () => {
  assert.throws(
    () => applyListSpec("kex", defaultNames("kex"), "+nope"),
    (e: unknown) => e instanceof AlgorithmListError && /"nope"/.test(e.message),
  );
  assert.throws(() => applyListSpec("cipher", defaultNames("cipher"), "+"), AlgorithmListError);
  assert.throws(() => applyListSpec("cipher", defaultNames("cipher"), "no-such-*"), /unknown/);
  assert.throws(
    () => applyListSpec("compression", ["none"], "-none"),
    /leaves no algorithm/,
  );
  // A name of another category is unknown here.
  assert.throws(
    () => applyListSpec("mac", defaultNames("mac"), "+aes128-ctr"),
    /unknown mac algorithm/,
  );
});

// ---------------------------------------------------------------------------------------------
// Negotiation (lib/transport/negotiate.ts)

Deno.test("selectAlgorithm() picks the first client algorithm the server supports", () => {
  const d = selectAlgorithm(
    "cipherC2S",
    ["aes256-gcm@openssh.com", "aes128-ctr", "aes256-ctr"],
    ["aes256-ctr", "aes128-ctr"],
  );
  // The client's order wins: aes128-ctr comes before aes256-ctr in our list.
  assert.equal(d.chosen, "aes128-ctr");
  assert.equal(d.category, "cipherC2S");
  assert.deepEqual(d.ours, ["aes256-gcm@openssh.com", "aes128-ctr", "aes256-ctr"]);
  assert.deepEqual(d.theirs, ["aes256-ctr", "aes128-ctr"]);
  assert.match(d.rule, /first in our list/);
  assert.equal(d.firstChoiceMatch, false);
  assert.equal(d.legacyRisk, undefined);
});

Deno.test("selectAlgorithm() reports no match with chosen null and a rule that says so", () => {
  const d = selectAlgorithm("kex", ["curve25519-sha256"], ["diffie-hellman-group1-sha1"]);
  assert.equal(d.chosen, null);
  assert.match(d.rule, /no algorithm appears in both lists/);
  assert.equal(d.firstChoiceMatch, false);
  assert.equal(selectAlgorithm("kex", [], []).chosen, null);
  assert.equal(selectAlgorithm("kex", ["a"], []).chosen, null);
});

Deno.test("selectAlgorithm() sets firstChoiceMatch only when both sides list it first", () => {
  assert.equal(selectAlgorithm("macC2S", ["a", "b"], ["a", "b"]).firstChoiceMatch, true);
  assert.equal(selectAlgorithm("macC2S", ["a", "b"], ["b", "a"]).firstChoiceMatch, false);
  assert.equal(selectAlgorithm("macC2S", ["b", "a"], ["a", "b"]).firstChoiceMatch, false);
  assert.equal(selectAlgorithm("macC2S", ["x", "a"], ["a"]).firstChoiceMatch, false);
});

Deno.test("selectAlgorithm() attaches the risk of a chosen legacy algorithm", () => {
  const d = selectAlgorithm(
    "kex",
    buildOffer({}, true).kex,
    ["diffie-hellman-group1-sha1"],
    riskOf,
  );
  assert.equal(d.chosen, "diffie-hellman-group1-sha1");
  assert.equal(d.legacyRisk, riskOf("diffie-hellman-group1-sha1"));
  assert.match(d.legacyRisk!, /1024/);
  const modern = selectAlgorithm("kex", ["curve25519-sha256"], ["curve25519-sha256"], riskOf);
  assert.equal(modern.legacyRisk, undefined);
});

Deno.test("selectAlgorithm() copies the lists so later changes do not alter the decision", () => {
  const ours = ["a", "b"];
  const theirs = ["b"];
  const d = selectAlgorithm("kex", ours, theirs);
  ours.push("c");
  theirs.length = 0;
  assert.deepEqual(d.ours, ["a", "b"]);
  assert.deepEqual(d.theirs, ["b"]);
});

function lists(overrides: Partial<AlgorithmLists> = {}): AlgorithmLists {
  const offer = buildOffer();
  return {
    kex: offer.kex,
    hostKey: offer.hostKey,
    cipherC2S: offer.cipher,
    cipherS2C: offer.cipher,
    macC2S: offer.mac,
    macS2C: offer.mac,
    compressionC2S: offer.compression,
    compressionS2C: offer.compression,
    ...overrides,
  };
}

const isAead = (n: string) => n.includes("gcm") || n.startsWith("chacha20");

Deno.test("negotiateAll() decides every category, in the KEXINIT order", () => {
  const server = lists({
    kex: ["curve25519-sha256"],
    cipherC2S: ["aes128-ctr"],
    cipherS2C: ["aes256-ctr"],
    macC2S: ["hmac-sha2-512"],
    macS2C: ["hmac-sha2-256-etm@openssh.com"],
  });
  const decisions = negotiateAll(lists(), server, riskOf, isAead);
  assert.deepEqual(decisions.map((d) => d.category), [...CATEGORIES]);
  const chosen = Object.fromEntries(decisions.map((d) => [d.category, d.chosen]));
  assert.deepEqual(chosen, {
    kex: "curve25519-sha256",
    hostKey: "ssh-ed25519",
    cipherC2S: "aes128-ctr",
    cipherS2C: "aes256-ctr",
    macC2S: "hmac-sha2-512",
    macS2C: "hmac-sha2-256-etm@openssh.com",
    compressionC2S: "none",
    compressionS2C: "none",
  });
});

Deno.test("negotiateAll() settles the MAC as <implicit> for a direction with an AEAD cipher", () => {
  const server = lists({
    cipherC2S: ["aes256-gcm@openssh.com"],
    cipherS2C: ["aes128-ctr"],
    macC2S: ["hmac-md5"], // nothing in common, but no MAC is needed with GCM
  });
  const decisions = negotiateAll(lists(), server, riskOf, isAead);
  const mac = decisions.find((d) => d.category === "macC2S")!;
  assert.equal(mac.chosen, "<implicit>");
  assert.match(mac.rule, /aes256-gcm@openssh\.com/);
  assert.equal(
    decisions.find((d) => d.category === "macS2C")!.chosen,
    "hmac-sha2-256-etm@openssh.com",
  );
});

Deno.test("negotiateAll() leaves a category with nothing in common as chosen null", () => {
  const server = lists({ cipherS2C: ["3des-cbc"] });
  const decisions = negotiateAll(lists(), server, riskOf, isAead);
  const failed = decisions.filter((d) => d.chosen === null).map((d) => d.category);
  assert.deepEqual(failed, ["cipherS2C"]);
});
