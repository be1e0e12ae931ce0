// Policies as JUnit: a testsuite per host, a testcase per rule (probe --deep --policy --junit,
// and check --policy --junit after the check's own testsuite).
import assert from "node:assert/strict";
import type { CheckResult } from "../../../lib/check/check.ts";
import { policyJunitXml, toJunitXml } from "../../../lib/check/junit.ts";
import { xmlElements } from "../../helpers/xml.ts";

const RESULTS = [
  { rule: "allowed.kex", pass: true, detail: "only allowed algorithms" },
  { rule: "strictKex", pass: false, detail: "not offered" },
  { rule: "minHostKeyBits.ssh-rsa", pass: false, detail: "a 1024-bit ssh-rsa key <3072>" },
];

Deno.test("policyJunitXml() writes a testcase per rule, a failure for each failed rule", () => {
  const xml = policyJunitXml(
    "modern-hardened",
    [{ target: "sw1:22", results: RESULTS, ms: 2500 }],
    {
      timestamp: new Date(0),
    },
  );
  const els = xmlElements(xml);
  assert.deepEqual(els.map((e) => e.tag), [
    "testsuites",
    "testsuite",
    "testcase",
    "testcase",
    "failure",
    "testcase",
    "failure",
  ]);
  assert.equal(els[0]!.attrs.tests, "3");
  assert.equal(els[0]!.attrs.failures, "2");
  assert.equal(els[1]!.attrs.name, "policy modern-hardened: sw1:22");
  assert.equal(els[1]!.attrs.time, "2.500");
  assert.deepEqual(els.filter((e) => e.tag === "testcase").map((e) => e.attrs.name), [
    "allowed.kex",
    "strictKex",
    "minHostKeyBits.ssh-rsa",
  ]);
  assert.equal(els[2]!.attrs.classname, "sshtrace.policy.modern-hardened.sw1:22");
  assert.equal(els[4]!.attrs.message, "strictKex: not offered");
  assert.match(els[6]!.text, /detail: a 1024-bit ssh-rsa key <3072>/);
});

Deno.test("policyJunitXml() marks a host whose offer was not seen as skipped, not passed", () => {
  const els = xmlElements(
    policyJunitXml("p", [{ target: "down:22", results: null, why: "offer not seen: refused" }]),
  );
  assert.deepEqual(els.map((e) => e.tag), ["testsuites", "testsuite", "testcase", "skipped"]);
  assert.equal(els[0]!.attrs.skipped, "1");
  assert.equal(els[0]!.attrs.failures, "0");
  assert.equal(els[3]!.attrs.message, "offer not seen: refused");
});

Deno.test("toJunitXml() with a policy adds a testsuite per host after the check's, and counts its rules", () => {
  const result: CheckResult = {
    ok: true,
    exitCode: 0,
    summary: {
      total: 0,
      passed: 0,
      failed: 0,
      byStage: {
        usage: 0,
        config: 0,
        connect: 0,
        version: 0,
        kex: 0,
        hostkey: 0,
        auth: 0,
        session: 0,
        data: 0,
        transfer: 0,
      },
    },
    hosts: [],
    sharedHostKeys: [],
    ms: 10,
  };
  const xml = toJunitXml(result, {
    timestamp: new Date(0),
    policy: {
      name: "p",
      hosts: [{ target: "a", results: RESULTS }, { target: "b", results: RESULTS.slice(0, 1) }],
    },
  });
  const els = xmlElements(xml);
  const suites = els.filter((e) => e.tag === "testsuite").map((e) => e.attrs.name);
  assert.deepEqual(suites, ["sshtrace check", "policy p: a", "policy p: b"]);
  assert.equal(els[0]!.attrs.tests, "4");
  assert.equal(els[0]!.attrs.failures, "2");
});
