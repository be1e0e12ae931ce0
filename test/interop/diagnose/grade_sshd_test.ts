// A live OpenSSH sshd still offers the lists the grade tests use (test/unit/diagnose/grade_test.ts).
import assert from "node:assert/strict";
import { probe } from "../../../lib/client.ts";
import { probeReport } from "../../../lib/render/report.ts";
import { gradeServer } from "../../../lib/diagnose/grade.ts";
import { startSshd } from "../../helpers/sshd.ts";
import { OPENSSH_92 } from "../../helpers/server_offers.ts";

const ids = (g: ReturnType<typeof gradeServer>) => g.reasons.map((r) => r.id);

Deno.test("gradeServer() of a live OpenSSH 9.2 sshd matches the recorded lists", async () => {
  const sshd = await startSshd({});
  try {
    const report = probeReport(
      await probe({
        host: sshd.host,
        port: sshd.port,
        knownHostsFiles: ["/dev/null"],
        timeoutMs: 5000,
      }),
    );
    assert.ok(report.kex?.server, `probe failed: ${report.error?.message}`);
    assert.deepEqual(report.kex.server, OPENSSH_92);
    const g = gradeServer(report.kex.server, {
      strictKex: report.kex.strict ?? false,
      hostKeyType: report.hostKey?.type ?? undefined,
      hostKeyBits: report.hostKey?.bits ?? undefined,
    });
    assert.equal(g.letter, "A");
    assert.deepEqual(ids(g), ["encrypt-and-mac"]);
  } finally {
    await sshd.stop();
  }
});
