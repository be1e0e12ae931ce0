/**
 * File transfer failures reproduced for real: the CLI's get/put against OpenSSH sshd (one with
 * SFTP, one without), and the in-process scripted SFTP server for what a well-behaved sshd never
 * does (hostile names, closing mid-file, content changing under --verify).
 */
import { SftpClient } from "../../../lib/transfer/sftp_client.ts";
import { downloadFile, downloadTree } from "../../../lib/transfer/sftp_files.ts";
import type { ScpHost } from "../../../lib/transfer/scp.ts";
import { verifyCopy } from "../../../lib/transfer/verify.ts";
import { SshError } from "../../../lib/errors/mod.ts";
import { ensureTestUser, startSshd } from "../../helpers/sshd.ts";
import { run, tempDir } from "../../helpers/tools.ts";
import {
  cli,
  cliSeen,
  explained,
  failure,
  reproductionTable,
  userKey,
} from "../../helpers/reproduce.ts";
import { startSftpServer, type VirtualEntry } from "../../helpers/sftp_server.ts";

/** A host whose exec never works (so --verify reads the file back over SFTP). */
const NO_EXEC: ScpHost = {
  exec: () => Promise.reject(new Error("no exec in this test")),
  info: () => {},
};

async function scripted(entries: [string, VirtualEntry][], faults = {}) {
  const server = startSftpServer(new Map(entries), faults);
  const sftp = await SftpClient.start(server.channel, { timeoutMs: 5000 });
  return { server, sftp };
}

export const TRANSFER = reproductionTable({
  name: "file transfer failures are reproduced by sshd and the scripted SFTP server",
  async setup() {
    const user = await ensureTestUser();
    const dir = await tempDir("sshtrace-repro-transfer-");
    const key = await userKey(dir.path, "id", "ed25519");
    const sshd = await startSshd({ authorizedKeys: [key.pub], logLevel: "INFO" });
    const noSftp = await startSshd({
      authorizedKeys: [key.pub],
      logLevel: "INFO",
      sftpSubsystem: null,
    });
    const remote = `${user.home}/transfer-repro`;
    await Deno.remove(remote, { recursive: true }).catch(() => {});
    await Deno.mkdir(`${remote}/dir`, { recursive: true });
    await Deno.writeTextFile(`${remote}/file.txt`, "config\n");
    await run("chown", ["-R", `${user.name}:${user.name}`, remote]);
    // Owned by root, mode 600: the test user may not read it.
    await Deno.writeTextFile(`${remote}/secret.txt`, "secret\n");
    await Deno.chmod(`${remote}/secret.txt`, 0o600);
    const args = (port: number, extra: string[]) => [
      "--json",
      "--timeout",
      "5",
      "-q",
      "-o",
      "StrictHostKeyChecking=no",
      "-o",
      `UserKnownHostsFile=${dir.path}/known_hosts`,
      "-i",
      key.path,
      "-P",
      String(port),
      ...extra,
    ];
    const get = (path: string, local: string, extra: string[] = [], port = sshd.port) =>
      cli(["get", ...args(port, extra), `${user.name}@127.0.0.1:${path}`, local]);
    const put = (local: string, path: string, extra: string[] = [], port = sshd.port) =>
      cli(["put", ...args(port, extra), local, `${user.name}@127.0.0.1:${path}`]);
    return {
      ctx: { dir: dir.path, remote, get, put, noSftpPort: noSftp.port },
      async teardown() {
        await sshd.stop();
        await noSftp.stop();
        await Deno.remove(remote, { recursive: true }).catch(() => {});
        await dir.cleanup();
      },
    };
  },
  rows: [
    {
      name: "a missing remote file is transfer.no-such-file",
      reproduces: [{
        code: "transfer.no-such-file",
        by: "CLI: get HOST:missing.txt (sshd, SFTP)",
      }],
      async run({ dir, remote, get }, expect) {
        const r = await get(`${remote}/missing.txt`, `${dir}/missing.txt`);
        expect(cliSeen(r), {
          code: "transfer.no-such-file",
          stage: "transfer",
          fix: /check the remote path/,
          opensshFix: null,
          says: /missing\.txt: no such file/,
        });
      },
    },
    {
      name: "a file the user may not read is transfer.permission-denied",
      reproduces: [{
        code: "transfer.permission-denied",
        by: "CLI: get HOST:secret.txt owned by root, mode 600 (sshd, SFTP)",
      }],
      async run({ dir, remote, get }, expect) {
        const r = await get(`${remote}/secret.txt`, `${dir}/secret.txt`);
        expect(cliSeen(r), {
          code: "transfer.permission-denied",
          stage: "transfer",
          fix: /log in as a user allowed/,
          opensshFix: null,
        });
      },
    },
    {
      name: "the remote scp's own error line is transfer.remote-error with its words",
      reproduces: [{
        code: "transfer.remote-error",
        by: "CLI: put --protocol scp into file.txt/x (sshd's scp: Not a directory)",
      }],
      async run({ dir, remote, put }, expect) {
        await Deno.writeTextFile(`${dir}/x`, "x\n");
        const r = await put(`${dir}/x`, `${remote}/file.txt/x`, ["--protocol", "scp"]);
        expect(cliSeen(r), {
          code: "transfer.remote-error",
          stage: "transfer",
          fix: /free space and quota/,
          opensshFix: null,
          says: /the server said: scp: .*Not a directory/,
        });
      },
    },
    {
      name: "a directory without -r is transfer.not-a-file",
      reproduces: [{ code: "transfer.not-a-file", by: "CLI: get HOST:DIR without -r (sshd)" }],
      async run({ dir, remote, get }, expect) {
        const r = await get(`${remote}/dir`, `${dir}/dir`);
        expect(cliSeen(r), {
          code: "transfer.not-a-file",
          stage: "transfer",
          fix: /^-r /,
          opensshFix: /scp -r/,
        });
      },
    },
    {
      name: "--protocol sftp on a server without SFTP is transfer.no-sftp",
      reproduces: [{
        code: "transfer.no-sftp",
        by: "CLI: get --protocol sftp (sshd without a Subsystem sftp line)",
      }],
      async run({ dir, remote, get, noSftpPort }, expect) {
        const r = await get(`${remote}/file.txt`, `${dir}/f`, ["--protocol", "sftp"], noSftpPort);
        expect(cliSeen(r), {
          code: "transfer.no-sftp",
          stage: "transfer",
          fix: /--protocol scp/,
          opensshFix: /scp -O/,
        });
      },
    },
    {
      name: "a local directory that does not exist is transfer.local-error",
      reproduces: [{
        code: "transfer.local-error",
        by: "CLI: get HOST:file.txt /nonexistent-dir/file.txt (sshd)",
      }],
      async run({ dir, remote, get }, expect) {
        const r = await get(`${remote}/file.txt`, `${dir}/no-such-dir/file.txt`);
        expect(cliSeen(r), {
          code: "transfer.local-error",
          stage: "transfer",
          fix: /free disk space/,
          opensshFix: null,
        });
      },
    },
    {
      name: "an aborted copy is transfer.interrupted (exit 130), nothing left behind",
      reproduces: [{
        code: "transfer.interrupted",
        by: "library: downloadFile() aborted by its signal mid-copy (scripted SFTP server); " +
          "the CLI's Ctrl-C: test/interop/transfer/sftp_sshd_test.ts",
      }],
      async run({ dir }, expect) {
        const data = new Uint8Array(4_000_000);
        const { sftp } = await scripted([["/f", { kind: "file", data }]]);
        const controller = new AbortController();
        const e = await failure(downloadFile(sftp, "/f", `${dir}/aborted`, {
          signal: controller.signal,
          onProgress: (done) => done > 1_000_000 && controller.abort(),
        }));
        await sftp.end();
        expect(explained(e), {
          code: "transfer.interrupted",
          stage: "transfer",
          fix: null,
          opensshFix: null,
        });
      },
    },
    {
      name: "a malicious server's ../ name in a recursive download is transfer.unsafe-name",
      reproduces: [{
        code: "transfer.unsafe-name",
        by: "library: downloadTree() from the scripted SFTP server listing ../escaped",
      }],
      async run({ dir }, expect) {
        const { sftp } = await scripted(
          [["/d", { kind: "dir" }]],
          { names: { "/d": ["../escaped"] } },
        );
        const e = await failure(downloadTree(sftp, "/d", `${dir}/tree`));
        await sftp.end();
        expect(explained(e), {
          code: "transfer.unsafe-name",
          stage: "transfer",
          fix: null,
          opensshFix: null,
          says: /CVE-2019-6111/,
        });
      },
    },
    {
      name: "a server that closes mid-file is transfer.incomplete",
      reproduces: [{
        code: "transfer.incomplete",
        by: "library: downloadFile() from the scripted SFTP server closing after 100 kB",
      }],
      async run({ dir }, expect) {
        const data = new Uint8Array(1_000_000);
        const { sftp } = await scripted([["/f", { kind: "file", data }]], {
          closeAfterBytes: 100_000,
        });
        const e = await failure(downloadFile(sftp, "/f", `${dir}/f`));
        await sftp.end();
        expect(explained(e), {
          code: "transfer.incomplete",
          stage: "transfer",
          fix: /--resume/,
          opensshFix: null,
        });
      },
    },
    {
      name: "a file changed on the server after the copy fails --verify",
      reproduces: [{
        code: "transfer.verify-mismatch",
        by: "library: verifyCopy() after the scripted server's file changed (read back)",
      }],
      async run({ dir }, expect) {
        const { server, sftp } = await scripted([["/v", {
          kind: "file",
          data: new TextEncoder().encode("v1"),
        }]]);
        const copied = await downloadFile(sftp, "/v", `${dir}/v`);
        server.files.set("/v", { kind: "file", data: new TextEncoder().encode("v2") });
        let e: SshError;
        try {
          await verifyCopy(NO_EXEC, sftp, "get", [copied]);
          throw new Error("verifyCopy() accepted a changed file");
        } catch (x) {
          if (!(x instanceof SshError)) throw x;
          e = x;
        } finally {
          await sftp.end();
        }
        expect(explained(e), {
          code: "transfer.verify-mismatch",
          stage: "transfer",
          fix: /copy again/,
          opensshFix: null,
        });
      },
    },
  ],
});
