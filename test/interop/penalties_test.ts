/**
 * OpenSSH 9.8 and later refuse an address for a while after connections that end without
 * authenticating (PerSourcePenalties), answering "Not allowed at this time" instead of a version
 * line. Against a real OpenSSH >= 9.9 (the system's, or OpenSSH 10 built into .cache/), repeated
 * probes must be explained as that refusal, not as "this is not an SSH server".
 */

import assert from "node:assert/strict";
import { emptyHome, parseJsonReport, runSshtrace } from "../helpers/cli.ts";
import { openssh99Sshd, startSshd } from "../helpers/sshd.ts";
import { tempDir } from "../helpers/tools.ts";

Deno.test("repeated probes refused by OpenSSH's PerSourcePenalties are version.refused, naming the setting", async () => {
  const sshd = await startSshd({
    sshd: await openssh99Sshd(),
    // Every unauthenticated disconnect costs 30 s; enforcement starts after 1 s of penalty. The
    // harness's own readiness check (a bare TCP connection) is already one.
    config: ["PerSourcePenalties noauth:30s authfail:30s min:1s"],
  });
  await using tmp = await tempDir("sshtrace-penalty-");
  const home = await emptyHome(tmp.path);
  try {
    const codes: string[] = [];
    let refused;
    for (let i = 0; i < 6 && !refused; i++) {
      const res = await runSshtrace(["probe", "--json", `127.0.0.1:${sshd.port}`], { home });
      const report = parseJsonReport(res.stdout);
      codes.push(report.error?.code ?? "ok");
      // The refusal line can be lost to a TCP reset when our version line is still unread.
      if (report.error?.code === "version.refused") refused = { res, report };
    }
    assert.ok(refused, `no attempt was version.refused: ${codes.join(", ")}`);
    assert.ok(!codes.includes("version.not-ssh"), codes.join(", "));
    assert.equal(refused.res.code, 11);
    assert.match(refused.report.error.title, /PerSourcePenalties/);
    assert.match(refused.report.error.fix, /PerSourcePenaltyExemptList/);
    assert.deepEqual(refused.report.server.preVersionLines, ["Not allowed at this time"]);
    await sshd.waitForLog(/penalty: connections without attempting authentication/);
  } finally {
    await sshd.stop();
  }
});
