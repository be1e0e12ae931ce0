/**
 * Property-based tests of the packet reader for every registered cipher and MAC, and of the
 * version-line reader: hostile bytes only ever give a clean error (PacketError, or a staged
 * SshError), never an exception from deep inside, never a hang, and memory stays bounded.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { CIPHER_ALGORITHMS } from "../../../lib/algorithms/cipher.ts";
import { MAC_ALGORITHMS } from "../../../lib/algorithms/mac.ts";
import { PacketError, PacketOpener, PacketSealer } from "../../../lib/transport/packet.ts";
import { BufferedReader } from "../../../lib/transport/reader.ts";
import { memoryPipe } from "../../../lib/transport/stream.ts";
import { readServerVersion } from "../../../lib/transport/version.ts";
import { SshError } from "../../../lib/errors/mod.ts";
import { Tracer } from "../../../lib/trace.ts";
import type { CipherAlgorithm, MacAlgorithm } from "../../../lib/algorithms/types.ts";

interface Pair {
  cipher: CipherAlgorithm;
  mac: MacAlgorithm | null;
}

const pairs: Pair[] = CIPHER_ALGORITHMS.flatMap((cipher): Pair[] =>
  cipher.createAead ? [{ cipher, mac: null }] : MAC_ALGORITHMS.map((mac) => ({ cipher, mac }))
);

function keysFor(pair: Pair) {
  const rnd = (n: number) => crypto.getRandomValues(new Uint8Array(n));
  return {
    cipher: pair.cipher,
    mac: pair.mac,
    encKey: rnd(pair.cipher.keyLength),
    iv: rnd(pair.cipher.ivLength),
    macKey: pair.mac ? rnd(pair.mac.keyLength) : new Uint8Array(0),
  };
}

Deno.test("the packet reader refuses random bytes cleanly for every cipher and MAC", () => {
  const before = Deno.memoryUsage().heapUsed;
  let inputs = 0;
  for (const pair of pairs) {
    const keys = keysFor(pair);
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 200 }),
        fc.option(fc.integer({ min: 0, max: 70000 }), { nil: undefined }),
        (bytes, length) => {
          inputs++;
          const opener = new PacketOpener();
          opener.setKeys(keys);
          const header = new Uint8Array(opener.headerSize);
          header.set(bytes.subarray(0, header.length));
          // Half the time the length field is plausible, so finish() is reached too.
          if (length !== undefined && (pair.mac?.etm || pair.cipher.createAead)) {
            new DataView(header.buffer).setUint32(0, length);
          }
          try {
            const need = opener.begin(header);
            assert.ok(need >= 0 && need < 300_000, `need ${need}`);
            const rest = new Uint8Array(need);
            rest.set(bytes.subarray(0, need));
            opener.finish(rest);
          } catch (e) {
            assert.ok(e instanceof PacketError, `${pair.cipher.name}/${pair.mac?.name}: ${e}`);
          }
        },
      ),
      { numRuns: 400 },
    );
  }
  assert.ok(inputs >= 400 * pairs.length);
  const grown = Deno.memoryUsage().heapUsed - before;
  assert.ok(grown < 200 * 1024 * 1024, `heap grew by ${grown} bytes`);
});

Deno.test("a sealed packet with one random byte flipped is refused for every cipher and MAC", () => {
  for (const pair of pairs) {
    const keys = keysFor(pair);
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (payload, where, flip) => {
          const sealer = new PacketSealer();
          const opener = new PacketOpener();
          sealer.setKeys(keys);
          opener.setKeys(keys);
          const wire = sealer.seal(payload);
          const i = where % wire.length;
          wire[i] = wire[i]! ^ flip;
          try {
            const need = opener.begin(wire.subarray(0, opener.headerSize));
            if (opener.headerSize + need !== wire.length) return; // the length itself was hit
            const got = opener.finish(wire.subarray(opener.headerSize));
            assert.fail(`accepted a tampered packet (${got.length} bytes)`);
          } catch (e) {
            assert.ok(e instanceof PacketError, `${pair.cipher.name}/${pair.mac?.name}: ${e}`);
          }
        },
      ),
      { numRuns: 200 },
    );
  }
});

Deno.test("the version-line reader ends cleanly on any byte stream", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc.constantFrom("SSH-2.0-x\r\n", "SSH-1.5-y\n", "HTTP/1.1 200 OK\r\n", "\r", "\n")
            .map((s) => new TextEncoder().encode(s)),
        ),
        { maxLength: 8 },
      ),
      async (chunks) => {
        const [client, server] = memoryPipe();
        for (const c of chunks) await server.write(c);
        server.close();
        const reader = new BufferedReader(client, "version", 1000);
        try {
          const v = await readServerVersion(reader, new Tracer());
          assert.ok(v.line.startsWith("SSH-"));
        } catch (e) {
          assert.ok(e instanceof SshError, String(e));
          assert.equal(e.stage, "version");
        }
      },
    ),
    { numRuns: 3000 },
  );
});
