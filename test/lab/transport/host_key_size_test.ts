/**
 * RSA host keys under the required size (1024 bits, or OpenSSH's RequiredRSASize) are refused
 * at stage kex before their signature is checked or any credential is sent.
 */

import assert from "node:assert/strict";
import { startLabServer } from "../../../lib/lab/mod.ts";
import { emptyHome, parseJsonReport, runSshtrace } from "../../helpers/cli.ts";
import { tempDir } from "../../helpers/tools.ts";
import { sharedHostKeys } from "../../helpers/lab.ts";

async function run(extra: string[]) {
  const lab = await startLabServer({ profile: "modern", hostKeys: await sharedHostKeys() });
  await using dir = await tempDir();
  try {
    return await runSshtrace([
      "--json",
      "--timeout",
      "3",
      "-o",
      "StrictHostKeyChecking=no",
      "--hostkeys",
      "rsa-sha2-512",
      "--password-env",
      "LAB_PASSWORD",
      ...extra,
      "-p",
      String(lab.port),
      `demo@${lab.host}`,
      "echo",
      "hi",
    ], { home: await emptyHome(dir.path), env: { LAB_PASSWORD: "demo" } });
  } finally {
    await lab.stop();
  }
}

Deno.test("-o RequiredRSASize=3072 refuses a 2048-bit RSA host key at kex, before authentication", async () => {
  const r = await run(["-o", "RequiredRSASize=3072"]);
  assert.equal(r.code, 12, r.stderr);
  const report = parseJsonReport(r.stdout);
  assert.equal(report.error.code, "kex.host-key-too-small");
  assert.match(report.error.message, /2048 bits, fewer than the 3072 required/);
  assert.ok(!r.stderr.includes("── auth"), "no authentication was attempted");
});

Deno.test("a 2048-bit RSA host key passes the default floor and RequiredRSASize=2048", async () => {
  for (const extra of [[], ["-o", "RequiredRSASize=2048"]]) {
    const r = await run(extra);
    assert.equal(r.code, 0, r.stderr);
  }
});
