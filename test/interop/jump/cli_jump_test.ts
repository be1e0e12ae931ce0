/**
 * `sshtrace -J` (and `-o ProxyJump`) against real OpenSSH sshd bastions, run as a subprocess:
 * the remote command's output through one and two hops, a trace section per hop, `--json`'s
 * `hops` array (a full report per jump host), NDJSON events tagged with their hop, and a hop's
 * failure named with that hop, its stage's exit code and fix.
 */

import assert from "node:assert/strict";
import {
  commandOutput,
  emptyHome,
  parseJsonReport,
  runSshtrace,
  splitNdjson,
} from "../../helpers/cli.ts";
import { ensureTestUser, startSshd } from "../../helpers/sshd.ts";
import { tempDir } from "../../helpers/tools.ts";
import { userKey } from "../../helpers/cli.ts";
import { EXIT_CODES } from "../../../lib/types.ts";

Deno.test("sshtrace -J logs in through real sshd bastions, one trace section per hop", async (t) => {
  const user = await ensureTestUser();
  const dir = await tempDir("sshtrace-jump-cli-");
  const bastion = await startSshd();
  const second = await startSshd();
  const closed = await startSshd({ config: ["AllowTcpForwarding no"] });
  const target = await startSshd();
  try {
    const home = await emptyHome(dir.path);
    const knownHosts = `${dir.path}/known_hosts`;
    const key = bastion.hostKeys.ed25519.pub;
    await Deno.writeTextFile(
      knownHosts,
      [bastion, second, closed, target].map((s) => `[127.0.0.1]:${s.port} ${key}\n`).join(""),
    );
    const at = (port: number) => `${user.name}@127.0.0.1:${port}`;
    // In a file given with -F, as ssh -J passes the hops -F but not -o.
    const config = `${dir.path}/ssh_config`;
    await Deno.writeTextFile(
      config,
      `Host *\n  UserKnownHostsFile ${knownHosts}\n  PreferredAuthentications password\n`,
    );
    const sshtrace = (args: string[], password = user.password) =>
      runSshtrace(
        ["--password-env", "PW", "--batch", "-F", config, ...args],
        { home, env: { PW: password }, timeoutMs: 30_000 },
      );

    await t.step("-J one hop: the command's output, a section per hop, --json hops", async () => {
      const r = await sshtrace(["--json", "-J", at(bastion.port), at(target.port), "echo", "hi"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(commandOutput(r.stdout).trim(), "hi");
      assert.match(
        r.stderr,
        new RegExp(`hop 1 of 2: ${user.name}@127\\.0\\.0\\.1:${bastion.port} \\(jump`),
      );
      assert.match(
        r.stderr,
        new RegExp(`hop 2 of 2: ${user.name}@127\\.0\\.0\\.1:${target.port} \\(target`),
      );
      const report = parseJsonReport(r.stdout);
      assert.equal(report.ok, true);
      assert.equal(report.hops.length, 1);
      const hop = report.hops[0];
      assert.equal(hop.hop, 1);
      assert.equal(hop.hops, 2);
      assert.equal(hop.server.port, bastion.port);
      assert.equal(hop.ok, true);
      assert.equal(hop.auth.success, true);
      assert.equal(hop.hostKey.status, "known");
      assert.ok(hop.kex.algorithm);
      assert.equal(report.server.port, target.port);
    });

    await t.step("-o ProxyJump with two hops, NDJSON events tagged with their hop", async () => {
      const r = await sshtrace([
        "--ndjson",
        "-o",
        `ProxyJump=${at(bastion.port)},ssh://${at(second.port)}`,
        at(target.port),
        "echo",
        "two",
      ]);
      assert.equal(r.code, 0, r.stderr);
      const { events, other } = splitNdjson(r.stdout);
      assert.deepEqual(other, ["two"]);
      const hopsSeen = new Set(events.filter((e) => e.type === "success").map((e) => e.hop));
      assert.deepEqual([...hopsSeen].sort(), [1, 2, undefined]);
    });

    await t.step(
      "a bastion that forbids forwarding: exit of stage connect, the hop named",
      async () => {
        const r = await sshtrace(["--json", "-J", at(closed.port), at(target.port), "true"]);
        assert.equal(r.code, EXIT_CODES.connect);
        const report = parseJsonReport(r.stdout);
        assert.equal(report.error.code, "connect.jump-refused");
        assert.match(report.error.message, /hop 2 of 2 .*refused the tunnel/);
        assert.match(report.error.fix, /AllowTcpForwarding yes/);
        assert.match(r.stderr, /AllowTcpForwarding yes/);
      },
    );

    await t.step(
      "a wrong password at a hop: exit of stage auth, that hop's report failed",
      async () => {
        const r = await sshtrace(
          ["--json", "-J", at(bastion.port), at(target.port), "true"],
          "Wr0ng-pa55-zz9",
        );
        assert.equal(r.code, EXIT_CODES.auth);
        const report = parseJsonReport(r.stdout);
        assert.match(report.error.message, /^hop 1 of 2 .* failed at stage auth/);
        assert.equal(report.hops[0].ok, false);
        assert.equal(report.hops[0].failedStage, "auth");
        assert.ok(!(r.stderr + r.stdout).includes("Wr0ng-pa55-zz9"), "the password never appears");
      },
    );

    await t.step("a malformed -J is a usage error before any connection", async () => {
      const r = await sshtrace(["-J", "a,,b", at(target.port), "true"]);
      assert.equal(r.code, EXIT_CODES.usage);
      assert.match(r.stderr, /jump host 2 .* is empty/);
    });
  } finally {
    for (const s of [target, closed, second, bastion]) await s.stop().catch(() => {});
    await dir.cleanup();
  }
});

Deno.test("sshtrace -J: each hop logs in with its own Host block's User, Port, IdentityFile", async (t) => {
  // As ssh -J: the hops take HostName, Port, User, IdentityFile, known_hosts from their own
  // blocks of the -F file; the target's -i and -o are the target's alone.
  const first = await ensureTestUser();
  const second = await ensureTestUser("sshtrace-hop", "another horse 43");
  const dir = await tempDir("sshtrace-jump-config-");
  const key = async (name: string) => {
    await Deno.mkdir(`${dir.path}/${name}`);
    return await userKey(`${dir.path}/${name}`, "ed25519");
  };
  const keys = { a: await key("a"), b: await key("b"), t: await key("t") };
  const pub = async (k: string) => (await Deno.readTextFile(`${k}.pub`)).trim();
  const keyOnly = ["PasswordAuthentication no", "KbdInteractiveAuthentication no"];
  const hopA = await startSshd({ authorizedKeys: [await pub(keys.a)], config: keyOnly });
  const hopB = await startSshd({ authorizedKeys: [await pub(keys.b)], config: keyOnly });
  const target = await startSshd({ authorizedKeys: [await pub(keys.t)], config: keyOnly });
  try {
    const home = await emptyHome(dir.path);
    const line = (s: { port: number; hostKeys: { ed25519: { pub: string } } }) =>
      `[127.0.0.1]:${s.port} ${s.hostKeys.ed25519.pub}\n`;
    await Deno.writeTextFile(`${dir.path}/hops_known`, line(hopA) + line(hopB));
    await Deno.writeTextFile(`${dir.path}/target_known`, line(target));
    const config = `${dir.path}/ssh_config`;
    await Deno.writeTextFile(
      config,
      [
        "Host alpha",
        "  HostName 127.0.0.1",
        `  Port ${hopA.port}`,
        `  User ${second.name}`,
        `  IdentityFile ${keys.a}`,
        "Host beta",
        "  HostName 127.0.0.1",
        `  Port ${hopB.port}`,
        `  User ${first.name}`,
        `  IdentityFile ${keys.b}`,
        "  ProxyJump alpha",
        "Host alpha beta",
        `  UserKnownHostsFile ${dir.path}/hops_known`,
        "  IdentitiesOnly yes",
        "",
      ].join("\n"),
    );
    const targetAt = `${first.name}@127.0.0.1:${target.port}`;
    await t.step("connect: hops from their Host blocks, the target's -i/-o its own", async () => {
      const r = await runSshtrace(
        [
          "--batch",
          "-v",
          "--json",
          "-F",
          config,
          "-i",
          keys.t,
          "-o",
          `UserKnownHostsFile=${dir.path}/target_known`,
          "-o",
          "IdentitiesOnly=yes",
          "-J",
          "beta",
          `${first.name}@127.0.0.1:${target.port}`,
          "id -un",
        ],
        { home, timeoutMs: 30_000 },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(commandOutput(r.stdout).trim(), first.name);
      const report = parseJsonReport(r.stdout);
      // beta's own ProxyJump (alpha) puts alpha first: three hops in all.
      assert.deepEqual(
        report.hops.map((h: { server: { port: number }; auth: { user: string } }) => [
          h.server.port,
          h.auth.user,
        ]),
        [[hopA.port, second.name], [hopB.port, first.name]],
      );
      // Each hop's config stage says which Host lines matched, with file:line.
      assert.ok(r.stderr.includes(`hop 1 of 3: ${second.name}@127.0.0.1:${hopA.port}`), r.stderr);
      assert.match(r.stderr, /matched\s+\S*ssh_config:1 Host alpha/);
      assert.match(r.stderr, /matched\s+\S*ssh_config:6 Host beta/);
      assert.match(r.stderr, /uses its own configuration, as ssh -J does/);
    });

    await t.step(
      "probe -J: the device behind the hops probed, the hops in its report",
      async () => {
        const r = await runSshtrace(
          ["probe", "--json", "-F", config, "-J", "beta", targetAt],
          { home, timeoutMs: 30_000 },
        );
        assert.equal(r.code, 0, r.stderr);
        const report = parseJsonReport(r.stdout);
        assert.equal(report.ok, true);
        assert.equal(report.server.port, target.port);
        assert.ok(report.auth.methods.includes("publickey"), report.auth.methods);
        assert.deepEqual(
          report.hops.map((h: { server: { port: number }; ok: boolean }) => [h.server.port, h.ok]),
          [[hopA.port, true], [hopB.port, true]],
        );
        assert.match(r.stderr, /hop 3 of 3: .*\(target\)/);
      },
    );

    await t.step("probe -J: a hop that cannot log in fails at stage auth, naming it", async () => {
      const broken = `${dir.path}/broken_config`;
      await Deno.writeTextFile(
        broken,
        (await Deno.readTextFile(config)).replace(
          `IdentityFile ${keys.a}`,
          `IdentityFile ${keys.b}`,
        ),
      );
      const r = await runSshtrace(
        ["probe", "--json", "-F", broken, "-J", "beta", targetAt],
        { home, timeoutMs: 30_000 },
      );
      assert.equal(r.code, EXIT_CODES.auth, r.stderr);
      const report = parseJsonReport(r.stdout);
      assert.match(report.error.message, /^hop 1 of 3 .* failed at stage auth/);
      assert.equal(report.hops[0].ok, false);
    });

    await t.step("get -J: a download through the hops", async () => {
      const local = `${dir.path}/passwd.copy`;
      const r = await runSshtrace(
        [
          "get",
          "--batch",
          "-F",
          config,
          "-i",
          keys.t,
          "-o",
          `UserKnownHostsFile=${dir.path}/target_known`,
          "-J",
          "beta",
          "-P",
          String(target.port),
          `${first.name}@127.0.0.1:/etc/hostname`,
          local,
        ],
        { home, timeoutMs: 30_000 },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await Deno.readTextFile(local), await Deno.readTextFile("/etc/hostname"));
      assert.match(r.stderr, /hop 1 of 3/);
    });
  } finally {
    for (const s of [target, hopB, hopA]) await s.stop().catch(() => {});
    await dir.cleanup();
  }
});
