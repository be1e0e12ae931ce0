/**
 * Resource bounds against hostile servers, as a user meets them: the sshtrace CLI (a subprocess)
 * against lab fault profiles that flood, trickle, or close during a client rekey. Memory is the
 * child's peak RSS (VmHWM); time is the run's wall time against the stage budget (--timeout).
 */

import assert from "node:assert/strict";
import { type LabServer, startLabServer } from "../../lib/lab/mod.ts";
import { EXIT_CODES } from "../../lib/types.ts";
import { type Json, runSshtrace, splitNdjson, type SshtraceResult } from "../helpers/cli.ts";
import { sharedHostKeys } from "../helpers/lab.ts";

const MB = 1e6;
/** The bound for one connection under any flood. */
const PEAK_RSS_LIMIT = 120 * MB;
/** What a run may take beyond its budget: Deno's start (~1 s on a busy machine) and the rest. */
const SLACK_MS = 3000;

async function withLab<T>(profile: string, body: (lab: LabServer) => Promise<T>): Promise<T> {
  const lab = await startLabServer({ profile, hostKeys: await sharedHostKeys() });
  try {
    return await body(lab);
  } finally {
    await lab.stop();
  }
}

/** `sshtrace ARGS demo@lab 'echo hi'` with the demo password, its peak RSS measured. */
function sshtrace(lab: LabServer, args: string[], timeoutMs = 30_000): Promise<SshtraceResult> {
  return runSshtrace(
    [
      ...args,
      "--password-env",
      "LAB_PASSWORD",
      "-o",
      "StrictHostKeyChecking=no",
      "-o",
      "UserKnownHostsFile=/dev/null",
      `demo@127.0.0.1:${lab.port}`,
      "echo hi",
    ],
    { env: { LAB_PASSWORD: "demo" }, peakRss: true, timeoutMs, textLimit: 4 * 1024 * 1024 },
  );
}

const mb = (bytes: number) => `${(bytes / MB).toFixed(0)} MB`;

function assertBounded(r: SshtraceResult, budgetMs: number, limit = PEAK_RSS_LIMIT): void {
  assert.ok(!r.timedOut, `killed after ${Math.round(r.ms)} ms (peak ${mb(r.peakRssBytes)})`);
  assert.ok(r.peakRssBytes > 0, "peak RSS was measured");
  assert.ok(r.peakRssBytes < limit, `peak RSS ${mb(r.peakRssBytes)}`);
  assert.ok(r.ms < budgetMs + SLACK_MS, `took ${Math.round(r.ms)} ms`);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at |Top-level await/);
}

Deno.test("a DEBUG flood before KEXINIT ends at the kex budget, in bounded memory, summed up", async () => {
  await withLab("debug-flood-kexinit", async (lab) => {
    const r = await sshtrace(lab, ["--timeout", "5"]);
    assertBounded(r, 5000);
    assert.equal(r.code, EXIT_CODES.kex, r.stderr.slice(-2000));
    assert.match(r.stderr, /no complete key exchange after 5\.\d s \(budget 5 s\)/);
    assert.match(r.stderr, /… \d{4,} more DEBUG messages \([\d.]+ [kM]B\) not shown/);
    assert.match(r.stderr, /cause +the server flooded stage kex with DEBUG messages/);
    assert.ok(r.stderrBytes < 64 * 1024, `${r.stderrBytes} bytes of trace`);
  });
});

Deno.test("IGNORE messages arriving steadily while the kex never completes end at its budget", async () => {
  await withLab("kex-never-completes", async (lab) => {
    const r = await sshtrace(lab, ["--timeout", "5", "-vv"]);
    assertBounded(r, 5000);
    assert.equal(r.code, EXIT_CODES.kex, r.stderr.slice(-2000));
    assert.match(r.stderr, /no complete key exchange after 5\.\d s \(budget 5 s\)/);
    assert.match(r.stderr, /… \d+ more IGNORE messages \([\d.]+ [kM]B\) not shown/);
    assert.ok(r.stderrBytes < 64 * 1024, `${r.stderrBytes} bytes of trace`);
  });
});

Deno.test("a DEBUG flood during a session keeps memory bounded and NDJSON says what it dropped", async () => {
  await withLab("debug-flood-session:5", async (lab) => {
    const r = await sshtrace(lab, ["--timeout", "5", "--ndjson"]);
    assertBounded(r, 5000 + 5000);
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    const { events, other } = splitNdjson(r.stdout);
    assert.deepEqual(other, ["hi"]);
    // Kept per stage (the flood may start while the session stage is still open).
    const debug = events.filter((e: Json) => e.type === "debug");
    for (const stage of new Set(debug.map((e: Json) => e.stage))) {
      const n = debug.filter((e: Json) => e.stage === stage).length;
      assert.ok(n <= 20, `${n} DEBUG events at stage ${stage}`);
    }
    assert.ok(debug.length <= 40, `${debug.length} DEBUG events`);
    const summary = events.find((e: Json) => e.type === "suppressed" && e.of === "debug");
    assert.ok(summary && summary.count > 1000, JSON.stringify(summary));
    assert.ok(summary.bytes > summary.count * 100);
  });
});

Deno.test("a USERAUTH_BANNER flood ends at the auth budget with auth.timeout in bounded memory", async () => {
  await withLab("banner-flood", async (lab) => {
    const r = await sshtrace(lab, ["--timeout", "5"]);
    assertBounded(r, 5000);
    assert.equal(r.code, EXIT_CODES.auth, r.stderr.slice(-2000));
    assert.match(r.stderr, /no complete answer from the server after 5\.\d s \(budget 5 s\)/);
    assert.match(r.stderr, /more banner text than is kept/);
    assert.match(r.stderr, /cause +the server flooded stage auth with USERAUTH_BANNER messages/);
    assert.match(r.stderr, /… \d+ more banners \([\d.]+ [kM]B\) not shown/);
  });
});

for (
  const [profile, stage] of [["reply-flood-session", "session"], ["reply-flood", "data"]] as const
) {
  Deno.test(`requests flooded by a server that reads no answer end as ${stage}.reply-flood, bounded`, async () => {
    await withLab(profile, async (lab) => {
      const r = await sshtrace(lab, ["--timeout", "5"]);
      // Before our answers queue up, the sockets' buffers take megabytes of them: the ~10^5
      // messages read meanwhile, in half a second, peak at 90-125 MB (unbounded before: 1.48 GB
      // after a 15 s flood).
      assertBounded(r, 5000, 160 * MB);
      assert.equal(r.code, EXIT_CODES[stage], r.stderr.slice(-2000));
      assert.match(r.stderr, /sent more than 8192 messages that need an answer/);
      assert.match(r.stderr, /cause +the server flooded the connection with requests/);
    });
  });
}

Deno.test("lines before the version line trickled a byte at a time end at the version budget", async () => {
  await withLab("trickle-version", async (lab) => {
    const r = await sshtrace(lab, ["--timeout", "3"]);
    assertBounded(r, 3000);
    assert.equal(r.code, EXIT_CODES.version, r.stderr.slice(-2000));
    assert.match(r.stderr, /no complete version line after 3\.\d s \(budget 3 s\)/);
  });
});

Deno.test("a 256 KiB packet trickled a byte at a time ends at the kex budget", async () => {
  await withLab("trickle-packet", async (lab) => {
    const r = await sshtrace(lab, ["--timeout", "3"]);
    assertBounded(r, 3000);
    assert.equal(r.code, EXIT_CODES.kex, r.stderr.slice(-2000));
    assert.match(r.stderr, /no complete (key exchange|packet) after 3\.\d s \(budget 3 s\)/);
  });
});

Deno.test("a data packet trickled a byte at a time ends at the packet budget in the data stage", async () => {
  await withLab("trickle-data-packet", async (lab) => {
    const r = await sshtrace(lab, ["--timeout", "3"]);
    assertBounded(r, 3000 + 1000);
    assert.equal(r.code, EXIT_CODES.data, r.stderr.slice(-2000));
    assert.match(r.stderr, /no complete packet after 3\.\d s \(budget 3 s\) during stage data/);
  });
});

Deno.test("a server that closes during a client rekey leaves the session's real result, every time", async () => {
  await withLab("rekey-close", async (lab) => {
    for (let i = 0; i < 6; i++) {
      const r = await sshtrace(lab, ["--timeout", "5", "-o", "RekeyLimit=64K"], 20_000);
      assert.ok(!r.timedOut, `run ${i} hung`);
      assert.doesNotMatch(r.stderr, /Top-level await|internal error/, `run ${i}`);
      assert.equal(r.code, 0, `run ${i}: ${r.stderr.slice(-1500)}`);
      assert.equal(r.stdout, "hi\n");
      assert.ok(r.stderrBytes >= 1.5 * 1024 * 1024, "all of stderr arrived");
    }
  });
});

Deno.test("a server that stops answering a client rekey after the session ended leaves its real result", async () => {
  await withLab("rekey-silent", async (lab) => {
    for (let i = 0; i < 2; i++) {
      const r = await sshtrace(lab, ["--timeout", "3", "-o", "RekeyLimit=64K"], 20_000);
      assert.ok(!r.timedOut, `run ${i} hung`);
      assert.doesNotMatch(r.stderr, /Top-level await|internal error/, `run ${i}`);
      assert.equal(r.code, 0, `run ${i}: ${r.stderr.slice(-1500)}`);
      assert.equal(r.stdout, "hi\n");
      assert.ok(r.ms < 3000 + SLACK_MS, `took ${Math.round(r.ms)} ms`);
    }
  });
});
