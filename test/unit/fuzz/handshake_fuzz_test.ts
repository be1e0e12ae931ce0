/**
 * Property-based tests of the shared handshake in the SERVER role (the lab server's transport):
 * random client input after a version line (KEXINITs with random lists or flipped bytes, kex
 * messages with random bodies, any message number, raw garbage) only ever ends the connection
 * cleanly (the lab reports no server error), never hangs, and memory stays bounded. The client
 * role is fuzzed by packet_fuzz_test.ts and parsers_fuzz_test.ts.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { allNames } from "../../../lib/algorithms/registry.ts";
import { generateHostKeys } from "../../../lib/lab/hostkeys.ts";
import { resolveProfile, serveLabConnection } from "../../../lib/lab/mod.ts";
import type { AlgorithmLists } from "../../../lib/types.ts";
import { encodeKexInit, EXT_INFO_C, STRICT_KEX_C } from "../../../lib/transport/kexinit.ts";
import { PacketSealer } from "../../../lib/transport/packet.ts";
import { memoryPipe } from "../../../lib/transport/stream.ts";
import { concatBytes } from "../../../lib/wire/buffer.ts";
import { MSG } from "../../../lib/wire/messages.ts";

const hostKeys = await generateHostKeys(["ssh-ed25519", "ecdsa-sha2-nistp256"]);
const { config } = resolveProfile("modern", { config: { loginGraceMs: 2000 } });

/** A subset of a registry category (possibly empty, possibly with an unknown name). */
const names = (category: "kex" | "hostKey" | "cipher" | "mac" | "compression") =>
  fc.subarray([...allNames(category), "nonsense@fuzz"], { minLength: 0 });

/** A client KEXINIT with random lists (and the markers, or not). */
const kexInit = fc.record({
  kex: names("kex"),
  hostKey: names("hostKey"),
  cipher: names("cipher"),
  mac: names("mac"),
  compression: names("compression"),
  markers: fc.boolean(),
}).map((l) => {
  const lists: AlgorithmLists = {
    kex: l.markers ? [...l.kex, EXT_INFO_C, STRICT_KEX_C] : l.kex,
    hostKey: l.hostKey,
    cipherC2S: l.cipher,
    cipherS2C: l.cipher,
    macC2S: l.mac,
    macS2C: l.mac,
    compressionC2S: l.compression,
    compressionS2C: l.compression,
  };
  return encodeKexInit(lists);
});

/** A KEXINIT the modern profile accepts (so the exchange itself is reached). */
const goodKexInit = fc.constantFrom(
  "curve25519-sha256",
  "ecdh-sha2-nistp256",
  "diffie-hellman-group14-sha256",
  "mlkem768x25519-sha256",
).map((kex) =>
  encodeKexInit({
    kex: [kex, EXT_INFO_C, STRICT_KEX_C],
    hostKey: ["ssh-ed25519"],
    cipherC2S: ["aes128-ctr"],
    cipherS2C: ["aes128-ctr"],
    macC2S: ["hmac-sha2-256"],
    macS2C: ["hmac-sha2-256"],
    compressionC2S: ["none"],
    compressionS2C: ["none"],
  })
);

/** One payload of the client's: a message number the core cares about and a random body. */
const message = fc.tuple(
  fc.oneof(
    fc.constantFrom(
      MSG.DISCONNECT,
      MSG.IGNORE,
      MSG.UNIMPLEMENTED,
      MSG.DEBUG,
      MSG.SERVICE_REQUEST,
      MSG.EXT_INFO,
      MSG.KEXINIT,
      MSG.NEWKEYS,
      30,
      31,
      32,
      34,
      50,
    ),
    fc.integer({ min: 0, max: 255 }),
  ),
  fc.uint8Array({ maxLength: 120 }),
).map(([type, body]) => concatBytes(new Uint8Array([type]), body));

/** A payload with a few bytes flipped. */
const flipped = fc.tuple(
  kexInit,
  fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), {
    minLength: 1,
    maxLength: 4,
  }),
).map(([p, flips]) => {
  const out = p.slice();
  for (const [at, x] of flips) out[at % out.length]! ^= x;
  return out;
});

type Step = { payload: Uint8Array } | { raw: Uint8Array };
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.oneof(kexInit, goodKexInit, message, flipped).map((payload) => ({ payload })),
  },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }).map((raw) => ({ raw })) },
);

async function serve(steps: Step[]): Promise<string[]> {
  const [client, server] = memoryPipe();
  const errors: string[] = [];
  const done = serveLabConnection(server, {
    config,
    hooks: {},
    hostKeys,
    onError: (m) => errors.push(m),
  });
  const sealer = new PacketSealer(); // plaintext: the client never gets as far as keys here
  await client.write(new TextEncoder().encode("SSH-2.0-fuzz_1.0\r\n"));
  for (const s of steps) await client.write("raw" in s ? s.raw : sealer.seal(s.payload));
  client.close();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("the server role hung")), 5000);
  });
  try {
    await Promise.race([done, hang]);
  } finally {
    clearTimeout(timer);
  }
  return errors;
}

Deno.test("the server role of the handshake ends cleanly on any client input", async () => {
  const before = Deno.memoryUsage().heapUsed;
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 0, maxLength: 6 }), async (steps) => {
      assert.deepEqual(await serve(steps), [], "the lab server itself did not fail");
    }),
    { numRuns: 250 },
  );
  const grown = Deno.memoryUsage().heapUsed - before;
  assert.ok(grown < 200 * 1024 * 1024, `heap grew by ${grown} bytes`);
});

Deno.test("the server role refuses random kex messages after a valid KEXINIT cleanly", async () => {
  await fc.assert(
    fc.asyncProperty(
      goodKexInit,
      fc.array(message, { minLength: 1, maxLength: 4 }),
      async (init, rest) => {
        const steps = [init, ...rest].map((payload) => ({ payload }));
        assert.deepEqual(await serve(steps), [], "the lab server itself did not fail");
      },
    ),
    { numRuns: 150 },
  );
});
