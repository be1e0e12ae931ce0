/**
 * Read-ahead against a real sshd: downloads stay intact across server- and client-initiated
 * rekeys for both read-ahead ciphers, to a pipe and to a file (the in-memory half is
 * test/unit/transport/read_ahead_test.ts).
 */

import assert from "node:assert/strict";
import {
  DENO_DIR,
  ed25519Key,
  emptyHome,
  MiB,
  randomWithChecksum,
  ROOT,
  runSshtrace,
  splitNdjson,
} from "../../helpers/cli.ts";
import { ensureTestUser, type SshdHandle, startSshd } from "../../helpers/sshd.ts";
import { run, tempDir } from "../../helpers/tools.ts";

Deno.test("downloads with read-ahead ciphers survive server rekeys (RekeyLimit 1M)", async (t) => {
  const user = await ensureTestUser();
  await using tmp = await tempDir("sshtrace-readahead-");
  const home = await emptyHome(tmp.path);
  const key = await ed25519Key(tmp.path);
  const knownHosts = `${tmp.path}/known_hosts`;
  let sshd: SshdHandle | null = null;
  try {
    sshd = await startSshd({
      authorizedKeys: [(await Deno.readTextFile(`${key}.pub`)).trim()],
      config: ["RekeyLimit 1M"],
    });
    await Deno.writeTextFile(knownHosts, `[127.0.0.1]:${sshd.port} ${sshd.hostKeys.ed25519.pub}\n`);
    const base = [
      "-q",
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      `UserKnownHostsFile=${knownHosts}`,
      "-i",
      key,
    ];
    const target = `${user.name}@127.0.0.1:${sshd.port}`;
    const size = 6 * MiB;
    // Read-ahead (node:crypto, Web Crypto) and OpenSSL's synchronous transforms, each across
    // server rekeys.
    const suites: [string, string[]][] = [
      ["node", ["--ciphers", "aes128-gcm@openssh.com"]],
      ["node", ["--ciphers", "aes256-gcm@openssh.com"]],
      ["node", ["--ciphers", "aes256-ctr", "--macs", "hmac-sha2-256-etm@openssh.com"]],
      ["node", ["--ciphers", "aes128-ctr", "--macs", "hmac-sha2-512-etm@openssh.com"]],
      ["openssl", ["--ciphers", "aes128-gcm@openssh.com"]],
      ["openssl", ["--ciphers", "aes256-ctr", "--macs", "hmac-sha2-256-etm@openssh.com"]],
      ["openssl", ["--ciphers", "aes192-ctr", "--macs", "hmac-sha2-256"]],
      ["openssl", ["--ciphers", "chacha20-poly1305@openssh.com"]],
    ];
    for (const [backend, algs] of suites) {
      const name = `${algs.filter((a) => !a.startsWith("--")).join(" + ")} (${backend})`;
      await t.step(name, async () => {
        // The data goes to stderr; its checksum (computed by the server) and the events to stdout.
        const res = await runSshtrace([
          ...base,
          ...algs,
          "--ndjson",
          target,
          randomWithChecksum(size, "stderr"),
        ], { home, textLimit: MiB, env: { SSHTRACE_CRYPTO: backend } });
        assert.equal(res.code, 0, res.stdout.slice(-2000));
        assert.equal(res.stderrBytes, size);
        const { events, other } = splitNdjson(res.stdout);
        assert.deepEqual(other, [`${res.stderrSha}  -`]);
        assert.equal(events.find((e) => e.type === "crypto-backend")?.backend, backend);
        const negotiated = events.find((e) => e.type === "negotiated");
        const cipher = negotiated.decisions.find((d: { category: string }) =>
          d.category === "cipherS2C"
        );
        assert.equal(cipher.chosen, algs[1]);
        const rekeys = events.filter((e) => e.type === "rekey" && e.initiator === "server");
        assert.ok(rekeys.length >= 3, `expected server rekeys, saw ${rekeys.length}`);
        const received = events.filter((e) => e.type === "newkeys" && e.direction === "received");
        assert.equal(received.length, 1 + rekeys.length);
      });
    }

    for (
      const algs of [
        ["--ciphers", "aes128-gcm@openssh.com"],
        ["--ciphers", "aes128-ctr", "--macs", "hmac-sha2-256-etm@openssh.com"],
      ]
    ) {
      await t.step(`client rekeys (--rekey-limit 300K) with ${algs[1]}`, async () => {
        const res = await runSshtrace([
          ...base,
          ...algs,
          "--ndjson",
          "--rekey-limit",
          "300K",
          target,
          randomWithChecksum(size, "stderr"),
        ], { home, textLimit: MiB, env: { SSHTRACE_CRYPTO: "node" } });
        assert.equal(res.code, 0, res.stdout.slice(-2000));
        assert.equal(res.stderrBytes, size);
        const { events, other } = splitNdjson(res.stdout);
        assert.deepEqual(other, [`${res.stderrSha}  -`]);
        const client = events.filter((e) => e.type === "rekey" && e.initiator === "client");
        assert.ok(client.length >= 1, "no client rekey during the download");
      });
    }

    await t.step("to a regular file (synchronous writes), byte for byte", async () => {
      const out = `${tmp.path}/download.bin`;
      const cmd = [
        Deno.execPath(),
        "run",
        "-A",
        "main.ts",
        ...base,
        "--ciphers",
        "aes128-gcm@openssh.com",
        target,
        randomWithChecksum(size),
      ].map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
      const res = await run("bash", ["-c", `${cmd} > '${out}'`], {
        cwd: ROOT,
        env: { RUST_BACKTRACE: "0", NO_COLOR: "1", HOME: home, DENO_DIR, SSH_AUTH_SOCK: "" },
        timeoutMs: 60_000,
      });
      assert.equal(res.code, 0, res.stderr);
      const data = await Deno.readFile(out);
      assert.equal(data.length, size);
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
      const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
      assert.equal(res.stderr.trim(), `${hex}  -`);
    });
  } finally {
    await sshd?.stop();
  }
});
