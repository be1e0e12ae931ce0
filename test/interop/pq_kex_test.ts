/**
 * The post-quantum hybrid key exchanges against real OpenSSH servers, end to end through the
 * CLI: sntrup761x25519 (both names) against the system's sshd (Debian 12: OpenSSH 9.2, which
 * prefers it), and mlkem768x25519-sha256 against an OpenSSH >= 9.9 (the system's when new
 * enough, else OpenSSH 10 built once into .cache/ by scripts/build-openssh10.sh). Each: a probe
 * and a key login running a command, with the method forced on the server side, the KEM backend
 * traced, and sshd's own log naming the method.
 */

import assert from "node:assert/strict";
import {
  ed25519Key,
  emptyHome,
  type Json,
  parseJsonReport,
  runSshtrace,
  splitNdjson,
} from "../helpers/cli.ts";
import {
  atLeast,
  ensureTestUser,
  openssh99Sshd,
  SSHD,
  type SshdHandle,
  sshdSupportsKex,
  sshdVersion,
  startSshd,
} from "../helpers/sshd.ts";
import { tempDir } from "../helpers/tools.ts";

const SNTRUP_NAMES = ["sntrup761x25519-sha512@openssh.com", "sntrup761x25519-sha512"];

interface Fixture {
  home: string;
  key: string;
  user: string;
}

async function fixture(dir: string): Promise<Fixture> {
  const home = await emptyHome(dir);
  const key = await ed25519Key(dir);
  const user = (await ensureTestUser()).name;
  return { home, key, user };
}

const trust = (sshd: SshdHandle, dir: string) => {
  const knownHosts = `${dir}/known_hosts_${sshd.port}`;
  Deno.writeTextFileSync(knownHosts, `[127.0.0.1]:${sshd.port} ${sshd.hostKeys.ed25519.pub}\n`);
  return ["-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${knownHosts}`];
};

/** Probe, then log in and run a command, against `sshd` forced to `kex`; checks both traces. */
async function probeAndLogin(
  t: Deno.TestContext,
  sshd: SshdHandle,
  kex: string,
  kem: string,
  fx: Fixture,
  dir: string,
  env: Record<string, string> = {},
): Promise<void> {
  const strict = trust(sshd, dir);
  const backend = env.SSHTRACE_KEM === "js" ? "js" : "wasm";
  await t.step(`probe negotiates ${kex} (${kem} by ${backend})`, async () => {
    const res = await runSshtrace(
      ["probe", ...strict, "--json", `127.0.0.1:${sshd.port}`],
      { home: fx.home, env },
    );
    assert.equal(res.code, 0, res.stderr + res.stdout);
    const report = parseJsonReport(res.stdout);
    assert.equal(report.kex.algorithm, kex);
    assert.equal(report.kex.kemBackend?.algorithm, kem);
    assert.equal(report.kex.kemBackend?.name, backend);
    assert.equal(report.hostKey.status, "known");
  });
  await t.step(`a key login negotiates ${kex} and runs a command`, async () => {
    const from = sshd.logs().length;
    const res = await runSshtrace(
      [...strict, "--ndjson", "-i", fx.key, `${fx.user}@127.0.0.1:${sshd.port}`, "echo pq-ok"],
      { home: fx.home, env },
    );
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^pq-ok$/m);
    const events: Json[] = splitNdjson(res.stdout).events;
    const negotiated = events.find((e) => e.type === "negotiated");
    const kexDecision = negotiated.decisions.find((d: Json) => d.category === "kex");
    assert.equal(kexDecision.chosen, kex);
    const kemEvent = events.find((e) => e.type === "kem-backend");
    assert.equal(kemEvent?.algorithm, kem);
    assert.equal(kemEvent?.backend, backend);
    await sshd.waitForLog(/Accepted publickey for sshtrace-test/);
    assert.match(sshd.logs().slice(from), new RegExp(`kex: algorithm: ${kex.replace(".", "\\.")}`));
  });
}

Deno.test("sshtrace negotiates sntrup761x25519 with the system's OpenSSH sshd: probe and key login, under both names", async (t) => {
  const version = await sshdVersion(SSHD);
  assert.ok(atLeast(version, 9, 0), `${version.text}: sntrup761x25519 needs OpenSSH >= 9.0`);
  await using tmp = await tempDir("sshtrace-pq-");
  const fx = await fixture(tmp.path);
  const authorizedKeys = [Deno.readTextFileSync(`${fx.key}.pub`).trim()];
  for (const name of SNTRUP_NAMES) {
    // Upstream 9.0–9.8 know only the @openssh.com name; Debian's 9.2 and 9.9+ know both.
    if (!(await sshdSupportsKex(name))) {
      assert.ok(!atLeast(version, 9, 9), `${version.text} must know ${name}`);
      continue;
    }
    const sshd = await startSshd({ kex: name, authorizedKeys });
    try {
      await probeAndLogin(t, sshd, name, "sntrup761", fx, tmp.path);
    } finally {
      await sshd.stop();
    }
  }
});

Deno.test("sshtrace negotiates mlkem768x25519-sha256 with OpenSSH >= 9.9: probe and key login, with liboqs and with the JavaScript fallback", async (t) => {
  const binary = await openssh99Sshd();
  const version = await sshdVersion(binary);
  assert.ok(atLeast(version, 9, 9), version.text);
  await using tmp = await tempDir("sshtrace-pq-");
  const fx = await fixture(tmp.path);
  const authorizedKeys = [Deno.readTextFileSync(`${fx.key}.pub`).trim()];
  const sshd = await startSshd({ sshd: binary, kex: "mlkem768x25519-sha256", authorizedKeys });
  try {
    await probeAndLogin(t, sshd, "mlkem768x25519-sha256", "ML-KEM-768", fx, tmp.path);
    await probeAndLogin(t, sshd, "mlkem768x25519-sha256", "ML-KEM-768", fx, tmp.path, {
      SSHTRACE_KEM: "js",
    });
  } finally {
    await sshd.stop();
  }
  await t.step(
    "without WebAssembly (--v8-flags=--jitless) a key login still gets mlkem768x25519-sha256, on the JavaScript fallback, saying why",
    async () => {
      const plain = await startSshd({ sshd: binary, authorizedKeys });
      try {
        const res = await runSshtrace(
          [
            ...trust(plain, tmp.path),
            "--ndjson",
            "-i",
            fx.key,
            `${fx.user}@127.0.0.1:${plain.port}`,
            "echo pq-ok",
          ],
          { home: fx.home, permissions: ["-A", "--v8-flags=--jitless"] },
        );
        assert.equal(res.code, 0, res.stderr);
        assert.match(res.stdout, /^pq-ok$/m);
        const events: Json[] = splitNdjson(res.stdout).events;
        const kem = events.find((e) => e.type === "kem-backend");
        assert.equal(kem?.algorithm, "ML-KEM-768");
        assert.equal(kem?.backend, "js");
        assert.match(kem?.detail ?? "", /WebAssembly failed/);
        const offered: string[] = events.find((e) => e.type === "kexinit-sent")?.lists.kex ?? [];
        assert.ok(!offered.some((k) => k.startsWith("sntrup761")), offered.join(","));
      } finally {
        await plain.stop();
      }
    },
  );
  await t.step(
    "OpenSSH >= 9.9 with its default offer gets mlkem768x25519-sha256 first",
    async () => {
      const plain = await startSshd({ sshd: binary, authorizedKeys });
      try {
        const res = await runSshtrace(
          ["probe", ...trust(plain, tmp.path), "--json", `127.0.0.1:${plain.port}`],
          { home: fx.home },
        );
        assert.equal(res.code, 0, res.stderr + res.stdout);
        const report = parseJsonReport(res.stdout);
        assert.equal(report.kex.algorithm, "mlkem768x25519-sha256");
        assert.match(report.server.software, /^OpenSSH_(9\.9|[1-9]\d)/);
        assert.deepEqual(report.kex.server.kex.slice(0, 3), [
          "mlkem768x25519-sha256",
          "sntrup761x25519-sha512",
          "sntrup761x25519-sha512@openssh.com",
        ]);
      } finally {
        await plain.stop();
      }
    },
  );
});
