import assert from "node:assert/strict";
import { atLeast, ensureTestUser, SSH_KEYGEN, sshdVersion, startSshd } from "../../helpers/sshd.ts";
import { requireTool, run, tempDir } from "../../helpers/tools.ts";

const SSH = "/usr/bin/ssh";
const SSH_KEYSCAN = "/usr/bin/ssh-keyscan";
const SSHPASS = "/usr/bin/sshpass";

/** ssh client options that ignore the machine's own config, keys and known hosts. */
function clientArgs(port: number): string[] {
  return [
    "-F",
    "/dev/null",
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "ConnectTimeout=10",
    "-p",
    String(port),
  ];
}

Deno.test("startSshd() serves its ed25519 host key, as ssh-keyscan sees it", async () => {
  requireTool(SSH_KEYSCAN);
  const sshd = await startSshd();
  try {
    assert.equal(sshd.host, "127.0.0.1");
    const res = await run(SSH_KEYSCAN, ["-t", "ed25519", "-p", String(sshd.port), "127.0.0.1"]);
    assert.equal(res.code, 0, res.stderr);
    const line = res.stdout.split("\n").find((l) => l.includes("ssh-ed25519"));
    assert.ok(line, `ssh-keyscan printed no ed25519 key: ${res.stdout} ${res.stderr}`);
    const [hostField, keyType, b64] = line.trim().split(/\s+/);
    assert.equal(hostField, `[127.0.0.1]:${sshd.port}`);
    assert.equal(`${keyType} ${b64}`, sshd.hostKeys.ed25519.pub);
    // The blob is the decoded key: string "ssh-ed25519" then a 32-byte key.
    const blob = sshd.hostKeys.ed25519.blob;
    assert.equal(blob.length, 4 + 11 + 4 + 32);
    assert.equal(new TextDecoder().decode(blob.subarray(4, 15)), "ssh-ed25519");
  } finally {
    await sshd.stop();
  }
});

Deno.test("startSshd() loads only the requested host key types", async () => {
  requireTool(SSH_KEYSCAN);
  // OpenSSH 10 removed DSA: there the second type is RSA.
  const dsa = !atLeast(await sshdVersion(), 10, 0);
  const sshd = await startSshd({ hostKeyTypes: ["ecdsa", dsa ? "dsa" : "rsa"] });
  try {
    const res = await run(SSH_KEYSCAN, [
      "-t",
      dsa ? "ed25519,ecdsa,rsa,dsa" : "ed25519,ecdsa",
      "-p",
      String(sshd.port),
      "127.0.0.1",
    ]);
    const keys = res.stdout.split("\n").filter((l) => l.trim() && !l.startsWith("#"))
      .map((l) => l.trim().split(/\s+/).slice(1).join(" ")).sort();
    const second = dsa ? sshd.hostKeys.dsa.pub : undefined;
    assert.deepEqual(keys, [sshd.hostKeys.ecdsa.pub, ...(second ? [second] : [])].sort());
    assert.match(sshd.hostKeys.ecdsa.pub, /^ecdsa-sha2-nistp256 /);
    if (dsa) assert.match(sshd.hostKeys.dsa.pub, /^ssh-dss /);
  } finally {
    await sshd.stop();
  }
});

Deno.test("a server forced to curve25519-sha256 refuses a client offering only DH group14", async () => {
  requireTool(SSH);
  const sshd = await startSshd({ kex: "curve25519-sha256" });
  try {
    const res = await run(SSH, [
      ...clientArgs(sshd.port),
      "-o",
      "KexAlgorithms=diffie-hellman-group14-sha256",
      "-o",
      "BatchMode=yes",
      "sshtrace-test@127.0.0.1",
      "true",
    ]);
    assert.equal(res.code, 255);
    assert.match(res.stderr, /no matching key exchange method/);
    assert.match(
      await sshd.waitForLog(/no matching key exchange method/),
      /Their offer: diffie-hellman-group14-sha256/,
    );
  } finally {
    await sshd.stop();
  }
});

Deno.test("the test user logs in with its password through sshpass and ssh", async () => {
  requireTool(SSH);
  requireTool(SSHPASS);
  const user = await ensureTestUser();
  assert.equal(user.name, "sshtrace-test");
  assert.equal(user.home, "/home/sshtrace-test");
  const sshd = await startSshd();
  try {
    const login = (password: string) =>
      run(SSHPASS, [
        "-p",
        password,
        SSH,
        ...clientArgs(sshd.port),
        "-o",
        "PubkeyAuthentication=no",
        "-o",
        "NumberOfPasswordPrompts=1",
        `${user.name}@127.0.0.1`,
        "id -un",
      ]);
    const ok = await login(user.password);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.trim(), user.name);
    const bad = await login("not the password");
    assert.notEqual(bad.code, 0);
  } finally {
    await sshd.stop();
  }
});

Deno.test("startSshd() accepts a public key listed in authorizedKeys and shows the banner", async () => {
  requireTool(SSH);
  requireTool(SSH_KEYGEN);
  const user = await ensureTestUser();
  await using tmp = await tempDir();
  const keyPath = `${tmp.path}/id_ed25519`;
  const gen = await run(SSH_KEYGEN, ["-q", "-t", "ed25519", "-N", "", "-f", keyPath]);
  assert.equal(gen.code, 0, gen.stderr);
  const pub = (await Deno.readTextFile(`${keyPath}.pub`)).trim();
  const bannerFile = `${tmp.path}/banner`;
  await Deno.writeTextFile(bannerFile, "sshtrace test banner\n");
  const sshd = await startSshd({ authorizedKeys: [pub], bannerFile });
  try {
    const res = await run(SSH, [
      ...clientArgs(sshd.port),
      "-o",
      "BatchMode=yes",
      "-o",
      "IdentitiesOnly=yes",
      "-i",
      keyPath,
      `${user.name}@127.0.0.1`,
      "echo key-ok",
    ]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout.trim(), "key-ok");
    assert.match(res.stderr, /sshtrace test banner/);
    await sshd.waitForLog(/Accepted publickey for sshtrace-test/);
  } finally {
    await sshd.stop();
  }
});

Deno.test("startSshd() throws sshd's own error text for a bad config line", async () => {
  await assert.rejects(
    () => startSshd({ config: ["NoSuchSshdOption yes"] }),
    /sshd rejected the test config.*NoSuchSshdOption/s,
  );
});

Deno.test("stop() ends the server so its port refuses connections", async () => {
  const sshd = await startSshd();
  const conn = await Deno.connect({ hostname: sshd.host, port: sshd.port });
  conn.close();
  await sshd.stop();
  await assert.rejects(() => Deno.connect({ hostname: sshd.host, port: sshd.port }));
  await sshd.stop(); // a second stop() is harmless
});

Deno.test("requireTool() fails with an install hint for a missing binary", () => {
  assert.throws(
    () => requireTool("/usr/sbin/no-such-sshd"),
    /no-such-sshd not installed: run scripts\/install-deps\.sh/,
  );
  assert.equal(requireTool("/usr/sbin/sshd"), "/usr/sbin/sshd");
});

Deno.test("stop() also ends connections that are still open", async () => {
  requireTool(SSH);
  requireTool(SSHPASS);
  const user = await ensureTestUser();
  const sshd = await startSshd();
  const client = run(SSHPASS, [
    "-p",
    user.password,
    SSH,
    ...clientArgs(sshd.port),
    "-o",
    "PubkeyAuthentication=no",
    `${user.name}@127.0.0.1`,
    "sleep 60",
  ], { timeoutMs: 20_000 });
  try {
    await sshd.waitForLog(/Accepted (password|keyboard-interactive)/, 10_000);
    const started = Date.now();
    await sshd.stop();
    assert.ok(Date.now() - started < 5000, "stop() took too long");
    const res = await client;
    assert.equal(res.timedOut, false);
    assert.notEqual(res.code, 0);
  } finally {
    await sshd.stop();
    await client;
  }
});
