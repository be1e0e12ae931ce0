/**
 * The shared handshake run against itself: a client-role and a server-role `Handshake` over an
 * in-memory packet pipe (Go's handshake tests over `memPipe`), with the client's kex methods
 * (lib/algorithms) on one side and the lab's independently written server halves
 * (lib/lab/kex_server.ts) on the other. Both must derive the same session id and keys, reset
 * sequence numbers under strict kex, rekey from either side, and turn on delayed compression.
 */
import assert from "node:assert/strict";
import { allNames, findHostKey, findKex } from "../../../lib/algorithms/registry.ts";
import { generateHostKeys } from "../../../lib/lab/hostkeys.ts";
import { createServerKex, SERVER_KEX_NAMES } from "../../../lib/lab/kex_server.ts";
import type { AlgorithmLists } from "../../../lib/types.ts";
import { Handshake, type KexRun } from "../../../lib/transport/handshake.ts";
import { EXT_INFO_C, STRICT_KEX_C, STRICT_KEX_S } from "../../../lib/transport/kexinit.ts";
import { memoryPacketPipe, type PipeConn } from "../../helpers/packet_pipe.ts";
import { encodeText } from "../../../lib/wire/buffer.ts";

const hostKeys = await generateHostKeys(["ssh-ed25519"]);
const hostKey = hostKeys.get("ssh-ed25519")!;

function lists(kex: string, compression = "none"): AlgorithmLists {
  return {
    kex: [kex],
    hostKey: ["ssh-ed25519"],
    cipherC2S: ["aes128-ctr"],
    cipherS2C: ["chacha20-poly1305@openssh.com"],
    macC2S: ["hmac-sha2-256-etm@openssh.com"],
    macS2C: ["hmac-sha2-256"],
    compressionC2S: [compression],
    compressionS2C: [compression],
  };
}

async function clientExchange(run: KexRun) {
  const kex = findKex(run.chosen.kex)!;
  const r = await kex.exchange({
    ...run,
    note: () => {},
    gex: { min: 2048, preferred: 2048, max: 8192 },
  });
  const ok = await findHostKey(run.chosen.hostKey)!.verify(
    r.hostKeyBlob,
    r.signatureBlob,
    r.exchangeHash,
  );
  assert.ok(ok, "the server's signature verifies");
  return { hash: kex.hash, k: r.sharedSecret, h: r.exchangeHash };
}

async function serverExchange(run: KexRun) {
  const kex = createServerKex(run.chosen.kex, {
    ...run,
    hostKeyBlob: hostKey.blob,
    sign: (h) => hostKey.sign(run.chosen.hostKey, h),
  });
  while (!kex.result) {
    for (const reply of await kex.onMessage(await run.receive())) await run.send(reply);
  }
  return { hash: kex.hash, k: kex.result.k, h: kex.result.h };
}

function pair(kex: string, compression = "none", serverRekeyBytes?: number) {
  const [cc, sc] = memoryPacketPipe();
  const common = { tracer: null, timeoutMs: 5000, lists: () => lists(kex, compression) };
  const client = new Handshake({
    ...common,
    role: "client",
    conn: cc,
    markers: [EXT_INFO_C, STRICT_KEX_C],
    exchange: clientExchange,
  });
  const server = new Handshake({
    ...common,
    role: "server",
    conn: sc,
    markers: [STRICT_KEX_S],
    exchange: serverExchange,
    serverSigAlgs: ["ssh-ed25519", "rsa-sha2-256"],
    rekeyLimitBytes: serverRekeyBytes,
  });
  for (const h of [client, server]) {
    h.clientVersion = encodeText("SSH-2.0-client");
    h.serverVersion = encodeText("SSH-2.0-server");
  }
  return { client, server, cc, sc };
}

/** The next message for the layers above on `h` (transport messages and rekeys handled). */
async function next(h: Handshake): Promise<Uint8Array> {
  for (;;) {
    const p = await h.conn.readPacket();
    assert.ok(p, "the connection is open");
    if (!(await h.handleTransportMessage(p))) return p;
  }
}

/** Messages for the layers above on `h`, until its `kexCount`-th exchange is done and one came. */
async function readUntil(h: Handshake, kexCount: number): Promise<Uint8Array[]> {
  const got: Uint8Array[] = [];
  while (h.kexCount < kexCount || got.length === 0) {
    const p = await h.conn.readPacket();
    assert.ok(p, "the connection is open");
    if (!(await h.handleTransportMessage(p))) got.push(p);
  }
  return got;
}

/** A message for the layers above (number 99) carrying `n`. */
const app = (n: number) => new Uint8Array([99, n]);

function sameKeys(a: PipeConn, b: PipeConn) {
  assert.deepEqual(a.writeKeys!.encKey, b.readKeys!.encKey);
  assert.deepEqual(a.writeKeys!.iv, b.readKeys!.iv);
  assert.deepEqual(a.writeKeys!.macKey, b.readKeys!.macKey);
  assert.equal(a.writeKeys!.cipher.name, b.readKeys!.cipher.name);
}

const KEXES = allNames("kex").filter((n) =>
  SERVER_KEX_NAMES.includes(n) && !/^sntrup|group1[68]|group-exchange/.test(n)
);

for (const kex of KEXES) {
  Deno.test(`client and server roles of the handshake agree on keys with ${kex}`, async () => {
    const { client, server, cc, sc } = pair(kex);
    await Promise.all([client.firstKex(), server.firstKex()]);
    assert.deepEqual(client.sessionId, server.sessionId);
    assert.ok(client.strict && server.strict, "strict kex on both sides");
    assert.equal(client.negotiated?.kex, kex);
    sameKeys(cc as PipeConn, sc as PipeConn);
    sameKeys(sc as PipeConn, cc as PipeConn);
    // Strict kex restarts both sequence numbers at NEWKEYS: EXT_INFO is the server's packet 0.
    await server.send(app(1));
    assert.deepEqual(await next(client), app(1));
    assert.deepEqual(client.serverSigAlgs, ["ssh-ed25519", "rsa-sha2-256"]);
    assert.equal(cc.lastReadSeq, 1);
  });
}

Deno.test("either role can start a rekey; the other answers and data still flows", async () => {
  const { client, server, cc, sc } = pair("curve25519-sha256");
  await Promise.all([client.firstKex(), server.firstKex()]);
  const first = (cc as PipeConn).writeKeys;
  let kexes = 1;
  for (const [starter, other] of [[server, client], [client, server]] as const) {
    kexes++;
    await starter.startRekey();
    // Each side reads (and answers the exchange) while the other's message waits for new keys.
    const [toOther, toStarter] = await Promise.all([
      readUntil(other, kexes),
      readUntil(starter, kexes),
      starter.send(app(kexes)),
      other.send(app(kexes + 10)),
    ]);
    assert.deepEqual(toOther, [app(kexes)]);
    assert.deepEqual(toStarter, [app(kexes + 10)]);
  }
  assert.equal(client.kexCount, 3);
  assert.equal(server.kexCount, 3);
  assert.notDeepEqual((cc as PipeConn).writeKeys!.encKey, first!.encKey);
  sameKeys(cc as PipeConn, sc as PipeConn);
});

Deno.test("the server role rekeys by itself once its byte limit is reached (after auth)", async () => {
  const { client, server } = pair("curve25519-sha256", "none", 1000);
  await Promise.all([client.firstKex(), server.firstKex()]);
  client.authenticated();
  server.authenticated();
  const big = new Uint8Array(600).fill(7);
  big[0] = 99;
  // Two big messages pass the limit: the server starts a rekey, the client's reader answers.
  const [got] = await Promise.all([
    readUntil(client, 2),
    server.send(big).then(() => server.send(big)),
    readUntil(server, 2),
    client.send(app(1)),
  ]);
  assert.ok(got.length >= 1 && got.every((p) => p[0] === 99));
  assert.equal(server.kexCount, 2);
  assert.equal(client.kexCount, 2);
});

Deno.test("delayed compression starts on both sides after authentication", async () => {
  const { client, server } = pair("curve25519-sha256", "zlib@openssh.com");
  await Promise.all([client.firstKex(), server.firstKex()]);
  assert.equal(client.conn.compress, null, "no compression before authentication");
  client.authenticated();
  server.authenticated();
  assert.ok(client.conn.compress && server.conn.decompress);
  const payload = new Uint8Array([99, ...encodeText("x".repeat(2000))]);
  await client.send(payload);
  assert.deepEqual(await next(server), payload);
});
