/**
 * Agent forwarding (`connect({ forwardAgent })`, `sshtrace -A`) with a real ssh-agent and
 * OpenSSH sshd: `ssh-add -l` on the server lists the local agent's key, the trace warns that the
 * server can use the agent, and without it the server has no agent.
 */

import assert from "node:assert/strict";
import { connect } from "../../../lib/client.ts";
import { Tracer } from "../../../lib/trace.ts";
import { ed25519Key, runSshtrace } from "../../helpers/cli.ts";
import { password } from "../../helpers/lab.ts";
import { ensureTestUser, SSH_KEYGEN, startSshd } from "../../helpers/sshd.ts";
import { requireTool, run, tempDir } from "../../helpers/tools.ts";

const SSH_AGENT = "/usr/bin/ssh-agent";
const SSH_ADD = "/usr/bin/ssh-add";
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("agent forwarding lets the server use the local ssh-agent, with a warning", async (t) => {
  requireTool(SSH_AGENT);
  requireTool(SSH_ADD);
  const user = await ensureTestUser();
  const dir = await tempDir("sshtrace-agent-");
  const sock = `${dir.path}/agent.sock`;
  const agent = new Deno.Command(SSH_AGENT, {
    args: ["-D", "-a", sock],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const sshd = await startSshd();
  try {
    for (let i = 0; i < 100; i++) {
      if (await Deno.stat(sock).then(() => true, () => false)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    // The forwarded socket is opened by the test user: let it reach the agent's directory.
    await Deno.chmod(dir.path, 0o755);
    const key = await ed25519Key(dir.path);
    const added = await run(SSH_ADD, [key], { env: { SSH_AUTH_SOCK: sock } });
    assert.equal(added.code, 0, added.stderr);
    const fingerprint = (await run(SSH_KEYGEN, ["-lf", `${key}.pub`])).stdout.split(" ")[1]!;
    const knownHosts = `${dir.path}/known_hosts`;
    await Deno.writeTextFile(knownHosts, `[127.0.0.1]:${sshd.port} ${sshd.hostKeys.ed25519.pub}\n`);
    const base = {
      host: "127.0.0.1",
      port: sshd.port,
      user: user.name,
      knownHostsFiles: [knownHosts],
      auth: { password: password(user.password), methods: ["password"] },
    };

    await t.step("connect({ forwardAgent }): ssh-add -l there lists our key", async () => {
      const tracer = new Tracer();
      const client = await connect({ ...base, tracer, forwardAgent: sock });
      try {
        const { stdout, exit } = await client.exec("ssh-add -l");
        assert.equal(exit.status, 0, decode(stdout));
        assert.match(decode(stdout), new RegExp(fingerprint.replace(/[+/]/g, "\\$&")));
      } finally {
        await client.close();
      }
      const infos = tracer.events.flatMap((e) => e.type === "info" ? [e.message] : []);
      assert.ok(infos.some((m) => /agent forwarding is on: .*can use your agent's keys/.test(m)));
      assert.ok(infos.some((m) => /forwarded agent: the server uses the agent/.test(m)));
    });

    await t.step("without it the server has no agent", async () => {
      const client = await connect({ ...base, tracer: new Tracer() });
      try {
        const { exit } = await client.exec("ssh-add -l");
        assert.equal(exit.status, 2, "ssh-add: could not open a connection to your agent");
      } finally {
        await client.close();
      }
    });

    await t.step("sshtrace -A does the same from the command line", async () => {
      const r = await runSshtrace(
        [
          "-A",
          "-v",
          "--password-env",
          "PW",
          "-o",
          `UserKnownHostsFile=${knownHosts}`,
          "-o",
          "PreferredAuthentications=password",
          `${user.name}@127.0.0.1:${sshd.port}`,
          "ssh-add",
          "-l",
        ],
        { home: dir.path, env: { PW: user.password, SSH_AUTH_SOCK: sock }, timeoutMs: 30_000 },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.includes(fingerprint), r.stdout);
      assert.match(r.stderr, /agent forwarding is on/);
    });
  } finally {
    await sshd.stop();
    try {
      agent.kill("SIGTERM");
    } catch {
      // gone
    }
    await agent.status;
    await dir.cleanup();
  }
});
