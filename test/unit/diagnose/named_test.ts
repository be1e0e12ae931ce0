/**
 * Named causes (lib/diagnose/catalogue/named.ts): each recognised from its pattern in the trace
 * and, where one failure is not enough, the run's earlier attempts; and not from a look-alike.
 */

import assert from "node:assert/strict";
import {
  hasPenalties,
  kexInitBytes,
  NAMED_CAUSES,
  type PriorAttempt,
  priorAttempt,
} from "../../../lib/diagnose/catalogue/named.ts";
import { rankCauses } from "../../../lib/diagnose/causes.ts";
import { explainFailure } from "../../../lib/diagnose/explain.ts";
import { SshError } from "../../../lib/errors/mod.ts";
import type { TraceEvent } from "../../../lib/trace.ts";
import type { AlgorithmLists } from "../../../lib/types.ts";
import { untypedError } from "../../helpers/errors.ts";

const LISTS = (kex: string[]): AlgorithmLists => ({
  kex,
  hostKey: ["ssh-ed25519"],
  cipherC2S: ["aes128-ctr"],
  cipherS2C: ["aes128-ctr"],
  macC2S: ["hmac-sha2-256"],
  macS2C: ["hmac-sha2-256"],
  compressionC2S: ["none"],
  compressionS2C: ["none"],
});

const ev = (t: number, e: Record<string, unknown>) => ({ t, ...e }) as unknown as TraceEvent;
const sent = (t: number) => ev(t, { stage: "version", type: "sent", line: "SSH-2.0-sshtrace" });
const received = (t: number, software = "OpenSSH_10.0") =>
  ev(t, {
    stage: "version",
    type: "received",
    line: `SSH-2.0-${software}`,
    protocol: "2.0",
    software,
    comments: null,
    note: null,
  });
const kexinit = (t: number, type: string, kex: string[]) =>
  ev(t, { stage: "kex", type, lists: LISTS(kex), cookie: "", firstKexPacketFollows: false });
const negotiated = (t: number, kex: string) =>
  ev(t, {
    stage: "kex",
    type: "negotiated",
    decisions: [{
      category: "kex",
      ours: [kex],
      theirs: [kex],
      chosen: kex,
      rule: "",
      firstChoiceMatch: true,
    }],
    strict: true,
    extInfo: true,
  });
const OPENSSH_10: PriorAttempt = { code: null, software: "OpenSSH_10.0", authenticated: false };

Deno.test("named causes: every one has its words, codes, a pattern and a unique id", () => {
  const ids = NAMED_CAUSES.map((c) => c.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const c of NAMED_CAUSES) {
    assert.ok(c.title && c.explanation && c.pattern && c.codes.length, c.id);
    assert.ok(c.fix, `${c.id} has a fix`);
  }
});

Deno.test("per-source-penalties: OpenSSH's 'Not allowed at this time', with the earlier attempts as evidence", () => {
  const e = untypedError("version", "version.refused", "refused", {
    reason: "penalty",
    preVersionLines: ["Not allowed at this time"],
  });
  const x = explainFailure(e, [], [OPENSSH_10, OPENSSH_10]);
  assert.equal(x.cause, "per-source-penalties");
  assert.match(x.title, /PerSourcePenalties/);
  assert.match(x.fix ?? "", /PerSourcePenaltyExemptList/);
  assert.match(x.fix ?? "", /wait at least 17 s/);
  assert.deepEqual(x.evidence, [
    'the server answered "Not allowed at this time" instead of a version line',
    "an earlier connection of this run was answered by OpenSSH_10.0 (9.8 or later)",
    "2 earlier connections of this run ended without authenticating",
  ]);
});

Deno.test("per-source-penalties: a close before the version line after OpenSSH 9.8+ answered this run", () => {
  for (const code of ["version.closed", "version.connection-reset", "connect.reset"]) {
    const x = explainFailure(untypedError(code.split(".")[0] as "version", code, "closed"), [], [
      OPENSSH_10,
    ]);
    assert.equal(x.cause, "per-source-penalties", code);
  }
  // OpenSSH 9.2 has no penalties: the same close is a full server (vty-exhausted).
  const old = explainFailure(untypedError("version", "version.closed", "closed"), [], [
    { ...OPENSSH_10, software: "OpenSSH_9.2p1" },
  ]);
  assert.equal(old.cause, "vty-exhausted");
  // Without history: the code's own words.
  assert.equal(explainFailure(untypedError("version", "version.closed", "closed")).cause, null);
  assert.equal(hasPenalties("OpenSSH_9.8p1"), true);
  assert.equal(hasPenalties("OpenSSH_9.7"), false);
  assert.equal(hasPenalties("dropbear_2022.83"), false);
});

Deno.test("vty-exhausted: 'Exceeded MaxStartups', DISCONNECT 12, or a close after earlier answers", () => {
  const maxStartups = untypedError("version", "version.refused", "refused", {
    reason: "maxstartups",
    preVersionLines: ["Exceeded MaxStartups"],
  });
  assert.equal(explainFailure(maxStartups).cause, "vty-exhausted");
  const tooMany = untypedError("kex", "kex.disconnect", "too many", {
    reasonCode: 12,
    reason: "TOO_MANY_CONNECTIONS",
    description: "",
  });
  assert.equal(explainFailure(tooMany).cause, "vty-exhausted");
  const x = explainFailure(untypedError("version", "version.closed", "closed"), [], [
    { code: null, software: "Cisco-1.25", authenticated: true },
  ]);
  assert.equal(x.cause, "vty-exhausted");
  assert.match(x.evidence.join("\n"), /answered \(Cisco-1\.25\)/);
  assert.match(x.fix ?? "", /clear line vty/);
});

Deno.test("mtu-stall: a kex timeout after the server's KEXINIT, with a post-quantum share in flight", () => {
  const events = [
    sent(1),
    received(2),
    kexinit(3, "kexinit-sent", ["mlkem768x25519-sha256", "curve25519-sha256"]),
    kexinit(4, "kexinit-received", ["mlkem768x25519-sha256", "curve25519-sha256"]),
    negotiated(5, "mlkem768x25519-sha256"),
  ];
  const e = untypedError("kex", "kex.timeout", "timeout", { timeoutMs: 1500 });
  const x = explainFailure(e, events);
  assert.equal(x.cause, "mtu-stall");
  assert.match(x.evidence.join("\n"), /mlkem768x25519-sha256 key share \(1232 bytes\)/);
  // The smallest exchange and host key the server offers.
  assert.match(x.fix ?? "", /^--kex curve25519-sha256 --hostkeys ssh-ed25519 /);
  assert.equal(x.opensshFix, "-o KexAlgorithms=curve25519-sha256 -o HostKeyAlgorithms=ssh-ed25519");
  // A small exchange that stalls is a slow server, not the path.
  const small = explainFailure(e, [...events.slice(0, 4), negotiated(5, "curve25519-sha256")]);
  assert.equal(small.cause, null);
  // A long KEXINIT of our own (a wide legacy offer) counts too.
  const names = Array.from({ length: 40 }, (_, i) => `diffie-hellman-group-exchange-sha${i}`);
  assert.ok(kexInitBytes(LISTS(names)) > 1000);
});

Deno.test("greeting-first: our version line before the greeting, then no server KEXINIT", () => {
  const e = untypedError("kex", "kex.closed", "closed");
  const x = explainFailure(e, [sent(1), received(150), kexinit(151, "kexinit-sent", [])]);
  assert.equal(x.cause, "greeting-first");
  assert.match(x.evidence[0]!, /149 ms before the server's greeting/);
  assert.match(x.libraryFix ?? "", /versionAfterGreeting: true/);
  // A greeting at once (a server that hangs up after the version exchange): not this.
  const quick = explainFailure(e, [sent(1), received(3), kexinit(4, "kexinit-sent", [])]);
  assert.equal(quick.cause, null);
  // The server's KEXINIT arrived: something else.
  const later = explainFailure(e, [
    sent(1),
    received(150),
    kexinit(151, "kexinit-received", ["curve25519-sha256"]),
  ]);
  assert.equal(later.cause, null);
});

Deno.test("rsa-sha1-required and rsa-sha1-refused: which side wants SHA-1, from the attempts and server-sig-algs", () => {
  const tried = [{
    method: "publickey",
    detail: "k",
    result: "failure",
    algorithm: "rsa-sha2-256",
  }];
  const required = explainFailure(
    untypedError("auth", "auth.rsa-sha2-refused", "refused", {
      methods: ["publickey"],
      tried,
      algorithms: ["rsa-sha2-256"],
    }),
  );
  assert.equal(required.cause, "rsa-sha1-required");
  assert.deepEqual(required.evidence, [
    "the server sent no server-sig-algs (RFC 8308)",
    "refused: rsa-sha2-256 (failure)",
  ]);
  const extInfo = ev(5, {
    stage: "kex",
    type: "ext-info",
    extensions: ["server-sig-algs"],
    serverSigAlgs: ["ssh-ed25519", "rsa-sha2-256", "rsa-sha2-512"],
  });
  const refused = explainFailure(
    untypedError("auth", "auth.key-rejected", "rejected", {
      methods: ["publickey"],
      tried: [{ method: "publickey", detail: "k", result: "failure", algorithm: "ssh-rsa" }],
      acceptsPublickey: true,
    }),
    [extInfo],
  );
  assert.equal(refused.cause, "rsa-sha1-refused");
  assert.match(refused.fix ?? "", /rsa-sha2-512/);
  // A key simply not authorized (rsa-sha2 signature, rejected): no named cause.
  const plain = explainFailure(
    untypedError("auth", "auth.key-rejected", "rejected", {
      methods: ["publickey"],
      tried: [{ method: "publickey", detail: "k", result: "failure", algorithm: "rsa-sha2-512" }],
      acceptsPublickey: true,
    }),
    [extInfo],
  );
  assert.equal(plain.cause, null);
});

Deno.test("rankCauses(): a named cause groups its failures, and PerSourcePenalties ranks first", () => {
  const kexFail = {
    label: "modern",
    error: untypedError("kex", "kex.no-common-kex", "x"),
    events: [],
  };
  const blocked = {
    label: "no-gex",
    error: untypedError("version", "version.closed", "closed"),
    events: [],
    history: [OPENSSH_10],
  };
  const causes = rankCauses([kexFail, blocked, { ...blocked, label: "rsa-sha1" }]);
  assert.equal(causes[0]!.cause, "per-source-penalties");
  assert.deepEqual(causes[0]!.evidence, ["no-gex: closed", "rsa-sha1: closed"]);
  assert.ok(causes[0]!.signs.length > 0);
  assert.equal(causes[1]!.code, "kex.no-common-kex");
  assert.equal(causes[1]!.cause, null);
});

Deno.test("priorAttempt() reads the software and a login from a trace", () => {
  const p = priorAttempt(null, [
    received(1, "OpenSSH_9.9"),
    ev(2, { stage: "auth", type: "success", method: "password" }),
  ]);
  assert.deepEqual(p, { code: null, software: "OpenSSH_9.9", authenticated: true });
  assert.ok(new SshError("kex", "kex.timeout", "t", { timeoutMs: 1 }));
});

Deno.test("docs/doctor.md lists every named cause with its title and codes", async () => {
  const doc = await Deno.readTextFile(new URL("../../../docs/doctor.md", import.meta.url));
  for (const c of NAMED_CAUSES) {
    const row = doc.split("\n").find((l) => l.startsWith(`| \`${c.id}\`:`));
    assert.ok(row, `docs/doctor.md has no row for ${c.id}`);
    assert.ok(row.includes(c.title), `${c.id}: title`);
    for (const code of c.codes) assert.ok(row.includes(`\`${code}\``), `${c.id}: ${code}`);
  }
});
