/**
 * An SFTP-only server (ProFTPD mod_sftp): the login works, and a refused exec or shell is
 * explained as "file transfer only" with sftp as the fix, not "type the command into a shell".
 */

import assert from "node:assert/strict";
import { emptyHome, parseJsonReport, runSshtrace } from "../helpers/cli.ts";
import { startProftpdSftp } from "../helpers/proftpd.ts";
import { tempDir } from "../helpers/tools.ts";

Deno.test("ProFTPD mod_sftp: exec and shell refusals say the server is for file transfer only", async (t) => {
  const server = await startProftpdSftp();
  await using dir = await tempDir();
  const home = await emptyHome(dir.path);
  const base = [
    "--json",
    "--timeout",
    "5",
    "-o",
    "StrictHostKeyChecking=no",
    "--password-env",
    "SFTP_PASSWORD",
    "-p",
    String(server.port),
    `${server.user.name}@${server.host}`,
  ];
  const env = { SFTP_PASSWORD: server.user.password };
  try {
    await t.step("probe grades the server and lists password", async () => {
      const probe = base.filter((a) => a !== "--password-env" && a !== "SFTP_PASSWORD");
      const r = await runSshtrace(["probe", ...probe], { home });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /mod_sftp/);
    });
    for (
      const [what, args, code] of [
        ["exec", ["echo", "hi"], "session.exec-refused"],
        ["shell", ["-T"], "session.shell-refused"],
      ] as const
    ) {
      await t.step(`${what}: exit 15, ${code}, the fix is an SFTP client`, async () => {
        const extra = what === "shell" ? [...args] : [];
        const tail = what === "exec" ? [...args] : [];
        const r = await runSshtrace([...extra, ...base, ...tail], { home, env, stdin: "" });
        assert.equal(r.code, 15, r.stderr);
        const report = parseJsonReport(r.stdout);
        assert.equal(report.error.code, code);
        assert.match(report.error.title ?? r.stderr, /file transfer only/);
        assert.match(r.stderr, new RegExp(`sftp -P ${server.port} USER@127\\.0\\.0\\.1`));
        assert.doesNotMatch(r.stderr, /sshtrace send/);
      });
    }
  } finally {
    await server.stop();
  }
});
