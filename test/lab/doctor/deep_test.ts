/** `probe --deep` against lab servers: every host key, every algorithm alone, grade, vendor. */

import assert from "node:assert/strict";
import { deepProbe, guessVendor, REUSED, terrapinOf } from "../../../lib/doctor/deep.ts";
import { startLabServer } from "../../../lib/lab/mod.ts";
import { everyAlgorithm, sharedHostKeys } from "../../helpers/lab.ts";
import { runSshtrace } from "../../helpers/cli.ts";
import { tempDir } from "../../helpers/tools.ts";
import { xmlElements } from "../../helpers/xml.ts";

Deno.test("deep probe: one connection per host key type, every listed algorithm alone", async () => {
  const lab = await startLabServer({
    profile: "modern",
    hostKeys: await sharedHostKeys(),
    algorithms: { ...everyAlgorithm(), compression: ["none", "zlib@openssh.com"] },
  });
  try {
    const r = await deepProbe({ host: lab.host, port: lab.port, knownHostsFiles: [] });
    assert.equal(r.probe.error, null);
    assert.deepEqual(
      r.hostKeys.map((k) => [k.keyType, k.bits]),
      [
        ["ssh-ed25519", 256],
        ["ecdsa-sha2-nistp256", 256],
        ["ecdsa-sha2-nistp384", 384],
        ["ecdsa-sha2-nistp521", 521],
        ["ssh-rsa", 2048],
        ["ssh-dss", 1024],
      ],
    );
    assert.ok(r.hostKeys.every((k) => k.sha256.startsWith("SHA256:") && k.md5.startsWith("MD5:")));
    for (const category of ["kex", "cipher", "mac"] as const) {
      const results = r.alone[category]!;
      assert.ok(results.length > 3, category);
      assert.deepEqual(results.filter((x) => !x.accepted), [], `${category}: all accepted`);
    }
    // The lab answers each preferred size with its group of that size.
    assert.deepEqual(r.gexSizes.map((g) => [g.asked, g.bits]), [
      [1024, 1024],
      [2048, 2048],
      [4096, 4096],
      [8192, 8192],
    ]);
    assert.equal(r.strictKex, true);
    assert.equal(r.terrapin.exposed, false);
    assert.deepEqual(r.compression, ["none", "zlib@openssh.com"]);
    assert.ok(r.auth?.methods.includes("password"));
    // The weakest host key (DSA 1024) counts in the grade: a full grade, not a partial one.
    assert.deepEqual(r.grade?.partial, []);
    assert.ok(r.grade!.reasons.some((x) => /DSA|ssh-dss/i.test(x)), r.grade!.reasons.join("\n"));
    // The first probe's host key type, kex and cipher (its MAC is implicit with an AEAD
    // cipher) need no connection of their own.
    const all = [...r.alone.kex!, ...r.alone.cipher!, ...r.alone.mac!];
    const chosen = r.probe.events.flatMap((e) => e.type === "negotiated" ? e.decisions : [])
      .filter((d) => d.category === "kex" || d.category === "cipherS2C").map((d) => d.chosen);
    assert.deepEqual(all.filter((x) => x.note === REUSED).map((x) => x.name), chosen);
    assert.equal(r.connections, 1 + 5 + all.length - 2 + 4);
  } finally {
    await lab.stop();
  }
});

Deno.test("deep probe of an old switch: legacy algorithms tried alone, vendor from the version", async () => {
  const lab = await startLabServer({ profile: "old-switch", hostKeys: await sharedHostKeys() });
  try {
    const r = await runSshtrace(["probe", "--deep", `admin@127.0.0.1:${lab.port}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /vendor {6}H3C \/ HPE Comware/);
    assert.match(
      r.stdout,
      /default {5}a probe with these settings fails at kex \(kex\.no-common-kex\)/,
    );
    assert.match(
      r.stdout,
      /kex {9}accepted alone: diffie-hellman-group1-sha1, diffie-hellman-group14-sha1/,
    );
    assert.match(r.stdout, /host key {4}ssh-rsa 2048 bits {2}SHA256:/);
    assert.match(r.stdout, /auth {8}admin: /);
    assert.match(r.stdout, /grade {7}F /);
  } finally {
    await lab.stop();
  }
});

Deno.test("guessVendor() reads the software field, and says what a blank one suggests", () => {
  assert.equal(guessVendor("OpenSSH_9.2p1", null), "OpenSSH");
  assert.equal(guessVendor("HUAWEI-1.5", null), "Huawei VRP");
  assert.match(guessVendor("-", null), /blank software field/);
  assert.equal(guessVendor("Foo_1", null), "unknown (Foo_1)");
});

Deno.test("terrapinOf(): chacha20-poly1305 or CBC with EtM, without strict kex, is exposed", () => {
  const lists = (kex: string[], cipher: string[], mac: string[]) => ({
    kex,
    hostKey: [],
    cipherC2S: cipher,
    cipherS2C: cipher,
    macC2S: mac,
    macS2C: mac,
    compressionC2S: [],
    compressionS2C: [],
  });
  assert.equal(terrapinOf(lists([], ["chacha20-poly1305@openssh.com"], [])).exposed, true);
  assert.equal(
    terrapinOf(lists([], ["aes128-cbc"], ["hmac-sha2-256-etm@openssh.com"])).exposed,
    true,
  );
  assert.equal(terrapinOf(lists([], ["aes128-ctr"], ["hmac-sha2-256"])).exposed, false);
  assert.equal(
    terrapinOf(lists(["kex-strict-s-v00@openssh.com"], ["chacha20-poly1305@openssh.com"], []))
      .exposed,
    false,
  );
});

Deno.test("probe --make-policy writes what a reference passes; --policy checks with exit 3 on drift", async () => {
  const keys = await sharedHostKeys();
  const reference = await startLabServer({ profile: "modern", hostKeys: keys });
  const drifted = await startLabServer({
    profile: "modern",
    hostKeys: keys,
    algorithms: { cipher: ["aes128-ctr", "aes128-cbc"] },
  });
  await using dir = await tempDir("sshtrace-policy-");
  const file = `${dir.path}/policy.json`;
  try {
    const made = await runSshtrace(["probe", "--make-policy", file, `127.0.0.1:${reference.port}`]);
    assert.equal(made.code, 0, made.stderr);
    const policy = JSON.parse(await Deno.readTextFile(file));
    assert.equal(policy.strictKex, true);
    const same = await runSshtrace(["probe", "--policy", file, `127.0.0.1:${reference.port}`]);
    assert.equal(same.code, 0, same.stdout);
    assert.match(same.stdout, /^policy 127\.0\.0\.1:\d+: passes$/m);
    const junit = `${dir.path}/policy.xml`;
    const drift = await runSshtrace([
      "probe",
      "--policy",
      file,
      "--json",
      "--junit",
      junit,
      `127.0.0.1:${drifted.port}`,
    ]);
    assert.equal(drift.code, 3, drift.stderr);
    // JUnit: a testcase per rule, the failed ones with a failure.
    const els = xmlElements(await Deno.readTextFile(junit));
    const cases = els.filter((e) => e.tag === "testcase").map((e) => e.attrs.name);
    assert.ok(cases.includes("allowed.cipher") && cases.includes("strictKex"), String(cases));
    assert.deepEqual(
      els.filter((e) => e.tag === "failure").map((e) => e.attrs.message!.split(":")[0]),
      ["allowed.cipher", "required.cipher", "minGrade"],
    );
    const report = JSON.parse(drift.stdout);
    const failed = report.policy.results.filter((r: { pass: boolean }) => !r.pass);
    // CBC added, the reference's first cipher gone, and the grade lower: all three said.
    assert.deepEqual(failed.map((r: { rule: string }) => r.rule), [
      "allowed.cipher",
      "required.cipher",
      "minGrade",
    ]);
    assert.match(failed[0].detail, /aes128-cbc/);
    const builtin = await runSshtrace([
      "probe",
      "--policy",
      "builtin:no-such",
      `127.0.0.1:${reference.port}`,
    ]);
    assert.equal(builtin.code, 2);
  } finally {
    await reference.stop();
    await drifted.stop();
  }
});
