/**
 * One run's lifecycle against the lab server: cancellation by AbortSignal closes the connection
 * (the lab server sees it end) and names the stage that was running; a check's host deadline
 * cancels the connection it abandons; concurrent channels keep their own stage timings.
 */
import assert from "node:assert/strict";
import { probe } from "../../lib/client.ts";
import { checkFleet } from "../../lib/check/check.ts";
import { parseInventory } from "../../lib/check/inventory.ts";
import { startLabServer } from "../../lib/lab/mod.ts";
import { Tracer } from "../../lib/trace.ts";
import { SshError } from "../../lib/errors/mod.ts";
import { connectLab, password, sharedHostKeys } from "../helpers/lab.ts";

/** Resolves once the lab server has seen `count` connections end, or fails after `ms`. */
async function ended(lab: { waitForEnded(n: number): Promise<void> }, count: number, ms = 2000) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      lab.waitForEnded(count),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("the connection was left open")), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("checkFleet() closes the connection of a host past its deadline (a login the server never answers)", async () => {
  const lab = await startLabServer({ profile: "silent-auth", hostKeys: await sharedHostKeys() });
  try {
    const started = performance.now();
    const result = await checkFleet(parseInventory(`demo@127.0.0.1:${lab.port}\n`, "t"), {
      login: true,
      auth: { password: password("demo") },
      strictHostKeyChecking: "no",
      knownHostsFiles: [],
      timeoutMs: 10_000,
      hostDeadlineMs: 500,
    });
    const host = result.hosts[0]!;
    assert.equal(host.error?.code, "auth.deadline", host.error?.message);
    assert.equal(host.failedStage, "auth");
    assert.match(host.error?.message ?? "", /did not finish within 0\.5 s \(stage auth\)/);
    assert.ok(performance.now() - started < 3000, "the deadline was honoured");
    // The abandoned connection is closed, not left running until the 10 s timeout: the lab
    // server sees it end, and the test's sanitizers see no timer or socket left behind.
    await ended(lab, 1);
    assert.equal(lab.active, 0);
  } finally {
    await lab.stop();
  }
});

Deno.test("checkFleet() with a probe closes the connection of a silent host at its deadline", async () => {
  const lab = await startLabServer({
    profile: "silent-kex-reply",
    hostKeys: await sharedHostKeys(),
  });
  try {
    const result = await checkFleet(parseInventory(`127.0.0.1:${lab.port}\n`, "t"), {
      knownHostsFiles: [],
      timeoutMs: 10_000,
      hostDeadlineMs: 400,
    });
    assert.equal(result.hosts[0]!.error?.code, "kex.deadline");
    await ended(lab, 1);
    assert.equal(lab.active, 0);
  } finally {
    await lab.stop();
  }
});

Deno.test("probe({signal}) aborted mid-kex fails at once with kex.aborted carrying the reason, and closes the socket", async () => {
  const lab = await startLabServer({
    profile: "silent-kex-reply",
    hostKeys: await sharedHostKeys(),
  });
  try {
    const reason = new Error("shutting down");
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(reason), 300);
    const started = performance.now();
    const result = await probe({
      host: lab.host,
      port: lab.port,
      knownHostsFiles: [],
      timeoutMs: 10_000,
      signal: controller.signal,
    });
    clearTimeout(timer);
    assert.ok(performance.now() - started < 2000, "the probe stopped at the abort");
    assert.equal(result.ok, false);
    assert.equal(result.error?.code, "kex.aborted");
    assert.equal(result.error?.cause, reason);
    assert.equal(result.error?.details.reason, "shutting down");
    assert.equal(result.serverVersion?.software.length !== 0, true, "the version was read");
    const errors = result.events.filter((e) => e.type === "error");
    assert.deepEqual(errors.map((e) => e.type === "error" && e.code), ["kex.aborted"]);
    await ended(lab, 1);
  } finally {
    await lab.stop();
  }
});

Deno.test("probe() with an already aborted signal fails at stage connect without connecting", async () => {
  const lab = await startLabServer({ hostKeys: await sharedHostKeys() });
  try {
    const result = await probe({
      host: lab.host,
      port: lab.port,
      signal: AbortSignal.abort("not now"),
    });
    assert.equal(result.error?.code, "connect.aborted");
    assert.equal(result.error?.details.reason, "not now");
    assert.equal(lab.connections, 0);
  } finally {
    await lab.stop();
  }
});

Deno.test("a connected Client whose signal aborts rejects its pending exec with data.aborted and closes the connection", async () => {
  const lab = await startLabServer({ hostKeys: await sharedHostKeys() });
  try {
    const controller = new AbortController();
    const client = await connectLab(lab, { signal: controller.signal });
    const running = client.exec("sleep 5");
    setTimeout(() => controller.abort(new Error("user pressed stop")), 300);
    const error = await running.then(() => null, (e) => e);
    assert.ok(error instanceof SshError, String(error));
    assert.equal(error.code, "data.aborted", error.message);
    assert.match(error.message, /cancelled at stage data: user pressed stop/);
    await ended(lab, 1);
    await client.close();
  } finally {
    await lab.stop();
  }
});

Deno.test("two concurrent exec() on one connection keep their own session and data timings", async () => {
  const lab = await startLabServer({ hostKeys: await sharedHostKeys() });
  try {
    const tracer = new Tracer();
    const client = await connectLab(lab, { tracer });
    const [slow, quick] = await Promise.all([
      client.exec("sleep 0.4"),
      client.exec("echo hi"),
    ]);
    await client.close();
    assert.equal(slow.exit.status, 0);
    assert.equal(new TextDecoder().decode(quick.stdout), "hi\n");
    const t = tracer.channelTimings;
    assert.deepEqual(Object.keys(t).sort(), ["data#0", "data#1", "session#0", "session#1"]);
    assert.ok(t["data#0"]! >= 350, `the slow command's data stage: ${t["data#0"]} ms`);
    assert.ok(t["data#1"]! < t["data#0"]!, `the quick one's is its own: ${t["data#1"]} ms`);
    // Per stage: the wall time with a span of it open, not the sum of both channels.
    assert.ok(tracer.timings.data! < t["data#0"]! + t["data#1"]!);
    assert.ok(tracer.timings.data! >= t["data#0"]!);
    // Every begin has its own end, per channel: neither exec ended the other's stage.
    for (const stage of ["session", "data"] as const) {
      for (const channel of [0, 1]) {
        const mine = tracer.events.filter((e) =>
          e.stage === stage && (e.type === "begin" || e.type === "end") && e.channel === channel
        ).map((e) => e.type);
        assert.deepEqual(mine, ["begin", "end"], `${stage}#${channel}`);
      }
    }
    assert.deepEqual(tracer.openSpans, []);
  } finally {
    await lab.stop();
  }
});
