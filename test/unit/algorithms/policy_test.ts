// The one home of status, risk and harm order: the registry entries carry exactly what
// lib/algorithms/policy.ts says, and the harm order covers every legacy algorithm.
import assert from "node:assert/strict";
import { LEGACY_HARM_ORDER, policyOf } from "../../../lib/algorithms/policy.ts";
import { type ListCategory, REGISTRIES } from "../../../lib/algorithms/registry.ts";
import type { AlgorithmInfo } from "../../../lib/algorithms/types.ts";

const CATEGORIES = Object.keys(REGISTRIES) as ListCategory[];

Deno.test("every registry entry's status and risk are the ones policyOf() gives", () => {
  for (const category of CATEGORIES) {
    for (const entry of REGISTRIES[category] as readonly AlgorithmInfo[]) {
      const policy = policyOf(category, entry.name);
      assert.equal(entry.status, policy.status, `${category} ${entry.name}`);
      assert.equal(entry.risk, policy.risk, `${category} ${entry.name}`);
    }
  }
});

Deno.test("LEGACY_HARM_ORDER lists exactly the legacy algorithms of each list, each once", () => {
  for (const category of CATEGORIES) {
    const legacy = (REGISTRIES[category] as readonly AlgorithmInfo[])
      .filter((a) => a.status === "legacy")
      .map((a) => a.name);
    const harm = LEGACY_HARM_ORDER[category];
    assert.deepEqual([...harm].sort(), [...legacy].sort(), category);
    assert.equal(new Set(harm).size, harm.length, category);
  }
});

Deno.test("policyOf() calls an algorithm it does not name recommended, with no risk", () => {
  assert.deepEqual(policyOf("cipher", "aes128-ctr"), { name: "aes128-ctr", status: "recommended" });
  assert.equal(policyOf("cipher", "3des-cbc").status, "legacy");
  assert.match(policyOf("cipher", "3des-cbc").risk!, /Sweet32/);
});
