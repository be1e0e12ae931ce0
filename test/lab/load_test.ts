/**
 * Load: 200 concurrent sessions from the real client to one lab server (curve25519 and an
 * Ed25519 host key keep each handshake cheap), each running `echo N` and checking its own output.
 * Set SSHTRACE_LAB_LOAD=1000 to run the bigger benchmark by hand.
 */

import assert from "node:assert/strict";
import { startLabServer } from "../../lib/lab/mod.ts";
import { connectLab, decode, sharedHostKeys } from "../helpers/lab.ts";

function sessions(): number {
  try {
    return Number(Deno.env.get("SSHTRACE_LAB_LOAD") ?? "200") || 200;
  } catch {
    return 200;
  }
}

Deno.test("200 concurrent sessions to the lab server all complete with their data intact", async () => {
  const count = sessions();
  const lab = await startLabServer({
    hostKeys: await sharedHostKeys(),
    algorithms: { kex: ["curve25519-sha256"], hostKey: ["ssh-ed25519"] },
    config: { maxPacket: 32 * 1024 },
  });
  const start = performance.now();
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, lab.active)), 5);
  try {
    const results = await Promise.allSettled(
      Array.from({ length: count }, async (_, i) => {
        const client = await connectLab(lab, { timeoutMs: 30_000 });
        try {
          const payload = `session ${i} ${"x".repeat(i % 97)}`;
          const { stdout, exit } = await client.exec(`echo '${payload}'; exit ${i % 256}`);
          assert.equal(decode(stdout), `${payload}\n`, `session ${i}`);
          assert.equal(exit.status, i % 256, `session ${i}`);
        } finally {
          await client.close();
        }
      }),
    );
    const failed = results.flatMap((r, i) =>
      r.status === "rejected" ? [`session ${i}: ${(r.reason as Error).message}`] : []
    );
    assert.deepEqual(failed, []);
  } finally {
    clearInterval(sampler);
    await lab.stop();
  }
  const seconds = (performance.now() - start) / 1000;
  assert.equal(lab.connections, count);
  assert.deepEqual(lab.errors, []);
  assert.ok(peak > 1, `sessions overlapped (peak ${peak} open at once)`);
  assert.ok(seconds < 30, `${count} sessions took ${seconds.toFixed(1)} s`);
  // For the record when run by hand: deno test -A test/lab/load_test.ts 2>&1 | grep sessions
  if (Deno.env.get("SSHTRACE_LAB_LOAD")) {
    await Deno.stderr.write(
      new TextEncoder().encode(
        `${count} sessions in ${seconds.toFixed(2)} s, peak ${peak} open at once\n`,
      ),
    );
  }
});
