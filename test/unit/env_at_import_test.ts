// No module reads $HOME or any other environment variable when it is imported: the environment is
// read when a function needs it, so a library user's HOME is the one at the call.
import assert from "node:assert/strict";
import { DENO_DIR, ROOT } from "../helpers/cli.ts";

Deno.test("importing every module under lib/ reads no environment variable", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", `${ROOT}test/helpers/env_reads_at_import.ts`, `${ROOT}lib`],
    cwd: ROOT,
    env: { RUST_BACKTRACE: "0", NO_COLOR: "1", DENO_DIR },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  const { count, found } = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.ok(count > 100, `imported only ${count} modules`);
  assert.deepEqual(found, {});
});
