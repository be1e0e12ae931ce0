/**
 * The ladder's logic with scripted attempts: which rung answers which failure, kept and undone
 * changes, and the rungs that need no real device (small window, shorter kex, ssh-rsa, pacing).
 */

import assert from "node:assert/strict";
import type { ConnectOptions } from "../../../lib/client.ts";
import { type AttemptRunner, runDoctor } from "../../../lib/doctor/ladder.ts";
import type { Attempt } from "../../../lib/doctor/rungs.ts";
import { SshError } from "../../../lib/errors/mod.ts";
import type { TraceEvent } from "../../../lib/trace.ts";

const connect: ConnectOptions = { host: "sw1", port: 22, user: "admin" };

const sentKexInit = {
  t: 0,
  stage: "kex",
  type: "kexinit-sent",
  lists: {
    kex: [],
    hostKey: [],
    cipherC2S: [],
    cipherS2C: [],
    macC2S: [],
    macS2C: [],
    compressionC2S: [],
    compressionS2C: [],
  },
  cookie: "",
} as TraceEvent;

/** The server's KEXINIT arrived (so the stall came after it). */
const receivedKexInit = {
  t: 0,
  stage: "kex",
  type: "kexinit-received",
  lists: {
    kex: ["mlkem768x25519-sha256", "curve25519-sha256", "curve25519-sha256@libssh.org"],
    hostKey: ["rsa-sha2-512", "ssh-ed25519"],
    cipherC2S: ["aes128-ctr"],
    cipherS2C: ["aes128-ctr"],
    macC2S: ["hmac-sha2-256"],
    macS2C: ["hmac-sha2-256"],
    compressionC2S: ["none"],
    compressionS2C: ["none"],
  },
  firstKexPacketFollows: false,
} as TraceEvent;

/** A runner that fails with `fail(options)` (or works when it returns null); records options. */
function scripted(fail: (o: ConnectOptions) => Attempt["error"], events: TraceEvent[] = []) {
  const seen: ConnectOptions[] = [];
  const runner: AttemptRunner = (options) => {
    seen.push(options);
    return Promise.resolve({ error: fail(options), events });
  };
  return { runner, seen };
}

const rungs = (r: Awaited<ReturnType<typeof runDoctor>>) =>
  r.rungs.filter((x) => x.outcome !== "skipped").map((x) => [x.rung, x.outcome, x.kept]);

Deno.test("a channel that stalls gets a 16 KiB window and packets", async () => {
  const { runner, seen } = scripted((o) =>
    o.windowSize === 16384 ? null : new SshError("data", "data.timeout", "stalled", {
      timeoutMs: 1000,
    })
  );
  const r = await runDoctor({ connect, goal: "command", command: "show ver", attempt: runner });
  assert.deepEqual(rungs(r), [["modern", "failed", true], ["small-window", "ok", true]]);
  assert.equal(seen[1]!.maxPacket, 16384);
  assert.equal(r.working?.window, 16384);
});

Deno.test("a stall right after our KEXINIT gets a short offer and a small key exchange", async () => {
  const { runner, seen } = scripted(
    (o) =>
      o.algorithms?.kex?.some((e) => !/^[-+^]/.test(e)) ? null : new SshError(
        "kex",
        "kex.timeout",
        "no answer",
        { timeoutMs: 1000 },
      ),
    [sentKexInit, receivedKexInit],
  );
  const r = await runDoctor({ connect, attempt: runner });
  assert.deepEqual(rungs(r), [["modern", "failed", true], ["smaller-kex", "ok", true]]);
  assert.deepEqual(seen[1]!.algorithms?.kex, ["curve25519-sha256,curve25519-sha256@libssh.org"]);
  assert.deepEqual(r.working?.only.hostKey, ["ssh-ed25519", "rsa-sha2-512"]);
});

Deno.test("a stall before the server's KEXINIT first tries our version line after its greeting", async () => {
  const { runner, seen } = scripted(
    (o) => o.versionAfterGreeting ? null : new SshError("kex", "kex.closed", "closed", {}),
    [sentKexInit],
  );
  const r = await runDoctor({ connect, attempt: runner });
  assert.deepEqual(rungs(r), [["modern", "failed", true], ["version-after-greeting", "ok", true]]);
  assert.equal(seen[0]!.versionAfterGreeting, undefined);
});

Deno.test("a server refusing rsa-sha2 user signatures gets ssh-rsa ones", async () => {
  const { runner } = scripted((o) =>
    o.auth?.legacy ? null : new SshError("auth", "auth.rsa-sha2-refused", "refused", {
      methods: ["publickey"],
      tried: [],
      algorithms: ["rsa-sha2-512"],
    })
  );
  const r = await runDoctor({ connect, goal: "login", attempt: runner });
  assert.deepEqual(rungs(r), [["modern", "failed", true], ["rsa-sha1", "ok", true]]);
  assert.equal(r.working?.rsaSha1, true);
});

Deno.test("a change that does not help is undone, and the causes name the failure", async () => {
  const { runner } = scripted(() => new SshError("version", "version.closed", "closed", {}));
  const r = await runDoctor({ connect, attempt: runner, sleep: () => Promise.resolve() });
  assert.deepEqual(rungs(r), [["modern", "failed", true], ["slow-pacing", "failed", false]]);
  assert.equal(r.working, null);
  assert.equal(r.causes[0]?.code, "version.closed");
  assert.equal(r.causes[0]?.evidence.length, 2);
});

Deno.test("a server that drops rapid connections works after a pause", async () => {
  let paused = 0;
  const { runner } = scripted(() =>
    paused ? null : new SshError("connect", "connect.reset", "reset", { host: "sw1", port: 22 })
  );
  const r = await runDoctor({
    connect,
    attempt: runner,
    pacingMs: 2000,
    sleep: (ms) => Promise.resolve(void (paused += ms)),
  });
  assert.deepEqual(rungs(r), [["modern", "failed", true], ["slow-pacing", "ok", true]]);
  assert.equal(paused, 2000);
  assert.equal(r.working?.pacingMs, 2000);
});

Deno.test("PerSourcePenalties stops the ladder: every attempt would lengthen the block", async () => {
  const { runner, seen } = scripted(() =>
    new SshError("version", "version.refused", "Not allowed at this time", {
      reason: "penalty",
      preVersionLines: ["Not allowed at this time"],
    })
  );
  const r = await runDoctor({ connect, attempt: runner, sleep: () => Promise.resolve() });
  assert.equal(seen.length, 1, "one attempt only");
  // The report says why it stopped (the first attempt's record: no rung runs after it).
  assert.deepEqual(r.rungs.map((x) => x.rung), ["modern"]);
  assert.match(r.rungs[0]!.why, /PerSourcePenalties: the ladder stops/);
  assert.equal(r.rungs[0]!.cause, "per-source-penalties");
  assert.match(r.causes[0]!.title, /PerSourcePenalties/);
});

Deno.test("a MaxStartups refusal is retried after a pause", async () => {
  let paused = 0;
  const { runner } = scripted(() =>
    paused ? null : new SshError("version", "version.refused", "Exceeded MaxStartups", {
      reason: "maxstartups",
      preVersionLines: ["Exceeded MaxStartups"],
    })
  );
  const r = await runDoctor({
    connect,
    attempt: runner,
    pacingMs: 10,
    sleep: (ms) => Promise.resolve(void (paused += ms)),
  });
  assert.deepEqual(rungs(r), [["modern", "failed", true], ["slow-pacing", "ok", true]]);
});
