/**
 * sshtrace as OpenSSH's ProxyCommand (`sshtrace -W %h:%p bastion`): OpenSSH's ssh logs in to a
 * target sshd through an sshtrace stdio forward over a bastion sshd; and `-W` refused by a
 * bastion that forbids forwarding is a clear session-stage failure. And sshtrace's own
 * `-o ProxyCommand` (OpenSSH's `ssh -W` as the command), a command that fails before sending a
 * byte (`connect.proxy-command-failed` quoting its stderr), an unknown `%` token.
 */

import assert from "node:assert/strict";
import { DENO_DIR, ed25519Key, ROOT } from "../../helpers/cli.ts";
import { ensureTestUser, startSshd } from "../../helpers/sshd.ts";
import { run, tempDir } from "../../helpers/tools.ts";
import { EXIT_CODES } from "../../../lib/types.ts";

const SSH = "/usr/bin/ssh";

Deno.test("OpenSSH's ssh runs through sshtrace -W as its ProxyCommand", async (t) => {
  const user = await ensureTestUser();
  const dir = await tempDir("sshtrace-proxy-");
  const key = await ed25519Key(dir.path);
  await Deno.chmod(key, 0o600);
  const pub = (await Deno.readTextFile(`${key}.pub`)).trim();
  const bastion = await startSshd({ authorizedKeys: [pub] });
  const closed = await startSshd({ authorizedKeys: [pub], config: ["AllowTcpForwarding no"] });
  const target = await startSshd({ authorizedKeys: [pub] });
  try {
    const knownHosts = `${dir.path}/known_hosts`;
    await Deno.writeTextFile(
      knownHosts,
      [bastion, closed, target].map((s) => `[127.0.0.1]:${s.port} ${s.hostKeys.ed25519.pub}\n`)
        .join(""),
    );
    const sshtrace = [
      Deno.execPath(),
      "run",
      "-A",
      `${ROOT}main.ts`,
      "-q",
      "--batch",
      "-i",
      key,
      "-o",
      `UserKnownHostsFile=${knownHosts}`,
    ].join(" ");
    const ssh = (bastionPort: number) =>
      run(SSH, [
        "-F",
        "none",
        "-i",
        key,
        "-o",
        "BatchMode=yes",
        "-o",
        `UserKnownHostsFile=${knownHosts}`,
        "-o",
        `ProxyCommand=${sshtrace} -W %h:%p ${user.name}@127.0.0.1:${bastionPort}`,
        "-p",
        String(target.port),
        `${user.name}@127.0.0.1`,
        "echo through-sshtrace",
      ], { env: { HOME: dir.path, DENO_DIR, NO_COLOR: "1", RUST_BACKTRACE: "0" } });

    await t.step("ssh -o ProxyCommand='sshtrace -W %h:%p bastion' logs in", async () => {
      const r = await ssh(bastion.port);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), "through-sshtrace");
    });

    await t.step("a bastion that forbids forwarding: sshtrace fails at stage session", async () => {
      const r = await run(Deno.execPath(), [
        "run",
        "-A",
        `${ROOT}main.ts`,
        "--batch",
        "-i",
        key,
        "-o",
        `UserKnownHostsFile=${knownHosts}`,
        "-W",
        `127.0.0.1:${target.port}`,
        `${user.name}@127.0.0.1:${closed.port}`,
      ], { env: { HOME: dir.path, DENO_DIR, NO_COLOR: "1", RUST_BACKTRACE: "0" } });
      assert.equal(r.code, EXIT_CODES.session, r.stderr);
      const text = r.stderr.replace(/\n│ {15}/g, " "); // the failure box's wrapped lines joined
      assert.match(text, /refused to open a direct-tcpip channel: administratively prohibited/);
      assert.match(text, /try {11}on the server set AllowTcpForwarding yes/);
      assert.equal(r.stdout, "");
    });

    const sshtraceCli = (args: string[]) =>
      run(Deno.execPath(), [
        "run",
        "-A",
        `${ROOT}main.ts`,
        "--batch",
        "-i",
        key,
        "-o",
        `UserKnownHostsFile=${knownHosts}`,
        ...args,
      ], { env: { HOME: dir.path, DENO_DIR, NO_COLOR: "1", RUST_BACKTRACE: "0" } });

    await t.step("sshtrace -o ProxyCommand='ssh -W %h:%p bastion' logs in", async () => {
      const proxy =
        `${SSH} -F none -i ${key} -o BatchMode=yes -o UserKnownHostsFile=${knownHosts}` +
        ` -W %h:%p -p ${bastion.port} ${user.name}@127.0.0.1`;
      const r = await sshtraceCli([
        "-v",
        "-o",
        `ProxyCommand=${proxy}`,
        `${user.name}@127.0.0.1:${target.port}`,
        "echo via-proxy-command",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), "via-proxy-command");
      assert.match(r.stderr, new RegExp(`ProxyCommand ${SSH} .* -W 127\.0\.0\.1:${target.port}`));
    });

    await t.step(
      "a command that exits first: connect.proxy-command-failed with its stderr",
      async () => {
        const r = await sshtraceCli([
          "--json",
          "-o",
          "ProxyCommand=sh -c 'echo no route to %h >&2; exit 3'",
          `${user.name}@core.example:22`,
          "true",
        ]);
        assert.equal(r.code, EXIT_CODES.connect, r.stderr);
        const report = JSON.parse(r.stdout);
        assert.equal(report.error.code, "connect.proxy-command-failed");
        assert.match(report.error.message, /exited with status 3 before sending anything/);
        assert.match(report.error.message, /its stderr: no route to core\.example/);
      },
    );

    await t.step("an unknown % token is a usage error before anything runs", async () => {
      const r = await sshtraceCli(["-o", "ProxyCommand=nc %q %p", `${user.name}@core`, "true"]);
      assert.equal(r.code, EXIT_CODES.usage, r.stderr);
      assert.match(r.stderr, /unknown token %q/);
    });
  } finally {
    for (const s of [target, closed, bastion]) await s.stop().catch(() => {});
    await dir.cleanup();
  }
});
