/**
 * `sshtrace probe` as a user runs it: a subprocess against a real OpenSSH sshd. Checks the human
 * trace, `--json`, `--ndjson` and colour rules. Usage errors and misbehaving TCP servers:
 * test/unit/cli/probe_cli_test.ts.
 */

import assert from "node:assert/strict";
import { assertUsageError, ROOT, runSshtrace } from "../../helpers/cli.ts";
import { defaultKexAgainst, type SshdHandle, startSshd } from "../../helpers/sshd.ts";
import { freePort, requireTool, run, tempDir } from "../../helpers/tools.ts";

const SCRIPT = "/usr/bin/script";

/** Runs the CLI in the project root (RUST_BACKTRACE=0, NO_COLOR=1). */
const sshtrace = (args: string[]) => runSshtrace(args, { timeoutMs: 30_000 });

async function withSshd<T>(fn: (sshd: SshdHandle) => Promise<T>): Promise<T> {
  const sshd = await startSshd();
  try {
    return await fn(sshd);
  } finally {
    await sshd.stop();
  }
}

/** `-o UserKnownHostsFile=<missing file>`, so the machine's own known_hosts is not read. */
function isolated(dir: string): string[] {
  return ["-o", `UserKnownHostsFile=${dir}/known_hosts`];
}

// ---------------------------------------------------------------------------------------------
// Against a real sshd

Deno.test("sshtrace probe prints a heading per stage and the chosen kex line on stderr", async () => {
  await using dir = await tempDir();
  await withSshd(async (sshd) => {
    const res = await sshtrace(["probe", ...isolated(dir.path), `127.0.0.1:${sshd.port}`]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, "", "the human trace goes to stderr only");
    for (const stage of ["connect", "version", "kex", "hostkey", "auth"]) {
      assert.match(res.stderr, new RegExp(`^── ${stage} ─ `, "m"), `no heading for ${stage}`);
    }
    const kex = await defaultKexAgainst(sshd.sshd);
    assert.match(res.stderr, new RegExp(`^ {3}kex {7}${kex.replaceAll(".", "\\.")} `, "m"));
    const { major, minor } = sshd.version;
    assert.match(
      res.stderr,
      new RegExp(`^ {3}server {4}SSH-2\\.0-OpenSSH_${major}\\.${minor}`, "m"),
    );
    assert.match(res.stderr, /^ {3}sha256 {4}SHA256:/m);
    assert.match(res.stderr, /can continue: .*password/);
    assert.match(res.stderr, /✓ done in /);
    assert.ok(!res.stderr.includes("\x1b["), "no ANSI escapes when stderr is not a TTY");
    await assert.rejects(Deno.stat(`${dir.path}/known_hosts`), Deno.errors.NotFound);
  });
});

Deno.test("sshtrace probe --json prints one JSON object with the report contract fields", async () => {
  await using dir = await tempDir();
  await withSshd(async (sshd) => {
    const res = await sshtrace([
      "probe",
      "--json",
      "-l",
      "root",
      ...isolated(dir.path),
      `127.0.0.1:${sshd.port}`,
    ]);
    assert.equal(res.code, 0, res.stderr);
    const report = JSON.parse(res.stdout); // throws if stdout is anything but one JSON value
    assert.equal(typeof report, "object");
    const has = (obj: Record<string, unknown>, keys: string[], where: string) => {
      for (const k of keys) assert.ok(k in obj, `${where}.${k} missing`);
    };
    has(report, [
      "ok",
      "exitCode",
      "failedStage",
      "error",
      "server",
      "kex",
      "hostKey",
      "auth",
      "timings",
    ], "report");
    assert.equal(report.ok, true);
    assert.equal(report.exitCode, 0);
    assert.equal(report.failedStage, null);
    assert.equal(report.error, null);

    has(
      report.server,
      ["host", "port", "versionLine", "protocol", "software", "preVersionLines"],
      "server",
    );
    assert.deepEqual(
      { host: report.server.host, port: report.server.port, protocol: report.server.protocol },
      { host: "127.0.0.1", port: sshd.port, protocol: "2.0" },
    );
    assert.match(report.server.versionLine, /^SSH-2\.0-OpenSSH_9\.2/);
    assert.match(report.server.software, /^OpenSSH_9\.2/);
    assert.deepEqual(report.server.preVersionLines, []);

    has(
      report.kex,
      [
        "algorithm",
        "hostKeyAlgorithm",
        "cipher",
        "mac",
        "compression",
        "strict",
        "client",
        "server",
      ],
      "kex",
    );
    assert.equal(report.kex.algorithm, await defaultKexAgainst(sshd.sshd));
    assert.equal(report.kex.hostKeyAlgorithm, "ssh-ed25519");
    for (const part of ["cipher", "mac", "compression"]) {
      has(report.kex[part], ["c2s", "s2c"], `kex.${part}`);
    }
    assert.equal(report.kex.cipher.c2s, "chacha20-poly1305@openssh.com");
    assert.equal(report.kex.mac.s2c, "<implicit>");
    assert.equal(report.kex.compression.c2s, "none");
    assert.equal(report.kex.strict, true);
    assert.equal(report.kex.client.kex[0], "mlkem768x25519-sha256");
    assert.ok(Array.isArray(report.kex.server.cipherS2C));

    has(report.hostKey, ["type", "fingerprint", "md5", "status"], "hostKey");
    assert.equal(report.hostKey.type, "ssh-ed25519");
    assert.match(report.hostKey.fingerprint, /^SHA256:/);
    assert.match(report.hostKey.md5, /^MD5:/);
    assert.equal(report.hostKey.status, "unknown");

    has(report.auth, ["user", "methods", "banner", "attempts", "success"], "auth");
    assert.equal(report.auth.user, "root");
    assert.ok(report.auth.methods.includes("publickey"));
    assert.ok(report.auth.methods.includes("password"));
    assert.equal(report.auth.banner, null);
    assert.ok(Array.isArray(report.auth.attempts));
    assert.equal(report.auth.success, false);

    for (const stage of ["connect", "version", "kex", "auth"]) {
      assert.equal(typeof report.timings[stage], "number", `timings.${stage}`);
    }
  });
});

Deno.test("sshtrace probe --ndjson prints one JSON event per line on stdout", async () => {
  await using dir = await tempDir();
  await withSshd(async (sshd) => {
    const res = await sshtrace([
      "probe",
      "--ndjson",
      ...isolated(dir.path),
      `127.0.0.1:${sshd.port}`,
    ]);
    assert.equal(res.code, 0, res.stderr);
    assert.ok(res.stdout.endsWith("\n"));
    const lines = res.stdout.trimEnd().split("\n");
    assert.ok(lines.length > 10, `only ${lines.length} events`);
    const events = lines.map((l) => JSON.parse(l));
    for (const e of events) {
      assert.equal(typeof e.stage, "string");
      assert.equal(typeof e.type, "string");
      assert.equal(typeof e.t, "number");
    }
    // The run begins with reading ssh_config (stage config), then connects.
    assert.deepEqual([events[0].stage, events[0].type], ["config", "begin"]);
    const connect = events.find((e) => e.stage === "connect");
    assert.deepEqual([connect.stage, connect.type], ["connect", "begin"]);
    const negotiated = events.find((e) => e.type === "negotiated");
    assert.ok(negotiated, "no negotiated event");
    assert.equal(
      negotiated.decisions.find((d: { category: string }) => d.category === "kex").chosen,
      await defaultKexAgainst(sshd.sshd),
    );
    assert.ok(events.some((e) => e.stage === "hostkey" && e.type === "key"));
    assert.ok(events.some((e) => e.stage === "auth" && e.type === "failure"));
    // Times never go backwards.
    for (let i = 1; i < events.length; i++) assert.ok(events[i].t >= events[i - 1].t);
    // The human trace still goes to stderr.
    assert.match(res.stderr, /^── kex ─ /m);
  });
});

Deno.test("sshtrace probe --legacy still works against a default sshd and picks modern algorithms", async () => {
  await using dir = await tempDir();
  await withSshd(async (sshd) => {
    const res = await sshtrace([
      "probe",
      "--legacy",
      "--json",
      ...isolated(dir.path),
      `127.0.0.1:${sshd.port}`,
    ]);
    assert.equal(res.code, 0, res.stderr);
    const report = JSON.parse(res.stdout);
    assert.equal(report.ok, true);
    assert.equal(report.kex.algorithm, await defaultKexAgainst(sshd.sshd));
    assert.ok(report.kex.client.kex.includes("diffie-hellman-group1-sha1"), "legacy kex offered");
    assert.ok(report.kex.client.cipherC2S.includes("3des-cbc"), "legacy cipher offered");
    assert.deepEqual(report.kex.legacy, []);
  });
});

Deno.test("sshtrace probe --kex, -o Ciphers and -o MACs decide what is negotiated", async () => {
  await using dir = await tempDir();
  await withSshd(async (sshd) => {
    const res = await sshtrace([
      "probe",
      "--json",
      "--kex",
      "ecdh-sha2-nistp384",
      "-o",
      "Ciphers=aes256-ctr",
      "-o",
      "MACs=hmac-sha2-512",
      ...isolated(dir.path),
      `127.0.0.1:${sshd.port}`,
    ]);
    assert.equal(res.code, 0, res.stderr);
    const report = JSON.parse(res.stdout);
    assert.equal(report.kex.algorithm, "ecdh-sha2-nistp384");
    assert.deepEqual(report.kex.cipher, { c2s: "aes256-ctr", s2c: "aes256-ctr" });
    assert.deepEqual(report.kex.mac, { c2s: "hmac-sha2-512", s2c: "hmac-sha2-512" });
  });
});

Deno.test("sshtrace probe --legacy accepts list edits that leave only legacy algorithms", async () => {
  await using dir = await tempDir();
  const sshd = await startSshd({ ciphers: "aes128-cbc" });
  try {
    const res = await sshtrace([
      "probe",
      "--json",
      "--legacy",
      "--ciphers",
      "-aes*-ctr,aes*-gcm@openssh.com,chacha20-poly1305@openssh.com",
      ...isolated(dir.path),
      `127.0.0.1:${sshd.port}`,
    ]);
    assert.equal(res.code, 0, res.stderr);
    const report = JSON.parse(res.stdout);
    assert.deepEqual(report.kex.client.cipherC2S, [
      "aes128-cbc",
      "aes192-cbc",
      "aes256-cbc",
      "3des-cbc",
    ]);
    assert.deepEqual(report.kex.cipher, { c2s: "aes128-cbc", s2c: "aes128-cbc" });
    assert.ok(report.kex.legacy.some((l: { algorithm: string }) => l.algorithm === "aes128-cbc"));
    // Without --legacy the same edit leaves nothing: a usage error before connecting.
    const refused = await sshtrace([
      "probe",
      "--ciphers",
      "-aes*-ctr,aes*-gcm@openssh.com,chacha20-poly1305@openssh.com",
      `127.0.0.1:${sshd.port}`,
    ]);
    assertUsageError(refused, /leaves no algorithm/);
  } finally {
    await sshd.stop();
  }
});

Deno.test("sshtrace probe reports a changed host key in the trace but still exits 0", async () => {
  await using dir = await tempDir();
  await withSshd(async (sshd) => {
    const file = `${dir.path}/known_hosts`;
    // The server's ed25519 key with its last 6 bytes changed: same host, another key.
    const other = sshd.hostKeys.ed25519.pub.slice(0, -8) + "AAAAAAAA";
    assert.notEqual(other, sshd.hostKeys.ed25519.pub);
    await Deno.writeTextFile(file, `[127.0.0.1]:${sshd.port} ${other}\n`);
    const res = await sshtrace([
      "probe",
      "-o",
      `UserKnownHostsFile=${file}`,
      `127.0.0.1:${sshd.port}`,
    ]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, new RegExp(`CHANGED \\(${file}:1 has SHA256:`));
    assert.equal(await Deno.readTextFile(file), `[127.0.0.1]:${sshd.port} ${other}\n`);
  });
});

// ---------------------------------------------------------------------------------------------
// Colour

Deno.test("sshtrace probe writes no ANSI escapes when stderr is not a TTY, even without NO_COLOR", async () => {
  // `env -u NO_COLOR` so the child really runs without it.
  const res = await run("env", [
    "-u",
    "NO_COLOR",
    "RUST_BACKTRACE=0",
    Deno.execPath(),
    "run",
    "-A",
    "main.ts",
    "probe",
    `127.0.0.1:${freePort()}`,
  ], { cwd: ROOT });
  assert.equal(res.code, 10, res.stderr);
  assert.match(res.stderr, /failed at stage connect/);
  assert.ok(!res.stderr.includes("\x1b["), JSON.stringify(res.stderr));
});

Deno.test("sshtrace probe colours its trace on a TTY unless NO_COLOR is set", async () => {
  requireTool(SCRIPT);
  const port = freePort();
  const cmd = (noColor: boolean) =>
    `${noColor ? "NO_COLOR=1" : "env -u NO_COLOR"} RUST_BACKTRACE=0 '${Deno.execPath()}' ` +
    `run -A main.ts probe 127.0.0.1:${port}`;
  // script(1) runs the command on a pseudo-terminal: stderr is a TTY there.
  const coloured = await run(SCRIPT, ["-q", "-e", "-c", cmd(false), "/dev/null"], { cwd: ROOT });
  assert.equal(coloured.code, 10, coloured.stdout + coloured.stderr);
  assert.match(coloured.stdout, /failed at stage connect/);
  assert.ok(coloured.stdout.includes("\x1b["), "a TTY without NO_COLOR gets colour");
  const plain = await run(SCRIPT, ["-q", "-e", "-c", cmd(true), "/dev/null"], { cwd: ROOT });
  assert.equal(plain.code, 10, plain.stdout + plain.stderr);
  assert.match(plain.stdout, /failed at stage connect/);
  assert.ok(!plain.stdout.includes("\x1b["), JSON.stringify(plain.stdout));
});
