/**
 * lib/client/early_connect.ts: the TCP connection begun before the client loads, and the sntrup761
 * key pair begun with it when (and only when) the first key exchange offered is a sntrup761
 * hybrid; the key pair is a real one, made on the main thread, handed out once.
 */

import assert from "node:assert/strict";
import { connectEarly } from "../../../lib/client/early_connect.ts";
import {
  discardPrefetchedKeyPair,
  takeSntrup761KeyPair,
} from "../../../lib/algorithms/kem_prefetch.ts";
import { sntrup761 } from "../../../lib/algorithms/pq.ts";
import { Tracer } from "../../../lib/trace.ts";

async function withListener(body: (port: number) => Promise<void>): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) accepted.push(conn);
  })();
  try {
    await body((listener.addr as Deno.NetAddr).port);
  } finally {
    listener.close();
    await accepting.catch(() => {});
    for (const conn of accepted) conn.close();
  }
}

const open = (port: number, kex?: string[]) =>
  connectEarly({
    host: "127.0.0.1",
    port,
    timeoutMs: 5000,
    tracer: new Tracer(),
    ...(kex ? { algorithms: { kex } } : {}),
  });

Deno.test("a first offer of sntrup761x25519 begins its key pair with the connection, once", async () => {
  await withListener(async (port) => {
    const connection = await open(port, ["^sntrup761x25519-sha512@openssh.com"]);
    try {
      const keys = await takeSntrup761KeyPair();
      assert.ok(keys, "no key pair was made ahead");
      assert.equal(keys.where, "on the main thread during the connect");
      const { kem } = await sntrup761();
      const { ciphertext, sharedSecret } = kem.encapsulate(keys.publicKey);
      assert.deepEqual(kem.decapsulate(ciphertext, keys.secretKey), sharedSecret);
      assert.equal(await takeSntrup761KeyPair(), null, "a key pair was handed out twice");
    } finally {
      connection.stream.close();
    }
  });
});

Deno.test("the default offer (mlkem768x25519 first) and a classical one make no sntrup761 key pair", async () => {
  await withListener(async (port) => {
    for (const kex of [undefined, ["curve25519-sha256"], ["+sntrup761x25519-sha512"]]) {
      const connection = await open(port, kex);
      try {
        assert.equal(await takeSntrup761KeyPair(), null, `made ahead for ${kex}`);
      } finally {
        connection.stream.close();
        discardPrefetchedKeyPair();
      }
    }
  });
});
