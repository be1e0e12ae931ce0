/**
 * Jump hosts against the lab server (it serves `direct-tcpip` to loopback targets): one and two
 * lab bastions in front of a lab target, and the faults a real bastion cannot be made to show on
 * demand: a jump host that closes mid-handshake (named as that hop, stage kex), a target that
 * closes mid-handshake behind a healthy bastion (the target's own failure), forwarding off, a
 * target outside loopback.
 */

import assert from "node:assert/strict";
import { type HostKeys, type LabServer, startLabServer } from "../../lib/lab/mod.ts";
import { SshError } from "../../lib/errors/mod.ts";
import type { HopTrace } from "../../lib/jump/chain.ts";
import { Tracer } from "../../lib/trace.ts";
import { EXIT_CODES } from "../../lib/types.ts";
import { connectLab, decode, password, sharedHostKeys } from "../helpers/lab.ts";

const hop = (lab: LabServer) => ({
  host: lab.host,
  port: lab.port,
  user: "demo",
  auth: { password: password("demo") },
});

async function failure(promise: Promise<unknown>): Promise<SshError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof SshError, String(e));
    return e;
  }
  assert.fail("connected");
}

Deno.test("jump hosts through lab bastions: hops traced apart, faults named by hop", async (t) => {
  const hostKeys: HostKeys = await sharedHostKeys();
  const servers: LabServer[] = [];
  const lab = async (profile = "modern", config = {}) => {
    const s = await startLabServer({ hostKeys, profile, config });
    servers.push(s);
    return s;
  };
  try {
    const bastion = await lab();
    const second = await lab();
    const target = await lab();

    await t.step("two lab bastions, then the target: exec works, each hop its trace", async () => {
      const hops: HopTrace[] = [];
      const client = await connectLab(target, {
        jump: [hop(bastion), hop(second)],
        onHop: (h) => {
          hops.push(h);
          return h.target ? undefined : new Tracer();
        },
      });
      try {
        const { stdout } = await client.exec("echo through two labs");
        assert.equal(decode(stdout).trim(), "through two labs");
      } finally {
        await client.close();
      }
      assert.deepEqual(hops.map((h) => `${h.index}/${h.of}`), ["1/3", "2/3", "3/3"]);
      for (const h of hops.slice(0, 2)) {
        assert.ok(h.tracer.events.some((e) => e.type === "success" && e.stage === "auth"));
      }
    });

    await t.step("a jump host closing mid-handshake: hop 1 of 2 failed at stage kex", async () => {
      const broken = await lab("close-kex-reply");
      const e = await failure(connectLab(target, { jump: [hop(broken)] }));
      assert.equal(e.code, "kex.closed");
      assert.equal(e.exitCode, EXIT_CODES.kex);
      assert.match(e.message, /^hop 1 of 2 \(127\.0\.0\.1:\d+\) failed at stage kex: /);
    });

    await t.step("a target closing mid-handshake behind a bastion: its own failure", async () => {
      const broken = await lab("close-kex-reply");
      const e = await failure(connectLab(broken, { jump: [hop(bastion)] }));
      assert.equal(e.code, "kex.closed");
      assert.doesNotMatch(e.message, /^hop/);
    });

    await t.step(
      "a bastion with forwarding off, a target outside loopback: jump-refused",
      async () => {
        const closed = await lab("modern", { forwarding: false });
        const off = await failure(connectLab(target, { jump: [hop(closed)] }));
        assert.equal(off.code, "connect.jump-refused");
        assert.match(off.message, /forwarding is disabled on this lab server/);
        const far = await failure(
          connectLab({ host: "192.0.2.1" as "127.0.0.1", port: 22 }, { jump: [hop(bastion)] }),
        );
        assert.equal(far.code, "connect.jump-refused");
        assert.match(far.message, /forwards to 127\.0\.0\.1 only/);
      },
    );

    await t.step("the tunnel is torn down with the client: the bastions see the end", async () => {
      const before = bastion.connections;
      const client = await connectLab(target, { jump: [hop(bastion)] });
      await client.close();
      assert.equal(bastion.connections, before + 1);
      await bastion.waitForEnded(before + 1);
    });
  } finally {
    for (const s of servers) await s.stop();
  }
});
