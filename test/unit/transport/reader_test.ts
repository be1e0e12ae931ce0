import assert from "node:assert/strict";
import { BufferedReader, Deadline } from "../../../lib/transport/reader.ts";
import { memoryPipe } from "../../../lib/transport/stream.ts";
import { SshError } from "../../../lib/errors/mod.ts";
import { untypedError } from "../../helpers/errors.ts";

Deno.test("a deadline ends a wait that a trickle of bytes keeps alive past every per-read timeout", async () => {
  const [client, server] = memoryPipe();
  const reader = new BufferedReader(client, "version", 1000);
  let stop = false;
  const trickle = (async () => {
    while (!stop) {
      await server.write(new Uint8Array([0x61]));
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const start = performance.now();
  try {
    await reader.within(new Deadline("version", "version line", 300), () => reader.ensure(10_000));
    assert.fail("the wait ended without the deadline");
  } catch (e) {
    assert.ok(e instanceof SshError, String(e));
    assert.equal(e.code, "version.timeout");
    assert.match(e.message, /^no complete version line after 0\.3 s \(budget 0\.3 s\)/);
    assert.equal(e.details.budgetMs, 300);
    assert.ok((e.details.waitedMs as number) >= 300);
  } finally {
    stop = true;
    await trickle;
  }
  const ms = performance.now() - start;
  assert.ok(ms < 800, `took ${Math.round(ms)} ms`);
});

Deno.test("abort() ends a wait without a timeout at once, and every later one", async () => {
  const [client] = memoryPipe();
  const reader = new BufferedReader(client, "kex", 0);
  const waiting = reader.fill(0);
  const error = untypedError("kex", "kex.timeout", "no complete key exchange");
  reader.abort(error);
  await assert.rejects(waiting, (e) => e === error);
  await assert.rejects(reader.fill(0), (e) => e === error);
});
