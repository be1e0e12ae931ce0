/**
 * A device that drops whatever arrives before its greeting: a proxy in front of the lab server
 * holds the server's version line for a moment and throws away the client's bytes received
 * meanwhile. A client that sends its version line first fails; the doctor's
 * version-after-greeting rung works.
 */

import assert from "node:assert/strict";
import { connect } from "../../../lib/client.ts";
import { runDoctor } from "../../../lib/doctor/ladder.ts";
import { startLabServer } from "../../../lib/lab/mod.ts";
import { password, sharedHostKeys } from "../../helpers/lab.ts";

/** Listens on 127.0.0.1; per connection, drops client bytes until the upstream's greeting. */
function droppingProxy(upstreamPort: number, holdMs: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const serve = async (client: Deno.Conn) => {
    const server = await Deno.connect({ hostname: "127.0.0.1", port: upstreamPort });
    open.add(client);
    open.add(server);
    let greeted = false;
    const toServer = (async () => {
      for await (const chunk of client.readable.values({ preventCancel: true })) {
        if (!greeted) continue; // before the greeting: dropped, as the device does
        await server.write(chunk);
      }
    })().catch(() => {});
    const toClient = (async () => {
      let first = true;
      for await (const chunk of server.readable.values({ preventCancel: true })) {
        if (first) {
          first = false;
          await new Promise((r) => setTimeout(r, holdMs));
          greeted = true;
        }
        await client.write(chunk);
      }
    })().catch(() => {});
    await Promise.race([toServer, toClient]);
    for (const c of [client, server]) {
      open.delete(c);
      try {
        c.close();
      } catch {
        // already closed
      }
    }
  };
  (async () => {
    for await (const conn of listener) serve(conn).catch(() => {});
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close() {
      listener.close();
      for (const c of open) {
        try {
          c.close();
        } catch {
          // already closed
        }
      }
    },
  };
}

Deno.test("doctor: a device that drops data before its greeting works with our version line after it", async () => {
  const lab = await startLabServer({ profile: "modern", hostKeys: await sharedHostKeys() });
  const proxy = droppingProxy(lab.port, 150);
  const base = {
    host: "127.0.0.1",
    port: proxy.port,
    user: "demo",
    timeoutMs: 1500,
    strictHostKeyChecking: "no" as const,
    knownHostsFiles: [],
    auth: { password: password("demo") },
  };
  try {
    const report = await runDoctor({ connect: base, goal: "login" });
    const tried = report.rungs.filter((r) => r.outcome !== "skipped");
    assert.deepEqual(tried.map((r) => [r.rung, r.outcome]), [
      ["modern", "failed"],
      ["version-after-greeting", "ok"],
    ]);
    assert.equal(tried[0]!.stage, "kex");
    assert.equal(report.working?.versionAfterGreeting, true);
    // The option alone, through the library.
    const client = await connect({ ...base, versionAfterGreeting: true });
    await client.close();
  } finally {
    proxy.close();
    await lab.stop();
  }
});
