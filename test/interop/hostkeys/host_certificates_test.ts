/**
 * Host certificates against a real OpenSSH sshd (`HostCertificate`, made by `ssh-keygen -s CA
 * -h`), side by side with what real ssh(1) does on the same known_hosts file: an `@cert-authority`
 * line makes sshtrace offer certificate algorithms first and accept the certificate (the trace
 * names its key id, serial, principals, validity, the CA and the line); a certificate that fails
 * falls back to the plain key as ssh(1) does (known plain key: logs in; accept-new: records the
 * plain key); a revoked CA refuses outright. Failures with their codes: reproduce_sshd_certs.ts.
 */

import assert from "node:assert/strict";
import { type Json, runSshtrace, splitNdjson } from "../../helpers/cli.ts";
import { certifyHostKey, makeCa } from "../../helpers/host_certs.ts";
import { ensureTestUser, SSH_KEYGEN, startSshd, testHostKeys } from "../../helpers/sshd.ts";
import { requireTool, run, tempDir } from "../../helpers/tools.ts";

const SSH = "/usr/bin/ssh";

Deno.test("host certificates: accepted through @cert-authority, fallback to the plain key as ssh(1) does", async (t) => {
  requireTool(SSH_KEYGEN);
  requireTool(SSH);
  const user = await ensureTestUser();
  await using tmp = await tempDir("sshtrace-hostcert-");
  const home = `${tmp.path}/home`;
  await Deno.mkdir(home);
  const ca = await makeCa(tmp.path, "host_ca");
  const otherCa = await makeCa(tmp.path, "other_ca");
  const good = await certifyHostKey(tmp.path, ca.path, "ed25519", "good", {
    principals: "127.0.0.1",
    validity: "-5m:+1h",
    serial: 7,
  });
  const expired = await certifyHostKey(tmp.path, ca.path, "ecdsa", "expired", {
    principals: "127.0.0.1",
    validity: "20200101:20200102",
    serial: 8,
  });
  const sshd = await startSshd({
    config: [`HostCertificate ${good}`, `HostCertificate ${expired}`],
  });
  const keys = await testHostKeys();
  const pattern = `[127.0.0.1]:${sshd.port}`;
  const caFingerprint = (await run(SSH_KEYGEN, ["-lf", `${ca.path}.pub`])).stdout.split(" ")[1];
  const kh = `${tmp.path}/known_hosts`;
  const sshtrace = (lines: string[], extra: string[]) =>
    Deno.writeTextFile(kh, lines.join("\n") + "\n").then(() =>
      runSshtrace([
        "--ndjson",
        "--timeout",
        "10",
        "-o",
        `UserKnownHostsFile=${kh}`,
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        "HashKnownHosts=no",
        "--password-env",
        "PW",
        ...extra,
        `${user.name}@127.0.0.1:${sshd.port}`,
        "echo logged-in",
      ], { home, env: { PW: user.password }, timeoutMs: 30_000 })
    );
  /** Real ssh on the same known_hosts (host key check only: it has no credentials). */
  const ssh = (extra: string[]) =>
    run(SSH, [
      "-v",
      "-F",
      "/dev/null",
      "-o",
      "BatchMode=yes",
      "-o",
      `UserKnownHostsFile=${kh}`,
      "-o",
      "GlobalKnownHostsFile=/dev/null",
      "-o",
      "PreferredAuthentications=none",
      "-p",
      String(sshd.port),
      ...extra,
      "nobody@127.0.0.1",
      "true",
    ], { timeoutMs: 20_000 });
  const of = (stdout: string, type: string) =>
    splitNdjson(stdout).events.filter((e: Json) => e.type === type);
  try {
    await t.step(
      "an @cert-authority line: certificates offered first, accepted, traced",
      async () => {
        const lines = [`# CA`, `@cert-authority ${pattern},*.example ${ca.pub}`];
        const r = await sshtrace(lines, ["-o", "StrictHostKeyChecking=yes"]);
        assert.equal(r.code, 0, r.stderr + r.stdout.slice(-2000));
        assert.match(r.stdout, /^logged-in$/m);
        const sent = of(r.stdout, "kexinit-sent")[0];
        assert.equal(sent?.lists.hostKey[0], "ssh-ed25519-cert-v01@openssh.com");
        const cert = of(r.stdout, "certificate")[0];
        assert.deepEqual(
          {
            certType: cert?.certType,
            keyId: cert?.keyId,
            serial: cert?.serial,
            principals: cert?.principals,
            caFingerprint: cert?.caFingerprint,
            file: cert?.file,
            line: cert?.line,
            accepted: cert?.accepted,
          },
          {
            certType: "ssh-ed25519-cert-v01@openssh.com",
            keyId: "host-good",
            serial: "7",
            principals: ["127.0.0.1"],
            caFingerprint,
            file: kh,
            line: 2,
            accepted: true,
          },
        );
        assert.match(cert?.validity, /^\d{4}-.*Z\.\.\d{4}-.*Z$/);
        const status = of(r.stdout, "status")[0];
        assert.equal(status?.status, "known");
        assert.equal(status?.line, 2);
        // The key's fingerprint is the plain key's, as ssh(1) prints it.
        const key = of(r.stdout, "key")[0];
        const plain = (await run(SSH_KEYGEN, ["-lf", `${keys.ed25519.path}.pub`])).stdout;
        assert.equal(key?.fingerprint, plain.split(" ")[1]);
        // ssh(1) agrees.
        const s = await ssh(["-o", "StrictHostKeyChecking=yes"]);
        assert.match(s.stderr, /is known and matches the ED25519-CERT host certificate/, s.stderr);
      },
    );

    await t.step("no @cert-authority line: no certificate algorithm is offered", async () => {
      const r = await sshtrace([`${pattern} ${keys.ed25519.pub}`], []);
      assert.equal(r.code, 0, r.stderr);
      const sent = of(r.stdout, "kexinit-sent")[0];
      assert.ok(!sent?.lists.hostKey.some((n: string) => n.includes("-cert-v01@")));
      assert.equal(of(r.stdout, "certificate").length, 0);
    });

    await t.step("an expired certificate falls back to its plain key, known: logs in", async () => {
      const lines = [`@cert-authority * ${ca.pub}`, `${pattern} ${keys.ecdsa.pub}`];
      const algs = ["-o", "HostKeyAlgorithms=ecdsa-sha2-nistp256-cert-v01@openssh.com"];
      const r = await sshtrace(lines, ["-o", "StrictHostKeyChecking=yes", ...algs]);
      assert.equal(r.code, 0, r.stderr + r.stdout.slice(-2000));
      const cert = of(r.stdout, "certificate")[0];
      assert.equal(cert?.accepted, false);
      assert.match(cert?.reason, /^expired: valid until 2020-01-02/);
      const status = of(r.stdout, "status")[0];
      assert.equal(status?.status, "known");
      assert.equal(status?.line, 2);
      assert.match(status?.note, /checked its plain key instead, as ssh\(1\) does/);
      const s = await ssh(["-o", "StrictHostKeyChecking=yes", ...algs]);
      assert.match(s.stderr, /Certificate invalid: expired/, s.stderr);
      assert.match(s.stderr, /is known and matches the ECDSA host key/, s.stderr);
    });

    await t.step(
      "accept-new after a failed certificate records the plain key, as ssh(1) does",
      async () => {
        const algs = ["-o", "HostKeyAlgorithms=ecdsa-sha2-nistp256-cert-v01@openssh.com"];
        const r = await sshtrace([`@cert-authority * ${otherCa.pub}`], [
          "-o",
          "StrictHostKeyChecking=accept-new",
          ...algs,
        ]);
        assert.equal(r.code, 0, r.stderr);
        const ours = (await Deno.readTextFile(kh)).trim().split("\n");
        assert.equal(ours[1], `${pattern} ${keys.ecdsa.pub}`);
        await Deno.writeTextFile(kh, `@cert-authority * ${otherCa.pub}\n`);
        const s = await ssh(["-o", "StrictHostKeyChecking=accept-new", ...algs]);
        assert.match(s.stderr, /No matching CA found/, s.stderr);
        const theirs = (await Deno.readTextFile(kh)).trim().split("\n");
        assert.equal(theirs[1], ours[1]);
      },
    );

    await t.step("an unknown CA under strict checking fails for sshtrace and ssh(1)", async () => {
      const r = await sshtrace([`@cert-authority * ${otherCa.pub}`], [
        "-o",
        "StrictHostKeyChecking=yes",
        "--batch",
      ]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr + r.stdout, /hostkey\.cert-unknown-ca|no @cert-authority line/);
      const s = await ssh(["-o", "StrictHostKeyChecking=yes"]);
      assert.match(s.stderr, /Host key verification failed/, s.stderr);
    });

    await t.step(
      "a revoked CA refuses for sshtrace and ssh(1), without trying the plain key",
      async () => {
        const lines = [
          `@cert-authority * ${ca.pub}`,
          `@revoked * ${ca.pub}`,
          `${pattern} ${keys.ed25519.pub}`,
        ];
        const r = await sshtrace(lines, ["-o", "StrictHostKeyChecking=yes", "--batch"]);
        assert.notEqual(r.code, 0);
        assert.match(r.stdout, /"code":"hostkey\.ca-revoked"/);
        await Deno.writeTextFile(kh, lines.join("\n") + "\n");
        const s = await ssh(["-o", "StrictHostKeyChecking=yes"]);
        assert.match(s.stderr, /REVOKED HOST KEY/, s.stderr);
        assert.match(s.stderr, /Host key verification failed/, s.stderr);
      },
    );
  } finally {
    await sshd.stop();
  }
});
