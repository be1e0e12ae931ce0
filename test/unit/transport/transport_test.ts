import assert from "node:assert/strict";
import { allNames, findCipher } from "../../../lib/algorithms/registry.ts";
import { requestService } from "../../../lib/auth/service.ts";
import { authenticate } from "../../../lib/auth/userauth.ts";
import type { ClientOptions } from "../../../lib/client/open_transport.ts";
import { explainFailure } from "../../../lib/diagnose/explain.ts";
import { type TraceEvent, Tracer } from "../../../lib/trace.ts";
import { EXIT_CODES } from "../../../lib/types.ts";
import type { Transport } from "../../../lib/transport/transport.ts";
import { SshReader, SshWriter } from "../../../lib/wire/buffer.ts";
import { MSG } from "../../../lib/wire/messages.ts";
import {
  badPacket,
  expectTraceError,
  msg,
  openScripted,
  type ScriptedServer,
  type ScriptedServerOptions,
  startScriptedServer,
} from "../../helpers/scripted_server.ts";

const ofType = (events: TraceEvent[], type: string) => events.filter((e) => e.type === type);

/**
 * Runs `body` with a connected client transport, then disconnects and waits for the server to
 * stop. The server must not have failed.
 */
async function withTransport(
  options: ScriptedServerOptions,
  body: (t: Transport, tracer: Tracer, server: ScriptedServer) => Promise<void> | void,
  client: Partial<ClientOptions> = {},
): Promise<void> {
  const server = startScriptedServer(options);
  const tracer = new Tracer();
  try {
    const t = await openScripted(server, { tracer, ...client });
    try {
      await body(t, tracer, server);
    } finally {
      await t.disconnect();
    }
    await server.done;
    assert.equal(server.error, null, `the scripted server failed: ${server.error?.message}`);
  } finally {
    server.close();
    await server.done;
  }
}

/** The client's handshake must fail; returns the error after checking stage and exit code. */
async function kexFailure(
  options: ScriptedServerOptions,
  client: Partial<ClientOptions> = {},
  stage: "kex" | "hostkey" = "kex",
) {
  const server = startScriptedServer(options);
  const tracer = new Tracer();
  const timeoutMs = client.timeoutMs ?? 2000;
  try {
    const result = await expectTraceError(openScripted(server, { tracer, ...client }));
    assert.equal(result.error.stage, stage, result.error.message);
    assert.equal(result.error.exitCode, EXIT_CODES[stage]);
    assert.ok(result.ms < timeoutMs + 500, `took ${result.ms} ms`);
    return { ...result, tracer, server };
  } finally {
    server.close();
    await server.done;
  }
}

/** A GLOBAL_REQUEST with want_reply (the scripted server answers REQUEST_FAILURE). */
const ping = (extra = 0) =>
  new SshWriter().byte(MSG.GLOBAL_REQUEST).string("ping@sshtrace.test").bool(true)
    .raw(new Uint8Array(extra)).bytes();

/** Sends a ping and returns the reply, reading concurrently (a rekey may hold the send back). */
async function roundTrip(t: Transport, extra = 0): Promise<Uint8Array | null> {
  const [, reply] = await Promise.all([t.send(ping(extra)), t.receive()]);
  return reply;
}

// --- key exchange and sequence numbers --------------------------------------------------------

Deno.test("kex completes under strict kex and both sequence numbers restart at 0", async () => {
  await withTransport({}, async (t, _tracer, server) => {
    assert.equal(t.negotiated?.strict, true);
    assert.equal(server.strict, true);
    assert.equal(t.negotiated?.kex, "curve25519-sha256");
    assert.equal(t.negotiated?.hostKey, "ssh-ed25519");
    await requestService(t); // decrypts only if both sides reset their sequence numbers
    assert.equal(server.lastReceivedSeq, 0, "SERVICE_REQUEST is the client's packet 0");
    const accept = server.sent.find((s) => s.type === MSG.SERVICE_ACCEPT);
    assert.equal(accept?.seq, 0, "SERVICE_ACCEPT is the server's packet 0");
    assert.equal(t.sessionId.length, 32);
  });
});

Deno.test("kex without strict kex keeps counting sequence numbers across NEWKEYS", async () => {
  await withTransport({ strictKex: false }, async (t, _tracer, server) => {
    assert.equal(t.negotiated?.strict, false);
    await requestService(t);
    // KEXINIT 0, KEX_ECDH_INIT 1, NEWKEYS 2, SERVICE_REQUEST 3.
    assert.equal(server.lastReceivedSeq, 3);
    // KEXINIT 0, KEX_ECDH_REPLY 1, NEWKEYS 2, SERVICE_ACCEPT 3.
    assert.equal(server.sent.find((s) => s.type === MSG.SERVICE_ACCEPT)?.seq, 3);
  });
});

for (const cipher of allNames("cipher")) {
  Deno.test(`kex completes and messages flow with cipher ${cipher}`, async () => {
    await withTransport({}, async (t) => {
      const decision = t.negotiated?.decisions.find((d) => d.category === "cipherS2C");
      assert.equal(decision?.chosen, cipher);
      await requestService(t);
      assert.equal((await roundTrip(t, 100))?.[0], MSG.REQUEST_FAILURE);
    }, { algorithms: { cipher: [cipher], mac: ["hmac-sha2-256"] } });
  });
}

for (const mac of allNames("mac")) {
  Deno.test(`kex completes and messages flow with aes128-ctr and MAC ${mac}`, async () => {
    await withTransport({}, async (t) => {
      assert.equal(t.negotiated?.decisions.find((d) => d.category === "macC2S")?.chosen, mac);
      await requestService(t);
      assert.equal((await roundTrip(t, 100))?.[0], MSG.REQUEST_FAILURE);
    }, { algorithms: { cipher: ["aes128-ctr"], mac: [mac] } });
  });
}

Deno.test("AEAD ciphers settle the MAC as <implicit>", async () => {
  await withTransport({}, (t) => {
    const mac = t.negotiated?.decisions.find((d) => d.category === "macS2C");
    assert.equal(mac?.chosen, "<implicit>");
    assert.ok(findCipher("chacha20-poly1305@openssh.com")?.createAead);
  }, { algorithms: { cipher: ["chacha20-poly1305@openssh.com"] } });
});

// --- strict kex -------------------------------------------------------------------------------

Deno.test("strict kex: an IGNORE before the server's KEXINIT fails with kex.strict-violation", async () => {
  const { error } = await kexFailure({ at: { "before-kexinit": [{ send: msg.ignore() }] } });
  assert.equal(error.code, "kex.strict-violation");
  assert.match(
    error.message,
    /strict key exchange violated: the server sent IGNORE \(2\) before its KEXINIT/,
  );
  assert.match(explainFailure(error).title, /Terrapin/);
  assert.match(explainFailure(error).explanation, /Terrapin/);
});

Deno.test("without strict kex an IGNORE before KEXINIT is traced and ignored", async () => {
  await withTransport(
    { strictKex: false, at: { "before-kexinit": [{ send: msg.ignore(12) }] } },
    async (t, tracer) => {
      const ignore = ofType(tracer.events, "ignore")[0] as { length: number } | undefined;
      assert.equal(ignore?.length, 16, "payload: string of 12 bytes");
      await requestService(t);
    },
  );
});

for (
  const point of ["after-kexinit", "before-kex-reply", "before-newkeys"] as const
) {
  Deno.test(`strict kex: an IGNORE at ${point} is fatal`, async () => {
    const { error } = await kexFailure({ at: { [point]: [{ send: msg.ignore() }] } });
    assert.equal(error.code, "kex.strict-violation");
    assert.match(error.message, /the server sent IGNORE \(2\)/);
    assert.equal(error.details.message, "IGNORE (2)");
  });

  Deno.test(`without strict kex an IGNORE at ${point} is ignored`, async () => {
    await withTransport(
      { strictKex: false, at: { [point]: [{ send: msg.ignore() }] } },
      async (t, tracer) => {
        assert.equal(ofType(tracer.events, "ignore").length, 1);
        await requestService(t);
      },
    );
  });
}

Deno.test("strict kex: a message other than NEWKEYS after the kex reply is named in the error", async () => {
  const { error } = await kexFailure({ at: { "before-newkeys": [{ send: msg.debug("hi") }] } });
  assert.equal(error.code, "kex.strict-violation");
  assert.match(error.message, /the server sent DEBUG \(4\) where NEWKEYS was expected/);
});

// --- first_kex_packet_follows -----------------------------------------------------------------

Deno.test("a wrongly guessed kex packet is ignored and the exchange succeeds", async () => {
  // The client prefers mlkem768x25519-sha256; the server guesses curve25519-sha256, which is
  // what negotiation picks, but the preferred algorithms differ, so the guess is wrong
  // (RFC 4253 §7.1) and the server would send the packet again.
  await withTransport(
    {
      lists: { kex: ["curve25519-sha256"] },
      firstKexPacketFollows: true,
      guess: msg.raw(MSG.KEXDH_REPLY, new Uint8Array([1, 2, 3])),
    },
    async (t, tracer) => {
      assert.equal(t.negotiated?.kex, "curve25519-sha256");
      const guess = ofType(tracer.events, "guess-ignored");
      assert.equal(guess.length, 1);
      assert.match((guess[0] as { reason: string }).reason, /guessed a different key exchange/);
      await requestService(t);
    },
  );
});

Deno.test("a guess with a different preferred host key algorithm is also ignored", async () => {
  await withTransport(
    {
      lists: { kex: ["curve25519-sha256"] },
      firstKexPacketFollows: true,
      guess: msg.raw(MSG.KEXDH_REPLY),
    },
    (t, tracer) => {
      assert.equal(ofType(tracer.events, "guess-ignored").length, 1);
      assert.equal(t.negotiated?.hostKey, "ssh-ed25519");
    },
    { algorithms: { kex: ["curve25519-sha256"], hostKey: ["ecdsa-sha2-nistp256,ssh-ed25519"] } },
  );
});

Deno.test("a rightly guessed kex packet is not ignored (it is taken as the kex reply)", async () => {
  const { error, tracer } = await kexFailure(
    {
      lists: { kex: ["curve25519-sha256"] },
      firstKexPacketFollows: true,
      guess: msg.raw(MSG.KEXDH_REPLY, new Uint8Array([0, 0, 0, 1, 7])),
    },
    { algorithms: { kex: ["curve25519-sha256"] } },
  );
  assert.equal(ofType(tracer.events, "guess-ignored").length, 0);
  assert.equal(error.code, "kex.exchange-failed");
  assert.match(error.message, /key exchange curve25519-sha256 failed: KEX_ECDH_REPLY: truncated/);
});

// --- transport messages -----------------------------------------------------------------------

Deno.test("DEBUG from the server is shown as a trace event", async () => {
  await withTransport(
    { at: { "after-newkeys": [{ send: msg.debug("hello from the lab", true) }] } },
    async (t, tracer) => {
      await requestService(t);
      const debug = ofType(tracer.events, "debug") as unknown as {
        message: string;
        alwaysDisplay: boolean;
      }[];
      assert.deepEqual(debug.map((d) => [d.message, d.alwaysDisplay]), [[
        "hello from the lab",
        true,
      ]]);
    },
  );
});

Deno.test("DEBUG in the middle of a non-strict kex is shown and ignored", async () => {
  await withTransport(
    { strictKex: false, at: { "before-kex-reply": [{ send: msg.debug("kex debug", false) }] } },
    (_t, tracer) => {
      const debug = ofType(tracer.events, "debug")[0] as { message: string; stage: string };
      assert.equal(debug.message, "kex debug");
      assert.equal(debug.stage, "kex");
    },
  );
});

Deno.test("UNIMPLEMENTED from the server is traced with its sequence number", async () => {
  await withTransport(
    { at: { "after-newkeys": [{ send: msg.unimplemented(77) }] } },
    async (t, tracer) => {
      await requestService(t);
      const ev = ofType(tracer.events, "unimplemented")[0] as { sequence: number } | undefined;
      assert.equal(ev?.sequence, 77);
    },
  );
});

Deno.test("DISCONNECT during kex fails with its reason code and text", async () => {
  const { error, tracer } = await kexFailure({
    at: {
      "before-kex-reply": [
        { send: msg.disconnect(3, "no matching host key type found") },
        { close: true },
      ],
    },
  });
  assert.equal(error.code, "kex.disconnect");
  assert.equal(
    error.message,
    "the server disconnected: KEY_EXCHANGE_FAILED (3): no matching host key type found",
  );
  assert.equal(error.details.reasonCode, 3);
  assert.equal(error.details.reason, "KEY_EXCHANGE_FAILED");
  assert.equal(error.details.description, "no matching host key type found");
  const ev = ofType(tracer.events, "disconnect")[0] as { from: string; reasonCode: number };
  assert.deepEqual([ev.from, ev.reasonCode], ["server", 3]);
});

Deno.test("DISCONNECT before the server's KEXINIT fails the kex stage", async () => {
  const { error } = await kexFailure({
    strictKex: false,
    at: { "before-kexinit": [{ send: msg.disconnect(2, "protocol error") }] },
  });
  assert.equal(error.code, "kex.disconnect");
  assert.match(error.message, /PROTOCOL_ERROR \(2\): protocol error/);
});

Deno.test("a bad host key signature fails with kex.bad-signature", async () => {
  const { error } = await kexFailure({ corruptSignature: true });
  assert.equal(error.code, "kex.bad-signature");
  assert.match(
    error.message,
    /the server's ssh-ed25519 signature over the key exchange does not verify with its host key SHA256:/,
  );
  assert.equal(error.details.algorithm, "ssh-ed25519");
});

for (
  const [cipher, mac] of [
    ["aes128-ctr", "hmac-sha2-256"],
    ["aes256-ctr", "hmac-sha2-512-etm@openssh.com"],
    ["chacha20-poly1305@openssh.com", "hmac-sha2-256"],
    ["aes256-gcm@openssh.com", "hmac-sha2-256"],
  ]
) {
  Deno.test(`a corrupted MAC after kex (${cipher}) fails with a .mac-error code`, async () => {
    const server = startScriptedServer({ corruptMacOfPacket: 1 });
    const tracer = new Tracer();
    try {
      const t = await openScripted(server, {
        tracer,
        algorithms: { cipher: [cipher!], mac: [mac!] },
      });
      tracer.begin("auth");
      const { error, ms } = await expectTraceError(requestService(t));
      t.close();
      assert.equal(error.code, "auth.mac-error");
      assert.ok(error.code.endsWith(".mac-error"));
      assert.equal(error.exitCode, EXIT_CODES.auth);
      assert.match(error.message, /message authentication failed .*altered in transit/);
      assert.ok(ms < 1000, `took ${ms} ms`);
    } finally {
      server.close();
      await server.done;
    }
  });
}

Deno.test("EXT_INFO server-sig-algs is stored on transport.serverSigAlgs", async () => {
  await withTransport(
    { serverSigAlgs: ["ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256"] },
    async (t, tracer) => {
      assert.equal(t.serverSigAlgs, null, "not read before the next message");
      await requestService(t);
      assert.deepEqual(t.serverSigAlgs, ["ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256"]);
      const ev = ofType(tracer.events, "ext-info")[0] as { extensions: string[] } | undefined;
      assert.deepEqual(ev?.extensions, ["server-sig-algs"]);
    },
  );
});

Deno.test("the client offers ext-info-c and strict kex only in its first KEXINIT", async () => {
  await withTransport(
    { acceptNone: true, at: { "after-auth": [{ rekey: true }] } },
    async (t, tracer) => {
      await requestService(t);
      await authenticate(t, { user: "lab" });
      await roundTrip(t);
      const sent = ofType(tracer.events, "kexinit-sent") as unknown as {
        lists: { kex: string[] };
      }[];
      assert.equal(sent.length, 2);
      assert.ok(sent[0]!.lists.kex.includes("ext-info-c"));
      assert.ok(sent[0]!.lists.kex.includes("kex-strict-c-v00@openssh.com"));
      assert.ok(
        !sent[1]!.lists.kex.some((n) => n.startsWith("ext-info") || n.startsWith("kex-strict")),
      );
    },
  );
});

Deno.test("no common cipher fails with kex.no-common-cipherC2S and both lists", async () => {
  const { error } = await kexFailure({
    lists: { cipherC2S: ["3des-cbc"], cipherS2C: ["3des-cbc"] },
  });
  assert.equal(error.code, "kex.no-common-cipherC2S");
  assert.equal(error.message, "no cipher (client to server) in common with the server");
  assert.deepEqual(error.details.theirs, ["3des-cbc"]);
  assert.ok((error.details.ours as string[]).includes("chacha20-poly1305@openssh.com"));
  assert.ok(!(error.details.ours as string[]).includes("3des-cbc"));
});

Deno.test("no common host key algorithm fails with kex.no-common-hostKey", async () => {
  const { error } = await kexFailure({ lists: { hostKey: ["ssh-dss"] } });
  assert.equal(error.code, "kex.no-common-hostKey");
  assert.deepEqual(error.details.theirs, ["ssh-dss"]);
});

// --- framing and silence during kex -------------------------------------------------------------

for (
  const [kind, text] of [
    ["zero-length", /packet length 0 is too small/],
    ["huge-length", /packet length 2147483647 is over the limit/],
    ["not-block-multiple", /packet length 13 is not a multiple of the cipher block size 8/],
    ["short-padding", /padding of 3 bytes is under the minimum of 4/],
  ] as const
) {
  Deno.test(`a ${kind} packet fails with kex.bad-packet`, async () => {
    const { error } = await kexFailure({ at: { "before-kexinit": [{ raw: badPacket(kind) }] } });
    assert.equal(error.code, "kex.bad-packet");
    assert.match(error.message, /the server sent a malformed packet: /);
    assert.match(error.message, text);
  });
}

Deno.test("a server silent after its KEXINIT fails with kex.timeout", async () => {
  const { error, ms } = await kexFailure(
    { at: { "after-kexinit": [{ silent: true }] } },
    { timeoutMs: 1000 },
  );
  assert.equal(error.code, "kex.timeout");
  assert.match(
    error.message,
    /no complete key exchange after 1\.\d s \(budget 1 s\) during stage kex/,
  );
  assert.ok(ms >= 950);
});

Deno.test("a server silent before NEWKEYS fails with kex.timeout", async () => {
  const { error } = await kexFailure(
    { at: { "before-newkeys": [{ silent: true }] } },
    { timeoutMs: 1000 },
  );
  assert.equal(error.code, "kex.timeout");
});

Deno.test("a server that closes before its kex reply fails with kex.closed", async () => {
  const { error, ms } = await kexFailure({ at: { "before-kex-reply": [{ close: true }] } });
  assert.equal(error.code, "kex.closed");
  assert.match(error.message, /the server closed the connection during stage kex/);
  assert.ok(ms < 500);
});

Deno.test("a server that closes before NEWKEYS fails with kex.closed", async () => {
  const { error } = await kexFailure({ at: { "before-newkeys": [{ close: true }] } });
  assert.equal(error.code, "kex.closed");
  assert.match(error.message, /closed the connection before NEWKEYS/);
});

// --- after the key exchange ---------------------------------------------------------------------

Deno.test("the scripted server answers the none request with FAILURE publickey,password", async () => {
  await withTransport({}, async (t) => {
    await requestService(t);
    const result = await authenticate(t, { user: "lab", probeOnly: true });
    assert.deepEqual(result.methods, ["publickey", "password"]);
    assert.equal(result.success, false);
  });
});

Deno.test("a server-initiated rekey after authentication completes and data still flows", async () => {
  await withTransport(
    { acceptNone: true, at: { "after-auth": [{ rekey: true }] } },
    async (t, tracer, server) => {
      await requestService(t);
      const auth = await authenticate(t, { user: "lab" });
      assert.equal(auth.method, "none");
      const sessionId = t.sessionId;
      for (let i = 0; i < 3; i++) assert.equal((await roundTrip(t, 50))?.[0], MSG.REQUEST_FAILURE);
      const rekey = ofType(tracer.events, "rekey") as unknown as { initiator: string }[];
      assert.deepEqual(rekey.map((r) => r.initiator), ["server"]);
      assert.equal(ofType(tracer.events, "newkeys").length, 4);
      assert.equal(server.kexCount, 2);
      assert.deepEqual(t.sessionId, sessionId, "the session id survives a rekey");
    },
  );
});

Deno.test("a client-initiated rekey (small rekey limit) completes and data still flows", async () => {
  await withTransport({}, async (t, tracer, server) => {
    await requestService(t);
    t.authenticated(); // client rekeys start only after user authentication
    for (let i = 0; i < 12; i++) {
      assert.equal((await roundTrip(t, 300))?.[0], MSG.REQUEST_FAILURE, `reply ${i}`);
    }
    const rekey = ofType(tracer.events, "rekey") as unknown as {
      initiator: string;
      reason: string;
    }[];
    assert.ok(rekey.every((r) => r.initiator === "client"));
    // Each rekey is traced twice: when our KEXINIT goes out and when the server answers it.
    const started = rekey.filter((r) => /rekey limit reached/.test(r.reason)).length;
    assert.ok(started >= 2, `only ${started} rekeys`);
    assert.equal(server.kexCount, started + 1);
    assert.equal(ofType(tracer.events, "newkeys").length, 2 * server.kexCount);
    // Every request arrived and was answered: 1 SERVICE_REQUEST + 12 pings (+ KEX messages).
    const pings = server.received.filter((p) => p[0] === MSG.GLOBAL_REQUEST);
    assert.equal(pings.length, 12);
  }, { rekeyLimitBytes: 1500 });
});

Deno.test("a rekey limit reached before authentication waits for it instead of deadlocking", async () => {
  await withTransport({}, async (t, tracer) => {
    await requestService(t);
    for (let i = 0; i < 4; i++) await roundTrip(t, 300);
    assert.equal(ofType(tracer.events, "rekey").length, 0);
    t.authenticated();
    for (let i = 0; i < 3; i++) await roundTrip(t, 300);
    assert.ok(ofType(tracer.events, "rekey").length >= 1);
  }, { rekeyLimitBytes: 1500 });
});

Deno.test("an unknown message number gets UNIMPLEMENTED with its sequence number", async () => {
  const server = startScriptedServer({
    at: { "after-newkeys": [{ send: msg.raw(15, new Uint8Array([1, 2])) }] },
  });
  try {
    const t = await openScripted(server);
    await requestService(t);
    await t.disconnect();
    await server.done;
    assert.equal(server.error, null);
    const unknown = server.sent.find((s) => s.type === 15)!;
    assert.deepEqual(server.unimplemented, [unknown.seq]);
    const reply = server.received.find((p) => p[0] === MSG.UNIMPLEMENTED)!;
    const r = new SshReader(reply);
    r.byte();
    assert.equal(r.uint32(), unknown.seq);
    r.end();
  } finally {
    server.close();
    await server.done;
  }
});

Deno.test("a transport message number reserved for kex after kex fails as unexpected", async () => {
  const server = startScriptedServer({
    at: { "after-newkeys": [{ send: msg.raw(MSG.KEXDH_REPLY) }] },
  });
  try {
    const t = await openScripted(server);
    const { error } = await expectTraceError(requestService(t));
    t.close();
    // The service request states its stage (auth): the error is blamed there, not guessed.
    assert.equal(error.code, "auth.unexpected-message");
    assert.match(error.message, /the server sent KEX_31 \(31\) outside a key exchange/);
  } finally {
    server.close();
    await server.done;
  }
});
