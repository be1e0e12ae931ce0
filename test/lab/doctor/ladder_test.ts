/**
 * The doctor's ladder against the lab's devices: each finds the rung that works, keeps only
 * the changes that helped, asks for the password once and only after the host key is accepted,
 * and ranks the causes when nothing works.
 */

import assert from "node:assert/strict";
import type { PasswordSource } from "../../../lib/auth/userauth.ts";
import { hostBlock } from "../../../lib/doctor/forms.ts";
import { onceSource, runDoctor } from "../../../lib/doctor/ladder.ts";
import { isDefault } from "../../../lib/doctor/settings.ts";
import { startLabServer } from "../../../lib/lab/mod.ts";
import { connectLab, sharedHostKeys } from "../../helpers/lab.ts";

/** A password source that counts how often it is asked. */
function counting(text: string): PasswordSource & { asked: number } {
  const source = {
    asked: 0,
    fromUser: false,
    get() {
      source.asked++;
      return Promise.resolve(text);
    },
  };
  return source;
}

async function withLab<T>(profile: string, body: (port: number) => Promise<T>): Promise<T> {
  const lab = await startLabServer({ profile, hostKeys: await sharedHostKeys() });
  try {
    return await body(lab.port);
  } finally {
    await lab.stop();
  }
}

const base = (port: number, password: PasswordSource) => ({
  host: "127.0.0.1",
  port,
  user: "demo",
  timeoutMs: 3000,
  strictHostKeyChecking: "no" as const,
  knownHostsFiles: [],
  auth: { password: onceSource(password) },
});

Deno.test("doctor: a modern server works on the first rung, with nothing to change", async () => {
  await withLab("modern", async (port) => {
    const pw = counting("demo");
    const report = await runDoctor({ connect: base(port, pw), goal: "login" });
    assert.deepEqual(report.rungs.map((r) => [r.rung, r.outcome]), [["modern", "ok"]]);
    assert.ok(report.working && isDefault(report.working));
    assert.equal(pw.asked, 1);
  });
});

Deno.test("doctor: an old switch gets exactly the legacy kex and cipher it needs, password asked once", async () => {
  await withLab("doctor-legacy-only", async (port) => {
    const pw = counting("demo");
    const report = await runDoctor({ connect: base(port, pw), goal: "login" });
    const tried = report.rungs.filter((r) => r.outcome !== "skipped");
    assert.deepEqual(tried.map((r) => [r.rung, r.outcome, r.code]), [
      ["modern", "failed", "kex.no-common-kex"],
      ["legacy-set", "ok", null],
    ]);
    assert.deepEqual(report.working?.add, {
      kex: ["diffie-hellman-group14-sha1"],
      cipher: ["aes128-cbc"],
    });
    assert.ok(report.cost.some((c) => c.startsWith("diffie-hellman-group14-sha1: ")));
    assert.equal(pw.asked, 1, "the password is asked once, by the attempt that logged in");
    const block = hostBlock(report.working!, { host: "127.0.0.1", port, user: "demo" });
    assert.match(block, /^ {2}KexAlgorithms \+diffie-hellman-group14-sha1$/m);
    assert.match(block, /^ {2}Ciphers \+aes128-cbc$/m);
  });
});

Deno.test("doctor: firmware that fails group exchange works without it", async () => {
  await withLab("doctor-gex-broken", async (port) => {
    const report = await runDoctor({ connect: base(port, counting("demo")), goal: "probe" });
    const tried = report.rungs.filter((r) => r.outcome !== "skipped");
    assert.deepEqual(tried.map((r) => [r.rung, r.outcome]), [
      ["modern", "failed"],
      ["no-gex", "ok"],
    ]);
    assert.deepEqual(report.working?.remove, { kex: ["diffie-hellman-group-exchange-*"] });
    assert.ok(
      report.rungs.some((r) => r.rung === "legacy-set" && r.outcome === "skipped"),
      "the legacy rung says why it does not apply",
    );
  });
});

Deno.test("doctor: credentials are never asked before the host key is accepted", async () => {
  await withLab("doctor-legacy-only", async (port) => {
    const pw = counting("demo");
    const report = await runDoctor({
      connect: { ...base(port, pw), strictHostKeyChecking: "yes" },
      goal: "login",
    });
    assert.equal(report.working, null);
    assert.equal(pw.asked, 0);
    assert.equal(report.causes[0]?.code, "hostkey.unknown");
  });
});

Deno.test("doctor: when nothing works, the causes are ranked with the attempts as evidence", async () => {
  await withLab("close-version", async (port) => {
    let slept = 0;
    const report = await runDoctor({
      connect: base(port, counting("demo")),
      pacingMs: 50,
      sleep: (ms) => {
        slept += ms;
        return Promise.resolve();
      },
    });
    assert.equal(report.working, null);
    const tried = report.rungs.filter((r) => r.outcome !== "skipped").map((r) => r.rung);
    assert.deepEqual(tried, ["modern", "slow-pacing"]);
    assert.equal(slept, 50);
    assert.equal(report.causes.length, 1);
    assert.equal(report.causes[0]!.evidence.length, 2);
    assert.ok(report.causes[0]!.title);
  });
});

Deno.test("doctor: a device with one 1024-bit group works once small groups are accepted", async () => {
  await withLab("doctor-small-dh-group", async (port) => {
    const report = await runDoctor({ connect: base(port, counting("demo")), goal: "login" });
    const tried = report.rungs.filter((r) => r.outcome !== "skipped");
    assert.deepEqual(tried.map((r) => [r.rung, r.outcome]), [
      ["modern", "failed"],
      ["small-dh-group", "ok"],
    ]);
    assert.match(
      report.rungs.find((r) => r.rung === "no-gex")!.why,
      /offers only group exchange/,
    );
    assert.equal(report.working?.smallDhGroups, true);
    assert.ok(report.cost.some((c) => c.includes("Logjam")));
  });
});

Deno.test("doctor: a device out of vty lines works after a pause, once the line is free", async () => {
  const lab = await startLabServer({ profile: "doctor-one-vty", hostKeys: await sharedHostKeys() });
  try {
    // Someone else holds the only line.
    const holder = await connectLab(lab);
    let paused = 0;
    const report = await runDoctor({
      connect: base(lab.port, counting("demo")),
      goal: "login",
      pacingMs: 20,
      sleep: async (ms) => {
        paused += ms;
        await holder.close();
        await lab.waitForEnded(2);
      },
    });
    const tried = report.rungs.filter((r) => r.outcome !== "skipped");
    assert.deepEqual(tried.map((r) => [r.rung, r.outcome, r.code]), [
      ["modern", "failed", "version.refused"],
      ["slow-pacing", "ok", null],
    ]);
    assert.equal(paused, 20);
    assert.match(report.rungs[0]!.message ?? "", /MaxStartups/);
    // The named cause, confirmed by the pause that worked.
    assert.equal(report.rungs[0]!.cause, "vty-exhausted");
    assert.equal(report.confirmed, "vty-exhausted");
  } finally {
    await lab.stop();
  }
});

Deno.test("doctor: a server whose strict kex is broken works without the marker, its cost said", async () => {
  await withLab("strict-kex-ignore-first", async (port) => {
    const report = await runDoctor({ connect: base(port, counting("demo")), goal: "login" });
    const tried = report.rungs.filter((r) => r.outcome !== "skipped");
    assert.deepEqual(tried.map((r) => [r.rung, r.outcome, r.code]), [
      ["modern", "failed", "kex.strict-violation"],
      ["no-strict-kex", "ok", null],
    ]);
    assert.ok(report.cost.some((c) => c.includes("Terrapin")));
  });
});
