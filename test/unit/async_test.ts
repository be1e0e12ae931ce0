import assert from "node:assert/strict";
import { deferred, LATE, orLate, toError } from "../../lib/async.ts";

Deno.test("orLate() gives the value when the promise settles in time (and clears its timer)", async () => {
  // The test sanitizer fails this test if the 10 s timer were left running.
  assert.equal(await orLate(Promise.resolve(7), 10_000), 7);
});

Deno.test("orLate() gives LATE when time runs out, and a later rejection stays handled", async () => {
  const d = deferred<number>();
  assert.equal(await orLate(d.promise, 5), LATE);
  d.reject(new Error("too late to matter"));
});

Deno.test("orLate() passes a rejection in time through (and clears its timer)", async () => {
  await assert.rejects(orLate(Promise.reject(new Error("refused")), 10_000), /refused/);
});

Deno.test("orLate() with 0 ms waits as long as it takes", async () => {
  const d = deferred<string>();
  const outcome = orLate(d.promise, 0);
  setTimeout(() => d.resolve("eventually"), 20);
  assert.equal(await outcome, "eventually");
});

Deno.test("toError() keeps an Error and wraps anything else", () => {
  const e = new Error("x");
  assert.equal(toError(e), e);
  assert.equal(toError("text").message, "text");
});
