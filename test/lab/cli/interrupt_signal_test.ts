/**
 * Ctrl-C outside a prompt (SIGINT while a command runs): the CLI's AbortController closes the
 * connection, and the run ends as `data.interrupted`, exit 130, with the failure box, through
 * the same lifecycle as a library cancellation. (Ctrl-C at a prompt: test/interop/cli/.)
 */

import assert from "node:assert/strict";
import { startLabServer } from "../../../lib/lab/mod.ts";
import { DENO_DIR, emptyHome, ROOT } from "../../helpers/cli.ts";
import { tempDir } from "../../helpers/tools.ts";
import { sharedHostKeys } from "../../helpers/lab.ts";

Deno.test("SIGINT while a remote command runs ends the run as data.interrupted, exit 130, and closes the connection", async () => {
  const lab = await startLabServer({ profile: "modern", hostKeys: await sharedHostKeys() });
  await using dir = await tempDir();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "main.ts",
      "--ndjson",
      "-o",
      "StrictHostKeyChecking=no",
      "--password-env",
      "PW",
      `demo@127.0.0.1:${lab.port}`,
      "sleep",
      "30",
    ],
    cwd: ROOT,
    env: {
      RUST_BACKTRACE: "0",
      NO_COLOR: "1",
      DENO_DIR,
      HOME: await emptyHome(dir.path),
      SSH_AUTH_SOCK: "",
      PW: "demo",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const kill = setTimeout(() => child.kill("SIGKILL"), 30_000);
  try {
    const lines: string[] = [];
    let signalled = false;
    const reading = (async () => {
      let buffered = "";
      const decoder = new TextDecoder();
      for await (const chunk of child.stdout) {
        buffered += decoder.decode(chunk, { stream: true });
        let nl;
        while ((nl = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          lines.push(line);
          const e = JSON.parse(line);
          if (!signalled && e.stage === "data" && e.type === "begin") {
            signalled = true;
            child.kill("SIGINT");
          }
        }
      }
    })();
    const stderr = new Response(child.stderr).text();
    const status = await child.status;
    await reading;
    const text = await stderr;
    assert.ok(signalled, `the command started: ${text}`);
    assert.equal(status.code, 130, text);
    assert.match(text, /interrupted at stage data/);
    assert.doesNotMatch(text, /^\s+at /m, "no stack trace");
    const errors = lines.map((l) => JSON.parse(l)).filter((e) => e.type === "error");
    assert.deepEqual(errors.map((e) => e.code), ["data.interrupted"]);
    await lab.waitForEnded(1);
    assert.equal(lab.active, 0);
  } finally {
    clearTimeout(kill);
    await lab.stop();
  }
});
