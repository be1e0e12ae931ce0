/**
 * ProFTPD's mod_sftp (Debian's proftpd-core and proftpd-mod-crypto) on 127.0.0.1: an SSH server
 * that offers file transfer only, as managed file-transfer products and cloud SFTP endpoints do.
 * A missing proftpd makes the test FAIL, never skip.
 */

import { ensureTestUser, SSH_KEYGEN, type TestUser } from "./sshd.ts";
import { freePort, requireRoot, requireTool, run, tempDir } from "./tools.ts";

export const PROFTPD = "/usr/sbin/proftpd";

export interface ProftpdHandle {
  host: "127.0.0.1";
  port: number;
  user: TestUser;
  /** What proftpd wrote to its logs so far. */
  logs(): Promise<string>;
  stop(): Promise<void>;
}

/** Starts proftpd in the foreground with an SFTP-only virtual host; resolves once it listens. */
export async function startProftpdSftp(): Promise<ProftpdHandle> {
  requireRoot("startProftpdSftp()");
  requireTool(PROFTPD);
  const dir = await tempDir("sshtrace-proftpd-");
  const user = await ensureTestUser();
  const key = `${dir.path}/host_ed25519`;
  const keygen = await run(SSH_KEYGEN, ["-q", "-t", "ed25519", "-N", "", "-f", key]);
  if (keygen.code !== 0) throw new Error(`ssh-keygen: ${keygen.stderr}`);
  for (let attempt = 0;; attempt++) {
    const port = freePort();
    await Deno.writeTextFile(
      `${dir.path}/proftpd.conf`,
      [
        "ServerType standalone",
        "DefaultServer on",
        "Port 0",
        "SocketBindTight on",
        "User root",
        "Group root",
        "WtmpLog off",
        "UseIPv6 off",
        `PidFile ${dir.path}/proftpd.pid`,
        `ScoreboardFile ${dir.path}/scoreboard`,
        "DelayTable none",
        "LoadModule mod_sftp.c",
        "<VirtualHost 127.0.0.1>",
        `  Port ${port}`,
        "  SFTPEngine on",
        `  SFTPLog ${dir.path}/sftp.log`,
        `  SFTPHostKey ${key}`,
        "  SFTPAuthMethods password",
        "  AuthOrder mod_auth_unix.c",
        "  RequireValidShell off",
        "</VirtualHost>",
        "",
      ].join("\n"),
    );
    const child = new Deno.Command(PROFTPD, {
      args: ["-n", "-q", "-c", `${dir.path}/proftpd.conf`],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderrText = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let stderr = "";
    const drain = (async () => {
      for (;;) {
        const { value, done } = await stderrText.read();
        if (done) return;
        stderr += value;
      }
    })();
    const stop = async () => {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      await child.status;
      await drain.catch(() => {});
    };
    const deadline = Date.now() + 15_000;
    let listening = false;
    while (Date.now() < deadline) {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        listening = true;
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    if (listening) {
      return {
        host: "127.0.0.1",
        port,
        user,
        logs: async () => stderr + await Deno.readTextFile(`${dir.path}/sftp.log`).catch(() => ""),
        stop: async () => {
          await stop();
          await dir.cleanup();
        },
      };
    }
    await stop();
    if (attempt >= 2) {
      await dir.cleanup();
      throw new Error(`proftpd did not listen on 127.0.0.1:${port}: ${stderr.trim()}`);
    }
  }
}
