import assert from "node:assert/strict";
import { Connection } from "../../../lib/connection/mux.ts";
import { encodeTerminalModes, type Session } from "../../../lib/connection/session.ts";
import { decodeTerminalModes } from "../../../lib/connection/terminal_modes.ts";
import { SshError } from "../../../lib/errors/mod.ts";
import type { SshReader } from "../../../lib/wire/buffer.ts";
import { MSG } from "../../../lib/wire/messages.ts";
import { readText, server, settle } from "../../helpers/connection_messages.ts";
import { FakeTransport } from "../../helpers/fake_transport.ts";

interface Ctx {
  t: FakeTransport;
  conn: Connection;
  session: Session;
  id: number;
  remote: number;
}

async function open(): Promise<Ctx> {
  const t = new FakeTransport();
  const conn = new Connection(t);
  const pending = conn.openSession();
  const r = await t.expect(MSG.CHANNEL_OPEN);
  r.text();
  const id = r.uint32();
  const remote = 300 + id;
  t.push(server.openConfirmation(id, remote, 1 << 20, 32768));
  return { t, conn, session: await pending, id, remote };
}

/** Takes the next CHANNEL_REQUEST, checks recipient, type and want_reply; returns its data. */
async function expectRequest(
  ctx: Ctx,
  type: string,
  wantReply: boolean,
): Promise<SshReader> {
  const r = await ctx.t.expect(MSG.CHANNEL_REQUEST);
  assert.equal(r.uint32(), ctx.remote);
  assert.equal(r.text(), type);
  assert.equal(r.bool(), wantReply);
  return r;
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<SshError> {
  let caught: unknown = null;
  try {
    await promise;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof SshError, `expected SshError ${code}, got ${caught}`);
  assert.equal(caught.code, code);
  return caught;
}

function infoMessages(t: FakeTransport): string[] {
  return t.tracer.events.flatMap((e) => (e.type === "info" ? [e.message] : []));
}

Deno.test("exec() separates stdout from stderr and reports the exit status when the channel closes", async () => {
  const ctx = await open();
  const { t, session, id } = ctx;
  const exec = session.exec("show version");
  const r = await expectRequest(ctx, "exec", true);
  assert.equal(r.text(), "show version");
  r.end();
  t.push(server.success(id));
  await exec;
  t.push(server.data(id, "Cisco IOS "));
  t.push(server.extendedData(id, 1, "warning: x\n"));
  t.push(server.data(id, "15.2\n"));
  t.push(server.exitStatus(id, 3));
  t.push(server.eof(id));
  t.push(server.close(id));
  const [out, err, exit] = await Promise.all([
    readText(session.stdout),
    readText(session.stderr),
    session.exit,
  ]);
  assert.equal(out, "Cisco IOS 15.2\n");
  assert.equal(err, "warning: x\n");
  assert.deepEqual(exit, { status: 3, signal: null });
  assert.equal(session.bytesIn, 26);
  const infos = infoMessages(t);
  assert.ok(infos.includes("channel 0: exit status 3"));
  assert.ok(infos.some((m) => /channel 0 closed: 26 bytes in, 0 bytes out/.test(m)));
  assert.ok(infos.every((m) => !m.includes("Cisco") && !m.includes("show version")));
  t.end();
});

Deno.test("exit resolves with the signal name, core dump flag and message from exit-signal", async () => {
  const { t, session, id } = await open();
  t.push(server.exitSignal(id, "TERM", true, "killed by admin"));
  t.push(server.close(id));
  assert.deepEqual(await session.exit, {
    status: null,
    signal: { name: "TERM", coreDumped: true, message: "killed by admin" },
  });
  assert.ok(infoMessages(t).includes("channel 0: killed by signal TERM (core dumped)"));
  t.end();
});

Deno.test("a duplicate exit-status is ignored and traced, keeping the first", async () => {
  const { t, conn, session, id } = await open();
  t.push(server.exitStatus(id, 0));
  t.push(server.exitStatus(id, 1));
  t.push(server.close(id));
  assert.deepEqual(await session.exit, { status: 0, signal: null });
  assert.ok(infoMessages(t).includes("channel 0: ignored a second exit-status 1 (first was 0)"));
  assert.equal(conn.ended, false);
  t.end();
});

Deno.test("requestPty() sends term, size and modes, and traces the grant", async () => {
  const ctx = await open();
  const { t, session, id } = ctx;
  const modes = encodeTerminalModes({ ECHO: 1, TTY_OP_OSPEED: 38400 });
  const pty = session.requestPty({ term: "vt100", cols: 132, rows: 50, modes });
  const r = await expectRequest(ctx, "pty-req", true);
  assert.equal(r.text(), "vt100");
  assert.deepEqual([r.uint32(), r.uint32(), r.uint32(), r.uint32()], [132, 50, 0, 0]);
  assert.deepEqual(r.string(), modes);
  r.end();
  t.push(server.success(id));
  await pty;
  assert.ok(infoMessages(t).includes("pty granted (vt100 132x50)"));
  t.end();
});

Deno.test("requestPty() without modes sends those of a sane terminal: ICRNL, ONLCR, OPOST, ^C", async () => {
  const ctx = await open();
  const pty = ctx.session.requestPty({ term: "xterm", cols: 80, rows: 24, widthPx: 640 });
  const r = await expectRequest(ctx, "pty-req", true);
  r.text();
  assert.deepEqual([r.uint32(), r.uint32(), r.uint32(), r.uint32()], [80, 24, 640, 0]);
  const { modes } = decodeTerminalModes(r.string());
  assert.equal(modes.ICRNL, 1);
  assert.equal(modes.ONLCR, 1);
  assert.equal(modes.OPOST, 1);
  assert.equal(modes.VINTR, 3);
  assert.equal(modes.TTY_OP_OSPEED, 38400);
  ctx.t.push(server.success(ctx.id));
  await pty;
  ctx.t.end();
});

Deno.test("a refused pty, exec or shell becomes a session-stage error with its own code", async () => {
  const ctx = await open();
  const { t, session, id } = ctx;
  const pty = session.requestPty({ term: "xterm", cols: 80, rows: 24 });
  const exec = session.exec("secret-command --password hunter2");
  const shell = session.shell();
  await expectRequest(ctx, "pty-req", true);
  await expectRequest(ctx, "exec", true);
  await expectRequest(ctx, "shell", true);
  t.push(server.failure(id));
  t.push(server.failure(id));
  t.push(server.failure(id));
  const e1 = await rejectsWith(pty, "session.pty-refused");
  const e2 = await rejectsWith(exec, "session.exec-refused");
  await rejectsWith(shell, "session.shell-refused");
  assert.equal(e1.stage, "session");
  assert.equal(e1.exitCode, 15);
  assert.ok(!e2.message.includes("hunter2"));
  assert.ok(!JSON.stringify(t.tracer.events).includes("hunter2"));
  t.end();
});

Deno.test("channel request replies are matched to requests in order", async () => {
  const ctx = await open();
  const { t, session, id } = ctx;
  const env = session.setEnv("LANG", "C");
  const sub = session.subsystem("netconf");
  const r = await expectRequest(ctx, "env", true);
  assert.equal(r.text(), "LANG");
  assert.equal(r.text(), "C");
  assert.equal((await expectRequest(ctx, "subsystem", true)).text(), "netconf");
  t.push(server.failure(id));
  t.push(server.success(id));
  assert.equal(await env, false);
  assert.equal(await sub, true);
  t.end();
});

Deno.test("setEnvironment() sends every variable before any answer and traces each answer by name", async () => {
  const ctx = await open();
  const { t, session, id } = ctx;
  const done = session.setEnvironment([["LANG", "C.UTF-8"], ["LC_ALL", "C"], ["TOKEN", "s3cret"]]);
  const exec = session.exec("true");
  // Three env requests and the exec are all out before the server has answered anything.
  for (const [name, value] of [["LANG", "C.UTF-8"], ["LC_ALL", "C"], ["TOKEN", "s3cret"]]) {
    const r = await expectRequest(ctx, "env", true);
    assert.deepEqual([r.text(), r.text()], [name, value]);
  }
  await expectRequest(ctx, "exec", true);
  t.push(server.success(id));
  t.push(server.failure(id));
  t.push(server.success(id));
  t.push(server.success(id));
  await done;
  await exec;
  const infos = t.tracer.events.flatMap((e) => e.type === "info" ? [e.message] : []);
  const env = infos.filter((m) => m.startsWith("environment"));
  assert.deepEqual(env, [
    "environment LANG: accepted",
    "environment LC_ALL: refused by the server",
    "environment TOKEN: accepted",
  ]);
  assert.ok(infos.indexOf(env[2]!) < infos.indexOf("command started (exec)"), infos.join("\n"));
  assert.ok(!JSON.stringify(t.tracer.events).includes("s3cret"), "values are never traced");
  t.end();
});

Deno.test("windowChange() and signal() are sent without asking for a reply", async () => {
  const ctx = await open();
  await ctx.session.windowChange(100, 40);
  const r = await expectRequest(ctx, "window-change", false);
  assert.deepEqual([r.uint32(), r.uint32(), r.uint32(), r.uint32()], [100, 40, 0, 0]);
  r.end();
  await ctx.session.signal("INT");
  const s = await expectRequest(ctx, "signal", false);
  assert.equal(s.text(), "INT");
  s.end();
  ctx.t.end();
});

Deno.test("a server channel request wanting a reply that we do not know gets CHANNEL_FAILURE", async () => {
  const { t, id, remote } = await open();
  t.push(server.request(id, "keepalive@openssh.com", true));
  const r = await t.expect(MSG.CHANNEL_FAILURE);
  assert.equal(r.uint32(), remote);
  t.push(server.request(id, "eow@openssh.com", false));
  await settle();
  assert.equal(t.unread.length, 0);
  t.end();
});

Deno.test("an unsolicited CHANNEL_SUCCESS is traced and ignored", async () => {
  const { t, conn, id } = await open();
  t.push(server.success(id));
  await settle();
  assert.equal(conn.ended, false);
  assert.ok(infoMessages(t).some((m) => m.includes("answers no request")));
  t.end();
});

Deno.test("a request left unanswered when the server closes the channel is rejected", async () => {
  const ctx = await open();
  const exec = ctx.session.exec("x");
  await expectRequest(ctx, "exec", true);
  ctx.t.push(server.close(ctx.id));
  await rejectsWith(exec, "session.channel-closed");
  ctx.t.end();
});

Deno.test("a cancelled stderr stream does not hold the window shut for stdout", async () => {
  const t = new FakeTransport();
  const conn = new Connection(t, { windowSize: 8, maxPacket: 8 });
  const pending = conn.openSession();
  await t.expect(MSG.CHANNEL_OPEN);
  t.push(server.openConfirmation(0, 1, 100, 100));
  const session = await pending;
  await session.stderr.cancel();
  t.push(server.extendedData(0, 1, "errors!!"));
  const r = await t.expect(MSG.CHANNEL_WINDOW_ADJUST);
  r.uint32();
  assert.equal(r.uint32(), 8);
  t.push(server.data(0, "out"));
  t.push(server.eof(0));
  t.push(server.close(0));
  assert.equal(await readText(session.stdout), "out");
  t.end();
});

Deno.test("encodeTerminalModes() writes opcode + uint32 pairs ending with TTY_OP_END", () => {
  const bytes = encodeTerminalModes({ VINTR: 3, ECHO: 0, icanon: 1, ISIG: 1, TTY_OP_ISPEED: 9600 });
  assert.deepEqual([...bytes], [
    ...[1, 0, 0, 0, 3],
    ...[53, 0, 0, 0, 0],
    ...[51, 0, 0, 0, 1],
    ...[50, 0, 0, 0, 1],
    ...[128, 0, 0, 0x25, 0x80],
    0,
  ]);
  assert.deepEqual([...encodeTerminalModes({})], [0]);
  assert.deepEqual([...encodeTerminalModes({ VEOF: 4 })], [5, 0, 0, 0, 4, 0]);
});

Deno.test("encodeTerminalModes() rejects an unknown mode name and an out-of-range value", () => {
  assert.throws(
    () => encodeTerminalModes({ NOPE: 1 }),
    (e: unknown) => e instanceof SshError && e.code === "usage.unknown-terminal-mode",
  );
  assert.throws(
    () => encodeTerminalModes({ ECHO: -1 }),
    (e: unknown) => e instanceof SshError && e.code === "usage.invalid-terminal-mode",
  );
});
