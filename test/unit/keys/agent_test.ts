// The agent client against fake agents in memory: a missing socket, a silent agent, hostile
// answers. Against OpenSSH's real ssh-agent: test/interop/keys/agent_openssh_test.ts.
import assert from "node:assert/strict";
import {
  AGENT_SIGN_FLAGS,
  AgentClient,
  AgentError,
  signFlagsFor,
} from "../../../lib/keys/agent.ts";
import { SshReader, SshWriter } from "../../../lib/wire/buffer.ts";
import { tempDir } from "../../helpers/tools.ts";

Deno.test("AgentClient.connect() to a missing socket fails with AgentError naming the path", async () => {
  await using dir = await tempDir("sshtrace-agent-");
  const path = `${dir.path}/no-such.sock`;
  await assert.rejects(
    AgentClient.connect(path),
    (e: unknown) => e instanceof AgentError && e.message.includes(path),
  );
});

/** A fake agent on a Unix socket: `answer` gets each request payload and returns raw bytes. */
async function fakeAgent(
  answer: (request: Uint8Array) => Uint8Array | null,
  body: (socket: string) => Promise<void>,
): Promise<void> {
  await using dir = await tempDir("sshtrace-fake-agent-");
  const socket = `${dir.path}/fake.sock`;
  const listener = Deno.listen({ transport: "unix", path: socket });
  const conns: Deno.Conn[] = [];
  const serving = (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      (async () => {
        const buf = new Uint8Array(4096);
        try {
          while (true) {
            const n = await conn.read(buf);
            if (n === null) break;
            const reply = answer(buf.slice(4, n));
            if (reply) await conn.write(reply);
          }
        } catch {
          // client went away
        }
      })();
    }
  })();
  try {
    await body(socket);
  } finally {
    listener.close();
    for (const c of conns) {
      try {
        c.close();
      } catch {
        // closed by the client
      }
    }
    await serving.catch(() => undefined);
  }
}

Deno.test("an agent that never answers makes identities() fail after the timeout", async () => {
  await fakeAgent(() => null, async (socket) => {
    const client = await AgentClient.connect(socket, { timeoutMs: 200 });
    const started = Date.now();
    await assert.rejects(client.identities(), /did not answer within 0.2 s/);
    assert.ok(Date.now() - started >= 150);
    await assert.rejects(client.identities(), /connection is closed/);
    client.close();
  });
});

Deno.test("an agent answer that is oversized or of the wrong type gives AgentError", async () => {
  await fakeAgent(() => new Uint8Array([0x7f, 0, 0, 0, 1]), async (socket) => {
    const client = await AgentClient.connect(socket, { timeoutMs: 2000 });
    await assert.rejects(client.identities(), /invalid length/);
    client.close();
  });
  await fakeAgent(
    () => new SshWriter().string(new Uint8Array([14, 0, 0, 0, 0])).bytes(),
    async (socket) => {
      const client = await AgentClient.connect(socket, { timeoutMs: 2000 });
      await assert.rejects(
        client.identities(),
        /answered REQUEST_IDENTITIES with unexpected SIGN_RESPONSE \(14\)/,
      );
      client.close();
    },
  );
  await fakeAgent(() => new SshWriter().string(new Uint8Array([5])).bytes(), async (socket) => {
    const client = await AgentClient.connect(socket, { timeoutMs: 2000 });
    await assert.rejects(client.identities(), /refused REQUEST_IDENTITIES/);
    client.close();
  });
});

Deno.test("an agent that signs RSA with ssh-rsa when SHA-2 was asked for is rejected", async () => {
  const blob = new SshWriter().string("ssh-rsa").mpint(65537n).mpint((1n << 2047n) + 1n).bytes();
  let flags = -1;
  await fakeAgent((req) => {
    if (req[0] === 11) {
      const body = new SshWriter().byte(12).uint32(1).string(blob).string("fake").bytes();
      return new SshWriter().string(body).bytes();
    }
    const r = new SshReader(req.subarray(1));
    r.string();
    r.string();
    flags = r.uint32();
    const sig = new SshWriter().string("ssh-rsa").string(new Uint8Array(256)).bytes();
    return new SshWriter().string(new SshWriter().byte(14).string(sig).bytes()).bytes();
  }, async (socket) => {
    const client = await AgentClient.connect(socket, { timeoutMs: 2000 });
    try {
      const [signer] = await client.identities();
      assert.equal(signer!.bits, 2048);
      await assert.rejects(signer!.sign(new Uint8Array(4), "rsa-sha2-512"), /signed with ssh-rsa/);
      assert.equal(flags, AGENT_SIGN_FLAGS.RSA_SHA2_512);
    } finally {
      client.close();
    }
  });
});

Deno.test("signFlagsFor() maps rsa-sha2-256 to 2, rsa-sha2-512 to 4 and others to 0", () => {
  assert.equal(signFlagsFor("rsa-sha2-256"), 2);
  assert.equal(signFlagsFor("rsa-sha2-512"), 4);
  assert.equal(signFlagsFor("rsa-sha2-512-cert-v01@openssh.com"), 4);
  assert.equal(signFlagsFor("ssh-rsa"), 0);
  assert.equal(signFlagsFor("ssh-ed25519"), 0);
});
