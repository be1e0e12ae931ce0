/** `check --drift` and `check --policy` over three lab servers, one of which drifted. */

import assert from "node:assert/strict";
import { startLabServer } from "../../../lib/lab/mod.ts";
import { runSshtrace } from "../../helpers/cli.ts";
import { sharedHostKeys } from "../../helpers/lab.ts";
import { tempDir } from "../../helpers/tools.ts";
import { xmlElements } from "../../helpers/xml.ts";

Deno.test("check names the host whose offer drifted, and exits 3 when it fails the policy", async () => {
  const hostKeys = await sharedHostKeys();
  const labs = [
    await startLabServer({ hostKeys }),
    await startLabServer({ hostKeys }),
    await startLabServer({ hostKeys, algorithms: { cipher: ["aes128-ctr", "aes128-cbc"] } }),
  ];
  await using dir = await tempDir("sshtrace-drift-");
  const inventory = `${dir.path}/hosts.txt`;
  await Deno.writeTextFile(inventory, labs.map((l) => `127.0.0.1:${l.port}\n`).join(""));
  const policy = `${dir.path}/policy.json`;
  await Deno.writeTextFile(
    policy,
    JSON.stringify({
      name: "no-cbc",
      allowed: { cipher: ["chacha20-poly1305@openssh.com", "aes*-gcm@openssh.com", "aes*-ctr"] },
    }),
  );
  const odd = `127.0.0.1:${labs[2]!.port}`;
  try {
    const drift = await runSshtrace(["check", "-q", "--drift", inventory]);
    assert.equal(drift.code, 0, drift.stderr);
    assert.match(
      drift.stdout,
      new RegExp(
        `drift:\\n {2}${odd}\\n {4}cipher differs from the majority: also aes128-cbc; lacks `,
      ),
    );
    assert.ok(!drift.stdout.includes(`127.0.0.1:${labs[0]!.port}\n`), drift.stdout);

    const junit = `${dir.path}/junit.xml`;
    const checked = await runSshtrace([
      "check",
      "-q",
      "--policy",
      policy,
      "--junit",
      junit,
      inventory,
    ]);
    assert.equal(checked.code, 3, checked.stderr);
    assert.match(checked.stdout, /FAIL allowed\.cipher: also offers aes128-cbc/);
    // JUnit: the check's testsuite, then one per host with a testcase per rule.
    const els = xmlElements(await Deno.readTextFile(junit));
    const suites = els.filter((e) => e.tag === "testsuite").map((e) => e.attrs.name);
    assert.deepEqual(suites.slice(1), labs.map((l) => `policy no-cbc: 127.0.0.1:${l.port}`));
    const failures = els.filter((e) => e.tag === "failure" && e.attrs.type === "policy");
    assert.deepEqual(failures.map((f) => f.attrs.message), [
      "allowed.cipher: also offers aes128-cbc",
    ]);
    assert.match(failures[0]!.text, new RegExp(`host: ${odd}`));
  } finally {
    for (const l of labs) await l.stop();
  }
});
