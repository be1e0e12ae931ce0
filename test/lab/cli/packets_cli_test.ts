/**
 * `-vv` shows packets: one line per packet both ways (sequence number, name, payload size, and
 * channel data's channel and byte count), nothing of user-auth messages but their name, and a
 * bounded trace however much data flows. Runs the CLI against the lab server.
 */

import assert from "node:assert/strict";
import { startLabServer } from "../../../lib/lab/mod.ts";
import {
  emptyHome,
  MiB,
  runSshtrace,
  splitNdjson,
  type SshtraceOptions,
} from "../../helpers/cli.ts";
import { tempDir } from "../../helpers/tools.ts";
import { sharedHostKeys } from "../../helpers/lab.ts";

const PASSWORD = "Pw-7c1f-unlikely";

/** Logs in to a lab server as `demo` with {@link PASSWORD} and runs `command` with `flags`. */
async function run(flags: string[], command: string[], options: SshtraceOptions = {}) {
  const lab = await startLabServer({
    hostKeys: await sharedHostKeys(),
    users: [{ name: "demo", password: PASSWORD }],
  });
  await using dir = await tempDir();
  try {
    return await runSshtrace([
      ...flags,
      "-o",
      "StrictHostKeyChecking=no",
      "--password-env",
      "LAB_PASSWORD",
      "-p",
      String(lab.port),
      `demo@${lab.host}`,
      ...command,
    ], { home: await emptyHome(dir.path), env: { LAB_PASSWORD: PASSWORD }, ...options });
  } finally {
    await lab.stop();
  }
}

/** The packet lines of a human trace, without the label. */
const packetLines = (stderr: string) =>
  stderr.split("\n").filter((l) => l.startsWith("   packet    ")).map((l) => l.slice(13));

Deno.test("-vv traces every packet both ways: sequence number, name, size, channel and bytes", async () => {
  const r = await run(["-vv"], ["echo", "hi"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "hi\n");
  const lines = packetLines(r.stderr);
  const has = (re: RegExp) => assert.ok(lines.some((l) => re.test(l)), `${re} in\n${r.stderr}`);
  has(/^→ #0 KEXINIT \(payload \d+\)$/);
  has(/^← #0 KEXINIT \(payload \d+\)$/);
  has(/^→ #\d+ NEWKEYS \(payload 1\)$/);
  has(/^← #\d+ NEWKEYS \(payload 1\)$/);
  has(/^→ #\d+ SERVICE_REQUEST \(payload \d+\)$/);
  has(/^← #\d+ SERVICE_ACCEPT \(payload \d+\)$/);
  has(/^→ #\d+ USERAUTH_REQUEST$/);
  has(/^← #\d+ USERAUTH_SUCCESS$/);
  has(/^→ #\d+ CHANNEL_OPEN \(payload \d+\)$/);
  has(/^← #\d+ CHANNEL_DATA ch 0 3 bytes \(payload 12\)$/);
  // Sequence numbers count up in each direction (strict kex resets them after NEWKEYS).
  const outSeqs = lines.filter((l) => l.startsWith("→")).map((l) =>
    Number(l.split(" ")[1]!.slice(1))
  );
  assert.ok(outSeqs.length > 5);
  const afterNewkeys = outSeqs.slice(outSeqs.indexOf(0, 1));
  assert.deepEqual(afterNewkeys, afterNewkeys.map((_, i) => i));
});

Deno.test("-v shows no packets", async () => {
  const r = await run(["-v"], ["echo", "hi"]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(packetLines(r.stderr), []);
});

Deno.test("a password login's -vv trace and NDJSON hold no byte of the password, nor its packet's size", async () => {
  const r = await run(["-vv", "--ndjson"], ["echo", "hi"]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!r.stderr.includes(PASSWORD) && !r.stdout.includes(PASSWORD));
  const { events } = splitNdjson(r.stdout);
  const packets = events.filter((e) => e.type === "packet");
  assert.ok(
    packets.some((e) => e.direction === "in") && packets.some((e) => e.direction === "out"),
  );
  const auth = packets.filter((e) => e.number >= 50 && e.number < 80);
  assert.ok(auth.some((e) => e.message === "USERAUTH_REQUEST" && e.direction === "out"));
  for (const e of auth) {
    assert.deepEqual(Object.keys(e).sort(), [
      "direction",
      "message",
      "number",
      "seq",
      "stage",
      "t",
      "type",
    ]);
  }
});

Deno.test("-vv on a 64 MiB download shows the first packets, then one line sums up the rest", async () => {
  const bytes = 64 * MiB;
  const r = await run(["-vv"], ["head", "-c", String(bytes), "/dev/zero"], {
    textLimit: 1 << 20,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdoutBytes, bytes);
  const lines = packetLines(r.stderr);
  assert.ok(lines.some((l) => /^← #\d+ CHANNEL_DATA ch 0 \d+ bytes/.test(l)));
  assert.ok(lines.some((l) => /^→ #\d+ CHANNEL_WINDOW_ADJUST ch 0 \+\d+ window/.test(l)));
  // At most 100 packet lines per stage (kex, auth, session, data), whatever the size.
  assert.ok(lines.length <= 400, `${lines.length} packet lines`);
  assert.ok(r.stderrBytes < 64 * 1024, `${r.stderrBytes} bytes of trace`);
  const summary = /… (\d+) more packets \(([\d.]+) MB\) not shown/.exec(r.stderr);
  assert.ok(summary, r.stderr);
  assert.ok(Number(summary[1]) > 1000);
  assert.ok(Number(summary[2]) * 1e6 > bytes * 0.9);
});
