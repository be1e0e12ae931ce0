import assert from "node:assert/strict";
import { explainFailure } from "../../../lib/diagnose/explain.ts";
import { type TraceEvent, Tracer } from "../../../lib/trace.ts";
import { EXIT_CODES } from "../../../lib/types.ts";
import { VERSION_LIMITS } from "../../../lib/transport/version.ts";
import {
  expectTraceError,
  openScripted,
  type ScriptedServerOptions,
  startScriptedServer,
} from "../../helpers/scripted_server.ts";

/** Runs the client against a scripted server until the first key exchange is done. */
async function handshake(options: ScriptedServerOptions, timeoutMs = 2000) {
  const server = startScriptedServer(options);
  const tracer = new Tracer();
  try {
    const t = await openScripted(server, { tracer, timeoutMs });
    await t.disconnect();
    await server.done;
    assert.equal(server.error, null);
    assert.equal(server.kexCount, 1);
    return { t, tracer, server };
  } finally {
    server.close();
    await server.done;
  }
}

/** Runs the client against a scripted server and returns the error it fails with. */
async function versionFailure(options: ScriptedServerOptions, timeoutMs = 2000) {
  const server = startScriptedServer(options);
  const tracer = new Tracer();
  try {
    const result = await expectTraceError(openScripted(server, { tracer, timeoutMs }));
    assert.equal(result.error.stage, "version");
    assert.equal(result.error.exitCode, EXIT_CODES.version);
    assert.equal(result.error.exitCode, 11);
    assert.ok(result.ms < timeoutMs + 500, `took ${result.ms} ms`);
    return { ...result, tracer };
  } finally {
    server.close();
    await server.done;
  }
}

const ofType = (events: TraceEvent[], type: string) => events.filter((e) => e.type === type);

Deno.test("the client accepts an SSH-2.0 server and parses software and comments", async () => {
  const { t, tracer } = await handshake({ versionLine: "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3" });
  assert.equal(t.serverVersion?.protocol, "2.0");
  assert.equal(t.serverVersion?.software, "OpenSSH_9.2p1");
  assert.equal(t.serverVersion?.comments, "Debian-2+deb12u3");
  assert.deepEqual(t.serverVersion?.preVersionLines, []);
  const [received] = ofType(tracer.events, "received");
  assert.equal(received?.stage, "version");
  assert.equal((received as { note: string | null }).note, null);
  assert.match((ofType(tracer.events, "sent")[0] as { line: string }).line, /^SSH-2\.0-sshtrace_/);
});

Deno.test("the client accepts SSH-1.99 and notes it in the version event", async () => {
  const { t, tracer } = await handshake({ versionLine: "SSH-1.99-Cisco-1.25" });
  assert.equal(t.serverVersion?.protocol, "1.99");
  assert.equal(t.serverVersion?.software, "Cisco-1.25");
  const received = ofType(tracer.events, "received")[0] as { note: string | null };
  assert.match(received.note ?? "", /SSH-1 compatible server \(SSH-1\.99\), using 2\.0/);
});

Deno.test("an SSH-1.5 server fails with version.ssh1-only and a fix", async () => {
  const { error } = await versionFailure({ versionLine: "SSH-1.5-Cisco-1.25" });
  assert.equal(error.code, "version.ssh1-only");
  assert.match(error.message, /speaks only SSH protocol 1\.5 \(SSH-1\)/);
  assert.equal(error.details.versionLine, "SSH-1.5-Cisco-1.25");
  assert.match(String(explainFailure(error).fix), /ip ssh version 2/);
});

Deno.test("an SSH-3.0 server fails with version.unsupported", async () => {
  const { error } = await versionFailure({ versionLine: "SSH-3.0-Future" });
  assert.equal(error.code, "version.unsupported");
  assert.match(error.message, /protocol version 3\.0/);
});

Deno.test("lines before the version line are kept and traced", async () => {
  const lines = ["Welcome to switch-42", "", "Unauthorised access prohibited"];
  const { t, tracer } = await handshake({ preVersionLines: lines });
  assert.deepEqual(t.serverVersion?.preVersionLines, lines);
  const traced = ofType(tracer.events, "pre-version-line").map((e) => (e as { line: string }).line);
  assert.deepEqual(traced, lines);
});

Deno.test("64 pre-version lines are accepted", async () => {
  const lines = Array.from({ length: VERSION_LIMITS.maxPreVersionLines }, (_, i) => `banner ${i}`);
  const { t } = await handshake({ preVersionLines: lines });
  assert.equal(t.serverVersion?.preVersionLines.length, 64);
});

Deno.test("65 pre-version lines fail with version.too-many-lines", async () => {
  const lines = Array.from({ length: 65 }, (_, i) => `banner ${i}`);
  const { error, tracer } = await versionFailure({ preVersionLines: lines });
  assert.equal(error.code, "version.too-many-lines");
  assert.match(error.message, /more than 64 lines without an SSH version line/);
  assert.equal(ofType(tracer.events, "pre-version-line").length, 65);
  assert.ok((error.details.preVersionLines as string[]).length <= 5, "details stay bounded");
});

Deno.test("a 2000-byte pre-version line fails with version.line-too-long", async () => {
  const { error } = await versionFailure({ preVersionLines: ["x".repeat(2000)] });
  assert.equal(error.code, "version.line-too-long");
  assert.match(error.message, /longer than 1024 bytes before its version line \(starts "x{80}"\)/);
});

Deno.test("a version line over 255 bytes fails with version.line-too-long", async () => {
  const { error } = await versionFailure({ versionLine: "SSH-2.0-" + "v".repeat(300) });
  assert.equal(error.code, "version.line-too-long");
  assert.match(error.message, /version line is 308 bytes; at most 253 are allowed/);
});

Deno.test("a version line ending in a lone CR is accepted", async () => {
  const { t } = await handshake({
    preVersionLines: ["old switch banner"],
    versionLine: "SSH-2.0-OldSwitch",
    lineEnding: "\r",
  });
  assert.equal(t.serverVersion?.line, "SSH-2.0-OldSwitch");
  assert.deepEqual(t.serverVersion?.preVersionLines, ["old switch banner"]);
});

Deno.test("a version line ending in a bare LF is accepted", async () => {
  const { t } = await handshake({
    preVersionLines: ["banner"],
    versionLine: "SSH-2.0-LfOnly",
    lineEnding: "\n",
  });
  assert.equal(t.serverVersion?.line, "SSH-2.0-LfOnly");
  assert.deepEqual(t.serverVersion?.preVersionLines, ["banner"]);
});

Deno.test("SSH-2.0- with an empty software version is accepted (and hashed as sent)", async () => {
  const { t } = await handshake({ versionLine: "SSH-2.0-" });
  assert.equal(t.serverVersion?.software, "");
  assert.equal(t.serverVersion?.comments, null);
});

Deno.test("a NUL byte in the version line fails with version.malformed, the line kept as sent", async () => {
  const { error } = await versionFailure({ versionLine: "SSH-2.0-Open\0SSH" });
  assert.equal(error.code, "version.malformed");
  assert.match(error.message, /contains a NUL byte/);
  // Data, not prose: renderers sanitize it where it is printed (NUL shows as \x00).
  assert.equal(error.details.versionLine, "SSH-2.0-Open\0SSH");
});

Deno.test("a line that only looks like SSH fails with version.malformed", async () => {
  const { error } = await versionFailure({ versionLine: "SSH-2.0" });
  assert.equal(error.code, "version.malformed");
  assert.match(error.message, /malformed version line "SSH-2\.0"/);
});

Deno.test("a silent server fails with version.timeout within the limit", async () => {
  const { error, ms } = await versionFailure({ at: { start: [{ silent: true }] } }, 1000);
  assert.equal(error.code, "version.timeout");
  assert.match(
    error.message,
    /no complete version line after 1\.\d s \(budget 1 s\) during stage version/,
  );
  assert.ok(ms >= 950, `gave up after only ${ms} ms`);
});

Deno.test("a server that closes before sending anything fails with version.closed", async () => {
  const { error, ms } = await versionFailure({ at: { start: [{ close: true }] } });
  assert.equal(error.code, "version.closed");
  assert.match(error.message, /closed the connection before sending anything/);
  assert.ok(ms < 500, `took ${ms} ms`);
});

Deno.test("an HTTP server fails with version.not-ssh naming what it looks like", async () => {
  const greeting = new TextEncoder().encode(
    "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
  );
  const { error } = await versionFailure({ greeting });
  assert.equal(error.code, "version.not-ssh");
  assert.match(error.message, /not an SSH server: it looks like an HTTP server/);
  assert.match(error.message, /HTTP\/1\.1 400 Bad Request/);
});

Deno.test("a server that sends banner text then closes fails with version.not-ssh", async () => {
  const greeting = new TextEncoder().encode("Too many connections\r\n");
  const { error } = await versionFailure({ greeting, at: { "before-kexinit": [{ close: true }] } });
  assert.equal(error.code, "version.not-ssh");
  assert.match(error.message, /closed the connection without sending an SSH version line/);
  assert.deepEqual(error.details.preVersionLines, ["Too many connections"]);
});
