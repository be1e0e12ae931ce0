import assert from "node:assert/strict";
import { holdOpen } from "../../../lib/cli/forward.ts";
import type { Client } from "../../../lib/client.ts";
import { interruptReason, StopReason } from "../../../lib/run.ts";

/** A client whose connection has ended with `error` (null: a clean end). */
function endedClient(error: Error | null): Client {
  return { connection: { finished: Promise.resolve(error) } } as unknown as Client;
}

Deno.test("holdOpen: a clean end after Ctrl-C is the interruption, not success (exit 130, not 0)", async () => {
  const controller = new AbortController();
  controller.abort(interruptReason());
  await assert.rejects(holdOpen(endedClient(null), controller.signal), StopReason);
});

Deno.test("holdOpen: a clean end by the server resolves; its error rejects", async () => {
  await holdOpen(endedClient(null), new AbortController().signal);
  await assert.rejects(holdOpen(endedClient(new Error("reset"))), /reset/);
});
