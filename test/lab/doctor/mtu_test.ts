/**
 * A path MTU black hole: a proxy in front of the lab server loses every plaintext SSH packet
 * over 1,100 bytes (the version lines and both KEXINITs pass; the post-quantum key share does
 * not). The probe's failure is named `mtu-stall` with the sizes as evidence; the doctor's
 * smaller-kex rung (a short offer, curve25519) works and confirms it.
 */

import assert from "node:assert/strict";
import { probe } from "../../../lib/client.ts";
import { runDoctor } from "../../../lib/doctor/ladder.ts";
import { explainFailure } from "../../../lib/diagnose/explain.ts";
import { startLabServer } from "../../../lib/lab/mod.ts";
import { sharedHostKeys } from "../../helpers/lab.ts";
import { pathProxy } from "../../helpers/path_proxy.ts";

Deno.test("mtu-stall: large key-exchange packets lost on the path are named, and the doctor's smaller kex works", async () => {
  const lab = await startLabServer({ profile: "modern", hostKeys: await sharedHostKeys() });
  const proxy = pathProxy(lab.port, { kind: "mtu", maxPacket: 1100 });
  const base = {
    host: "127.0.0.1",
    port: proxy.port,
    timeoutMs: 1500,
    strictHostKeyChecking: "no" as const,
    knownHostsFiles: [],
  };
  try {
    const alone = await probe(base);
    assert.equal(alone.error?.code, "kex.timeout", alone.error?.message);
    const why = explainFailure(alone.error!, alone.events);
    assert.equal(why.cause, "mtu-stall");
    assert.match(why.evidence.join("\n"), /mlkem768x25519-sha256 key share \(1232 bytes\)/);
    assert.match(why.fix ?? "", /--kex curve25519-sha256/);
    assert.ok(proxy.log.some((l) => /packet of \d+ bytes lost/.test(l)), proxy.log.join("; "));

    const report = await runDoctor({ connect: base, goal: "probe" });
    const tried = report.rungs.filter((r) => r.outcome !== "skipped");
    assert.deepEqual(tried.map((r) => [r.rung, r.outcome]), [
      ["modern", "failed"],
      ["smaller-kex", "ok"],
    ]);
    assert.equal(tried[0]!.cause, "mtu-stall");
    assert.equal(report.confirmed, "mtu-stall");
    assert.ok(
      !report.working!.only.kex!.some((n) => n.startsWith("mlkem")),
      report.working!.only.kex!.join(),
    );
  } finally {
    proxy.close();
    await lab.stop();
  }
});
