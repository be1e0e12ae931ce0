/**
 * Jump hosts through the library (`connect({ jump })`): a real OpenSSH sshd as the bastion, with
 * OpenSSH and dropbear behind it, one and two hops; each hop traced apart; a bastion with
 * `AllowTcpForwarding no`, a target port closed behind the bastion, a wrong password at a hop
 * and an unknown bastion host key each a staged error naming the hop.
 */

import assert from "node:assert/strict";
import { connect, type ConnectOptions } from "../../../lib/client.ts";
import type { HopTrace } from "../../../lib/jump/chain.ts";
import { SshError } from "../../../lib/errors/mod.ts";
import { Tracer } from "../../../lib/trace.ts";
import { startDropbear } from "../../helpers/dropbear.ts";
import { password } from "../../helpers/lab.ts";
import { ensureTestUser, type SshdHandle, startSshd } from "../../helpers/sshd.ts";
import { freePort, tempDir } from "../../helpers/tools.ts";

const decode = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("connect({ jump }) goes through a real sshd bastion, each hop traced apart", async (t) => {
  const user = await ensureTestUser();
  const dir = await tempDir("sshtrace-jump-");
  const servers: { stop(): Promise<void> }[] = [];
  try {
    const bastion = await startSshd();
    servers.push(bastion);
    const closed = await startSshd({ config: ["AllowTcpForwarding no"] });
    servers.push(closed);
    const target = await startSshd();
    servers.push(target);
    const dropbear = await startDropbear(dir.path);
    servers.push(dropbear);
    const knownHosts = `${dir.path}/known_hosts`;
    const key = bastion.hostKeys.ed25519.pub;
    const ports = [bastion.port, closed.port, target.port, dropbear.port];
    await Deno.writeTextFile(knownHosts, ports.map((p) => `[127.0.0.1]:${p} ${key}\n`).join(""));

    const hops: HopTrace[] = [];
    const base = (port: number, extra: Partial<ConnectOptions> = {}): ConnectOptions => ({
      host: "127.0.0.1",
      port,
      user: user.name,
      timeoutMs: 10_000,
      knownHostsFiles: [knownHosts],
      strictHostKeyChecking: "yes",
      auth: { password: password(user.password), methods: ["password"] },
      onHop: (hop) => {
        hops.push(hop);
        return hop.target ? undefined : new Tracer();
      },
      ...extra,
    });
    const via = (...servers: SshdHandle[]) =>
      servers.map((s) => ({ host: "127.0.0.1", port: s.port, user: user.name }));

    await t.step("one hop: sshd behind sshd, the bastion's trace apart", async () => {
      hops.length = 0;
      const tracer = new Tracer();
      const client = await connect(base(target.port, { tracer, jump: via(bastion) }));
      try {
        const { stdout, exit } = await client.exec("echo through-the-bastion");
        assert.equal(decode(stdout).trim(), "through-the-bastion");
        assert.equal(exit.status, 0);
      } finally {
        await client.close();
      }
      assert.deepEqual(hops.map((h) => [h.index, h.of, h.port, h.target]), [
        [1, 2, bastion.port, false],
        [2, 2, target.port, true],
      ]);
      const hop1 = hops[0]!.tracer;
      assert.notEqual(hop1, tracer);
      // Each trace has its own stages: the bastion's and the target's key exchange and auth.
      for (const tr of [hop1, tracer]) {
        assert.ok(tr.events.some((e) => e.type === "negotiated"));
        assert.ok(tr.events.some((e) => e.type === "status" && e.status === "known"));
        assert.ok(tr.events.some((e) => e.type === "success" && e.stage === "auth"));
      }
      const connected = tracer.events.find((e) => e.type === "connected");
      assert.match(
        connected?.type === "connected" ? connected.remoteAddress : "",
        new RegExp(`via 127\\.0\\.0\\.1:${bastion.port} \\(direct-tcpip`),
      );
      await bastion.waitForLog(new RegExp(`direct-tcpip|127\\.0\\.0\\.1 port ${target.port}`));
    });

    await t.step("two hops: sshd, sshd, then dropbear", async () => {
      hops.length = 0;
      const client = await connect(base(dropbear.port, { jump: via(bastion, target) }));
      try {
        const { stdout } = await client.exec("echo two-hops");
        assert.equal(decode(stdout).trim(), "two-hops");
      } finally {
        await client.close();
      }
      assert.deepEqual(hops.map((h) => `${h.index}/${h.of}`), ["1/3", "2/3", "3/3"]);
      for (const hop of hops.slice(0, 2)) {
        assert.ok(hop.tracer.events.some((e) => e.type === "success" && e.stage === "auth"));
      }
    });

    await t.step("a bastion with AllowTcpForwarding no: connect.jump-refused", async () => {
      hops.length = 0;
      const error = await connect(base(target.port, { jump: via(closed) })).then(
        () => assert.fail("connected through a bastion that forbids forwarding"),
        (e) => e as SshError,
      );
      assert.ok(error instanceof SshError, String(error));
      assert.equal(error.code, "connect.jump-refused");
      assert.equal(error.stage, "connect");
      assert.equal(error.details.reasonCode, 1);
      assert.equal(error.details.hop, 1);
      assert.match(error.message, /hop 2 of 2 .* refused the tunnel/);
      assert.match(error.message, /administratively prohibited/);
    });

    await t.step("a closed port behind the bastion: jump-refused, connect failed", async () => {
      const port = freePort();
      const error = await connect(base(port, { jump: via(bastion) })).then(
        () => assert.fail("connected to a closed port"),
        (e) => e as SshError,
      );
      assert.equal(error.code, "connect.jump-refused");
      assert.equal(error.details.reasonCode, 2);
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
    });

    await t.step(
      "a wrong password at the first hop fails at stage auth, naming hop 1",
      async () => {
        hops.length = 0;
        const options = base(target.port, {
          jump: [{
            ...via(bastion)[0]!,
            auth: { password: password("wrong"), methods: ["password"] },
          }],
        });
        const error = await connect(options).then(
          () => assert.fail("logged in with a wrong password"),
          (e) => e as SshError,
        );
        assert.equal(error.stage, "auth");
        assert.match(
          error.message,
          new RegExp(`^hop 1 of 2 \\(127\\.0\\.0\\.1:${bastion.port}\\) failed at stage auth`),
        );
        assert.equal(error.details.hop, 1);
        assert.equal(hops.length, 1, "the target was never tried");
        assert.equal(hops[0]!.error, error);
        assert.ok(hops[0]!.tracer.events.some((e) => e.type === "error" && e.stage === "auth"));
      },
    );

    await t.step("an unknown bastion host key stops before any credential is sent", async () => {
      hops.length = 0;
      const empty = `${dir.path}/empty_known_hosts`;
      await Deno.writeTextFile(empty, "");
      const options = base(target.port, {
        jump: [{ ...via(bastion)[0]!, knownHostsFiles: [empty] }],
      });
      const error = await connect(options).then(
        () => assert.fail("accepted an unknown bastion key"),
        (e) => e as SshError,
      );
      assert.equal(error.stage, "hostkey");
      assert.match(error.message, /^hop 1 of 2/);
      const events = hops[0]!.tracer.events;
      assert.ok(!events.some((e) => e.stage === "auth" && e.type === "attempt"));
    });
  } finally {
    for (const s of servers.reverse()) await s.stop().catch(() => {});
    await dir.cleanup();
  }
});
