/** `sshtrace doctor` on the command line, against a lab device that needs a legacy set. */

import assert from "node:assert/strict";
import { startLabServer } from "../../../lib/lab/mod.ts";
import { runSshtrace } from "../../helpers/cli.ts";
import { sharedHostKeys } from "../../helpers/lab.ts";
import { tempDir } from "../../helpers/tools.ts";

const OPTS = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"];

Deno.test("sshtrace doctor logs in, prints every form and appends the Host block", async () => {
  const lab = await startLabServer({
    profile: "doctor-legacy-only",
    hostKeys: await sharedHostKeys(),
    users: [{ name: "demo", password: "s3cret-pw" }],
  });
  await using dir = await tempDir("sshtrace-doctor-cli-");
  const config = `${dir.path}/config`;
  await Deno.writeTextFile(config, "Host other\n  Port 2200\n");
  try {
    const target = `demo@127.0.0.1:${lab.port}`;
    const r = await runSshtrace(
      [
        "doctor",
        "--goal",
        "login",
        "--password-env",
        "PW",
        ...OPTS,
        "--write-config",
        config,
        target,
      ],
      { env: { PW: "s3cret-pw" } },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\* modern: sshtrace's defaults\n +failed at kex \(kex\.no-common-kex/);
    assert.match(r.stdout, /\* legacy-set: enable diffie-hellman-group14-sha1, aes128-cbc/);
    assert.match(r.stdout, /sshtrace --kex \+diffie-hellman-group14-sha1 --ciphers \+aes128-cbc/);
    assert.match(r.stdout, /^Netmiko:$/m);
    assert.ok(!`${r.stdout}${r.stderr}`.includes("s3cret-pw"), "no secret printed");
    const written = await Deno.readTextFile(config);
    assert.match(written, /^Host other\n {2}Port 2200\n\n# sshtrace doctor/);
    assert.match(written, /^ {2}KexAlgorithms \+diffie-hellman-group14-sha1$/m);

    const j = await runSshtrace(["doctor", "--json", ...OPTS, target]);
    assert.equal(j.code, 0, j.stderr);
    const report = JSON.parse(j.stdout);
    assert.equal(report.goal, "probe");
    assert.deepEqual(report.rungs.map((x: { rung: string }) => x.rung), ["modern", "legacy-set"]);
    assert.match(report.forms["OpenSSH ssh_config"], /Ciphers \+aes128-cbc/);
  } finally {
    await lab.stop();
  }
});

Deno.test("sshtrace doctor refuses an unknown --goal as a usage error", async () => {
  const r = await runSshtrace(["doctor", "--goal", "everything", "127.0.0.1:1"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /invalid --goal "everything"/);
});
