/**
 * Debian's dropbear 2022.83 (dropbear-bin) for tests: `startDropbear()` runs it on 127.0.0.1 on a
 * free port with the harness's host keys converted to dropbear's format.
 */

import assert from "node:assert/strict";
import { SSH_KEYGEN, testHostKeys } from "./sshd.ts";
import { freePort, requireRoot, requireTool, run } from "./tools.ts";

export const DROPBEAR = "/usr/sbin/dropbear";
const DROPBEARCONVERT = "/usr/bin/dropbearconvert";

export interface Dropbear {
  port: number;
  logs(): string;
  waitForLog(re: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/** dropbear's host keys: the harness's OpenSSH keys converted (DSA through PEM first). */
async function dropbearHostKeys(dir: string): Promise<string[]> {
  requireTool(DROPBEARCONVERT);
  const keys = await testHostKeys();
  const out: string[] = [];
  for (const type of ["ed25519", "ecdsa", "rsa", "dsa"] as const) {
    let source = keys[type].path;
    if (type === "dsa") {
      // dropbearconvert cannot read OpenSSH's new key format for DSA: rewrite a copy as PEM.
      source = `${dir}/dsa_pem`;
      await Deno.copyFile(keys.dsa.path, source);
      await Deno.chmod(source, 0o600);
      const pem = await run(SSH_KEYGEN, ["-q", "-p", "-m", "PEM", "-N", "", "-f", source]);
      assert.equal(pem.code, 0, `ssh-keygen -m PEM: ${pem.stderr}`);
    }
    const target = `${dir}/dropbear_${type}_host_key`;
    const conv = await run(DROPBEARCONVERT, ["openssh", "dropbear", source, target]);
    assert.equal(conv.code, 0, `dropbearconvert ${type}: ${conv.stderr}`);
    out.push(target);
  }
  return out;
}

export async function startDropbear(dir: string): Promise<Dropbear> {
  requireTool(DROPBEAR);
  requireRoot("startDropbear()");
  const keys = await dropbearHostKeys(dir);
  const port = freePort();
  const child = new Deno.Command(DROPBEAR, {
    // -F foreground, -E log to stderr, -m no motd; password and public key logins allowed.
    args: [
      "-F",
      "-E",
      "-m",
      "-p",
      `127.0.0.1:${port}`,
      "-P",
      `${dir}/dropbear.pid`,
      ...keys
        .flatMap((k) => ["-r", k]),
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let logText = "";
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const pump = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        logText += value;
      }
    } catch {
      // cancelled
    }
  })();
  let exited = false;
  const status = child.status.then((s) => (exited = true, s));
  const stop = async () => {
    if (!exited) {
      try {
        child.kill("SIGTERM");
      } catch {
        // gone
      }
    }
    await status;
    // Connection children may hold the pipe a moment longer.
    await Promise.race([pump, new Promise((r) => setTimeout(r, 1000))]);
    await reader.cancel().catch(() => {});
    await pump;
  };
  const deadline = Date.now() + 5000;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`dropbear exited before listening: ${logText}`);
    }
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`dropbear did not listen on ${port}: ${logText}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    port,
    logs: () => logText,
    async waitForLog(re: RegExp, timeoutMs = 5000) {
      const end = Date.now() + timeoutMs;
      while (!re.test(logText)) {
        if (Date.now() > end) throw new Error(`dropbear logs did not show ${re}:\n${logText}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return logText;
    },
    stop,
  };
}
