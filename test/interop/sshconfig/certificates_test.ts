/**
 * User certificates against a real OpenSSH sshd that trusts a CA (`TrustedUserCAKeys`) and
 * lists no user key: a certificate made with `ssh-keygen -s` logs in when it sits next to its
 * key (`KEY-cert.pub`) or is named by `CertificateFile`; an expired one, or one for another
 * principal, is refused at the auth stage. The trace names the certificate's key id, serial,
 * principals and validity.
 */

import assert from "node:assert/strict";
import { type Json, runSshtrace, splitNdjson } from "../../helpers/cli.ts";
import { ensureTestUser, SSH_KEYGEN, type SshdHandle, startSshd } from "../../helpers/sshd.ts";
import { requireTool, run, tempDir } from "../../helpers/tools.ts";

async function keygen(dir: string, name: string): Promise<string> {
  const path = `${dir}/${name}`;
  const r = await run(SSH_KEYGEN, ["-t", "ed25519", "-q", "-N", "", "-C", name, "-f", path]);
  assert.equal(r.code, 0, r.stderr);
  return path;
}

/** Signs `key.pub` with the CA: `KEY-cert.pub` (or `out`), for `principal`, valid `validity`. */
async function certify(
  ca: string,
  key: string,
  principal: string,
  validity: string,
  serial: number,
): Promise<string> {
  const r = await run(SSH_KEYGEN, [
    "-q",
    "-s",
    ca,
    "-I",
    `test-id-${serial}`,
    "-n",
    principal,
    "-V",
    validity,
    "-z",
    String(serial),
    `${key}.pub`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  return `${key}-cert.pub`;
}

Deno.test("user certificates log in to sshd through TrustedUserCAKeys", async (t) => {
  requireTool(SSH_KEYGEN);
  const user = await ensureTestUser();
  await using tmp = await tempDir("sshtrace-certs-");
  const home = `${tmp.path}/home`;
  await Deno.mkdir(home);
  const ca = await keygen(tmp.path, "user_ca");
  const servers: SshdHandle[] = [];
  try {
    // No authorized key: only a certificate signed by the CA can log in.
    const sshd = await startSshd({ config: [`TrustedUserCAKeys ${ca}.pub`] });
    servers.push(sshd);
    const knownHosts = `${tmp.path}/known_hosts`;
    await Deno.writeTextFile(knownHosts, `[127.0.0.1]:${sshd.port} ${sshd.hostKeys.ed25519.pub}\n`);
    const common = [
      "-o",
      `UserKnownHostsFile=${knownHosts}`,
      "-o",
      "StrictHostKeyChecking=yes",
      "--ndjson",
    ];
    const sshtrace = (args: string[]) =>
      runSshtrace([...common, ...args], { home, timeoutMs: 30_000 });
    const target = `${user.name}@127.0.0.1:${sshd.port}`;

    await t.step("KEY-cert.pub next to the key is offered first, and logs in", async () => {
      const key = await keygen(tmp.path, "id_next");
      await certify(ca, key, user.name, "-5m:+1h", 41);
      const r = await sshtrace(["-i", key, target, "echo cert-ok"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^cert-ok$/m);
      const events = splitNdjson(r.stdout).events;
      const success = events.find((e: Json) => e.type === "success");
      assert.equal(success?.method, "publickey");
      const attempts = events.filter((e: Json) => e.type === "attempt" && e.method === "publickey");
      assert.match(attempts[0]?.detail ?? "", /ssh-ed25519-cert-v01@openssh\.com/);
      const info = events.find((e: Json) => e.type === "info" && /key id/.test(e.message));
      assert.match(
        info?.message ?? "",
        new RegExp(`key id "test-id-41", serial 41, principals ${user.name}, valid 20`),
      );
      await sshd.waitForLog(/Accepted publickey for sshtrace-test .*ED25519-CERT/);
    });

    await t.step("CertificateFile names a certificate kept elsewhere", async () => {
      const key = await keygen(tmp.path, "id_elsewhere");
      const cert = await certify(ca, key, user.name, "-5m:+1h", 42);
      const moved = `${tmp.path}/moved-cert.pub`;
      await Deno.rename(cert, moved);
      const r = await sshtrace(["-i", key, "-o", `CertificateFile=${moved}`, target, "true"]);
      assert.equal(r.code, 0, r.stderr);
      // Without it, the bare key is refused (it is in no authorized_keys).
      const bare = await sshtrace(["-i", key, "--batch", target, "true"]);
      assert.equal(bare.code, 14, bare.stderr);
    });

    await t.step(
      "an expired certificate, or one for another principal, fails at auth",
      async () => {
        const expired = await keygen(tmp.path, "id_expired");
        await certify(ca, expired, user.name, "-2h:-1h", 43);
        const r = await sshtrace(["-i", expired, "--batch", target, "true"]);
        assert.equal(r.code, 14, r.stderr);
        const stranger = await keygen(tmp.path, "id_stranger");
        await certify(ca, stranger, "someone-else", "-5m:+1h", 44);
        const s = await sshtrace(["-i", stranger, "--batch", target, "true"]);
        assert.equal(s.code, 14, s.stderr);
        const error = splitNdjson(s.stdout).events.find((e: Json) => e.type === "error");
        assert.equal(error?.stage, "auth");
      },
    );
  } finally {
    for (const s of servers) await s.stop();
  }
});
