/**
 * `check --deep` over an inventory of 100 rows: two real sshd (one hardened, one offering CBC)
 * and two lab devices (an old switch, a modern server), 25 rows each, 8 hosts at once. Every row
 * gets its server's offer and grade; the time of the run is printed (docs/BENCHMARKS.md states
 * it); a policy gives exit 3 and JUnit with a testsuite per host.
 */

import assert from "node:assert/strict";
import { startLabServer } from "../../../lib/lab/mod.ts";
import { runSshtrace } from "../../helpers/cli.ts";
import { sharedHostKeys } from "../../helpers/lab.ts";
import { startSshd } from "../../helpers/sshd.ts";
import { tempDir } from "../../helpers/tools.ts";
import { xmlElements } from "../../helpers/xml.ts";

Deno.test("check --deep: 100 inventory rows over four servers in one run, 8 at once, with the time", async () => {
  const keys = await sharedHostKeys();
  const hardened = await startSshd({ hostKeyTypes: ["ed25519"] });
  const cbc = await startSshd({
    hostKeyTypes: ["ed25519", "rsa"],
    ciphers: "aes128-ctr,aes128-cbc",
  });
  const oldSwitch = await startLabServer({ profile: "old-switch", hostKeys: keys });
  const modern = await startLabServer({ profile: "modern", hostKeys: keys });
  await using dir = await tempDir("sshtrace-deep-fleet-");
  const servers = [hardened.port, cbc.port, oldSwitch.port, modern.port];
  const inventory = `${dir.path}/hosts.txt`;
  const rows = Array.from({ length: 100 }, (_, i) => `127.0.0.1:${servers[i % 4]}`);
  await Deno.writeTextFile(inventory, rows.join("\n") + "\n");
  try {
    const started = performance.now();
    const r = await runSshtrace(["check", "--deep", "--json", "--concurrency", "8", inventory], {
      timeoutMs: 600_000,
    });
    const wallMs = performance.now() - started;
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.hosts.length, 100);
    assert.ok(out.hosts.every((h: { lists: unknown }) => h.lists !== null));
    // Every row of one server grades the same.
    for (let s = 0; s < 4; s++) {
      const grades = new Set(
        out.hosts.filter((_: unknown, i: number) => i % 4 === s).map((h: {
          grade: { letter: string; score: number };
        }) => `${h.grade.letter} ${h.grade.score}`),
      );
      assert.equal(grades.size, 1, `server ${s}: ${[...grades].join(", ")}`);
    }
    const cbcRow = out.hosts[1];
    assert.ok(
      cbcRow.alone.cipher.some((x: { name: string; accepted: boolean }) =>
        x.name === "aes128-cbc" && x.accepted
      ),
    );
    // deno-lint-ignore no-console -- the time of the run is the result (BENCHMARKS.md)
    console.log(
      `check --deep: 100 hosts in ${(out.ms / 1000).toFixed(1)} s (wall ${
        (wallMs / 1000).toFixed(1)
      } s with start-up), ${out.connections} connections, 8 at once`,
    );

    // A policy over a few rows: exit 3, JUnit with a testsuite per host.
    const few = `${dir.path}/few.txt`;
    await Deno.writeTextFile(few, rows.slice(0, 4).join("\n") + "\n");
    const junit = `${dir.path}/policy.xml`;
    const p = await runSshtrace([
      "check",
      "--deep",
      "--policy",
      "builtin:modern-hardened",
      "--junit",
      junit,
      few,
    ]);
    assert.equal(p.code, 3, p.stdout + p.stderr);
    assert.match(p.stdout, /policy modern-hardened: \d of 4 hosts fail/);
    assert.match(p.stdout, /4 hosts deep-probed in [\d.]+ s \(8 at once, \d+ connections\)/);
    const suites = xmlElements(await Deno.readTextFile(junit)).filter((e) => e.tag === "testsuite");
    assert.deepEqual(
      suites.map((s) => s.attrs.name),
      rows.slice(0, 4).map((t) => `policy modern-hardened: ${t}`),
    );
  } finally {
    await hardened.stop();
    await cbc.stop();
    await oldSwitch.stop();
    await modern.stop();
  }
});
