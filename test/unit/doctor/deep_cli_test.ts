/** The words of `doctor` (named causes) and `check --deep` (table, usage), without servers. */

import assert from "node:assert/strict";
import { runCheck } from "../../../lib/cli/check.ts";
import { deepFleetText } from "../../../lib/cli/deep.ts";
import { doctorText } from "../../../lib/cli/doctor.ts";
import { emptySettings } from "../../../lib/config/options.ts";
import type { DeepProbeResult } from "../../../lib/doctor/deep.ts";
import type { DoctorReport } from "../../../lib/doctor/ladder.ts";
import { defaultSettings } from "../../../lib/doctor/settings.ts";
import { tempDir } from "../../helpers/tools.ts";

const REPORT: DoctorReport = {
  target: { host: "sw1", port: 22, user: null },
  goal: "probe",
  rungs: [],
  working: null,
  cost: [],
  causes: [{
    code: "version.closed",
    cause: "per-source-penalties",
    signs: ["an earlier connection of this run was answered by OpenSSH_10.0 (9.8 or later)"],
    stage: "version",
    title: "OpenSSH's PerSourcePenalties: the server refuses this address for now",
    explanation: "…",
    fix: "wait at least 16 s",
    evidence: ["legacy-set (enable x): closed"],
  }],
  confirmed: null,
};

Deno.test("doctorText() names a ranked cause with its id and what was seen", () => {
  const text = doctorText(REPORT);
  assert.match(
    text,
    /1\. OpenSSH's PerSourcePenalties: .* \(per-source-penalties, version\.closed\)/,
  );
  assert.match(text, /seen: an earlier connection of this run was answered by OpenSSH_10\.0/);
  assert.match(text, /evidence: legacy-set \(enable x\): closed/);
});

Deno.test("doctorText() says which named cause the working change confirms", () => {
  const text = doctorText({
    ...REPORT,
    causes: [],
    working: { ...defaultSettings(), versionAfterGreeting: true },
    confirmed: "greeting-first",
  });
  assert.match(
    text,
    /Cause confirmed by the change that worked: the server dropped our version line.*\[greeting-first\]/,
  );
});

Deno.test("deepFleetText() tables the hosts and ends with the time of the run", () => {
  const result = (grade: string | null) =>
    ({
      probe: { error: grade ? null : { stage: "connect", code: "connect.refused" } },
      lists: grade ? {} : null,
      hostKeys: [{ keyType: "ssh-ed25519", bits: 256 }],
      vendor: "OpenSSH",
      strictKex: true,
      terrapin: { exposed: false },
      connections: 20,
      durationMs: 900,
      grade: grade ? { letter: grade, score: 95, partial: [], reasons: [] } : null,
      penalties: { server: true, waitedMs: 2500, refused: false },
    }) as unknown as DeepProbeResult;
  const text = deepFleetText(
    {
      hosts: [
        { index: 0, target: "a", source: "i:1", result: result("A") },
        { index: 1, target: "b", source: "i:2", result: result(null) },
      ],
      ms: 12_345,
      connections: 21,
    },
    8,
    {
      name: "p",
      hosts: [
        { target: "a", results: [{ rule: "strictKex", pass: false, detail: "not offered" }] },
        {
          target: "b",
          results: null,
          why: "offer not seen: refused",
        },
      ],
    },
  );
  assert.match(text, /^HOST\s+GRADE\s+VENDOR/);
  assert.match(text, /^a\s+A 95\s+OpenSSH\s+ed25519\/256\s+strict\s+20\s+900$/m);
  assert.match(text, /^b\s+FAIL\s+connect: connect\.refused/m);
  assert.match(text, /policy p: 2 of 2 hosts fail\n {2}a\n {4}FAIL strictKex: not offered/);
  assert.match(
    text,
    /2 hosts deep-probed in 12\.3 s \(8 at once, 21 connections, 5\.0 s paced for PerSourcePenalties\); 1 without an offer\n$/,
  );
});

Deno.test("check --deep refuses the flags of a login", async () => {
  await using dir = await tempDir();
  const inv = `${dir.path}/h.txt`;
  await Deno.writeTextFile(inv, "127.0.0.1\n");
  const base = { inventoryPath: inv, settings: emptySettings(), timeoutMs: 1000 };
  await assert.rejects(
    () => runCheck({ ...base, flags: { deep: true, login: true } }),
    /--deep does not go with --login/,
  );
  await assert.rejects(
    () => runCheck({ ...base, flags: { deep: true, drift: true } }),
    /--deep does not go with --drift/,
  );
});
