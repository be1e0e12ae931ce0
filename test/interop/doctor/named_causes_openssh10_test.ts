/**
 * Named causes against a real OpenSSH 10 (built into .cache/ by the harness when the system's
 * is older): PerSourcePenalties recognised by the doctor from the run's earlier attempts, the
 * deep probe's pacing keeping under the threshold where an unpaced one is refused, and an RSA
 * key allowed only ssh-rsa (SHA-1) refused by a server that wants rsa-sha2.
 */

import assert from "node:assert/strict";
import { runDoctor } from "../../../lib/doctor/ladder.ts";
import { deepProbe } from "../../../lib/doctor/deep.ts";
import { emptyHome, parseJsonReport, runSshtrace } from "../../helpers/cli.ts";
import { userKey } from "../../helpers/reproduce.ts";
import { ensureTestUser, openssh99Sshd, startSshd } from "../../helpers/sshd.ts";
import { tempDir } from "../../helpers/tools.ts";

Deno.test("doctor against OpenSSH 10: a host that answered, then closes at once, is named PerSourcePenalties and the ladder stops", async () => {
  const sshd = await startSshd({
    sshd: await openssh99Sshd(),
    // Legacy-only, so the defaults fail after the server answered; every connection that does
    // not authenticate blocks the address for 30 s, enforced from 1 s of penalty.
    config: [
      "KexAlgorithms diffie-hellman-group14-sha1",
      "PerSourcePenalties noauth:30s authfail:30s min:1s",
    ],
  });
  try {
    const report = await runDoctor({
      connect: {
        host: sshd.host,
        port: sshd.port,
        timeoutMs: 3000,
        strictHostKeyChecking: "no",
        knownHostsFiles: [],
      },
      goal: "probe",
      sleep: () => Promise.resolve(),
    });
    const tried = report.rungs.filter((r) => r.outcome !== "skipped");
    assert.equal(tried[0]!.code, "kex.no-common-kex");
    // The next attempt is refused ("Not allowed at this time", or a reset before it is read),
    // and named from the first attempt's OpenSSH_10 version line.
    assert.equal(tried[1]!.stage, "version", JSON.stringify(tried[1]));
    assert.equal(tried[1]!.cause, "per-source-penalties");
    // The ladder stops there: every further attempt would lengthen the block.
    assert.equal(tried.length, 2, tried.map((r) => r.rung).join(", "));
    assert.match(tried[1]!.why, /PerSourcePenalties.*stops/);
    const first = report.causes[0]!;
    assert.equal(first.cause, "per-source-penalties");
    assert.ok(first.signs.some((s) => /answered by OpenSSH_10/.test(s)), first.signs.join("; "));
    assert.match(first.fix ?? "", /PerSourcePenaltyExemptList/);
    await sshd.waitForLog(/penalty: connections without attempting authentication/);
  } finally {
    await sshd.stop();
  }
});

Deno.test("deep probe of OpenSSH 10 with default penalties: paced under the threshold, never refused; unpaced, refused part-way", async () => {
  const sshd = await openssh99Sshd();
  // OpenSSH's defaults (noauth 1 s each, enforced from 15 s), with a smaller threshold (5 s)
  // so that the test is short: the pacer is given a budget under it.
  const config = ["PerSourcePenalties noauth:1s authfail:5s min:5s"];
  const paced = await startSshd({ sshd, config, ciphers: "aes128-ctr,aes256-gcm@openssh.com" });
  try {
    const r = await deepProbe({
      host: paced.host,
      port: paced.port,
      knownHostsFiles: [],
      penaltyBudgetS: 3,
    });
    assert.equal(r.penalties.server, true);
    assert.equal(r.penalties.refused, false, JSON.stringify(r.grade?.partial));
    assert.ok(r.penalties.waitedMs > 0, "the pacer waited");
    assert.deepEqual(r.grade?.partial, []);
    assert.ok(r.alone.cipher!.every((x) => x.accepted), JSON.stringify(r.alone.cipher));
  } finally {
    await paced.stop();
  }
  const unpaced = await startSshd({ sshd, config, ciphers: "aes128-ctr,aes256-gcm@openssh.com" });
  try {
    const r = await deepProbe({
      host: unpaced.host,
      port: unpaced.port,
      knownHostsFiles: [],
      penaltyBudgetS: 0,
    });
    assert.equal(r.penalties.refused, true);
    assert.ok(
      r.grade?.partial.some((p) => /PerSourcePenalties/.test(p)),
      JSON.stringify(r.grade?.partial),
    );
  } finally {
    await unpaced.stop();
  }
});

Deno.test("OpenSSH 10 refuses an RSA key allowed only ssh-rsa (SHA-1): named rsa-sha1-refused", async () => {
  const user = await ensureTestUser();
  await using dir = await tempDir("sshtrace-rsa-sha1-");
  const rsa = await userKey(dir.path, "rsa", "rsa");
  const sshd = await startSshd({ sshd: await openssh99Sshd(), authorizedKeys: [rsa.pub] });
  const home = await emptyHome(dir.path);
  try {
    const args = (extra: string[]) => [
      "connect",
      "--json",
      "-o",
      "StrictHostKeyChecking=no",
      "-o",
      "BatchMode=yes",
      "-i",
      rsa.path,
      ...extra,
      `${user.name}@127.0.0.1:${sshd.port}`,
      "true",
    ];
    const refused = await runSshtrace(
      args([
        "--legacy",
        "-o",
        "PubkeyAcceptedAlgorithms=ssh-rsa",
        "-o",
        "PreferredAuthentications=publickey",
      ]),
      { home },
    );
    const report = parseJsonReport(refused.stdout);
    assert.equal(report.error?.stage, "auth", refused.stdout + refused.stderr);
    assert.equal(report.error.cause, "rsa-sha1-refused", JSON.stringify(report.error));
    assert.match(report.error.fix, /rsa-sha2-512/);
    // The fix: the same key signs as rsa-sha2.
    const works = await runSshtrace(args([]), { home });
    assert.equal(works.code, 0, works.stdout + works.stderr);
  } finally {
    await sshd.stop();
  }
});
