/**
 * A host known by one key type that shows only another is a CHANGED host, never a new one: in
 * every StrictHostKeyChecking mode no credential is sent and known_hosts is left alone; the
 * error names the known key types, file:line and fingerprints. Against the lab server's
 * `hostkey-ecdsa-only` profile (an impostor with only an ECDSA key).
 */

import assert from "node:assert/strict";
import { publicKeyToLine } from "../../../lib/algorithms/pubkey.ts";
import { fingerprintSha256 } from "../../../lib/auth/publickey.ts";
import { hostKeyPolicy, type StrictMode } from "../../../lib/hostkeys/policy.ts";
import { explainFailure } from "../../../lib/diagnose/explain.ts";
import { startLabServer } from "../../../lib/lab/mod.ts";
import { SshError } from "../../../lib/errors/mod.ts";
import { Tracer } from "../../../lib/trace.ts";
import { emptyHome, parseJsonReport, runSshtrace } from "../../helpers/cli.ts";
import { tempDir } from "../../helpers/tools.ts";
import { sharedHostKeys } from "../../helpers/lab.ts";

async function knownEd25519(dir: string, host: string, port: number): Promise<string> {
  const keys = await sharedHostKeys();
  const file = `${dir}/known_hosts`;
  const other = keys.get("ecdsa-sha2-nistp384")!.blob;
  await Deno.writeTextFile(
    file,
    `elsewhere.example ${publicKeyToLine(other)}\n` +
      `[${host}]:${port} ${publicKeyToLine(keys.get("ssh-ed25519")!.blob)}\n`,
  );
  return file;
}

for (const mode of ["yes", "accept-new", "ask", "no"] as const satisfies StrictMode[]) {
  Deno.test(`hostKeyPolicy(${mode}) refuses a key of a type not known for a host known by another`, async () => {
    await using dir = await tempDir();
    const file = await knownEd25519(dir.path, "10.9.9.9", 2222);
    const before = await Deno.readTextFile(file);
    const ecdsa = (await sharedHostKeys()).get("ecdsa-sha2-nistp256")!.blob;
    let asked = 0;
    const tracer = new Tracer();
    const check = hostKeyPolicy({
      mode,
      host: "10.9.9.9",
      port: 2222,
      knownHostsFiles: [file],
      tracer,
      ask: () => {
        asked++;
        return Promise.resolve(true);
      },
    });
    const error = await check(
      {
        blob: ecdsa,
        keyType: "ecdsa-sha2-nistp256",
        fingerprint: fingerprintSha256(ecdsa),
        md5: "",
        algorithm: "ecdsa-sha2-nistp256",
      } as Parameters<typeof check>[0],
    ).then(() => null, (e) => e);
    assert.ok(error instanceof SshError, "refused");
    assert.equal(error.code, "hostkey.changed");
    assert.equal(asked, 0, "the user is not asked to accept an impostor");
    assert.equal(await Deno.readTextFile(file), before, "known_hosts untouched");
    assert.match(error.message, /ssh-ed25519 SHA256:\S+ \(.*known_hosts:2\)/);
    const status = tracer.events.find((e) => e.type === "status");
    assert.equal(status?.type === "status" && status.status, "changed");
    const x = explainFailure(error, tracer.events);
    assert.match(x.explanation, /ecdsa-sha2-nistp256 host key/);
    assert.match(x.explanation, /ssh-ed25519/);
    assert.match(x.fix ?? "", /ssh-keygen -R "\[10\.9\.9\.9\]:2222" -f .*known_hosts/);
  });
}

Deno.test("the CLI with accept-new refuses an impostor showing only an ECDSA key, sends no password and appends nothing", async () => {
  const lab = await startLabServer({
    profile: "hostkey-ecdsa-only",
    hostKeys: await sharedHostKeys(),
  });
  await using dir = await tempDir();
  try {
    const home = await emptyHome(dir.path);
    const file = await knownEd25519(dir.path, lab.host, lab.port);
    const before = await Deno.readTextFile(file);
    const r = await runSshtrace([
      "--json",
      "--timeout",
      "3",
      "-o",
      "StrictHostKeyChecking=accept-new",
      "-o",
      `UserKnownHostsFile=${file}`,
      "--password-env",
      "LAB_PASSWORD",
      "-p",
      String(lab.port),
      `demo@${lab.host}`,
      "echo",
      "hi",
    ], { home, env: { LAB_PASSWORD: "demo" } });
    assert.equal(r.code, 13, r.stderr);
    const report = parseJsonReport(r.stdout);
    assert.equal(report.error.code, "hostkey.changed");
    assert.ok(!r.stderr.includes("── auth"), "the auth stage never began");
    assert.equal(await Deno.readTextFile(file), before, "known_hosts untouched");
    assert.match(r.stderr, /ssh-ed25519/);
    assert.match(r.stderr, /known_hosts:2/);
  } finally {
    await lab.stop();
  }
});

Deno.test("the client offers the host key types known for a host first, so a server with both is known", async () => {
  const lab = await startLabServer({ profile: "modern", hostKeys: await sharedHostKeys() });
  await using dir = await tempDir();
  try {
    const home = await emptyHome(dir.path);
    const keys = await sharedHostKeys();
    const file = `${dir.path}/known_hosts`;
    const rsa = keys.get("ssh-rsa")!.blob;
    await Deno.writeTextFile(file, `[${lab.host}]:${lab.port} ${publicKeyToLine(rsa)}\n`);
    const r = await runSshtrace([
      "--json",
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      `UserKnownHostsFile=${file}`,
      "--password-env",
      "LAB_PASSWORD",
      "-p",
      String(lab.port),
      `demo@${lab.host}`,
      "echo",
      "hi",
    ], { home, env: { LAB_PASSWORD: "demo" } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /host key\s+rsa-sha2-512/);
  } finally {
    await lab.stop();
  }
});
