// `sshtrace send` as a user runs it (a subprocess) against the lab's device imitations:
// `--enable --enable-level`, the exit code of a level the device lacks and of a rejected
// configuration line, and a wrong `--device` noticed at once with the right one named.
import assert from "node:assert/strict";
import { startLabServer } from "../../../lib/lab/mod.ts";
import { LAB_ENABLE_SECRET } from "../../../lib/lab/devices/mod.ts";
import { assertNoStackTrace, parseJsonReport, runSshtrace } from "../../helpers/cli.ts";
import { sharedHostKeys } from "../../helpers/lab.ts";
import { tempDir } from "../../helpers/tools.ts";

async function withProfile(
  profile: string,
  body: (send: (args: string[]) => ReturnType<typeof runSshtrace>) => Promise<void>,
): Promise<void> {
  await using tmp = await tempDir("sshtrace-send-lab-");
  const lab = await startLabServer({ profile, hostKeys: await sharedHostKeys() });
  try {
    await body((args) =>
      runSshtrace(
        [
          "send",
          "-o",
          "StrictHostKeyChecking=no",
          "--password-env",
          "PW",
          `admin@127.0.0.1:${lab.port}`,
          ...args,
        ],
        { home: tmp.path, env: { PW: "admin", ES: LAB_ENABLE_SECRET } },
      )
    );
  } finally {
    await lab.stop();
  }
}

Deno.test("send --enable --enable-level 15 on VRP; a rejected config line exits 15; level 16 is a usage error", async () => {
  await withProfile("device-huawei", async (send) => {
    const ok = await send([
      "--enable",
      "--enable-level",
      "15",
      "--enable-secret-env",
      "ES",
      "--json",
      "--",
      "display current-configuration",
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    const report = parseJsonReport(ok.stdout);
    assert.equal(report.commands[0].status, "ok");
    assert.equal(report.device.name, "huawei");
    assert.equal(report.device.privilegeLevel, 15);
    assert.ok(
      report.device.evidence.includes('version line "SSH-2.0-HUAWEI-1.5" names Huawei VRP'),
      JSON.stringify(report.device),
    );
    assert.match(report.commands[0].output, /^#\n version 5\.20\.105/);
    assert.match(ok.stderr, /privilege: level 15 reached with "super 15"/);
    assert.ok(!ok.stderr.includes(LAB_ENABLE_SECRET) && !ok.stdout.includes(LAB_ENABLE_SECRET));

    const usage = await send(["--enable", "--enable-level", "16", "--", "display version"]);
    assert.equal(usage.code, 2, usage.stderr);
    assert.match(usage.stderr, /--enable-level 16: expected a privilege level 0-15/);

    const config = await send([
      "--enable",
      "--enable-secret-env",
      "ES",
      "--enable-level",
      "15",
      "--config",
      "--",
      "sysname HUAWEI",
      "bogus",
    ]);
    assert.equal(config.code, 15, config.stderr);
    assert.match(config.stderr, /rejected command 2 of 2/);
  });
});

Deno.test("send --enable-level 15 on Comware 5 (levels 0-3) fails at stage session, exit 15", async () => {
  await withProfile("old-switch", async (send) => {
    const level = await send([
      "--legacy",
      "--enable",
      "--enable-level",
      "15",
      "--enable-secret-env",
      "ES",
      "--",
      "display version",
    ]);
    assert.equal(level.code, 15, level.stderr);
    assertNoStackTrace(level);
    assert.match(level.stderr, /did not reach level 15/);
    assert.match(level.stderr, /--enable-level with a level the device has/);
  });
});

Deno.test("send --device cisco at a Junos prompt fails at once and names junos", async () => {
  await withProfile("device-junos", async (send) => {
    const started = performance.now();
    const res = await send(["--device", "cisco", "--", "show version"]);
    assert.equal(res.code, 15, res.stderr);
    assertNoStackTrace(res);
    assert.match(res.stderr, /looks like\s+(?:│\s+)?Juniper Junos/);
    assert.match(res.stderr, /--device junos/);
    assert.ok(performance.now() - started < 12_000);
  });
});

/** Per device profile: a command it runs, one it rejects, and whether it needs --enable. */
const EXIT_CASES: [string, string, string, boolean][] = [
  ["device-comware", "display version", "display bogus", true],
  ["device-huawei", "display version", "display bogus", false],
  ["device-cisco", "show version", "show bogus", false],
  ["device-asa", "show version", "show bogus", true],
  ["device-eos", "show version", "show bogus", true],
  ["device-os10", "show version", "show bogus", false],
  ["device-junos", "show version", "show bogus", false],
  ["device-routeros", "/system resource print", "/bogus", false],
  ["device-fortios", "get system status", "show bogus", false],
  ["device-exos", "show version", "show bogus", false],
  ["device-procurve", "show version", "show bogus", false],
];

for (const [profile, good, bad, enable] of EXIT_CASES) {
  Deno.test(`send to ${profile}: exit 0 when accepted, 15 with the output kept when rejected`, async () => {
    await withProfile(profile, async (send) => {
      const flags = enable ? ["--enable", "--enable-secret-env", "ES"] : [];
      const ok = await send([...flags, "--json", "--", good]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(parseJsonReport(ok.stdout).commands[0].status, "ok");
      const rejected = await send([...flags, "--json", "--", good, bad]);
      assert.equal(rejected.code, 15, rejected.stderr);
      assertNoStackTrace(rejected);
      const report = parseJsonReport(rejected.stdout);
      assert.deepEqual(report.commands.map((c: { status: string }) => c.status), [
        "ok",
        "rejected",
      ]);
      assert.ok(report.commands[0].output.length > 0);
      assert.equal(report.error.code, "session.command-rejected");
    });
  });
}
