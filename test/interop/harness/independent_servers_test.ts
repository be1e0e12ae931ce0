/**
 * The harness of the independent servers never leaves a process behind: stopping a server ends
 * the connection handlers it forked (libssh forks one per connection) and its work directory.
 */

import assert from "node:assert/strict";
import { ed25519Key } from "../../helpers/cli.ts";
import { startIndependentServer } from "../../helpers/independent_servers.ts";
import { descendants } from "../../helpers/sshd.ts";
import { tempDir } from "../../helpers/tools.ts";

/** True while `pid` is a living process (a zombie, waiting to be reaped, counts as ended). */
function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

Deno.test("stopping the libssh server also ends the connection handlers it forked", async () => {
  await using tmp = await tempDir("sshtrace-harness-");
  const key = await ed25519Key(tmp.path);
  const server = await startIndependentServer("libssh", {
    authorizedKeys: `${key}.pub`,
    password: "unused 1",
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    // The connection stays open, half-way through the version exchange: its handler waits.
    await conn.write(new TextEncoder().encode("SSH-2.0-harness-test\r\n"));
    const deadline = Date.now() + 5000;
    let family: number[] = [];
    while ((family = descendants(server.pid)).length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(family.length > 0, "the server forked no connection handler");
    const started = performance.now();
    await server.stop();
    const ms = performance.now() - started;
    assert.ok(ms < 6000, `stop() took ${Math.round(ms)} ms`);
    for (const pid of [server.pid, ...family]) {
      assert.equal(alive(pid), false, `process ${pid} outlived stop()`);
    }
    await server.stop(); // a second stop is harmless
  } finally {
    conn.close();
    await server.stop();
  }
});

Deno.test("each server exits by itself when the process that started it is killed", async () => {
  await using tmp = await tempDir("sshtrace-harness-");
  const key = await ed25519Key(tmp.path);
  const harness = new URL("../../helpers/independent_servers.ts", import.meta.url).href;
  // A child Deno starts every server, prints their pids, then is killed with SIGKILL: no stop().
  const script = `
    import { INDEPENDENT_SERVERS, startIndependentServer } from ${JSON.stringify(harness)};
    const options = { authorizedKeys: ${JSON.stringify(`${key}.pub`)}, password: "unused 1" };
    for (const name of INDEPENDENT_SERVERS) {
      console.log((await startIndependentServer(name, options)).pid);
    }
    console.log("started");
    setInterval(() => {}, 1000);
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  let out = "";
  const decoder = new TextDecoder();
  const reader = child.stdout.getReader();
  try {
    while (!out.includes("started\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      out += decoder.decode(value, { stream: true });
    }
  } finally {
    child.kill("SIGKILL");
    await reader.cancel();
    await child.stderr.cancel();
    await child.status;
  }
  const pids = out.split("\n").filter((l) => /^\d+$/.test(l)).map(Number);
  assert.equal(pids.length, 4, `the child started ${pids.length} servers:\n${out}`);
  const deadline = Date.now() + 5000;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const left = pids.filter(alive);
  for (const pid of left) Deno.kill(pid, "SIGKILL"); // leave nothing behind even on failure
  assert.deepEqual(left, [], "servers that outlived the process that started them");
});
