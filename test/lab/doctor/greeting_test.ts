/**
 * A device that drops whatever arrives before its greeting: a proxy in front of the lab server
 * holds the server's version line for a moment and throws away the client's bytes received
 * meanwhile. A client that sends its version line first fails; the failure is named
 * (`greeting-first`), and the doctor's version-after-greeting rung works and confirms it.
 */

import assert from "node:assert/strict";
import { connect, probe } from "../../../lib/client.ts";
import { runDoctor } from "../../../lib/doctor/ladder.ts";
import { explainFailure } from "../../../lib/diagnose/explain.ts";
import { startLabServer } from "../../../lib/lab/mod.ts";
import { password, sharedHostKeys } from "../../helpers/lab.ts";
import { pathProxy } from "../../helpers/path_proxy.ts";

Deno.test("doctor: a device that drops data before its greeting works with our version line after it", async () => {
  const lab = await startLabServer({ profile: "modern", hostKeys: await sharedHostKeys() });
  const proxy = pathProxy(lab.port, { kind: "drop-before-greeting", holdMs: 150 });
  const base = {
    host: "127.0.0.1",
    port: proxy.port,
    user: "demo",
    timeoutMs: 1500,
    strictHostKeyChecking: "no" as const,
    knownHostsFiles: [],
    auth: { password: password("demo") },
  };
  try {
    // One plain probe: the failure is recognised for what it is.
    const { auth: _auth, ...noAuth } = base;
    const alone = await probe(noAuth);
    assert.ok(alone.error);
    const why = explainFailure(alone.error, alone.events);
    assert.equal(why.cause, "greeting-first", `${alone.error.code}: ${why.title}`);
    assert.match(why.evidence[0]!, /ms before the server's greeting arrived/);

    const report = await runDoctor({ connect: base, goal: "login" });
    const tried = report.rungs.filter((r) => r.outcome !== "skipped");
    assert.deepEqual(tried.map((r) => [r.rung, r.outcome]), [
      ["modern", "failed"],
      ["version-after-greeting", "ok"],
    ]);
    assert.equal(tried[0]!.stage, "kex");
    assert.equal(tried[0]!.cause, "greeting-first");
    assert.equal(report.confirmed, "greeting-first");
    assert.equal(report.working?.versionAfterGreeting, true);
    // The option alone, through the library.
    const client = await connect({ ...base, versionAfterGreeting: true });
    await client.close();
  } finally {
    proxy.close();
    await lab.stop();
  }
});
