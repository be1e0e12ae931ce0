import assert from "node:assert/strict";
import { createPublicKey, type KeyObject, verify } from "node:crypto";
import { Buffer } from "node:buffer";
import { AgentClient, AgentError } from "../../../lib/keys/agent.ts";
import type { Signer } from "../../../lib/auth/types.ts";
import { SshReader } from "../../../lib/wire/buffer.ts";
import { requireTool, run, type TempDir, tempDir } from "../../helpers/tools.ts";

const SSH_AGENT = "/usr/bin/ssh-agent";
const SSH_ADD = "/usr/bin/ssh-add";
const SSH_KEYGEN = "/usr/bin/ssh-keygen";

interface Agent {
  dir: TempDir;
  socket: string;
  /** Private key paths by name (public key at `.pub`). */
  keys: Record<string, string>;
  add(name: string): Promise<void>;
  remove(name: string): Promise<void>;
  stop(): Promise<void>;
}

const KEYS: Record<string, string[]> = {
  ed25519: ["-t", "ed25519"],
  ecdsa256: ["-t", "ecdsa", "-b", "256"],
  ecdsa384: ["-t", "ecdsa", "-b", "384"],
  ecdsa521: ["-t", "ecdsa", "-b", "521"],
  rsa: ["-t", "rsa", "-b", "2048"],
};

/** Starts `ssh-agent -D -a SOCK` in a temp dir and makes (but does not add) the test keys. */
async function startAgent(): Promise<Agent> {
  requireTool(SSH_AGENT);
  requireTool(SSH_ADD);
  requireTool(SSH_KEYGEN);
  const dir = await tempDir("sshtrace-agent-");
  const socket = `${dir.path}/agent.sock`;
  const child = new Deno.Command(SSH_AGENT, {
    args: ["-D", "-a", socket],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const keys: Record<string, string> = {};
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // already gone
    }
    await child.status;
    await dir.cleanup();
  };
  try {
    for (let i = 0; i < 100; i++) {
      try {
        if (Deno.statSync(socket).isSocket) break;
      } catch {
        // not there yet
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await Promise.all(
      Object.entries(KEYS).map(async ([name, args]) => {
        const path = `${dir.path}/${name}`;
        const r = await run(SSH_KEYGEN, [
          "-q",
          "-N",
          "",
          "-C",
          `agent-${name}`,
          "-f",
          path,
          ...args,
        ]);
        assert.equal(r.code, 0, r.stderr);
        keys[name] = path;
      }),
    );
  } catch (e) {
    await stop();
    throw e;
  }
  const env = { SSH_AUTH_SOCK: socket };
  return {
    dir,
    socket,
    keys,
    async add(name) {
      const r = await run(SSH_ADD, ["-q", keys[name]!], { env });
      assert.equal(r.code, 0, `ssh-add ${name}: ${r.stderr}`);
    },
    async remove(name) {
      const r = await run(SSH_ADD, ["-q", "-d", keys[name]!], { env });
      assert.equal(r.code, 0, `ssh-add -d ${name}: ${r.stderr}`);
    },
    stop,
  };
}

async function blobOf(path: string): Promise<Uint8Array> {
  const line = await Deno.readTextFile(`${path}.pub`);
  return new Uint8Array(Buffer.from(line.trim().split(/\s+/)[1]!, "base64"));
}

/** A node public key from an SSH public key blob (ed25519, ecdsa, rsa). */
function publicKeyFromBlob(blob: Uint8Array): KeyObject {
  const r = new SshReader(blob, "test blob");
  const type = r.text();
  const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64url");
  const unsigned = (b: Uint8Array) => (b[0] === 0 ? b.subarray(1) : b);
  if (type === "ssh-ed25519") {
    return createPublicKey({
      key: { kty: "OKP", crv: "Ed25519", x: b64(r.string()) },
      format: "jwk",
    });
  }
  if (type.startsWith("ecdsa-sha2-")) {
    const crv = { nistp256: "P-256", nistp384: "P-384", nistp521: "P-521" }[r.text()]!;
    const q = r.string();
    const half = (q.length - 1) / 2;
    return createPublicKey({
      key: { kty: "EC", crv, x: b64(q.subarray(1, 1 + half)), y: b64(q.subarray(1 + half)) },
      format: "jwk",
    });
  }
  const e = unsigned(r.string());
  const n = unsigned(r.string());
  return createPublicKey({ key: { kty: "RSA", n: b64(n), e: b64(e) }, format: "jwk" });
}

const HASH: Record<string, string> = {
  "ecdsa-sha2-nistp256": "sha256",
  "ecdsa-sha2-nistp384": "sha384",
  "ecdsa-sha2-nistp521": "sha512",
  "rsa-sha2-512": "sha512",
  "rsa-sha2-256": "sha256",
  "ssh-rsa": "sha1",
};

/** True when the SSH signature blob is a valid `alg` signature of `data` by `signer`'s key. */
function verifies(signer: Signer, data: Uint8Array, sigBlob: Uint8Array, alg: string): boolean {
  const key = publicKeyFromBlob(signer.publicBlob);
  const r = new SshReader(sigBlob, "signature");
  assert.equal(r.text(), alg);
  const sig = r.string();
  r.end();
  if (alg === "ssh-ed25519") return verify(null, data, key, sig);
  if (alg.startsWith("ecdsa-")) {
    const size = { sha256: 32, sha384: 48, sha512: 66 }[HASH[alg]!]!;
    const inner = new SshReader(sig);
    const fix = (b: Uint8Array) => {
      const t = b[0] === 0 ? b.subarray(1) : b;
      const out = new Uint8Array(size);
      out.set(t, size - t.length);
      return out;
    };
    const p1363 = new Uint8Array([...fix(inner.string()), ...fix(inner.string())]);
    inner.end();
    return verify(HASH[alg]!, data, { key, dsaEncoding: "ieee-p1363" }, p1363);
  }
  return verify(HASH[alg]!, data, key, sig);
}

Deno.test("AgentClient lists the keys ssh-add put into a real ssh-agent", async () => {
  const agent = await startAgent();
  try {
    const client = await AgentClient.connect(agent.socket);
    try {
      assert.deepEqual(await client.identities(), [], "a fresh agent holds no keys");
      for (const name of Object.keys(KEYS)) await agent.add(name);
      const ids = await client.identities();
      assert.equal(ids.length, Object.keys(KEYS).length);
      const expected: Record<string, [string, number]> = {
        ed25519: ["ssh-ed25519", 256],
        ecdsa256: ["ecdsa-sha2-nistp256", 256],
        ecdsa384: ["ecdsa-sha2-nistp384", 384],
        ecdsa521: ["ecdsa-sha2-nistp521", 521],
        rsa: ["ssh-rsa", 2048],
      };
      for (const [name, [type, bits]] of Object.entries(expected)) {
        const blob = await blobOf(agent.keys[name]!);
        const id = ids.find((s) => Buffer.from(s.publicBlob).equals(Buffer.from(blob)));
        assert.ok(id, `agent lists ${name}`);
        assert.equal(id.type, type);
        assert.equal(id.bits, bits);
        assert.equal(id.comment, `agent-${name}`);
        assert.equal(id.source, "agent");
        assert.deepEqual(
          id.algorithms,
          type === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [type],
        );
      }
    } finally {
      client.close();
    }
  } finally {
    await agent.stop();
  }
});

Deno.test("agent signers sign with ed25519, ecdsa and rsa (SHA-512, SHA-256, SHA-1) verifiably", async () => {
  const agent = await startAgent();
  try {
    for (const name of Object.keys(KEYS)) await agent.add(name);
    const client = await AgentClient.connect(agent.socket);
    try {
      const data = crypto.getRandomValues(new Uint8Array(150));
      const ids = await client.identities();
      const seen = new Set<string>();
      for (const signer of ids) {
        for (const alg of signer.algorithms) {
          const sig = await signer.sign(data, alg);
          assert.ok(verifies(signer, data, sig, alg), `${alg} signature verifies`);
          const other = data.slice();
          other[3] ^= 0x10;
          assert.equal(verifies(signer, other, sig, alg), false, `${alg} fails on other data`);
          seen.add(alg);
        }
      }
      for (
        const alg of [
          "ssh-ed25519",
          "ecdsa-sha2-nistp256",
          "ecdsa-sha2-nistp384",
          "ecdsa-sha2-nistp521",
          "rsa-sha2-512",
          "rsa-sha2-256",
          "ssh-rsa",
        ]
      ) assert.ok(seen.has(alg), `signed with ${alg}`);
    } finally {
      client.close();
    }
  } finally {
    await agent.stop();
  }
});

Deno.test("concurrent agent requests are answered in order", async () => {
  const agent = await startAgent();
  try {
    await agent.add("ed25519");
    await agent.add("rsa");
    const client = await AgentClient.connect(agent.socket);
    try {
      const ids = await client.identities();
      const data = new TextEncoder().encode("in order");
      const jobs = ids.flatMap((s) => s.algorithms.map((alg) => ({ s, alg })));
      const sigs = await Promise.all(jobs.map(({ s, alg }) => s.sign(data, alg)));
      jobs.forEach(({ s, alg }, i) => assert.ok(verifies(s, data, sigs[i]!, alg), alg));
      assert.equal(jobs.length, 4);
    } finally {
      client.close();
    }
  } finally {
    await agent.stop();
  }
});

Deno.test("signing with a key the agent no longer holds fails with AgentError", async () => {
  const agent = await startAgent();
  try {
    await agent.add("ed25519");
    const client = await AgentClient.connect(agent.socket);
    try {
      const [signer] = await client.identities();
      assert.ok(signer);
      await agent.remove("ed25519");
      await assert.rejects(
        signer.sign(new Uint8Array([1, 2, 3]), "ssh-ed25519"),
        (e: unknown) => e instanceof AgentError && /refused to sign/.test(e.message),
      );
      // The connection is still usable after a FAILURE answer.
      assert.deepEqual(await client.identities(), []);
    } finally {
      client.close();
    }
  } finally {
    await agent.stop();
  }
});

Deno.test("an agent signer refuses an algorithm its key cannot produce", async () => {
  const agent = await startAgent();
  try {
    await agent.add("ecdsa256");
    const client = await AgentClient.connect(agent.socket);
    try {
      const [signer] = await client.identities();
      await assert.rejects(signer!.sign(new Uint8Array(1), "rsa-sha2-512"), AgentError);
    } finally {
      client.close();
    }
  } finally {
    await agent.stop();
  }
});

Deno.test("AgentClient.connect() uses SSH_AUTH_SOCK when no path is given", async () => {
  const agent = await startAgent();
  const saved = Deno.env.get("SSH_AUTH_SOCK");
  try {
    await agent.add("ed25519");
    Deno.env.set("SSH_AUTH_SOCK", agent.socket);
    const client = await AgentClient.connect();
    try {
      assert.equal(client.path, agent.socket);
      assert.equal((await client.identities()).length, 1);
    } finally {
      client.close();
    }
    Deno.env.delete("SSH_AUTH_SOCK");
    await assert.rejects(AgentClient.connect(), /SSH_AUTH_SOCK is not set/);
  } finally {
    if (saved === undefined) Deno.env.delete("SSH_AUTH_SOCK");
    else Deno.env.set("SSH_AUTH_SOCK", saved);
    await agent.stop();
  }
});
