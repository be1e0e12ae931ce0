/**
 * `probe()` against a real OpenSSH 9.2 sshd, for every default algorithm of the registry: forced
 * from the client side against one sshd, then forced on the server side (one sshd per algorithm),
 * plus the failures and known_hosts statuses a probe reports.
 */

import assert from "node:assert/strict";
import { defaultNames, findHostKey, type ListCategory } from "../../lib/algorithms/registry.ts";
import { probe } from "../../lib/client.ts";
import { probeReport, type Report } from "../../lib/render/report.ts";
import {
  atLeast,
  SSH_KEYGEN,
  type SshdHandle,
  type SshdOptions,
  startSshd,
} from "../helpers/sshd.ts";
import { requireTool, run, tempDir } from "../helpers/tools.ts";

/** Defaults OpenSSH 9.2 does not implement (ML-KEM arrived in 9.9). */
const NOT_IN_OPENSSH_92 = new Set(["mlkem768x25519-sha256"]);

/** The categories of the matrix (compression has one default, `none`, seen in every report). */
const MATRIX: Exclude<ListCategory, "compression">[] = ["kex", "hostKey", "cipher", "mac"];

/** The cipher used when a MAC is tested: MACs are only used with a non-AEAD cipher. */
const MAC_TEST_CIPHER = "aes128-ctr";

const BANNER = "Authorized use only.\nsshtrace probe matrix\n";

interface Fingerprint {
  sha256: string;
  md5: string;
}

interface Fixture {
  dir: string;
  /** sshd_config lines loading the extra ECDSA P-384 and P-521 host keys. */
  extraHostKeys: string[];
  bannerFile: string;
  /** Fingerprints by key type (`ssh-ed25519`, `ecdsa-sha2-nistp384`, `ssh-rsa`, ...). */
  fingerprints: Map<string, Fingerprint>;
  /** A known_hosts path that does not exist (the probe must not create it). */
  missingKnownHosts: string;
}

async function keygen(args: string[]): Promise<string> {
  const res = await run(SSH_KEYGEN, args);
  if (res.code !== 0) throw new Error(`ssh-keygen ${args.join(" ")} failed: ${res.stderr}`);
  return res.stdout;
}

/** `ssh-keygen -lf` of a .pub file: its key type and SHA256 / MD5 fingerprints. */
async function fingerprintOf(pubPath: string): Promise<[string, Fingerprint]> {
  const keyType = (await Deno.readTextFile(pubPath)).trim().split(/\s+/)[0]!;
  const sha256 = (await keygen(["-l", "-f", pubPath])).trim().split(/\s+/)[1]!;
  const md5 = (await keygen(["-l", "-E", "md5", "-f", pubPath])).trim().split(/\s+/)[1]!;
  assert.match(sha256, /^SHA256:[A-Za-z0-9+/]{43}$/);
  assert.match(md5, /^MD5:([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
  return [keyType, { sha256, md5 }];
}

async function makeFixture(dir: string): Promise<Fixture> {
  requireTool(SSH_KEYGEN);
  const extraHostKeys: string[] = [];
  const pubs: string[] = [];
  for (const bits of [384, 521]) {
    const path = `${dir}/ssh_host_ecdsa${bits}_key`;
    await keygen(["-t", "ecdsa", "-b", String(bits), "-q", "-N", "", "-C", "", "-f", path]);
    extraHostKeys.push(`HostKey ${path}`);
    pubs.push(`${path}.pub`);
  }
  const bannerFile = `${dir}/banner`;
  await Deno.writeTextFile(bannerFile, BANNER);
  const fingerprints = new Map(await Promise.all(pubs.map(fingerprintOf)));
  return {
    dir,
    extraHostKeys,
    bannerFile,
    fingerprints,
    missingKnownHosts: `${dir}/no-such-dir/known_hosts`,
  };
}

/** Adds the fingerprints of the harness's host keys (known once an sshd has started). */
async function addHarnessKeys(fx: Fixture, sshd: SshdHandle): Promise<void> {
  for (const t of ["ed25519", "ecdsa", "rsa"] as const) {
    const [type, fp] = await fingerprintOf(`${sshd.hostKeys[t].path}.pub`);
    fx.fingerprints.set(type, fp);
  }
}

function probeTarget(sshd: SshdHandle, fx: Fixture, knownHostsFiles = [fx.missingKnownHosts]) {
  return { host: sshd.host, port: sshd.port, user: "root", timeoutMs: 15_000, knownHostsFiles };
}

/** The client-side edits that force `name` of `category`. */
function forceFromClient(
  category: (typeof MATRIX)[number],
  name: string,
): Partial<Record<ListCategory, string[]>> {
  if (category === "mac") return { cipher: [MAC_TEST_CIPHER], mac: [name] };
  return { [category]: [name] };
}

/** The sshd options that force `name` of `category` on the server side. */
function forceOnServer(category: (typeof MATRIX)[number], name: string): SshdOptions {
  switch (category) {
    case "kex":
      return { kex: name };
    case "hostKey":
      return { hostKeyAlgorithms: name };
    case "cipher":
      return { ciphers: name };
    case "mac":
      return { ciphers: MAC_TEST_CIPHER, macs: name };
  }
}

function describe(report: Report): string {
  return JSON.stringify({ error: report.error, kex: report.kex && { ...report.kex, client: "…" } });
}

/** Everything a successful probe against the test sshd must report. */
function assertGoodProbe(report: Report, fx: Fixture, sshd: SshdHandle): void {
  assert.equal(report.ok, true, describe(report));
  assert.equal(report.exitCode, 0);
  assert.equal(report.failedStage, null);
  assert.equal(report.error, null);
  assert.equal(report.server.port, sshd.port);
  assert.match(report.server.versionLine ?? "", /^SSH-2\.0-OpenSSH_9\.2/);
  assert.equal(report.server.protocol, "2.0");
  assert.equal(report.kex?.strict, true, "strict kex (kex-strict-s-v00@openssh.com) is on");
  assert.deepEqual(report.kex.compression, { c2s: "none", s2c: "none" });
  const keyType = findHostKey(report.kex.hostKeyAlgorithm ?? "")?.keyType;
  assert.ok(keyType, `unknown host key algorithm ${report.kex.hostKeyAlgorithm}`);
  const expected = fx.fingerprints.get(keyType);
  assert.ok(expected, `the test has no ${keyType} host key`);
  assert.equal(report.hostKey?.type, keyType);
  assert.equal(report.hostKey.fingerprint, expected.sha256);
  assert.equal(report.hostKey.md5, expected.md5);
  assert.equal(report.hostKey.status, "unknown");
  assert.equal(report.auth?.user, "root");
  const methods = report.auth.methods ?? [];
  assert.ok(methods.includes("password"), `methods: ${methods}`);
  assert.ok(methods.includes("publickey"), `methods: ${methods}`);
  assert.equal(report.auth.success, false);
}

/** Asserts the report shows `name` chosen for `category` (both directions where there are two). */
function assertChosen(report: Report, category: (typeof MATRIX)[number], name: string): void {
  const kex = report.kex!;
  switch (category) {
    case "kex":
      assert.equal(kex.algorithm, name);
      break;
    case "hostKey":
      assert.equal(kex.hostKeyAlgorithm, name);
      break;
    case "cipher":
      assert.deepEqual(kex.cipher, { c2s: name, s2c: name });
      break;
    case "mac":
      assert.deepEqual(kex.cipher, { c2s: MAC_TEST_CIPHER, s2c: MAC_TEST_CIPHER });
      assert.deepEqual(kex.mac, { c2s: name, s2c: name });
      break;
  }
}

async function assertMissing(path: string): Promise<void> {
  await assert.rejects(Deno.stat(path), Deno.errors.NotFound, `${path} was created`);
}

Deno.test("probe() forced from the client side lands on every default algorithm of one OpenSSH sshd", async (t) => {
  await using dir = await tempDir("sshtrace-matrix-");
  const fx = await makeFixture(dir.path);
  const sshd = await startSshd({ config: fx.extraHostKeys, bannerFile: fx.bannerFile });
  try {
    await addHarnessKeys(fx, sshd);
    for (const category of MATRIX) {
      for (const name of defaultNames(category)) {
        if (NOT_IN_OPENSSH_92.has(name)) continue;
        await t.step(`probe() with only ${category} ${name} offered chooses it`, async () => {
          const report = probeReport(
            await probe({
              ...probeTarget(sshd, fx),
              algorithms: forceFromClient(category, name),
            }),
          );
          assertGoodProbe(report, fx, sshd);
          assertChosen(report, category, name);
        });
      }
    }

    await t.step("the host keys added through config are the P-384 and P-521 ones", () => {
      assert.ok(fx.fingerprints.has("ecdsa-sha2-nistp384"));
      assert.ok(fx.fingerprints.has("ecdsa-sha2-nistp521"));
      assert.equal(fx.fingerprints.size, 5);
    });

    await t.step(
      "mlkem768x25519-sha256 is offered first, and against OpenSSH 9.2 probe lands on sntrup761x25519 (post-quantum)",
      async () => {
        assert.deepEqual(defaultNames("kex").slice(0, 3), [
          "mlkem768x25519-sha256",
          "sntrup761x25519-sha512",
          "sntrup761x25519-sha512@openssh.com",
        ]);
        const report = probeReport(await probe(probeTarget(sshd, fx)));
        assertGoodProbe(report, fx, sshd);
        assert.equal(report.kex?.client?.kex[0], "mlkem768x25519-sha256");
        if (atLeast(sshd.version, 9, 9)) {
          assert.equal(report.kex.algorithm, "mlkem768x25519-sha256");
        } else {
          assert.ok(!report.kex.server?.kex.includes("mlkem768x25519-sha256"));
          // Debian's 9.2 knows both names of sntrup761x25519; upstream 9.0–9.8 the @openssh.com one.
          assert.match(report.kex.algorithm ?? "", /^sntrup761x25519-sha512(@openssh\.com)?$/);
          assert.equal(report.kex.kemBackend?.algorithm, "sntrup761");
        }
        // The default offer's first choices for the rest.
        assert.equal(report.kex.hostKeyAlgorithm, "ssh-ed25519");
        assert.deepEqual(report.kex.cipher, {
          c2s: "chacha20-poly1305@openssh.com",
          s2c: "chacha20-poly1305@openssh.com",
        });
        assert.deepEqual(report.kex.mac, { c2s: "<implicit>", s2c: "<implicit>" });
        assert.deepEqual(report.kex.legacy, []);
      },
    );

    await t.step("the pre-auth banner (Banner) appears in report.auth.banner", async () => {
      const report = probeReport(await probe(probeTarget(sshd, fx)));
      assert.equal(report.ok, true, describe(report));
      assert.equal(report.auth?.banner, BANNER);
    });

    await t.step(
      "a host key absent from known_hosts is reported unknown, and nothing is written",
      async () => {
        const empty = `${dir.path}/empty_known_hosts`;
        await Deno.writeTextFile(empty, "");
        const report = probeReport(
          await probe(probeTarget(sshd, fx, [fx.missingKnownHosts, empty])),
        );
        assert.equal(report.ok, true, describe(report));
        assert.equal(report.hostKey?.status, "unknown");
        assert.equal(report.hostKey.file, null);
        assert.equal(report.hostKey.line, null);
        await assertMissing(fx.missingKnownHosts);
        assert.equal(await Deno.readTextFile(empty), "");
      },
    );

    await t.step(
      "a host key listed for [127.0.0.1]:PORT is reported known with file and line",
      async () => {
        const file = `${dir.path}/known_hosts_known`;
        const text = [
          "# test known_hosts",
          `[127.0.0.1]:${sshd.port} ${sshd.hostKeys.ed25519.pub}`,
          "",
        ].join("\n");
        await Deno.writeTextFile(file, text);
        const report = probeReport(await probe(probeTarget(sshd, fx, [file])));
        assert.equal(report.ok, true, describe(report));
        assert.equal(report.hostKey?.status, "known");
        assert.equal(report.hostKey.file, file);
        assert.equal(report.hostKey.line, 2);
        assert.equal(report.hostKey.fingerprint, fx.fingerprints.get("ssh-ed25519")!.sha256);
        assert.equal(await Deno.readTextFile(file), text, "probe changed known_hosts");
      },
    );

    await t.step(
      "a known ECDSA key makes probe prefer the ECDSA host key, as ssh(1) does",
      async () => {
        const file = `${dir.path}/known_hosts_ecdsa`;
        await Deno.writeTextFile(file, `[127.0.0.1]:${sshd.port} ${sshd.hostKeys.ecdsa.pub}\n`);
        const report = probeReport(await probe(probeTarget(sshd, fx, [file])));
        assert.equal(report.ok, true, describe(report));
        assert.equal(report.kex?.hostKeyAlgorithm, "ecdsa-sha2-nistp256");
        assert.equal(report.hostKey?.status, "known");
        assert.equal(report.hostKey.line, 1);
      },
    );

    await t.step(
      "a different key for [127.0.0.1]:PORT is reported changed with file and line, and probe still succeeds",
      async () => {
        const other = `${dir.path}/other_ed25519`;
        await keygen(["-t", "ed25519", "-q", "-N", "", "-C", "", "-f", other]);
        const otherPub = (await Deno.readTextFile(`${other}.pub`)).trim();
        const [, otherFp] = await fingerprintOf(`${other}.pub`);
        const file = `${dir.path}/known_hosts_changed`;
        const text = [
          "# test known_hosts",
          `[127.0.0.1]:${sshd.port + 1} ${sshd.hostKeys.ed25519.pub}`,
          `[127.0.0.1]:${sshd.port} ${otherPub}`,
          "",
        ].join("\n");
        await Deno.writeTextFile(file, text);
        const report = probeReport(await probe(probeTarget(sshd, fx, [file])));
        assert.equal(report.ok, true, describe(report));
        assert.equal(report.exitCode, 0);
        assert.equal(report.hostKey?.status, "changed");
        assert.equal(report.hostKey.file, file);
        assert.equal(report.hostKey.line, 3);
        assert.equal(report.hostKey.fingerprint, fx.fingerprints.get("ssh-ed25519")!.sha256);
        assert.notEqual(report.hostKey.fingerprint, otherFp.sha256);
        assert.ok(report.auth?.methods?.includes("password"));
        assert.equal(await Deno.readTextFile(file), text, "probe changed known_hosts");
      },
    );
  } finally {
    await sshd.stop();
  }
});

for (const category of MATRIX) {
  Deno.test(`probe() against an sshd forced to one ${category} algorithm at a time chooses the server's`, async (t) => {
    await using dir = await tempDir("sshtrace-matrix-");
    const fx = await makeFixture(dir.path);
    for (const name of defaultNames(category)) {
      if (NOT_IN_OPENSSH_92.has(name)) continue;
      await t.step(`sshd offering only ${category} ${name}`, async () => {
        const sshd = await startSshd({
          ...forceOnServer(category, name),
          config: fx.extraHostKeys,
        });
        try {
          if (fx.fingerprints.size < 5) await addHarnessKeys(fx, sshd);
          const report = probeReport(await probe(probeTarget(sshd, fx))); // the full default offer
          assertGoodProbe(report, fx, sshd);
          assertChosen(report, category, name);
          // The server's KEXINIT really listed that algorithm alone.
          const server = report.kex!.server!;
          const theirs = category === "kex"
            ? server.kex.filter((n) => !n.startsWith("kex-strict-") && n !== "ext-info-s")
            : category === "hostKey"
            ? server.hostKey
            : category === "cipher"
            ? server.cipherC2S
            : server.macC2S;
          assert.deepEqual(theirs, [name]);
        } finally {
          await sshd.stop();
        }
      });
    }
  });
}

/** Servers forced to a legacy algorithm the default offer lacks: the failure names the category. */
const MISMATCHES: { category: string; options: SshdOptions; code: string; words: RegExp }[] = [
  {
    category: "kex",
    options: { kex: "diffie-hellman-group14-sha1" },
    code: "kex.no-common-kex",
    words: /key exchange method/,
  },
  {
    category: "hostKey",
    options: { hostKeyAlgorithms: "ssh-rsa" },
    code: "kex.no-common-hostKey",
    words: /host key algorithm/,
  },
  {
    category: "cipherC2S",
    options: { ciphers: "aes128-cbc" },
    code: "kex.no-common-cipherC2S",
    words: /cipher/,
  },
  {
    category: "macC2S",
    options: { ciphers: MAC_TEST_CIPHER, macs: "hmac-sha1" },
    code: "kex.no-common-macC2S",
    words: /MAC/,
  },
];

Deno.test("probe() against an sshd forced to an algorithm we do not offer fails at stage kex naming the category", async (t) => {
  await using dir = await tempDir("sshtrace-matrix-");
  const fx = await makeFixture(dir.path);
  for (const m of MISMATCHES) {
    await t.step(`no common ${m.category}: ${m.code}, exit 12`, async () => {
      const sshd = await startSshd(m.options);
      try {
        const report = probeReport(await probe(probeTarget(sshd, fx)));
        assert.equal(report.ok, false);
        assert.equal(report.failedStage, "kex");
        assert.equal(report.exitCode, 12);
        assert.equal(report.error?.stage, "kex");
        assert.equal(report.error.code, m.code);
        assert.match(report.error.message, m.words);
        assert.match(report.error.message, /in common with the server/);
        // The report still shows both offers, so the user sees what the server wanted.
        assert.ok(report.kex?.server, "the server's lists are in the report");
        assert.ok(report.kex.client, "our lists are in the report");
        assert.equal(report.hostKey, null);
        assert.equal(report.auth, null);
      } finally {
        await sshd.stop();
      }
    });
  }
});

Deno.test("probe() with --legacy semantics offers legacy algorithms and reaches an sshd that only has them", async () => {
  await using dir = await tempDir("sshtrace-matrix-");
  const fx = await makeFixture(dir.path);
  const sshd = await startSshd({ kex: "diffie-hellman-group14-sha1", ciphers: "aes128-cbc" });
  try {
    await addHarnessKeys(fx, sshd);
    const report = probeReport(await probe({ ...probeTarget(sshd, fx), legacy: true }));
    assertGoodProbe(report, fx, sshd);
    assert.equal(report.kex?.algorithm, "diffie-hellman-group14-sha1");
    assert.deepEqual(report.kex.cipher, { c2s: "aes128-cbc", s2c: "aes128-cbc" });
    const flagged = report.kex.legacy.map((l) => `${l.category}:${l.algorithm}`).sort();
    assert.deepEqual(flagged, [
      "cipherC2S:aes128-cbc",
      "cipherS2C:aes128-cbc",
      "kex:diffie-hellman-group14-sha1",
    ]);
    assert.ok(report.kex.legacy.every((l) => l.risk.length > 10));
  } finally {
    await sshd.stop();
  }
});
