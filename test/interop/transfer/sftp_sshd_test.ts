/**
 * `sshtrace get` / `put` against OpenSSH sshd 9.2: SFTP through internal-sftp and through the
 * sftp-server program, SCP (scp -t/-f) through the same server, and `auto` falling back to SCP
 * on a server without SFTP. A 64 MiB round trip keeps its checksum and stays under 120 MiB of
 * peak memory; -p, -r, --verify, --resume, check --fetch, Ctrl-C, the library's client.sftp(),
 * and the failures (missing file, a directory where a file was expected, no SFTP, a full disk,
 * a server closing mid-transfer).
 */

import assert from "node:assert/strict";
import { ed25519Key, emptyHome, MiB, parseJsonReport, runSshtrace } from "../../helpers/cli.ts";
import { ensureTestUser, type SshdHandle, startSshd } from "../../helpers/sshd.ts";
import { exists, fileSha, randomFile } from "../../helpers/files.ts";
import { run, tempDir } from "../../helpers/tools.ts";
import { connect, kindOf, loadPrivateKeyFile, OPEN, Tracer } from "../../../lib/mod.ts";

/** Peak memory a 64 MiB copy must stay under (it does not grow with the file). */
const MAX_RSS = 120 * MiB;

const sshtrace = (home: string, args: string[], timeoutMs = 120_000) =>
  runSshtrace(args, { home, textLimit: MiB, timeoutMs });

Deno.test("sshtrace get/put copy files over SFTP and SCP with OpenSSH sshd", async (t) => {
  const user = await ensureTestUser();
  await using tmp = await tempDir("sshtrace-transfer-");
  const home = await emptyHome(tmp.path);
  const key = await ed25519Key(tmp.path);
  const authorized = [(await Deno.readTextFile(`${key}.pub`)).trim()];
  const knownHosts = `${tmp.path}/known_hosts`;
  const remoteDir = `${user.home}/transfer-test`;
  await Deno.remove(remoteDir, { recursive: true }).catch(() => {});
  await Deno.mkdir(remoteDir);
  const chown = () => run("chown", ["-R", `${user.name}:${user.name}`, remoteDir]);
  await chown();

  const servers: SshdHandle[] = [];
  try {
    const internal = await startSshd({ authorizedKeys: authorized, logLevel: "INFO" });
    servers.push(internal);
    const program = await startSshd({
      authorizedKeys: authorized,
      logLevel: "INFO",
      sftpSubsystem: "/usr/lib/openssh/sftp-server",
    });
    servers.push(program);
    const noSftp = await startSshd({
      authorizedKeys: authorized,
      logLevel: "INFO",
      sftpSubsystem: null,
    });
    servers.push(noSftp);
    // sftp-server killed half a second after it starts: a server that closes mid-transfer.
    const dying = await startSshd({
      authorizedKeys: authorized,
      logLevel: "INFO",
      sftpSubsystem: "timeout 0.5 /usr/lib/openssh/sftp-server",
    });
    servers.push(dying);
    await Deno.writeTextFile(
      knownHosts,
      servers.map((s) => `[127.0.0.1]:${s.port} ${s.hostKeys.ed25519.pub}\n`).join(""),
    );
    const base = ["-q", "-o", `UserKnownHostsFile=${knownHosts}`, "-i", key];
    const at = (_s: SshdHandle, path: string) => `${user.name}@127.0.0.1:${path}`;
    const port = (s: SshdHandle) => ["-P", String(s.port)];

    const big = `${tmp.path}/big.bin`;
    await randomFile(big, 64 * MiB);
    const bigSha = await fileSha(big);

    for (
      const [label, server, protocol] of [
        ["internal-sftp", internal, "sftp"],
        ["sftp-server", program, "sftp"],
        ["scp", internal, "scp"],
      ] as const
    ) {
      await t.step(`${label}: a 64 MiB file goes up and comes back with its checksum`, async () => {
        const remote = `${remoteDir}/${label}.bin`;
        const up = await runSshtrace([
          "put",
          ...base,
          ...port(server),
          "--protocol",
          protocol,
          "--json",
          big,
          at(server, remote),
        ], { home, textLimit: MiB, timeoutMs: 120_000, peakRss: true });
        assert.equal(up.code, 0, up.stderr + up.stdout);
        // Each packet's buffers are released once used (lib/wire/release.ts): before, an upload
        // peaked at ~145-150 MiB here, now ~85 (a bare login ~75).
        assert.ok(up.peakRssBytes < MAX_RSS, `upload peak RSS ${up.peakRssBytes / MiB} MiB`);
        const report = parseJsonReport(up.stdout);
        assert.equal(report.transfer.protocol, protocol);
        assert.equal(report.transfer.bytes, 64 * MiB);
        assert.equal(await fileSha(remote), bigSha);
        assert.equal(await exists(`${remoteDir}/.${label}.bin.sshtrace-part`), false);
        const back = `${tmp.path}/${label}.back`;
        const down = await runSshtrace([
          "get",
          ...base,
          ...port(server),
          "--protocol",
          protocol,
          // The flush to disk before the rename, on SFTP and on SCP.
          ...(label === "internal-sftp" ? [] : ["--fsync"]),
          at(server, remote),
          back,
        ], { home, textLimit: MiB, timeoutMs: 120_000, peakRss: true });
        assert.equal(down.code, 0, down.stderr);
        assert.ok(down.peakRssBytes < MAX_RSS, `download peak RSS ${down.peakRssBytes / MiB} MiB`);
        assert.equal(await fileSha(back), bigSha);
        assert.equal(await exists(`${tmp.path}/.${label}.back.sshtrace-part`), false);
        await Deno.remove(remote);
      });
    }

    await t.step("auto picks SFTP when the subsystem opens, and says so", async () => {
      await Deno.writeTextFile(`${remoteDir}/small.txt`, "hello\n");
      await chown();
      const res = await sshtrace(home, [
        "get",
        ...base.filter((a) => a !== "-q"),
        ...port(internal),
        at(internal, `${remoteDir}/small.txt`),
        `${tmp.path}/small.txt`,
      ]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stderr, /protocol SFTP \(auto: the sftp subsystem opened\)/);
      assert.equal(await Deno.readTextFile(`${tmp.path}/small.txt`), "hello\n");
    });

    await t.step(
      "auto falls back to SCP on a server without SFTP; --protocol sftp fails",
      async () => {
        const auto = await sshtrace(home, [
          "get",
          ...base.filter((a) => a !== "-q"),
          ...port(noSftp),
          at(noSftp, `${remoteDir}/small.txt`),
          `${tmp.path}/small-scp.txt`,
        ]);
        assert.equal(auto.code, 0, auto.stderr);
        assert.match(auto.stderr, /protocol SCP \(auto: the server refused the sftp subsystem/);
        assert.equal(await Deno.readTextFile(`${tmp.path}/small-scp.txt`), "hello\n");
        const sftp = await sshtrace(home, [
          "get",
          ...base,
          ...port(noSftp),
          "--protocol",
          "sftp",
          "--json",
          at(noSftp, `${remoteDir}/small.txt`),
          `${tmp.path}/never.txt`,
        ]);
        assert.equal(sftp.code, 17, sftp.stderr);
        assert.equal(parseJsonReport(sftp.stdout).error.code, "transfer.no-sftp");
        assert.equal(await exists(`${tmp.path}/never.txt`), false);
      },
    );

    for (const protocol of ["sftp", "scp"]) {
      await t.step(`${protocol}: a missing remote file is transfer.no-such-file`, async () => {
        const res = await sshtrace(home, [
          "get",
          ...base,
          ...port(internal),
          "--protocol",
          protocol,
          "--json",
          at(internal, `${remoteDir}/missing.txt`),
          `${tmp.path}/missing.txt`,
        ]);
        assert.equal(res.code, 17, res.stderr);
        const report = parseJsonReport(res.stdout);
        assert.equal(report.error.code, "transfer.no-such-file", report.error.message);
        assert.match(report.error.message, /missing\.txt/);
        assert.equal(await exists(`${tmp.path}/missing.txt`), false);
        assert.equal(await exists(`${tmp.path}/.missing.txt.sshtrace-part`), false);
      });

      await t.step(`${protocol}: a directory where a file was expected is refused`, async () => {
        const res = await sshtrace(home, [
          "get",
          ...base,
          ...port(internal),
          "--protocol",
          protocol,
          "--json",
          at(internal, remoteDir),
          `${tmp.path}/dir-as-file`,
        ]);
        assert.equal(res.code, 17, res.stderr);
        assert.equal(parseJsonReport(res.stdout).error.code, "transfer.not-a-file");
        assert.equal(await exists(`${tmp.path}/dir-as-file`), false);
      });

      await t.step(`${protocol}: -r copies a tree both ways; -p keeps mode and mtime`, async () => {
        const src = `${tmp.path}/tree-${protocol}`;
        await Deno.mkdir(`${src}/sub/deeper`, { recursive: true });
        await Deno.writeTextFile(`${src}/a.txt`, "a\n");
        await Deno.writeTextFile(`${src}/sub/b.txt`, "b\n");
        await randomFile(`${src}/sub/deeper/c.bin`, 300_000);
        await Deno.chmod(`${src}/a.txt`, 0o640);
        await Deno.utime(`${src}/a.txt`, 1_000_000_000, 1_000_000_000);
        const up = await sshtrace(home, [
          "put",
          ...base,
          ...port(internal),
          "--protocol",
          protocol,
          "-r",
          "-p",
          src,
          at(internal, `${remoteDir}/tree-${protocol}`),
        ]);
        assert.equal(up.code, 0, up.stderr);
        const remoteA = await Deno.stat(`${remoteDir}/tree-${protocol}/a.txt`);
        assert.equal(remoteA.mode! & 0o777, 0o640);
        assert.equal(remoteA.mtime!.getTime(), 1_000_000_000_000);
        const dest = `${tmp.path}/tree-back-${protocol}`;
        const down = await sshtrace(home, [
          "get",
          ...base,
          ...port(internal),
          "--protocol",
          protocol,
          "-r",
          "-p",
          at(internal, `${remoteDir}/tree-${protocol}`),
          dest,
        ]);
        assert.equal(down.code, 0, down.stderr);
        assert.equal(await Deno.readTextFile(`${dest}/sub/b.txt`), "b\n");
        assert.equal(
          await fileSha(`${dest}/sub/deeper/c.bin`),
          await fileSha(`${src}/sub/deeper/c.bin`),
        );
        const localA = await Deno.stat(`${dest}/a.txt`);
        assert.equal(localA.mode! & 0o777, 0o640);
        assert.equal(localA.mtime!.getTime(), 1_000_000_000_000);
      });
    }

    await t.step(
      "check --login --fetch (--fsync) backs a file up from every host into DIR/<host>/",
      async () => {
        const inventory = `${tmp.path}/inventory.txt`;
        await Deno.writeTextFile(
          inventory,
          `${user.name}@127.0.0.1:${internal.port}\n${user.name}@127.0.0.1:${noSftp.port}\n`,
        );
        const dest = `${tmp.path}/backups`;
        const res = await sshtrace(home, [
          "check",
          "-q",
          "--json",
          "--login",
          "-i",
          key,
          "-o",
          `UserKnownHostsFile=${knownHosts}`,
          "--fetch",
          `${remoteDir}/small.txt`,
          "--dest",
          dest,
          "--fsync",
          inventory,
        ]);
        assert.equal(res.code, 0, res.stderr);
        const report = parseJsonReport(res.stdout);
        assert.deepEqual(
          report.hosts.map((h: { fetch: { protocol: string } }) => h.fetch.protocol),
          ["sftp", "scp"],
        );
        for (const s of [internal, noSftp]) {
          assert.equal(await Deno.readTextFile(`${dest}/127.0.0.1_${s.port}/small.txt`), "hello\n");
        }
        const missing = await sshtrace(home, [
          "check",
          "-q",
          "--json",
          "--login",
          "-i",
          key,
          "-o",
          `UserKnownHostsFile=${knownHosts}`,
          "--fetch",
          `${remoteDir}/missing.txt`,
          "--dest",
          dest,
          inventory,
        ]);
        assert.equal(missing.code, 17, missing.stderr);
        const failed = parseJsonReport(missing.stdout);
        assert.equal(failed.hosts[0].error.code, "transfer.no-such-file");
        assert.equal(failed.summary.byStage.transfer, 2);
      },
    );

    await t.step(
      "a full disk, local or remote: a clear error, nothing under the final name",
      async () => {
        const remote = `${remoteDir}/four.bin`;
        await randomFile(remote, 4 * MiB);
        await chown();
        // A 1 MiB tmpfs is a disk that fills up.
        const tiny = `${tmp.path}/tiny`;
        const remoteTiny = `${remoteDir}/tiny`;
        await Deno.mkdir(tiny);
        await Deno.mkdir(remoteTiny);
        for (const dir of [tiny, remoteTiny]) {
          const m = await run("mount", ["-t", "tmpfs", "-o", "size=1m,mode=0777", "tmpfs", dir]);
          assert.equal(m.code, 0, m.stderr);
        }
        try {
          const down = await sshtrace(home, [
            "get",
            ...base,
            ...port(internal),
            "--json",
            at(internal, remote),
            `${tiny}/four.bin`,
          ]);
          assert.equal(down.code, 17, down.stderr);
          const local = parseJsonReport(down.stdout).error;
          assert.equal(local.code, "transfer.local-error", local.message);
          assert.match(local.message, /No space left on device/);
          assert.deepEqual([...Deno.readDirSync(tiny)], [], "nothing left on the full disk");

          const up = await sshtrace(home, [
            "put",
            ...base,
            ...port(internal),
            "--json",
            `${tmp.path}/big.bin`,
            at(internal, `${remoteTiny}/big.bin`),
          ]);
          assert.equal(up.code, 17, up.stderr);
          const remoteError = parseJsonReport(up.stdout).error;
          assert.equal(remoteError.code, "transfer.remote-error", remoteError.message);
          assert.match(remoteError.fix, /free space and quota/);
          assert.deepEqual([...Deno.readDirSync(remoteTiny)], [], "nothing left on the server");
        } finally {
          for (const dir of [tiny, remoteTiny]) await run("umount", [dir]);
          await Deno.remove(remote);
        }
      },
    );

    await t.step("--verify compares SHA-256 on both sides and reports it", async () => {
      await randomFile(`${remoteDir}/verify.bin`, 1 * MiB);
      await chown();
      const res = await sshtrace(home, [
        "get",
        ...base,
        ...port(internal),
        "--verify",
        "--json",
        at(internal, `${remoteDir}/verify.bin`),
        `${tmp.path}/verify.bin`,
      ]);
      assert.equal(res.code, 0, res.stderr);
      const report = parseJsonReport(res.stdout);
      assert.equal(report.transfer.verified[0].sha256, await fileSha(`${remoteDir}/verify.bin`));
      assert.equal(report.transfer.verified[0].remoteBy, "sha256sum on the host");
    });

    await t.step("--resume continues a partial download from its temporary file", async () => {
      const remote = `${remoteDir}/resume.bin`;
      await randomFile(remote, 4 * MiB);
      await chown();
      const whole = await Deno.readFile(remote);
      await Deno.writeFile(`${tmp.path}/.resume.bin.sshtrace-part`, whole.subarray(0, 3 * MiB));
      const res = await sshtrace(home, [
        "get",
        ...base,
        ...port(internal),
        "--resume",
        "--json",
        at(internal, remote),
        `${tmp.path}/resume.bin`,
      ]);
      assert.equal(res.code, 0, res.stderr);
      const report = parseJsonReport(res.stdout);
      assert.equal(report.transfer.files[0].resumedFrom, 3 * MiB);
      assert.equal(report.transfer.bytes, 1 * MiB);
      assert.equal(await fileSha(`${tmp.path}/resume.bin`), await fileSha(remote));
    });

    await t.step(
      "a server that closes mid-transfer: transfer.incomplete, nothing left",
      async () => {
        const remote = `${remoteDir}/dying.bin`;
        await randomFile(remote, 256 * MiB);
        await chown();
        const res = await sshtrace(home, [
          "get",
          ...base,
          ...port(dying),
          "--json",
          at(dying, remote),
          `${tmp.path}/dying.bin`,
        ]);
        assert.equal(res.code, 17, res.stderr);
        assert.equal(parseJsonReport(res.stdout).error.code, "transfer.incomplete");
        assert.equal(await exists(`${tmp.path}/dying.bin`), false);
        assert.equal(await exists(`${tmp.path}/.dying.bin.sshtrace-part`), false);
        await Deno.remove(remote);
      },
    );

    await t.step(
      "library: client.sftp() on sftp-server: stat, list, write, rename, remove",
      async () => {
        const tracer = new Tracer();
        const signer = await loadPrivateKeyFile(key);
        const client = await connect({
          host: "127.0.0.1",
          port: program.port,
          user: user.name,
          tracer,
          knownHostsFiles: [knownHosts],
          auth: { signers: () => Promise.resolve([signer]), batchMode: true },
        });
        try {
          const sftp = await client.sftp();
          assert.equal(sftp.version, 3);
          assert.ok(sftp.canReplace, "OpenSSH has posix-rename@openssh.com");
          assert.equal(await sftp.realpath(`${remoteDir}/./`), remoteDir);
          const dir = `${remoteDir}/lib`;
          await sftp.mkdir(dir);
          const handle = await sftp.open(`${dir}/a.txt`, OPEN.WRITE | OPEN.CREAT | OPEN.TRUNC);
          await sftp.write(handle, 0, new TextEncoder().encode("hello"));
          await sftp.close(handle);
          await sftp.rename(`${dir}/a.txt`, `${dir}/b.txt`);
          const attrs = await sftp.stat(`${dir}/b.txt`);
          assert.equal(attrs.size, 5);
          assert.equal(kindOf(attrs), "file");
          assert.deepEqual((await sftp.list(dir)).map((e) => e.filename), ["b.txt"]);
          const read = await sftp.open(`${dir}/b.txt`, OPEN.READ);
          assert.equal(new TextDecoder().decode((await sftp.read(read, 0, 100))!), "hello");
          assert.equal(await sftp.read(read, 5, 100), null, "end of file");
          await sftp.close(read);
          await sftp.remove(`${dir}/b.txt`);
          await sftp.rmdir(dir);
          await sftp.end();
          assert.ok(tracer.events.some((e) => e.stage === "transfer" && e.type === "begin"));
        } finally {
          await client.close();
        }
      },
    );

    await t.step(
      "Ctrl-C during a download leaves nothing under the final name (exit 130)",
      async () => {
        const remote = `${remoteDir}/interrupt.bin`;
        await randomFile(remote, 256 * MiB);
        await chown();
        const target = `${tmp.path}/interrupt.bin`;
        const child = new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            "main.ts",
            "get",
            ...base,
            ...port(internal),
            at(internal, remote),
            target,
          ],
          cwd: new URL("../../..", import.meta.url).pathname,
          env: { HOME: home, NO_COLOR: "1", RUST_BACKTRACE: "0", SSH_AUTH_SOCK: "" },
          stdout: "null",
          stderr: "piped",
        }).spawn();
        // Wait until the copy is under way (the temporary file exists and grows).
        const part = `${tmp.path}/.interrupt.bin.sshtrace-part`;
        const deadline = performance.now() + 30_000;
        while (performance.now() < deadline) {
          const st = await Deno.stat(part).catch(() => null);
          if (st && st.size > 4 * MiB) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        child.kill("SIGINT");
        const out = await child.output();
        const stderr = new TextDecoder().decode(out.stderr);
        assert.equal(out.code, 130, stderr);
        assert.equal(await exists(target), false, "nothing under the final name");
        assert.equal(await exists(part), false, "the partial file is removed");
        await Deno.remove(remote);
      },
    );
  } finally {
    for (const s of servers) await s.stop();
    await Deno.remove(remoteDir, { recursive: true }).catch(() => {});
  }
});
