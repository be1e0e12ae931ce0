/**
 * A grade says when it is partial: the old switch graded without --legacy (the key exchange ends
 * before the host key) leaves the RSA key's size out and says so; with --legacy it is complete.
 */

import assert from "node:assert/strict";
import { probe } from "../../../lib/client.ts";
import { startLabServer } from "../../../lib/lab/mod.ts";
import { sharedHostKeys } from "../../helpers/lab.ts";

Deno.test("probe's grade of an old switch is partial without --legacy, and says why", async () => {
  const lab = await startLabServer({ profile: "old-switch", hostKeys: await sharedHostKeys() });
  const gradeOf = async (legacy: boolean) => {
    const r = await probe({
      host: lab.host,
      port: lab.port,
      legacy,
      timeoutMs: 3000,
      knownHostsFiles: [],
    });
    const g = r.events.find((e) => e.type === "grade");
    assert.ok(g?.type === "grade", `a grade (${r.error?.code ?? "ok"})`);
    return { error: r.error?.code ?? null, partial: g.partial ?? [] };
  };
  try {
    const plain = await gradeOf(false);
    assert.equal(plain.error, "kex.no-common-kex");
    assert.match(plain.partial.join(), /RSA host key's size is not graded: the key exchange ended/);
    const legacy = await gradeOf(true);
    assert.equal(legacy.error, null);
    assert.deepEqual(legacy.partial, []);
  } finally {
    await lab.stop();
  }
});
