/** Closing a connection is bounded: a peer that stops reading cannot hold the client. */

import assert from "node:assert/strict";
import { Connection } from "../../../lib/connection/mux.ts";
import { Tracer } from "../../../lib/trace.ts";
import type { MessageTransport } from "../../../lib/transport/message_transport.ts";

/** A transport whose sends never complete once `stall` is set (a peer that stopped reading). */
function stallingTransport() {
  let closed = false;
  let stall = false;
  let wake: ((p: Uint8Array | null) => void) | null = null;
  const t: MessageTransport & { stall(): void; readonly closed: boolean } = {
    tracer: new Tracer(),
    sessionId: new Uint8Array(32),
    serverSigAlgs: null,
    send: () => (stall ? new Promise<void>(() => {}) : Promise.resolve()),
    receive: () =>
      closed ? Promise.resolve(null) : new Promise<Uint8Array | null>((r) => (wake = r)),
    disconnect: () => (stall ? new Promise<void>(() => {}) : Promise.resolve()),
    close: () => {
      closed = true;
      wake?.(null);
    },
    authenticated: () => {},
    stall: () => (stall = true),
    get closed() {
      return closed;
    },
  };
  return t;
}

Deno.test("Connection.close() drops the connection after the reply timeout when the peer stops reading", async () => {
  const t = stallingTransport();
  const c = new Connection(t, { replyTimeoutMs: 300 });
  c.start();
  t.stall();
  const started = performance.now();
  await c.close();
  const ms = performance.now() - started;
  assert.ok(ms < 2000, `close took ${Math.round(ms)} ms`);
  assert.ok(t.closed, "the transport was closed");
  assert.ok(
    t.tracer.events.some((e) => e.type === "info" && /stopped reading/.test(e.message)),
    "the trace says why",
  );
});
