// Key files without OpenSSH's tools: a missing file and the default identity list. Keys made by
// ssh-keygen and openssl are parsed and checked in test/interop/keys/private_key_openssh_test.ts.
import assert from "node:assert/strict";
import {
  defaultIdentityFiles,
  KeyFileError,
  loadPrivateKeyFile,
} from "../../../lib/keys/private_key.ts";
import { tempDir } from "../../helpers/tools.ts";

Deno.test('loadPrivateKeyFile() on a missing file gives "unreadable" naming the path', async () => {
  await using dir = await tempDir("sshtrace-keys-");
  const path = `${dir.path}/does-not-exist`;
  const e = await loadPrivateKeyFile(path).then(() => null, (e: unknown) => e);
  assert.ok(e instanceof KeyFileError, `expected KeyFileError, got ${e}`);
  assert.equal(e.reason, "unreadable", e.message);
  assert.ok(e.message.includes(path), `message names the file: ${e.message}`);
  assert.match(e.message, /no such file/);
});

Deno.test("defaultIdentityFiles() lists id_ed25519, id_ecdsa, id_rsa under HOME/.ssh", () => {
  assert.deepEqual(defaultIdentityFiles("/home/alice"), [
    "/home/alice/.ssh/id_ed25519",
    "/home/alice/.ssh/id_ecdsa",
    "/home/alice/.ssh/id_rsa",
  ]);
  // Without an argument HOME is read at the call (never at import).
  assert.deepEqual(defaultIdentityFiles(), defaultIdentityFiles(Deno.env.get("HOME")!));
});
