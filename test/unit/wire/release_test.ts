/** Early release of per-packet memory (lib/wire/release.ts). */

import assert from "node:assert/strict";
import { keep, releasable, release, RELEASE_MIN } from "../../../lib/wire/release.ts";

Deno.test("release() frees an array marked releasable at once: every view of it is empty after", () => {
  const bytes = releasable(new Uint8Array(32 * 1024).fill(7));
  const view = bytes.subarray(100, 200);
  release(view);
  assert.equal(bytes.length, 0);
  assert.equal(view.length, 0);
  assert.equal(bytes.buffer.byteLength, 0);
});

Deno.test("release() leaves alone arrays never marked, small ones, and slices of a larger buffer", () => {
  const unmarked = new Uint8Array(RELEASE_MIN * 2);
  release(unmarked);
  assert.equal(unmarked.length, RELEASE_MIN * 2);
  const small = releasable(new Uint8Array(RELEASE_MIN - 1));
  release(small);
  assert.equal(small.length, RELEASE_MIN - 1);
  // A slice of a shared pool (another user's bytes sit beside it) is never marked.
  const pool = new Uint8Array(4 * RELEASE_MIN);
  const slice = releasable(pool.subarray(0, RELEASE_MIN));
  release(slice);
  assert.equal(slice.length, RELEASE_MIN);
  assert.equal(pool.length, 4 * RELEASE_MIN);
});

Deno.test("keep() withdraws the mark, and a second release() is harmless", () => {
  const kept = releasable(new Uint8Array(RELEASE_MIN));
  keep(kept.subarray(1));
  release(kept);
  assert.equal(kept.length, RELEASE_MIN);
  const once = releasable(new Uint8Array(RELEASE_MIN));
  release(once);
  release(once);
  assert.equal(once.length, 0);
});
