// `sshtrace check` without servers: exit codes, JUnit XML, argument checks, the send/exec choice.
// Against real servers (sshd, the old-switch emulator): test/interop/check/check_test.ts.
import assert from "node:assert/strict";
import {
  type CheckResult,
  fleetExitCode,
  type HostReport,
  sendDeviceFor,
} from "../../../lib/check/check.ts";
import { escapeXml, toJunitXml } from "../../../lib/check/junit.ts";
import { runCheck } from "../../../lib/cli/check.ts";
import { parseCommandLine } from "../../../lib/cli/args.ts";
import { emptySettings } from "../../../lib/config/options.ts";
import { tempDir } from "../../helpers/tools.ts";
import { xmlElements } from "../../helpers/xml.ts";

Deno.test("fleetExitCode() is 0 when all pass, the shared stage's code, or the earliest stage's", () => {
  assert.equal(fleetExitCode([{ ok: true, failedStage: null }]), 0);
  assert.equal(
    fleetExitCode([{ ok: true, failedStage: null }, { ok: false, failedStage: "auth" }, {
      ok: false,
      failedStage: "auth",
    }]),
    14,
  );
  assert.equal(
    fleetExitCode([{ ok: false, failedStage: "data" }, { ok: false, failedStage: "kex" }]),
    12,
  );
});

Deno.test("fleetExitCode() is 130 when a host was interrupted (Ctrl-C), whatever else failed", () => {
  const error = (code: string) => ({
    stage: "kex" as const,
    code,
    message: "m",
    title: "t",
    explanation: "e",
    fix: null,
    opensshFix: null,
    libraryFix: null,
    securityCost: null,
  });
  assert.equal(
    fleetExitCode([
      { ok: false, failedStage: "connect", error: error("connect.refused") },
      { ok: false, failedStage: "kex", error: error("kex.interrupted") },
    ]),
    130,
  );
});

function fakeHost(i: number, overrides: Partial<HostReport>): HostReport {
  return {
    ok: true,
    exitCode: 0,
    failedStage: null,
    error: null,
    config: null,
    server: {
      host: "10.0.0." + i,
      port: 22,
      versionLine: null,
      protocol: null,
      software: null,
      preVersionLines: null,
      quirks: [],
    },
    kex: null,
    hostKey: null,
    auth: null,
    timings: {},
    index: i,
    target: "10.0.0." + i,
    source: `inv:${i + 1}`,
    device: null,
    extra: {},
    ms: 12,
    command: null,
    grade: null,
    slow: [],
    ...overrides,
  };
}

Deno.test("toJunitXml() writes one testcase per host and escapes <&\"' and control characters", () => {
  const nasty = `banner <script>&"quoted" 'x' \x1b[31m\x00`;
  const result: CheckResult = {
    ok: false,
    exitCode: 12,
    summary: {
      total: 2,
      passed: 1,
      failed: 1,
      byStage: {
        usage: 0,
        config: 0,
        connect: 0,
        version: 0,
        kex: 1,
        hostkey: 0,
        auth: 0,
        session: 0,
        data: 0,
        transfer: 0,
      },
    },
    hosts: [
      fakeHost(0, {}),
      fakeHost(1, {
        ok: false,
        exitCode: 12,
        failedStage: "kex",
        target: `a&b<c>@10.0.0.1`,
        error: {
          stage: "kex",
          code: "kex.no-common-cipher",
          message: nasty,
          title: "no common cipher",
          explanation: "the server & the client share <no> cipher",
          fix: "use --legacy & retry",
          opensshFix: null,
          libraryFix: null,
          securityCost: null,
        },
      }),
    ],
    sharedHostKeys: [{ fingerprint: "SHA256:x<y", hosts: ["h1:22", "h2:22"], entries: [0, 1] }],
    ms: 1500,
  };
  const xml = toJunitXml(result, { suiteName: 'inv "prod" & <lab>', timestamp: new Date(0) });
  assert.match(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n/);
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(xml, /[\x00-\x08\x0b\x0c\x0e-\x1f]/, "no raw control characters");
  const els = xmlElements(xml);
  assert.deepEqual(els.map((e) => e.tag), [
    "testsuites",
    "testsuite",
    "testcase",
    "testcase",
    "failure",
    "system-out",
  ]);
  const suite = els[1]!.attrs;
  assert.equal(suite.name, 'inv "prod" & <lab>');
  assert.equal(suite.tests, "2");
  assert.equal(suite.failures, "1");
  assert.equal(suite.time, "1.500");
  assert.equal(suite.timestamp, "1970-01-01T00:00:00");
  assert.equal(els[2]!.attrs.name, "10.0.0.0");
  assert.equal(els[3]!.attrs.name, "a&b<c>@10.0.0.1");
  assert.equal(els[3]!.attrs.time, "0.012");
  const failure = els[4]!;
  assert.equal(failure.attrs.type, "kex");
  // Peer text is shown as in the terminal: controls as visible escapes, then XML-escaped.
  assert.equal(failure.attrs.message, `kex: banner <script>&"quoted" 'x' \\x1b[31m\\x00`);
  assert.match(failure.text, /^stage: kex\ncode: kex\.no-common-cipher\n/);
  assert.match(failure.text, /fix: use --legacy & retry/);
  assert.match(failure.text, /why: the server & the client share <no> cipher/);
  assert.match(els[5]!.text, /SHA256:x<y is shared by h1:22, h2:22/);
  assert.equal(xml.match(/<\/testcase>/g)?.length, 1);
  assert.match(xml, /<\/testsuite>\n<\/testsuites>\n$/);
});

Deno.test("escapeXml() escapes markup and replaces characters XML cannot carry", () => {
  assert.equal(
    escapeXml(`<a href="x">&'</a>`),
    "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;",
  );
  assert.equal(escapeXml("tab\there\nnl\x07bell\uFFFF"), "tab\there\nnl\uFFFDbell\uFFFD");
  assert.equal(
    escapeXml("lone \uD800 surrogate, pair \uD83D\uDE00"),
    "lone \uFFFD surrogate, pair \uD83D\uDE00",
  );
});

Deno.test("check --fsync goes with --fetch: parsed, and refused without it", async () => {
  const r = parseCommandLine(["check", "--login", "--fetch", "/cfg", "--fsync", "hosts.txt"]);
  assert.ok(r.name === "check");
  assert.equal(r.flags.fsync, true);
  const none = parseCommandLine(["check", "--login", "--fetch", "/cfg", "hosts.txt"]);
  assert.ok(none.name === "check");
  assert.equal(none.flags.fsync, undefined); // no flush to disk unless asked, as get
  await using dir = await tempDir();
  const inv = `${dir.path}/h.txt`;
  await Deno.writeTextFile(inv, "127.0.0.1\n");
  await assert.rejects(
    () =>
      runCheck({
        inventoryPath: inv,
        settings: emptySettings(),
        timeoutMs: 1000,
        flags: { login: true, fsync: true },
      }),
    /--fsync goes with --fetch/,
  );
});

Deno.test("runCheck() refuses --command without --login and a bad --concurrency", async () => {
  await using dir = await tempDir();
  const inv = `${dir.path}/h.txt`;
  await Deno.writeTextFile(inv, "127.0.0.1\n");
  const base = { inventoryPath: inv, settings: emptySettings(), timeoutMs: 1000 };
  await assert.rejects(
    () => runCheck({ ...base, flags: { command: "true" } }),
    /--command needs --login/,
  );
  await assert.rejects(() => runCheck({ ...base, flags: { concurrency: "0" } }), /--concurrency/);
  await Deno.writeTextFile(inv, "good.example\nbad host\n");
  await assert.rejects(
    () => runCheck({ ...base, flags: {} }),
    (e: Error) => /h\.txt:2:/.test(e.message),
  );
});

Deno.test("sendDeviceFor() picks send for switch presets and auto, exec for linux and others", () => {
  for (const d of ["comware", "Huawei", " cisco ", "junos", "auto"]) {
    assert.equal(sendDeviceFor(d), d.trim().toLowerCase(), d);
  }
  for (const d of ["linux", "", null, "fortigate"]) assert.equal(sendDeviceFor(d), null, String(d));
});

Deno.test("transcriptNames() names logs <host>.log, with the port off 22 and -N for repeats", async () => {
  const { transcriptNames } = await import("../../../lib/cli/check.ts");
  assert.deepEqual(
    transcriptNames([
      { host: "sw1", port: null },
      { host: "sw1", port: 22 },
      { host: "10.0.0.1", port: 2222 },
      { host: "fe80::1%eth0", port: null },
    ]),
    ["sw1.log", "sw1-2.log", "10.0.0.1_2222.log", "fe80__1_eth0.log"],
  );
});
