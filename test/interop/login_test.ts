/**
 * `sshtrace [connect]` logging in to a real OpenSSH sshd, run as a subprocess: every
 * authentication method, the failures' exit codes and error codes, and the host key policy
 * (strict, accept-new, changed) against a temporary known_hosts file.
 */

import assert from "node:assert/strict";
import {
  emptyHome,
  type Json,
  parseJsonReport,
  runSshtrace,
  splitNdjson,
  type SshtraceResult,
} from "../helpers/cli.ts";
import { ensureTestUser, SSH_KEYGEN, type SshdHandle, startSshd } from "../helpers/sshd.ts";
import { requireTool, run, tempDir } from "../helpers/tools.ts";

const SSH_AGENT = "/usr/bin/ssh-agent";
const SSH_ADD = "/usr/bin/ssh-add";
const PASSPHRASE = "tr0ub4dor & 3 staples";
const WRONG_PASSWORD = "not-the-password-7";

/** Every CLI run of this file: the last step checks no secret ever reached the output. */
const outputs: { args: string[]; result: SshtraceResult }[] = [];

interface Env {
  home: string;
  knownHosts: string;
}

/**
 * Runs the CLI with HOME pointing at an empty directory (no default keys) and no ssh-agent
 * unless `env` sets one, and records the run.
 */
async function sshtrace(
  ctx: Env,
  args: string[],
  env: Record<string, string> = {},
  stdin?: string,
): Promise<SshtraceResult> {
  const result = await runSshtrace(args, { home: ctx.home, env, stdin, timeoutMs: 30_000 });
  outputs.push({ args, result });
  return result;
}

/** `--ndjson` events (lines that parse as JSON objects with a stage). */
const events = (stdout: string): Json[] => splitNdjson(stdout).events;

async function keygen(dir: string, name: string, args: string[], passphrase = ""): Promise<string> {
  const path = `${dir}/${name}`;
  const res = await run(SSH_KEYGEN, [...args, "-q", "-N", passphrase, "-C", name, "-f", path]);
  assert.equal(res.code, 0, `ssh-keygen ${name}: ${res.stderr}`);
  return path;
}

async function pub(path: string): Promise<string> {
  return (await Deno.readTextFile(`${path}.pub`)).trim();
}

/** Waits until sshd's log, from offset `from` on, matches `re`; returns that part of the log. */
async function logAfter(sshd: SshdHandle, from: number, re: RegExp): Promise<string> {
  const deadline = Date.now() + 5000;
  while (!re.test(sshd.logs().slice(from)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
  }
  const text = sshd.logs().slice(from);
  assert.match(text, re, `sshd log after the run:\n${text}`);
  return text;
}

function target(user: string, sshd: SshdHandle): string {
  return `${user}@127.0.0.1:${sshd.port}`;
}

Deno.test("sshtrace logs in to OpenSSH sshd with every method and refuses what it must", async (t) => {
  requireTool(SSH_KEYGEN);
  requireTool(SSH_AGENT);
  requireTool(SSH_ADD);
  const user = await ensureTestUser();
  await using tmp = await tempDir("sshtrace-login-");
  const home = await emptyHome(tmp.path);
  const knownHosts = `${tmp.path}/known_hosts`;
  const ctx: Env = { home, knownHosts };

  const keys = {
    ed25519: await keygen(tmp.path, "id_ed25519", ["-t", "ed25519"]),
    ecdsa256: await keygen(tmp.path, "id_ecdsa256", ["-t", "ecdsa", "-b", "256"]),
    ecdsa384: await keygen(tmp.path, "id_ecdsa384", ["-t", "ecdsa", "-b", "384"]),
    ecdsa521: await keygen(tmp.path, "id_ecdsa521", ["-t", "ecdsa", "-b", "521"]),
    rsa: await keygen(tmp.path, "id_rsa", ["-t", "rsa", "-b", "2048"]),
    encrypted: await keygen(tmp.path, "id_encrypted", ["-t", "ed25519"], PASSPHRASE),
    agent: await keygen(tmp.path, "id_agent", ["-t", "ed25519"]),
    stranger: await keygen(tmp.path, "id_stranger", ["-t", "ed25519"]),
  };
  const authorized = await Promise.all(
    Object.entries(keys).filter(([n]) => n !== "stranger").map(([, p]) => pub(p)),
  );
  const passwordFile = `${tmp.path}/password`;
  await Deno.writeTextFile(passwordFile, user.password + "\n");

  const servers: SshdHandle[] = [];
  const agentSock = `${tmp.path}/agent.sock`;
  let agent: Deno.ChildProcess | undefined;
  try {
    const sshd = await startSshd({ authorizedKeys: authorized });
    servers.push(sshd);
    // Most runs don't test host keys: trust the server's key up front.
    await Deno.writeTextFile(knownHosts, `[127.0.0.1]:${sshd.port} ${sshd.hostKeys.ed25519.pub}\n`);
    const strict = ["-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${knownHosts}`];

    const keyCases: [string, string, string][] = [
      ["ed25519", keys.ed25519, "ssh-ed25519"],
      ["ecdsa P-256", keys.ecdsa256, "ecdsa-sha2-nistp256"],
      ["ecdsa P-384", keys.ecdsa384, "ecdsa-sha2-nistp384"],
      ["ecdsa P-521", keys.ecdsa521, "ecdsa-sha2-nistp521"],
    ];
    for (const [label, key, alg] of keyCases) {
      await t.step(`publickey with an ${label} key logs in and signs with ${alg}`, async () => {
        const from = sshd.logs().length;
        const res = await sshtrace(ctx, [
          ...strict,
          "--ndjson",
          "-i",
          key,
          target(user.name, sshd),
          "echo logged-in-as-$(id -un)",
        ]);
        assert.equal(res.code, 0, res.stderr);
        assert.match(res.stdout, new RegExp(`^logged-in-as-${user.name}$`, "m"));
        const ev = events(res.stdout);
        const success = ev.find((e) => e.type === "success");
        assert.equal(success?.method, "publickey");
        const attempt = ev.find((e) => e.type === "attempt" && e.method === "publickey");
        assert.match(attempt?.detail ?? "", new RegExp(`from ${key}, ${alg} `));
        const log = await logAfter(sshd, from, /Accepted publickey for sshtrace-test/);
        assert.match(log, new RegExp(`publickey test pkalg ${alg} `));
      });
    }

    await t.step(
      "publickey with an rsa key signs with rsa-sha2-512 from server-sig-algs",
      async () => {
        const from = sshd.logs().length;
        const res = await sshtrace(ctx, [
          ...strict,
          "--ndjson",
          "-i",
          keys.rsa,
          target(user.name, sshd),
          "true",
        ]);
        assert.equal(res.code, 0, res.stderr);
        const ev = events(res.stdout);
        const ext = ev.find((e) => e.type === "ext-info");
        assert.ok(ext?.serverSigAlgs?.includes("rsa-sha2-512"), JSON.stringify(ext));
        const attempt = ev.find((e) => e.type === "attempt" && e.method === "publickey");
        assert.match(attempt?.detail ?? "", /rsa-sha2-512 \(server-sig-algs lists rsa-sha2-512\)/);
        assert.ok(
          ev.some((e) => e.type === "info" && /signing with rsa-sha2-512$/.test(e.message)),
          "no 'signing with rsa-sha2-512' event",
        );
        assert.ok(!res.stdout.includes('"ssh-rsa ('), "must never sign with SHA-1 ssh-rsa");
        const log = await logAfter(sshd, from, /Accepted publickey for sshtrace-test/);
        assert.match(log, /publickey test pkalg rsa-sha2-512 /);
      },
    );

    await t.step("an encrypted key is unlocked with --passphrase-env", async () => {
      const res = await sshtrace(
        ctx,
        [
          ...strict,
          "--json",
          "--passphrase-env",
          "KEY_PASS",
          "-i",
          keys.encrypted,
          target(
            user.name,
            sshd,
          ),
          "true",
        ],
        { KEY_PASS: PASSPHRASE },
      );
      assert.equal(res.code, 0, res.stderr);
      const r = parseJsonReport(res.stdout);
      assert.equal(r.auth.success, true);
      const last = r.auth.attempts.at(-1);
      assert.equal(last.method, "publickey");
      assert.equal(last.result, "success");
      assert.match(last.detail, /id_encrypted/);
    });

    await t.step("an encrypted key with the wrong passphrase is skipped, not used", async () => {
      const res = await sshtrace(
        ctx,
        [
          ...strict,
          "--batch",
          "--json",
          "--passphrase-env",
          "KEY_PASS",
          "-i",
          keys.encrypted,
          target(
            user.name,
            sshd,
          ),
          "true",
        ],
        { KEY_PASS: WRONG_PASSWORD },
      );
      assert.equal(res.code, 14, res.stderr);
      assert.match(res.stderr, /key skipped: .*id_encrypted/);
    });

    await t.step("a key held by an ssh-agent started by the test logs in", async () => {
      agent = new Deno.Command(SSH_AGENT, {
        args: ["-D", "-a", agentSock],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      const deadline = Date.now() + 5000;
      while (!(await Deno.stat(agentSock).then(() => true, () => false))) {
        assert.ok(Date.now() < deadline, "ssh-agent did not create its socket");
        await new Promise((r) => setTimeout(r, 25));
      }
      const add = await run(SSH_ADD, [keys.agent], { env: { SSH_AUTH_SOCK: agentSock } });
      assert.equal(add.code, 0, add.stderr);
      const res = await sshtrace(
        ctx,
        [...strict, "--ndjson", target(user.name, sshd), "true"],
        { SSH_AUTH_SOCK: agentSock },
      );
      assert.equal(res.code, 0, res.stderr);
      const ev = events(res.stdout);
      assert.ok(ev.some((e) => e.type === "info" && e.message === "ssh-agent offers 1 key(s)"));
      const attempt = ev.find((e) => e.type === "attempt" && e.method === "publickey");
      assert.match(attempt?.detail ?? "", /from agent/);
      assert.equal(ev.find((e) => e.type === "success")?.method, "publickey");
    });

    await t.step("password from --password-env logs in", async () => {
      const from = sshd.logs().length;
      const res = await sshtrace(
        ctx,
        [
          ...strict,
          "--json",
          "-o",
          "PreferredAuthentications=password",
          "--password-env",
          "SSHTRACE_PW",
          target(user.name, sshd),
          "true",
        ],
        { SSHTRACE_PW: user.password },
      );
      assert.equal(res.code, 0, res.stderr);
      const r = parseJsonReport(res.stdout);
      assert.deepEqual(r.auth.attempts.map((a: { method: string }) => a.method), [
        "none",
        "password",
      ]);
      assert.equal(r.auth.attempts[1].result, "success");
      await logAfter(sshd, from, /Accepted password for sshtrace-test/);
    });

    await t.step("password from --password-file logs in, with -vv --ndjson tracing", async () => {
      const res = await sshtrace(ctx, [
        ...strict,
        "-vv",
        "--ndjson",
        "-o",
        "PreferredAuthentications=password",
        "--password-file",
        passwordFile,
        target(user.name, sshd),
        "true",
      ]);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(events(res.stdout).find((e) => e.type === "success")?.method, "password");
    });

    await t.step("keyboard-interactive through PAM answers the Password: prompt", async () => {
      const kbd = await startSshd({
        authorizedKeys: authorized,
        config: ["AuthenticationMethods keyboard-interactive"],
      });
      servers.push(kbd);
      await Deno.writeTextFile(
        knownHosts,
        `[127.0.0.1]:${kbd.port} ${kbd.hostKeys.ed25519.pub}\n`,
        {
          append: true,
        },
      );
      // A key is given too: the server does not offer publickey, so it is never tried.
      const res = await sshtrace(
        ctx,
        [
          ...strict,
          "--ndjson",
          "-i",
          keys.ed25519,
          "--password-env",
          "SSHTRACE_PW",
          target(user.name, kbd),
          "true",
        ],
        { SSHTRACE_PW: user.password },
      );
      assert.equal(res.code, 0, res.stderr);
      const ev = events(res.stdout);
      assert.deepEqual(ev.find((e) => e.type === "failure")?.canContinue, ["keyboard-interactive"]);
      assert.ok(!ev.some((e) => e.type === "attempt" && e.method === "publickey"));
      assert.ok(ev.some((e) => e.type === "info" && /"Password: " \(hidden\)/.test(e.message)));
      assert.equal(ev.find((e) => e.type === "success")?.method, "keyboard-interactive");
      await logAfter(kbd, 0, /Accepted keyboard-interactive\/pam for sshtrace-test/);
    });

    await t.step("a wrong password exits 14 with auth.password-rejected", async () => {
      const res = await sshtrace(
        ctx,
        [
          ...strict,
          "--json",
          "-o",
          "PreferredAuthentications=password",
          "--password-env",
          "SSHTRACE_PW",
          target(user.name, sshd),
          "true",
        ],
        { SSHTRACE_PW: WRONG_PASSWORD },
      );
      assert.equal(res.code, 14, res.stderr);
      const r = parseJsonReport(res.stdout);
      assert.equal(r.ok, false);
      assert.equal(r.failedStage, "auth");
      assert.equal(r.error.code, "auth.password-rejected");
      assert.match(res.stderr, /failed at stage auth \(exit 14\)/);
    });

    await t.step("a key missing from authorized_keys is rejected with exit 14", async () => {
      const from = sshd.logs().length;
      const res = await sshtrace(ctx, [
        ...strict,
        "--batch",
        "--json",
        "-i",
        keys.stranger,
        target(user.name, sshd),
        "true",
      ]);
      assert.equal(res.code, 14, res.stderr);
      const r = parseJsonReport(res.stdout);
      assert.equal(r.failedStage, "auth");
      assert.match(r.error.code, /^auth\./);
      const key = r.auth.attempts.find((a: { method: string }) => a.method === "publickey");
      assert.equal(key?.result, "failure");
      const log = await logAfter(sshd, from, /Connection closed|Disconnected from|disconnect/i);
      assert.doesNotMatch(log, /Accepted publickey/);
    });

    await t.step("BatchMode=yes with nothing usable exits 14 without prompting", async () => {
      const res = await sshtrace(
        ctx,
        [
          ...strict,
          "-o",
          "BatchMode=yes",
          "--json",
          target(user.name, sshd),
          "true",
        ],
        {},
        "",
      );
      assert.equal(res.code, 14, res.stderr);
      const r = parseJsonReport(res.stdout);
      assert.match(r.error.code, /^auth\.(batch-mode-needs-prompt|no-common-method)$/);
      assert.doesNotMatch(res.stderr, /password: /i);
    });

    await t.step("partial success (publickey,password) is followed to success", async () => {
      const both = await startSshd({
        authorizedKeys: authorized,
        config: ["AuthenticationMethods publickey,password"],
      });
      servers.push(both);
      await Deno.writeTextFile(
        knownHosts,
        `[127.0.0.1]:${both.port} ${both.hostKeys.ed25519.pub}\n`,
        { append: true },
      );
      const res = await sshtrace(
        ctx,
        [
          ...strict,
          "--ndjson",
          "-i",
          keys.ed25519,
          "--password-env",
          "SSHTRACE_PW",
          target(user.name, both),
          "echo both-done",
        ],
        { SSHTRACE_PW: user.password },
      );
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /^both-done$/m);
      const ev = events(res.stdout).filter((e) => e.stage === "auth");
      const partial = ev.find((e) => e.type === "failure" && e.partialSuccess);
      assert.equal(partial?.method, "publickey");
      assert.deepEqual(partial?.canContinue, ["password"]);
      assert.equal(ev.find((e) => e.type === "success")?.method, "password");
      const log = await logAfter(both, 0, /Accepted password for sshtrace-test/);
      assert.match(log, /Partial publickey for sshtrace-test/);
    });

    await t.step(
      "an unknown host key with StrictHostKeyChecking=yes exits 13 before auth",
      async () => {
        const fresh = await startSshd({ authorizedKeys: authorized });
        servers.push(fresh);
        const empty = `${tmp.path}/known_hosts_empty`;
        await Deno.writeTextFile(empty, "");
        const res = await sshtrace(
          ctx,
          [
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            `UserKnownHostsFile=${empty}`,
            "--json",
            "-i",
            keys.ed25519,
            "--password-env",
            "SSHTRACE_PW",
            target(user.name, fresh),
            "true",
          ],
          { SSHTRACE_PW: user.password },
        );
        assert.equal(res.code, 13, res.stderr);
        const r = parseJsonReport(res.stdout);
        assert.equal(r.error.code, "hostkey.unknown");
        assert.equal(r.hostKey.status, "unknown");
        assert.equal(r.auth, null);
        assert.equal(await Deno.readTextFile(empty), "", "known_hosts must stay empty");
        // sshd saw the connection end, and never a user authentication request.
        const log = await logAfter(fresh, 0, /Connection closed by|Disconnected from|disconnect/i);
        assert.doesNotMatch(log, /userauth-request/);
        assert.doesNotMatch(log, new RegExp(user.name));
      },
    );

    await t.step(
      "accept-new appends exactly one line and keeps the others; then known",
      async () => {
        const file = `${tmp.path}/known_hosts_accept`;
        const before = "# my hosts\nexample.org ssh-ed25519 " +
          (await pub(keys.stranger)).split(" ")[1] + "\n";
        await Deno.writeTextFile(file, before);
        // A plain line (the system's ssh_config may say HashKnownHosts yes, as Debian's does).
        const args = [
          "-o",
          "HashKnownHosts=no",
          "-o",
          "StrictHostKeyChecking=accept-new",
          "-o",
          `UserKnownHostsFile=${file}`,
          "--json",
          "-i",
          keys.ed25519,
          target(user.name, sshd),
          "true",
        ];
        const first = await sshtrace(ctx, args);
        assert.equal(first.code, 0, first.stderr);
        assert.equal(parseJsonReport(first.stdout).hostKey.status, "accepted");
        assert.equal(parseJsonReport(first.stdout).hostKey.line, 3, "the line written");
        const after = await Deno.readTextFile(file);
        assert.equal(after, before + `[127.0.0.1]:${sshd.port} ${sshd.hostKeys.ed25519.pub}\n`);
        assert.match(
          after.split("\n")[2]!,
          /^\[127\.0\.0\.1\]:\d+ ssh-ed25519 AAAA[A-Za-z0-9+/=]+$/,
        );

        const second = await sshtrace(ctx, args);
        assert.equal(second.code, 0, second.stderr);
        const r = parseJsonReport(second.stdout);
        assert.equal(r.hostKey.status, "known");
        assert.equal(r.hostKey.file, file);
        assert.equal(r.hostKey.line, 3);
        assert.equal(await Deno.readTextFile(file), after, "a known key must not be added again");
      },
    );

    for (const mode of ["yes", "accept-new"]) {
      await t.step(
        `a changed host key exits 13 with file:line and ssh-keygen -R (${mode})`,
        async () => {
          const file = `${tmp.path}/known_hosts_changed_${mode}`;
          const other = (await pub(keys.stranger)).split(" ").slice(0, 2).join(" ");
          const content = `# first line\n[127.0.0.1]:${sshd.port} ${other}\n`;
          await Deno.writeTextFile(file, content);
          const res = await sshtrace(
            ctx,
            [
              "-o",
              `StrictHostKeyChecking=${mode}`,
              "-o",
              `UserKnownHostsFile=${file}`,
              "--json",
              "--password-env",
              "SSHTRACE_PW",
              "-i",
              keys.ed25519,
              target(user.name, sshd),
              "true",
            ],
            { SSHTRACE_PW: user.password },
          );
          assert.equal(res.code, 13, res.stderr);
          const r = parseJsonReport(res.stdout);
          assert.equal(r.error.code, "hostkey.changed");
          assert.equal(r.hostKey.status, "changed");
          assert.equal(r.auth, null);
          assert.ok(res.stderr.includes(`${file}:2`), res.stderr);
          assert.match(
            res.stderr,
            new RegExp(`ssh-keygen -R "\\[127\\.0\\.0\\.1\\]:${sshd.port}"`),
          );
          assert.match(r.error.fix, /ssh-keygen -R/);
          assert.equal(await Deno.readTextFile(file), content, "known_hosts must not change");
        },
      );
    }

    await t.step("no password or passphrase appears in any output of these runs", () => {
      assert.ok(outputs.length >= 18, `only ${outputs.length} runs recorded`);
      const secrets = [user.password, PASSPHRASE, WRONG_PASSWORD];
      for (const { args, result } of outputs) {
        for (const secret of secrets) {
          for (const [name, text] of [["stdout", result.stdout], ["stderr", result.stderr]]) {
            assert.ok(
              !text.includes(secret),
              `a secret appeared in ${name} of: sshtrace ${args.join(" ")}`,
            );
          }
        }
      }
      // The runs did cover both machine-readable formats.
      assert.ok(outputs.some((o) => o.args.includes("--json")));
      assert.ok(outputs.some((o) => o.args.includes("--ndjson") && o.args.includes("-vv")));
    });
  } finally {
    if (agent) {
      try {
        agent.kill("SIGTERM");
      } catch {
        // already gone
      }
      await agent.status;
    }
    for (const s of servers) await s.stop();
  }
});
