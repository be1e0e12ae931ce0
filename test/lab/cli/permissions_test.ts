/**
 * The narrowest Deno permissions README documents: network to the target, env, read, write for
 * known_hosts, and FFI scoped to libcrypto's path; no --allow-run. Without --allow-ffi everything
 * still works on node:crypto.
 */

import assert from "node:assert/strict";
import { startLabServer } from "../../../lib/lab/mod.ts";
import { emptyHome, runSshtrace } from "../../helpers/cli.ts";
import { tempDir } from "../../helpers/tools.ts";
import { sharedHostKeys } from "../../helpers/lab.ts";

const LIBCRYPTO = [
  "/usr/lib/x86_64-linux-gnu/libcrypto.so.3",
  "/usr/lib/aarch64-linux-gnu/libcrypto.so.3",
].find((f) => {
  try {
    return Deno.statSync(f).isFile;
  } catch {
    return false;
  }
});

async function login(ffi: string[]) {
  const lab = await startLabServer({ profile: "modern", hostKeys: await sharedHostKeys() });
  await using dir = await tempDir();
  try {
    const home = await emptyHome(dir.path);
    return await runSshtrace([
      "-v",
      "-o",
      "StrictHostKeyChecking=accept-new",
      "--password-env",
      "LAB_PASSWORD",
      "-p",
      String(lab.port),
      `demo@${lab.host}`,
      "echo",
      "hi",
    ], {
      home,
      env: { LAB_PASSWORD: "demo" },
      permissions: [
        `--allow-net=${lab.host}`,
        "--allow-env",
        "--allow-read",
        `--allow-write=${home}`,
        ...ffi,
      ],
    });
  } finally {
    await lab.stop();
  }
}

Deno.test("sshtrace logs in with --allow-ffi scoped to libcrypto's path and no --allow-run, on OpenSSL", async () => {
  assert.ok(LIBCRYPTO, "libcrypto.so.3 at a known Debian path");
  const r = await login([`--allow-ffi=${LIBCRYPTO}`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "hi\n");
  assert.match(
    r.stderr,
    new RegExp(`crypto\\s+packets by OpenSSL 3\\.\\d+\\.\\d+ \\(${LIBCRYPTO}\\)`),
  );
});

Deno.test("sshtrace logs in without --allow-ffi, on node:crypto, and says why", async () => {
  const r = await login([]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "hi\n");
  assert.match(r.stderr, /packets by node:crypto \(no --allow-ffi/);
});

Deno.test("the sshtrace task asks for no --allow-run", async () => {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("../../../deno.json", import.meta.url)),
  );
  assert.doesNotMatch(config.tasks.sshtrace, /--allow-run|-A\b|--allow-all/);
});
