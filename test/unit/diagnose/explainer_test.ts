// The failure catalogue loads only when a failure is to be explained: a run that fails loads it
// on its way out (lib/run.ts), so the renderers can explain the failure; a run that succeeds
// never does. Checked in a fresh process, where no other test has loaded it.
import assert from "node:assert/strict";
import { DENO_DIR, ROOT } from "../../helpers/cli.ts";

const SCRIPT = `
import { explainLoaded } from "${ROOT}lib/diagnose/explainer.ts";
import { runLifecycle } from "${ROOT}lib/run.ts";
import { Tracer } from "${ROOT}lib/trace.ts";
import { SshError } from "${ROOT}lib/errors/mod.ts";
const error = new SshError("connect", "connect.refused", "refused", {});
const loaded = () => { try { explainLoaded(error); return true; } catch { return false; } };
const steps = [loaded()];
await runLifecycle({ tracer: new Tracer(), grade: false }, async () => 1);
steps.push(loaded());
const failed = await runLifecycle({ tracer: new Tracer(), grade: false }, async () => {
  throw error;
});
steps.push(loaded(), explainLoaded(failed.error).known, failed.report({ host: "h", port: 22 })
  .error?.fix !== null);
console.log(JSON.stringify(steps));
`;

Deno.test("the failure catalogue is loaded by a run that fails, not by one that succeeds", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-check", SCRIPT],
    cwd: ROOT,
    env: { RUST_BACKTRACE: "0", NO_COLOR: "1", DENO_DIR },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  // before any run, after a success, after a failure; the failure explained from the catalogue
  assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), [
    false,
    false,
    true,
    true,
    true,
  ]);
});
