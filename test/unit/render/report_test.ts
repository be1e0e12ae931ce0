import assert from "node:assert/strict";
import { buildReport, isAeadCipher, type Report } from "../../../lib/render/report.ts";
import { createNdjsonSink, reportToJson } from "../../../lib/render/ndjson.ts";
import {
  CLIENT_LISTS,
  decisions,
  kexFailureError,
  kexFailureEvents,
  noCommonError,
  SERVER_LISTS,
  SHA1_KEX_SERVER_LISTS,
  SSH_RSA_RISK,
  SUCCESS_TIMINGS,
  successEvents,
  timed,
} from "../../helpers/render_fixture.ts";
import { untypedError } from "../../helpers/errors.ts";
import { loadExplainer } from "../../../lib/diagnose/explainer.ts";

// A failure is explained with the failure catalogue, which a failing run loads on its way out
// (lib/run.ts); these tests hand the renderers failures directly.
await loadExplainer();

Deno.test("buildReport() describes a successful run in every field", () => {
  const report = buildReport(successEvents(), {
    host: "127.0.0.1",
    port: 2222,
    user: "root",
    error: null,
    timings: SUCCESS_TIMINGS,
  });
  const expected: Report = {
    ok: true,
    exitCode: 0,
    failedStage: null,
    error: null,
    grade: null,
    slow: [],
    config: null,
    server: {
      host: "127.0.0.1",
      port: 2222,
      versionLine: "SSH-1.99-OpenSSH_9.2p1 Debian-2+deb12u3",
      protocol: "1.99",
      software: "OpenSSH_9.2p1",
      preVersionLines: ["Welcome to the lab switch"],
      quirks: [],
    },
    kex: {
      algorithm: "curve25519-sha256",
      hostKeyAlgorithm: "ssh-rsa",
      cipher: { c2s: "chacha20-poly1305@openssh.com", s2c: "chacha20-poly1305@openssh.com" },
      mac: { c2s: "<implicit>", s2c: "<implicit>" },
      compression: { c2s: "none", s2c: "none" },
      strict: true,
      client: CLIENT_LISTS,
      server: SERVER_LISTS,
      legacy: [{ category: "hostKey", algorithm: "ssh-rsa", risk: SSH_RSA_RISK }],
      cryptoBackend: { name: "openssl", detail: "OpenSSL 3.0.19 27 Jan 2026 (libcrypto.so.3)" },
      kemBackend: null,
    },
    hostKey: {
      type: "ssh-rsa",
      fingerprint: "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s",
      md5: "MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48",
      status: "known",
      bits: 3072,
      file: "/root/.ssh/known_hosts",
      line: 7,
    },
    auth: {
      user: "root",
      methods: ["publickey", "password"],
      banner: "Authorized use only.\r\nAll activity is logged.\r\n",
      attempts: [
        { method: "none", detail: "", result: "failure" },
        {
          method: "publickey",
          detail: "ssh-ed25519 SHA256:Zk0pL2 from /root/.ssh/id_ed25519",
          result: "success",
        },
      ],
      success: true,
    },
    timings: SUCCESS_TIMINGS,
  };
  assert.deepEqual(report, expected);
  assert.ok(!("events" in report));
});

Deno.test("buildReport() reports a failure at kex with nulls for the stages not reached", () => {
  const report = buildReport(kexFailureEvents(), {
    host: "switch.lab",
    port: 22,
    user: "admin",
    error: kexFailureError(),
    timings: { connect: 1.3, version: 1.8 },
  });
  assert.equal(report.ok, false);
  assert.equal(report.exitCode, 12);
  assert.equal(report.failedStage, "kex");
  assert.deepEqual(report.error, {
    stage: "kex",
    code: "kex.no-common-cipherC2S",
    message: "no cipher (client to server) in common with the server",
    title: "no cipher in common with the server",
    explanation: "Cipher: the server offers aes128-cbc, 3des-cbc; we offered " +
      "chacha20-poly1305@openssh.com, aes128-ctr. The smallest change that works: enable " +
      "aes128-cbc (the least harmful of the legacy algorithms the server accepts; better: " +
      "modernise the server's configuration).",
    fix: "--ciphers +aes128-cbc",
    opensshFix: "-o Ciphers=+aes128-cbc",
    libraryFix: '{ algorithms: { cipher: ["+aes128-cbc"] } }',
    securityCost: "aes128-cbc: CBC mode in SSH allows plaintext recovery from a few bits of a " +
      "block (CVE-2008-5161).",
  });
  assert.equal(report.grade, null);
  assert.deepEqual(report.slow, []);
  assert.equal(report.server.host, "switch.lab");
  assert.equal(report.server.software, "OpenSSH_9.2p1");
  assert.ok(report.kex);
  assert.equal(report.kex.algorithm, "curve25519-sha256");
  assert.deepEqual(report.kex.cipher, { c2s: null, s2c: null });
  // No AEAD cipher was agreed, so the MAC is the negotiated one.
  assert.deepEqual(report.kex.mac, {
    c2s: "hmac-sha2-256-etm@openssh.com",
    s2c: "hmac-sha2-256-etm@openssh.com",
  });
  assert.deepEqual(report.kex.server?.cipherC2S, ["aes128-cbc", "3des-cbc"]);
  assert.equal(report.hostKey, null);
  assert.equal(report.auth, null);
  assert.deepEqual(report.timings, { connect: 1.3, version: 1.8 });
});

Deno.test("buildReport() leaves kex fields null when the failure came before negotiation", () => {
  const events = kexFailureEvents().filter((e) =>
    e.type !== "negotiated" && e.type !== "kexinit-received"
  );
  const report = buildReport(events, {
    host: "h",
    port: 22,
    error: untypedError("kex", "kex.timeout", "no KEXINIT from the server"),
    timings: {},
  });
  assert.deepEqual(report.kex, {
    algorithm: null,
    hostKeyAlgorithm: null,
    cipher: { c2s: null, s2c: null },
    mac: { c2s: null, s2c: null },
    compression: { c2s: null, s2c: null },
    strict: null,
    client: CLIENT_LISTS,
    server: null,
    legacy: [],
    cryptoBackend: null,
    kemBackend: null,
  });
  // No server KEXINIT in the trace, so no cheaper method to name: the catalogue's generic fix.
  assert.deepEqual(report.error, {
    stage: "kex",
    code: "kex.timeout",
    message: "no KEXINIT from the server",
    title: "the server stopped answering during the key exchange",
    explanation: "Old switches and small CPUs can take many seconds for a large " +
      "Diffie-Hellman group (4096 or 8192 bits). A cheaper method (curve25519, or a 2048-bit " +
      "group) or a longer limit helps.",
    fix: "--timeout 60",
    opensshFix: "-o ConnectTimeout=60",
    libraryFix: "{ timeoutMs: 60_000 }",
    securityCost: null,
  });
  assert.equal(report.auth, null);
});

Deno.test("buildReport() nulls everything after connect when the connection fails", () => {
  const report = buildReport(timed([[0, { stage: "connect", type: "begin" }]]), {
    host: "10.0.0.1",
    port: 22,
    error: untypedError("connect", "connect.refused", "connection refused"),
    timings: {},
    exitCode: 10,
  });
  assert.deepEqual(report.server, {
    host: "10.0.0.1",
    port: 22,
    versionLine: null,
    protocol: null,
    software: null,
    preVersionLines: null,
    quirks: [],
  });
  assert.equal(report.kex, null);
  assert.equal(report.hostKey, null);
  assert.equal(report.exitCode, 10);
  assert.equal(report.failedStage, "connect");
});

Deno.test("buildReport() records a partial success and an unanswered attempt", () => {
  const report = buildReport(
    timed([
      [1, { stage: "auth", type: "attempt", method: "publickey", detail: "ssh-ed25519" }],
      [2, {
        stage: "auth",
        type: "failure",
        method: "publickey",
        canContinue: ["password"],
        partialSuccess: true,
      }],
      [3, { stage: "auth", type: "attempt", method: "password", detail: "password provided" }],
    ]),
    {
      host: "h",
      port: 22,
      user: "u",
      error: untypedError("auth", "auth.timeout", "no answer"),
      timings: {},
    },
  );
  assert.deepEqual(report.auth, {
    user: "u",
    methods: ["password"],
    banner: null,
    attempts: [
      { method: "publickey", detail: "ssh-ed25519", result: "partial" },
      { method: "password", detail: "password provided", result: "no reply" },
    ],
    success: false,
  });
  assert.equal(report.exitCode, 14);
});

Deno.test("buildReport() lists every legacy choice with its risk", () => {
  const client = { ...CLIENT_LISTS, kex: ["diffie-hellman-group1-sha1"] };
  const d = decisions(client, { ...SERVER_LISTS, kex: ["diffie-hellman-group1-sha1"] });
  d[0].legacyRisk = "1024-bit group and SHA-1";
  const report = buildReport(
    timed([[1, { stage: "kex", type: "negotiated", decisions: d, strict: false, extInfo: false }]]),
    { host: "h", port: 22, error: null, timings: {} },
  );
  assert.deepEqual(report.kex?.legacy, [
    { category: "kex", algorithm: "diffie-hellman-group1-sha1", risk: "1024-bit group and SHA-1" },
    { category: "hostKey", algorithm: "ssh-rsa", risk: SSH_RSA_RISK },
  ]);
  assert.equal(report.kex?.strict, false);
});

Deno.test("buildReport() explains a missing kex with the flag and OpenSSH option to enable it", () => {
  const report = buildReport([], {
    host: "h",
    port: 22,
    error: noCommonError(CLIENT_LISTS, SHA1_KEX_SERVER_LISTS),
    timings: {},
  });
  assert.equal(report.error?.code, "kex.no-common-kex");
  assert.equal(report.error?.title, "no key exchange method in common with the server");
  assert.equal(report.error?.fix, "--kex +diffie-hellman-group14-sha1");
  assert.equal(report.error?.opensshFix, "-o KexAlgorithms=+diffie-hellman-group14-sha1");
  assert.equal(
    report.error?.securityCost,
    "diffie-hellman-group14-sha1: SHA-1 exchange hash: SHA-1 is broken for collisions; " +
      "use a SHA-2 method.",
  );
});

Deno.test("buildReport() uses the stage's generic words for an unknown code, and no fix from its details", () => {
  const report = buildReport([], {
    host: "h",
    port: 22,
    error: untypedError("session", "session.mystery", "no shell", { fix: "--no-pty" }),
    timings: {},
  });
  assert.deepEqual(report.error, {
    stage: "session",
    code: "session.mystery",
    message: "no shell",
    title: "the session could not be started",
    explanation: "The server refused or broke off the session after logging in.",
    // Fix text comes only from the catalogue (its session entry has none), never from details.
    fix: null,
    opensshFix: null,
    libraryFix: null,
    securityCost: null,
  });
  assert.equal(report.exitCode, 15);
});

Deno.test("buildReport() carries the grade and every slow stage from their events", () => {
  const reasons = [
    { deduction: 20, reason: "CBC ciphers offered", algorithms: ["aes128-cbc", "3des-cbc"] },
    { deduction: 10, reason: "SHA-1 host key signatures offered", algorithms: ["ssh-rsa"] },
  ];
  const report = buildReport(
    timed([
      [1, { stage: "kex", type: "grade", letter: "C", score: 70, reasons }],
      [2, { stage: "version", type: "slow", ms: 1500, thresholdMs: 1000, why: "reverse DNS" }],
      [3, { stage: "auth", type: "slow", ms: 4200.5, thresholdMs: 3000, why: "waits on PAM" }],
    ]),
    { host: "h", port: 22, error: null, timings: {} },
  );
  assert.deepEqual(report.grade, { letter: "C", score: 70, reasons, partial: [] });
  assert.deepEqual(report.slow, [
    { stage: "version", ms: 1500, why: "reverse DNS" },
    { stage: "auth", ms: 4200.5, why: "waits on PAM" },
  ]);
});

Deno.test("buildReport() carries what a grade could not check (partial)", () => {
  const partial = ["the RSA host key's size is not graded: the key exchange ended before it"];
  const report = buildReport(
    timed([[1, { stage: "kex", type: "grade", letter: "F", score: 25, reasons: [], partial }]]),
    { host: "h", port: 22, error: null, timings: {} },
  );
  assert.deepEqual(report.grade?.partial, partial);
});

Deno.test("buildReport() gives grade null and no slow stages when no such event was emitted", () => {
  const report = buildReport(kexFailureEvents(), {
    host: "h",
    port: 22,
    error: null,
    timings: { kex: 99999 },
  });
  assert.equal(report.grade, null);
  assert.deepEqual(report.slow, []);
});

Deno.test("isAeadCipher() knows the OpenSSH AEAD ciphers", () => {
  assert.equal(isAeadCipher("chacha20-poly1305@openssh.com"), true);
  assert.equal(isAeadCipher("aes128-gcm@openssh.com"), true);
  assert.equal(isAeadCipher("aes256-gcm@openssh.com"), true);
  assert.equal(isAeadCipher("aes128-ctr"), false);
  assert.equal(isAeadCipher(null), false);
});

Deno.test("reportToJson() writes 2-space JSON that parses back to the report", () => {
  const report = buildReport(successEvents(), {
    host: "127.0.0.1",
    port: 2222,
    error: null,
    timings: SUCCESS_TIMINGS,
  });
  const json = reportToJson(report);
  assert.ok(json.startsWith('{\n  "ok": true,\n  "exitCode": 0,\n  "failedStage": null,\n'));
  assert.ok(json.endsWith("}\n"));
  assert.deepEqual(JSON.parse(json), report);
});

Deno.test("NDJSON sink writes one line per event that parses back to the event", () => {
  const events = successEvents();
  events.push(...timed([[41, {
    stage: "session",
    type: "debug",
    message: "evil\x1b[2J\nnext",
    alwaysDisplay: true,
  }]]));
  const chunks: string[] = [];
  const sink = createNdjsonSink((text) => chunks.push(text));
  for (const e of events) sink(e);
  assert.equal(chunks.length, events.length);
  const text = chunks.join("");
  assert.ok(!text.includes("\x1b"));
  const lines = text.split("\n");
  assert.equal(lines.pop(), "");
  assert.equal(lines.length, events.length);
  assert.deepEqual(lines.map((l) => JSON.parse(l)), events);
});

Deno.test("buildReport() keeps per-channel timings when a run used channels, and leaves them out otherwise", () => {
  const base = { host: "h", port: 22, error: null, timings: { data: 30 } };
  assert.equal("channelTimings" in buildReport([], base), false);
  assert.equal("channelTimings" in buildReport([], { ...base, channelTimings: {} }), false);
  const report = buildReport([], { ...base, channelTimings: { "data#0": 30, "data#1": 12.5 } });
  assert.deepEqual(report.channelTimings, { "data#0": 30, "data#1": 12.5 });
});
