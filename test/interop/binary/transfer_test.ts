/**
 * `get` and `put` of the standalone executable (dist/sshtrace-linux-x64: Bun, the platform
 * seam's Node-API side, so local files through lib/platform/node_files.ts) against a real
 * OpenSSH sshd, with no Deno and no node_modules (`env -i PATH=/usr/bin:/bin`, from `/`): SFTP
 * and SCP both ways with checksums, -p (mode and time), --resume of a partial download, and
 * nothing left under the final name when the remote file is missing.
 */

import assert from "node:assert/strict";
import { ed25519Key, emptyHome, MiB, parseJsonReport, runSshtrace } from "../../helpers/cli.ts";
import { ensureBinary } from "../../helpers/binary.ts";
import { exists, fileSha, randomFile } from "../../helpers/files.ts";
import { ensureTestUser, startSshd } from "../../helpers/sshd.ts";
import { run, tempDir } from "../../helpers/tools.ts";

Deno.test("the standalone executable copies files with get and put over SFTP and SCP", async (t) => {
  const binary = await ensureBinary();
  const user = await ensureTestUser();
  await using tmp = await tempDir("sshtrace-binary-transfer-");
  const home = await emptyHome(tmp.path);
  const key = await ed25519Key(tmp.path);
  const pub = (await Deno.readTextFile(`${key}.pub`)).trim();
  const sshd = await startSshd({ hostKeyTypes: ["ed25519"], authorizedKeys: [pub] });
  const remoteDir = `${user.home}/binary-transfer-test`;
  await Deno.remove(remoteDir, { recursive: true }).catch(() => {});
  await Deno.mkdir(remoteDir);
  const chown = () => run("chown", ["-R", `${user.name}:${user.name}`, remoteDir]);
  const bin = (args: string[]) =>
    runSshtrace(args, { binary, home, textLimit: MiB, timeoutMs: 120_000 });
  const base = [
    "-q",
    "-P",
    String(sshd.port),
    "-i",
    key,
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    `UserKnownHostsFile=${tmp.path}/kh`,
  ];
  const at = (path: string) => `${user.name}@127.0.0.1:${path}`;
  try {
    const source = `${remoteDir}/src.bin`;
    await randomFile(source, 5 * MiB + 123);
    await Deno.chmod(source, 0o640);
    await Deno.utime(source, 1_600_000_000, 1_500_000_000);
    await chown();
    const sum = await fileSha(source);

    for (const protocol of ["sftp", "scp"]) {
      await t.step(`get and put over ${protocol}: the bytes arrive intact both ways`, async () => {
        const local = `${tmp.path}/${protocol}.bin`;
        const got = await bin(["get", ...base, "--protocol", protocol, at(source), local]);
        assert.equal(got.code, 0, got.stderr);
        assert.equal(await fileSha(local), sum);
        const back = `${remoteDir}/back-${protocol}.bin`;
        const put = await bin(["put", ...base, "--protocol", protocol, local, at(back)]);
        assert.equal(put.code, 0, put.stderr);
        assert.equal(await fileSha(back), sum);
      });
    }

    await t.step(
      "-p keeps the mode and the modification time (through node_files.ts)",
      async () => {
        const local = `${tmp.path}/kept.bin`;
        const got = await bin(["get", ...base, "-p", at(source), local]);
        assert.equal(got.code, 0, got.stderr);
        const st = await Deno.stat(local);
        assert.equal(st.mode! & 0o777, 0o640);
        assert.equal(Math.floor(st.mtime!.getTime() / 1000), 1_500_000_000);
      },
    );

    await t.step(
      "--resume continues a partial download left under the temporary name",
      async () => {
        const local = `${tmp.path}/resumed.bin`;
        const part = `${tmp.path}/.resumed.bin.sshtrace-part`;
        const head = await Deno.readFile(source);
        await Deno.writeFile(part, head.subarray(0, 2 * MiB));
        const got = await bin(["get", ...base, "--resume", "--json", at(source), local]);
        assert.equal(got.code, 0, got.stderr);
        assert.equal(await fileSha(local), sum);
        assert.equal(await exists(part), false);
        const report = parseJsonReport(got.stdout);
        assert.equal(report.transfer.files[0].resumedFrom, 2 * MiB);
        assert.equal(report.transfer.bytes, 3 * MiB + 123);
      },
    );

    await t.step("a missing remote file: a clear error, nothing under the final name", async () => {
      const local = `${tmp.path}/never.bin`;
      const got = await bin(["get", ...base, at(`${remoteDir}/missing.bin`), local]);
      assert.notEqual(got.code, 0);
      assert.match(got.stderr, /no such file/i);
      assert.doesNotMatch(got.stderr, /\n\s+at /); // no stack trace
      assert.equal(await exists(local), false);
    });
  } finally {
    await sshd.stop();
    await Deno.remove(remoteDir, { recursive: true }).catch(() => {});
  }
});
