/**
 * `sshtrace get` / `put --protocol scp` against dropbear 2022.83 (whose scp is OpenSSH's, run
 * over exec): a 16 MiB file keeps its checksum both ways, -r copies a tree, and the remote scp's
 * error line for a missing file becomes transfer.no-such-file.
 */

import assert from "node:assert/strict";
import { ed25519Key, emptyHome, MiB, parseJsonReport, runSshtrace } from "../../helpers/cli.ts";
import { authorize, startDropbear } from "../../helpers/dropbear.ts";
import { ensureTestUser } from "../../helpers/sshd.ts";
import { fileSha } from "../../helpers/files.ts";
import { run, tempDir } from "../../helpers/tools.ts";

const sshtrace = (home: string, args: string[]) =>
  runSshtrace(args, { home, textLimit: MiB, timeoutMs: 120_000 });

Deno.test("sshtrace get/put copy files with dropbear over SCP", async (t) => {
  const user = await ensureTestUser();
  await using tmp = await tempDir("sshtrace-transfer-dropbear-");
  const home = await emptyHome(tmp.path);
  const key = await ed25519Key(tmp.path);
  const unauthorize = await authorize(user, (await Deno.readTextFile(`${key}.pub`)).trim());
  const remoteDir = `${user.home}/transfer-dropbear`;
  await Deno.remove(remoteDir, { recursive: true }).catch(() => {});
  await Deno.mkdir(remoteDir);
  await run("chown", [`${user.name}:${user.name}`, remoteDir]);
  const dropbear = await startDropbear(tmp.path);
  try {
    const base = [
      "-q",
      "--protocol",
      "scp",
      "-o",
      "StrictHostKeyChecking=no",
      "-o",
      `UserKnownHostsFile=${tmp.path}/known_hosts`,
      "-i",
      key,
      "-P",
      String(dropbear.port),
    ];
    const at = (path: string) => `${user.name}@127.0.0.1:${path}`;
    const src = `${tmp.path}/src.bin`;
    const made = await run("sh", ["-c", `head -c ${16 * MiB} /dev/urandom > '${src}'`]);
    assert.equal(made.code, 0, made.stderr);

    await t.step(
      "a 16 MiB file goes both ways over SCP",
      async () => {
        const up = await sshtrace(home, ["put", ...base, "--json", src, at(`${remoteDir}/up.bin`)]);
        assert.equal(up.code, 0, up.stderr + up.stdout.slice(-2000));
        const report = parseJsonReport(up.stdout);
        assert.equal(report.transfer.protocol, "scp");
        assert.equal(report.transfer.reason, "--protocol scp");
        assert.equal(await fileSha(`${remoteDir}/up.bin`), await fileSha(src));
        const down = await sshtrace(home, [
          "get",
          ...base,
          at(`${remoteDir}/up.bin`),
          `${tmp.path}/down.bin`,
        ]);
        assert.equal(down.code, 0, down.stderr);
        assert.equal(await fileSha(`${tmp.path}/down.bin`), await fileSha(src));
      },
    );

    await t.step("-r copies a tree up and back", async () => {
      const tree = `${tmp.path}/tree`;
      await Deno.mkdir(`${tree}/sub`, { recursive: true });
      await Deno.writeTextFile(`${tree}/a.txt`, "a\n");
      await Deno.writeTextFile(`${tree}/sub/b.txt`, "b\n");
      const up = await sshtrace(home, ["put", ...base, "-r", tree, at(`${remoteDir}/tree`)]);
      assert.equal(up.code, 0, up.stderr);
      const down = await sshtrace(home, [
        "get",
        ...base,
        "-r",
        at(`${remoteDir}/tree`),
        `${tmp.path}/tree-back`,
      ]);
      assert.equal(down.code, 0, down.stderr);
      assert.equal(await Deno.readTextFile(`${tmp.path}/tree-back/sub/b.txt`), "b\n");
    });

    await t.step(
      "a missing file is transfer.no-such-file with the remote scp's words",
      async () => {
        const res = await sshtrace(home, [
          "get",
          ...base,
          "--json",
          at(`${remoteDir}/missing.cfg`),
          `${tmp.path}/missing.cfg`,
        ]);
        assert.equal(res.code, 17, res.stderr);
        const report = parseJsonReport(res.stdout);
        assert.equal(report.error.code, "transfer.no-such-file");
        assert.match(report.error.message, /the server said: .*missing\.cfg/);
      },
    );
  } finally {
    await dropbear.stop();
    await unauthorize();
    await Deno.remove(remoteDir, { recursive: true }).catch(() => {});
  }
});
