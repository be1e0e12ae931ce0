/** The PerSourcePenalties pacer: a model of OpenSSH's penalty, kept under a budget. */

import assert from "node:assert/strict";
import { PenaltyPacer } from "../../../lib/doctor/penalty.ts";

function clock() {
  let now = 0;
  const slept: number[] = [];
  return {
    now: () => now,
    sleep: (ms: number) => {
      slept.push(ms);
      now += ms;
      return Promise.resolve();
    },
    advance: (ms: number) => (now += ms),
    slept,
  };
}

Deno.test("PenaltyPacer does not pace a server without PerSourcePenalties", async () => {
  const c = clock();
  const p = new PenaltyPacer({ now: c.now, sleep: c.sleep });
  for (let i = 0; i < 30; i++) p.record("noauth", "OpenSSH_9.2p1", await p.beforeConnect());
  assert.deepEqual(c.slept, []);
  assert.equal(p.active, false);
});

Deno.test("PenaltyPacer lets a burst through, then paces an OpenSSH 9.8+ server at the drain rate", async () => {
  const c = clock();
  const p = new PenaltyPacer({ now: c.now, sleep: c.sleep, budgetS: 10 });
  for (let i = 0; i < 20; i++) {
    p.record("noauth", "OpenSSH_10.0", await p.beforeConnect());
    c.advance(50); // a short connection
    assert.ok(p.penaltyS <= 10, `penalty ${p.penaltyS} s after ${i + 1} connections`);
  }
  // The first ~10 connections go at once; then about one a second (the penalty drains 1 s/s).
  assert.ok(c.slept.length >= 9 && c.slept.length <= 11, String(c.slept));
  assert.ok(c.slept.every((ms) => ms <= 1000), String(c.slept));
  assert.ok(p.waitedMs > 8000 && p.waitedMs < 11000, String(p.waitedMs));
});

Deno.test("PenaltyPacer counts a failed login five times, a login not at all; budget 0 turns it off", async () => {
  const c = clock();
  const p = new PenaltyPacer({ now: c.now, sleep: c.sleep });
  p.record("authfail", "OpenSSH_9.8p1");
  p.record("authenticated", "OpenSSH_9.8p1");
  assert.equal(p.penaltyS, 5);
  p.record("authfail", "OpenSSH_9.8p1", await p.beforeConnect(5)); // 10 s: at the budget
  assert.deepEqual(c.slept, []);
  p.record("authfail", "OpenSSH_9.8p1", await p.beforeConnect(5)); // 15 s: wait 5 s first
  assert.deepEqual(c.slept, [5000]);
  const off = new PenaltyPacer({ now: c.now, sleep: c.sleep, budgetS: 0 });
  off.record("authfail", "OpenSSH_10.0");
  off.record("authfail", "OpenSSH_10.0");
  off.record("authfail", "OpenSSH_10.0");
  await off.beforeConnect(5);
  assert.deepEqual(c.slept, [5000]);
});

Deno.test("PenaltyPacer shares its budget between connections made in parallel", async () => {
  const c = clock();
  const p = new PenaltyPacer({ now: c.now, sleep: c.sleep, budgetS: 3 });
  p.record("noauth", "OpenSSH_10.0"); // the server is known to penalise: 1 s
  // Four connections at once: the budget (3 s) lets two through, the others wait.
  const reserved = await Promise.all([1, 2, 3, 4].map(() => p.beforeConnect()));
  assert.deepEqual(reserved, [1, 1, 1, 1]);
  assert.ok(c.slept.length >= 2, String(c.slept));
  assert.ok(p.penaltyS <= 3, String(p.penaltyS));
});
