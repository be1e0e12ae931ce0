/**
 * `sshtrace send` to bash on a real OpenSSH sshd (password login): outputs free of bash's
 * bracketed-paste switches, every completed output kept when a later command times out, and a
 * trace whose session step fails where the failure box says.
 */

import assert from "node:assert/strict";
import { parseJsonReport, runSshtrace } from "../../helpers/cli.ts";
import { ensureTestUser, startSshd } from "../../helpers/sshd.ts";
import { tempDir } from "../../helpers/tools.ts";

Deno.test("sshtrace send drives bash on OpenSSH sshd", async (t) => {
  const user = await ensureTestUser();
  await using tmp = await tempDir("sshtrace-send-linux-");
  const sshd = await startSshd({ config: ["PasswordAuthentication yes"] });
  const send = (args: string[]) =>
    runSshtrace([
      "send",
      "-o",
      "StrictHostKeyChecking=no",
      "--password-env",
      "PW",
      ...args,
    ], { home: tmp.path, env: { PW: user.password } });
  const target = `${user.name}@127.0.0.1:${sshd.port}`;
  try {
    await t.step("outputs carry neither bash's ESC[?2004l nor the echoed command", async () => {
      const res = await send([target, "--", "echo one", "echo two; echo 2b"]);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout, "one\ntwo\n2b\n");
      // The device label reads as words: "device linux (Unix)", never "Unix shell shell".
      assert.match(res.stderr, /device linux \(Unix, detected from/);
      assert.doesNotMatch(res.stderr, /shell shell/);
    });

    await t.step(
      "a command that times out keeps the outputs before it and marks the rest not run",
      async () => {
        for (const json of [false, true]) {
          const res = await send([
            ...(json ? ["--json"] : []),
            "--command-timeout",
            "2",
            target,
            "--",
            "echo one",
            "sleep 100",
            "echo three",
          ]);
          assert.equal(res.code, 15, res.stderr);
          if (!json) {
            assert.equal(res.stdout, "one\n");
            continue;
          }
          const r = parseJsonReport(res.stdout);
          assert.equal(r.error.code, "session.send-timeout");
          assert.deepEqual(
            r.commands.map((c: { command: string; status: string }) => [c.command, c.status]),
            [["echo one", "ok"], ["sleep 100", "failed"], ["echo three", "not-run"]],
          );
          assert.equal(r.commands[0].output, "one\n");
          assert.equal(r.commands[2].output, undefined);
        }
      },
    );

    await t.step("the failing step is marked ✗ session, never ✓ data before the box", async () => {
      const res = await send(["--command-timeout", "1", target, "--", "sleep 100"]);
      assert.equal(res.code, 15, res.stderr);
      assert.match(res.stderr, /✗ session [\d.]+ ms\n[\s\S]*failed at stage session \(exit 15\)/);
      assert.doesNotMatch(res.stderr, /✓ data/);
      assert.doesNotMatch(res.stderr, /✓ session [\d.]+ ms\n\n┌/);
    });
  } finally {
    await sshd.stop();
  }
});
