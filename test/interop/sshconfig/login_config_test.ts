/**
 * `sshtrace myalias` logging in to a real OpenSSH sshd where `ssh myalias` would: ssh_config is
 * the one source of the options (HostName, Port, User, IdentityFile per alias, Include chains,
 * Match blocks, legacy algorithms for one Host only), the `config` stage shows how it was read,
 * a malformed file stops before anything reaches the network, and accept-new writes follow
 * HashKnownHosts with the real line number.
 */

import assert from "node:assert/strict";
import { type Json, parseJsonReport, runSshtrace, splitNdjson } from "../../helpers/cli.ts";
import { ensureTestUser, SSH_KEYGEN, type SshdHandle, startSshd } from "../../helpers/sshd.ts";
import { requireTool, run, tempDir } from "../../helpers/tools.ts";

async function keygen(dir: string, name: string): Promise<string> {
  const path = `${dir}/${name}`;
  const r = await run(SSH_KEYGEN, ["-t", "ed25519", "-q", "-N", "", "-C", name, "-f", path]);
  assert.equal(r.code, 0, r.stderr);
  return path;
}

const pub = async (path: string) => (await Deno.readTextFile(`${path}.pub`)).trim();

/** How many connections sshd has logged so far. */
const connections = (sshd: SshdHandle) => (sshd.logs().match(/Connection from /g) ?? []).length;

Deno.test("ssh_config drives every login: aliases, Include, Match, one Host's legacy algorithms", async (t) => {
  requireTool(SSH_KEYGEN);
  const user = await ensureTestUser();
  await using tmp = await tempDir("sshtrace-sshconfig-");
  const home = `${tmp.path}/home`;
  await Deno.mkdir(`${home}/.ssh`, { recursive: true, mode: 0o700 });
  const good = await keygen(tmp.path, "id_good");
  const other = await keygen(tmp.path, "id_other");
  const knownHosts = `${tmp.path}/known_hosts`;
  const servers: SshdHandle[] = [];
  try {
    const sshd = await startSshd({ authorizedKeys: [await pub(good)] });
    servers.push(sshd);
    // A server that offers only a legacy key exchange.
    const legacy = await startSshd({
      authorizedKeys: [await pub(good)],
      kex: "diffie-hellman-group14-sha1",
    });
    servers.push(legacy);
    await Deno.mkdir(`${tmp.path}/conf.d`);
    await Deno.writeTextFile(
      `${tmp.path}/conf.d/10-included.conf`,
      `Host included\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User ${user.name}\n` +
        `  IdentityFile ${good}\n`,
    );
    const config = [
      `Include ${tmp.path}/conf.d/*.conf`,
      "Host sw1",
      "  HostName 127.0.0.1",
      `  Port ${sshd.port}`,
      `  User ${user.name}`,
      `  IdentityFile ${other}`,
      `  IdentityFile ${good}`,
      "  IdentitiesOnly yes",
      "Host matched",
      "  HostName 127.0.0.1",
      "Match originalhost matched",
      `  Port ${sshd.port}`,
      `  User ${user.name}`,
      `  IdentityFile ${good}`,
      "Host old-*",
      "  HostName 127.0.0.1",
      `  Port ${legacy.port}`,
      `  User ${user.name}`,
      `  IdentityFile ${good}`,
      "Host old-box",
      "  KexAlgorithms +diffie-hellman-group14-sha1",
      "Host via-jump",
      "  HostName 127.0.0.1",
      `  Port ${sshd.port}`,
      `  User ${user.name}`,
      `  IdentityFile ${good}`,
      `  ProxyJump ${user.name}@127.0.0.1:${sshd.port}`,
      "Host *",
      `  UserKnownHostsFile ${knownHosts}`,
      "  StrictHostKeyChecking accept-new",
      "  HashKnownHosts yes",
      "  SendEnv LANG",
      "",
    ].join("\n");
    const userConfig = `${home}/.ssh/config`;
    await Deno.writeTextFile(userConfig, config, { mode: 0o600 });
    const sshtrace = (args: string[]) =>
      runSshtrace(args, { home, timeoutMs: 30_000, env: { LANG: "C.UTF-8" } });

    await t.step(
      "an alias of ~/.ssh/config logs in: HostName, Port, User, IdentityFile list",
      async () => {
        const r = await sshtrace(["--json", "sw1", "id -un"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, new RegExp(`^${user.name}$`, "m"));
        const report = parseJsonReport(r.stdout);
        assert.equal(report.server.port, sshd.port);
        assert.equal(report.auth.user, user.name);
        // The config stage: the file read, the block matched, where each value came from.
        assert.ok(report.config.files.some((f: Json) => f.path === userConfig && f.found));
        assert.ok(
          report.config.blocks.some((b: Json) =>
            b.at === `${userConfig}:2` && b.criteria === "sw1" && b.matched
          ),
        );
        const origin = (k: string) =>
          report.config.values.find((v: Json) => v.keyword === k)?.origin;
        assert.equal(origin("Port"), `${userConfig}:4`);
        assert.equal(origin("HostName"), `${userConfig}:3`);
        // accept-new wrote the key hashed (HashKnownHosts yes), at the line it reports.
        assert.equal(report.hostKey.status, "accepted");
        assert.equal(report.hostKey.line, 1);
        const written = await Deno.readTextFile(knownHosts);
        assert.match(written, /^\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+ ssh-ed25519 /);
        assert.ok(!written.includes("127.0.0.1"), "the host name is hashed");
      },
    );

    await t.step(
      "the second login finds the hashed line: known, line 1, nothing added",
      async () => {
        const before = await Deno.readTextFile(knownHosts);
        const r = await sshtrace(["--json", "sw1", "true"]);
        assert.equal(r.code, 0, r.stderr);
        const report = parseJsonReport(r.stdout);
        assert.equal(report.hostKey.status, "known");
        assert.equal(report.hostKey.line, 1);
        assert.equal(await Deno.readTextFile(knownHosts), before);
      },
    );

    await t.step("-v prints the config stage; SendEnv is sent with the session", async () => {
      const r = await sshtrace(["-v", "sw1", "true"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /── config ─ ssh_config and options/);
      assert.match(r.stderr, new RegExp(`matched +${userConfig}:2 Host sw1`));
      assert.match(r.stderr, new RegExp(`value +Port ${sshd.port} +\\(${userConfig}:4\\)`));
      assert.match(r.stderr, /environment LANG: (accepted|refused by the server)/);
      // Without -v the stage stays quiet.
      const quiet = await sshtrace(["sw1", "true"]);
      assert.doesNotMatch(quiet.stderr, /── config/);
    });

    await t.step("a Host of an Included file, and a Match block, log in", async () => {
      for (const alias of ["included", "matched"]) {
        const r = await sshtrace(["--json", alias, "echo ok"]);
        assert.equal(r.code, 0, `${alias}: ${r.stderr}`);
        assert.match(r.stdout, /^ok$/m);
      }
      const r = await sshtrace(["--json", "matched", "true"]);
      const report = parseJsonReport(r.stdout);
      assert.ok(report.config.blocks.some((b: Json) => b.kind === "Match" && b.matched));
      assert.ok(
        report.config.files.some((f: Json) =>
          f.path.endsWith("10-included.conf") && f.includedFrom === `${userConfig}:1`
        ),
      );
    });

    await t.step("legacy key exchange for one Host pattern only", async () => {
      const old = await sshtrace(["--json", "old-box", "echo old"]);
      assert.equal(old.code, 0, old.stderr);
      assert.equal(parseJsonReport(old.stdout).kex.algorithm, "diffie-hellman-group14-sha1");
      const other = await sshtrace(["--json", "old-other", "true"]);
      assert.equal(other.code, 12, other.stderr);
      const error = parseJsonReport(other.stdout).error;
      assert.equal(error.code, "kex.no-common-kex");
      // The fix speaks the user's config: the line to add under the Host block that matched.
      assert.equal(
        error.configFix,
        `add under "Host old-*" (${userConfig}:15):\n  KexAlgorithms +diffie-hellman-group14-sha1`,
      );
      assert.match(other.stderr, /in ssh_config +add under "Host old-\*"/);
    });

    await t.step(
      "-o comes before the file, as with ssh: its User wins over the alias's",
      async () => {
        const r = await sshtrace(["--json", "-o", "User=nobody-such", "sw1", "true"]);
        assert.equal(r.code, 14, r.stderr);
        const report = parseJsonReport(r.stdout);
        assert.equal(report.auth?.user ?? "nobody-such", "nobody-such");
        assert.ok(
          report.config.values.some((v: Json) =>
            v.keyword === "User" && v.origin === "-o User=nobody-such"
          ),
        );
      },
    );

    await t.step(
      "HostKeyAlias names the key in known_hosts; PubkeyAcceptedAlgorithms filters keys",
      async () => {
        const aliasFile = `${tmp.path}/known_hosts_alias`;
        const r = await sshtrace([
          "--json",
          "-o",
          "HostKeyAlias=Sw-Alias",
          "-o",
          "HashKnownHosts=no",
          "-o",
          `UserKnownHostsFile=${aliasFile}`,
          "sw1",
          "true",
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(await Deno.readTextFile(aliasFile), /^sw-alias ssh-ed25519 /);
        const filtered = await sshtrace([
          "--ndjson",
          "--batch",
          "-o",
          "PubkeyAcceptedAlgorithms=rsa-sha2-512",
          "sw1",
          "true",
        ]);
        assert.equal(filtered.code, 14, filtered.stderr);
        assert.match(
          filtered.stdout,
          /skipped: PubkeyAcceptedAlgorithms lists none of ssh-ed25519/,
        );
      },
    );

    await t.step("RekeyLimit's time part rekeys a long session", async () => {
      const r = await sshtrace([
        "--ndjson",
        "-o",
        "RekeyLimit=default 1s",
        "sw1",
        "sleep 2.5; echo after",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^after$/m);
      const rekeys = splitNdjson(r.stdout).events.filter((e: Json) => e.type === "rekey");
      assert.ok(rekeys.some((e: Json) => e.initiator === "client"), JSON.stringify(rekeys));
    });

    await t.step("check reads ssh_config for each inventory entry, as a login would", async () => {
      const inventory = `${tmp.path}/inventory.txt`;
      await Deno.writeTextFile(inventory, "sw1\nold-box\nold-other\n");
      const r = await sshtrace(["check", "--json", "-v", inventory]);
      assert.equal(r.code, 12, r.stderr);
      const result = JSON.parse(r.stdout);
      const [sw1, oldBox, oldOther] = result.hosts;
      assert.equal(sw1.ok, true, JSON.stringify(sw1.error));
      assert.equal(sw1.server.port, sshd.port);
      assert.equal(oldBox.ok, true, JSON.stringify(oldBox.error));
      assert.equal(oldBox.kex.algorithm, "diffie-hellman-group14-sha1");
      assert.equal(oldOther.error.code, "kex.no-common-kex");
      // What check does not act on is said, not dropped (the environment with -v, as a login).
      assert.match(r.stderr, /not applied: SendEnv \(/);
      assert.doesNotMatch(r.stderr, /UserKnownHostsFile/);
      // Logging in, each host's IdentityFile, UserKnownHostsFile, StrictHostKeyChecking and
      // ProxyJump apply as a login to it would.
      await Deno.writeTextFile(inventory, "sw1\nold-box\nvia-jump\n");
      const before = await Deno.readTextFile(knownHosts);
      // The jump host itself is reached with the fleet's options (-o: its known_hosts).
      const login = await sshtrace([
        "check",
        "--json",
        "--login",
        "-i",
        good,
        "-o",
        `UserKnownHostsFile=${knownHosts}`,
        "--command",
        "id -un",
        inventory,
      ]);
      assert.equal(login.code, 0, login.stderr + login.stdout.slice(-3000));
      const hosts = JSON.parse(login.stdout).hosts;
      for (const h of hosts) {
        assert.equal(h.ok, true, `${h.target}: ${JSON.stringify(h.error)}`);
        assert.equal(h.command.stdoutHead, `${user.name}\n`);
      }
      // The hosts' keys were found in the config's UserKnownHostsFile (the fleet's default
      // ~/.ssh/known_hosts, strict, would have refused them): nothing new was written anywhere.
      assert.equal(await Deno.readTextFile(knownHosts), before);
      await assert.rejects(Deno.stat(`${home}/.ssh/known_hosts`));
    });

    await t.step(
      "-4 -6 -n -E -b: address family, stdin from /dev/null, the trace to a file",
      async () => {
        const v4 = await sshtrace(["--json", "-4", "-o", "HostName=localhost", "sw1", "echo v4"]);
        assert.equal(v4.code, 0, v4.stderr);
        assert.match(parseJsonReport(v4.stdout).server.host, /^localhost$/);
        // 127.0.0.1 has no IPv6 address: -6 is a connect.dns failure naming AddressFamily.
        const v6 = await sshtrace(["--json", "-6", "sw1", "true"]);
        assert.equal(v6.code, 10, v6.stderr);
        assert.match(
          parseJsonReport(v6.stdout).error.message,
          /IPv6 address \(AddressFamily inet6\)/,
        );
        // -n: `cat` sees end of input at once, though stdin has data.
        const n = await runSshtrace(["-n", "sw1", "cat; echo done"], {
          home,
          stdin: "not sent\n",
          timeoutMs: 30_000,
        });
        assert.equal(n.code, 0, n.stderr);
        assert.equal(n.stdout, "done\n");
        const traceFile = `${tmp.path}/trace.txt`;
        const e = await sshtrace(["-E", traceFile, "-v", "sw1", "true"]);
        assert.equal(e.code, 0, e.stderr);
        assert.doesNotMatch(e.stderr, /── kex/);
        const trace = await Deno.readTextFile(traceFile);
        assert.match(trace, /── config[\s\S]*── kex[\s\S]*── session/);
        // -b (BindAddress): the connection comes from that local address.
        const b = await sshtrace(["-v", "-b", "127.0.0.2", "sw1", "true"]);
        assert.equal(b.code, 0, b.stderr);
        assert.match(b.stderr, /from local address 127\.0\.0\.2 \(BindAddress\)/);
        await sshd.waitForLog(/Connection from 127\.0\.0\.2 port/);
        const bad = await sshtrace(["--json", "-o", "BindAddress=192.0.2.1", "sw1", "true"]);
        const failed = parseJsonReport(bad.stdout).error;
        assert.equal(failed.code, "connect.failed", bad.stderr);
        assert.match(failed.message, /from local address 192\.0\.2\.1 \(BindAddress\)/);
      },
    );

    await t.step(
      "a malformed file is config.invalid naming file:line; nothing is sent",
      async () => {
        const bad = `${tmp.path}/bad_config`;
        await Deno.writeTextFile(bad, `Host sw1\n  HostName 127.0.0.1\n  Port ${sshd.port}x\n`);
        const before = connections(sshd);
        const r = await sshtrace(["--json", "-F", bad, "sw1", "true"]);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, new RegExp(`${bad}:3: Port`));
        assert.match(r.stderr, /\(stage config\)/);
        assert.equal(parseJsonReport(r.stdout).error.code, "config.invalid");
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.equal(connections(sshd), before, "no connection for a malformed configuration");
      },
    );

    await t.step(
      "a refused keyword is config.refused with its file:line; nothing is sent",
      async () => {
        const refused = `${tmp.path}/refused_config`;
        await Deno.writeTextFile(refused, `Host sw1\n  HostName 127.0.0.1\n  ForwardX11 yes\n`);
        const before = connections(sshd);
        const r = await sshtrace(["--ndjson", "-F", refused, "sw1", "true"]);
        assert.equal(r.code, 2, r.stderr);
        const events = splitNdjson(r.stdout).events;
        const error = events.find((e: Json) => e.type === "error");
        assert.equal(error?.stage, "config");
        assert.equal(error?.code, "config.refused");
        assert.match(r.stderr, new RegExp(`${refused}:3`));
        assert.ok(!events.some((e: Json) => e.stage === "connect"), "stage connect never began");
        assert.equal(connections(sshd), before);
      },
    );
  } finally {
    for (const s of servers) await s.stop();
  }
});
