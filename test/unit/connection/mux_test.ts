import assert from "node:assert/strict";
import { Connection, MAX_QUEUED_MESSAGES } from "../../../lib/connection/mux.ts";
import { startKeepalive } from "../../../lib/connection/keepalive.ts";
import type { Session } from "../../../lib/connection/session.ts";
import type { ChannelOptions } from "../../../lib/connection/types.ts";
import { SshError } from "../../../lib/errors/mod.ts";
import { decodeText, SshReader } from "../../../lib/wire/buffer.ts";
import { MSG } from "../../../lib/wire/messages.ts";
import { readText, server, settle } from "../../helpers/connection_messages.ts";
import { FakeTransport } from "../../helpers/fake_transport.ts";

interface Opened {
  session: Session;
  /** Our channel number (what the server addresses). */
  id: number;
  /** The server's channel number (what we address). */
  remote: number;
}

async function openSession(
  t: FakeTransport,
  conn: Connection,
  peer: { window?: number; maxPacket?: number } = {},
  ours: ChannelOptions = {},
): Promise<Opened> {
  const pending = conn.openSession(ours);
  const r = await t.expect(MSG.CHANNEL_OPEN);
  assert.equal(r.text(), "session");
  const id = r.uint32();
  const remote = 100 + id;
  t.push(server.openConfirmation(id, remote, peer.window ?? 65536, peer.maxPacket ?? 32768));
  return { session: await pending, id, remote };
}

/** Runs a command on the session (exec, answered with success): its channel's stage is data. */
async function startCommand(t: FakeTransport, opened: Opened): Promise<void> {
  const pending = opened.session.exec("true");
  const r = await t.expect(MSG.CHANNEL_REQUEST);
  assert.equal(r.uint32(), opened.remote);
  assert.equal(r.text(), "exec");
  t.push(server.success(opened.id));
  await pending;
  assert.equal(opened.session.channel.stage, "data");
}

function setup(options: ChannelOptions = {}): { t: FakeTransport; conn: Connection } {
  const t = new FakeTransport();
  const conn = new Connection(t, options);
  conn.start();
  return { t, conn };
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

Deno.test("openSession() advertises a 2 MiB window and 32 KiB max packet and resolves on confirmation", async () => {
  const { t, conn } = setup();
  const pending = conn.openSession();
  const r = await t.expect(MSG.CHANNEL_OPEN);
  assert.equal(r.text(), "session");
  assert.equal(r.uint32(), 0);
  assert.equal(r.uint32(), 2 * 1024 * 1024);
  assert.equal(r.uint32(), 32 * 1024);
  r.end();
  t.push(server.openConfirmation(0, 7, 1000, 500));
  const session = await pending;
  assert.equal(session.channel.remoteId, 7);
  assert.equal(session.channel.remoteWindow, 1000);
  assert.equal(session.channel.remoteMaxPacket, 500);
  const info = t.tracer.events.find((e) => e.type === "info" && e.message.includes("opened"));
  assert.ok(info && info.type === "info");
  assert.match(info.message, /server window 1000 bytes, server max packet 500 bytes/);
  t.end();
});

Deno.test("openSession() advertises the window and max packet given in options (16 KiB for old devices)", async () => {
  const { t, conn } = setup({ maxPacket: 16384 });
  const first = conn.openSession();
  let r = await t.expect(MSG.CHANNEL_OPEN);
  r.text();
  r.uint32();
  assert.equal(r.uint32(), 2 * 1024 * 1024);
  assert.equal(r.uint32(), 16384);
  t.push(server.openConfirmation(0, 1, 100, 100));
  await first;
  const second = conn.openSession({ windowSize: 4096, maxPacket: 1024 });
  r = await t.expect(MSG.CHANNEL_OPEN);
  r.text();
  assert.equal(r.uint32(), 1);
  assert.equal(r.uint32(), 4096);
  assert.equal(r.uint32(), 1024);
  t.push(server.openConfirmation(1, 2, 100, 100));
  await second;
  t.end();
});

Deno.test("new Connection() rejects a zero window size as a usage error", () => {
  assert.throws(
    () => new Connection(new FakeTransport(), { windowSize: 0 }),
    (e: unknown) => e instanceof SshError && e.code === "usage.invalid-channel-option",
  );
});

Deno.test("openSession() rejects with session.channel-open-refused carrying the reason code and text", async () => {
  const { t, conn } = setup();
  const pending = conn.openSession();
  await t.expect(MSG.CHANNEL_OPEN);
  t.push(server.openFailure(0, 4, "no more sessions"));
  const error = await rejectsWith(pending, "session.channel-open-refused");
  assert.equal(error.stage, "session");
  assert.equal(error.details.reasonCode, 4);
  assert.equal(error.details.reason, "resource shortage");
  assert.equal(error.details.description, "no more sessions");
  assert.match(error.message, /resource shortage \(code 4\): no more sessions/);
  assert.equal(conn.channelCount, 0);
  // The connection itself carries on.
  const again = conn.openSession();
  await t.expect(MSG.CHANNEL_OPEN);
  t.push(server.openConfirmation(1, 9, 100, 100));
  assert.equal((await again).channel.remoteId, 9);
  t.end();
});

Deno.test("Connection answers a server GLOBAL_REQUEST wanting a reply with REQUEST_FAILURE and ignores hostkeys-00", async () => {
  const { t } = setup();
  t.push(server.globalRequest("hostkeys-00@openssh.com", false, new Uint8Array([0, 0, 0, 0])));
  t.push(server.globalRequest("keepalive@openssh.com", true));
  const reply = await t.nextSent();
  assert.deepEqual([...reply], [MSG.REQUEST_FAILURE]);
  await settle();
  assert.equal(t.unread.length, 0);
  t.end();
});

Deno.test("Connection refuses a server-initiated CHANNEL_OPEN as administratively prohibited", async () => {
  const { t, conn } = setup();
  t.push(server.channelOpen("x11", 42));
  const r = await t.expect(MSG.CHANNEL_OPEN_FAILURE);
  assert.equal(r.uint32(), 42);
  assert.equal(r.uint32(), 1);
  assert.match(r.text(), /x11/);
  assert.equal(r.text(), "");
  r.end();
  assert.equal(conn.ended, false);
  t.end();
});

Deno.test("globalRequest() matches replies in order: failure is false, success is true or its data", async () => {
  const { t, conn } = setup();
  const a = conn.globalRequest("one@example.com", true);
  const b = conn.globalRequest("tcpip-forward", true, new Uint8Array([1, 2]));
  const c = conn.globalRequest("three@example.com", true);
  let r = await t.expect(MSG.GLOBAL_REQUEST);
  assert.equal(r.text(), "one@example.com");
  assert.equal(r.bool(), true);
  r = await t.expect(MSG.GLOBAL_REQUEST);
  assert.equal(r.text(), "tcpip-forward");
  r.bool();
  assert.deepEqual([...r.rest()], [1, 2]);
  await t.expect(MSG.GLOBAL_REQUEST);
  t.push(server.requestFailure());
  t.push(server.requestSuccess(new Uint8Array([0, 0, 0x1f, 0x90])));
  t.push(server.requestSuccess());
  assert.equal(await a, false);
  assert.deepEqual([...(await b as Uint8Array)], [0, 0, 0x1f, 0x90]);
  assert.equal(await c, true);
  assert.equal(await conn.globalRequest("no-reply@example.com", false), true);
  t.end();
});

Deno.test("write() splits data by the server's max packet and waits for WINDOW_ADJUST", async () => {
  const { t, conn } = setup();
  const { session, remote } = await openSession(t, conn, { window: 10, maxPacket: 4 });
  let done = false;
  const writing = session.write(new TextEncoder().encode("abcdefghijklmno")).then(() => {
    done = true;
  });
  const chunks: string[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await t.expect(MSG.CHANNEL_DATA);
    assert.equal(r.uint32(), remote);
    chunks.push(decodeText(r.string()));
  }
  assert.deepEqual(chunks, ["abcd", "efgh", "ij"]);
  await settle();
  assert.equal(t.unread.length, 0, "nothing more may be sent while the window is closed");
  assert.equal(done, false);
  assert.equal(session.channel.remoteWindow, 0);
  t.push(server.windowAdjust(0, 3));
  let r = await t.expect(MSG.CHANNEL_DATA);
  r.uint32();
  assert.equal(decodeText(r.string()), "klm");
  await settle();
  assert.equal(done, false);
  t.push(server.windowAdjust(0, 100));
  r = await t.expect(MSG.CHANNEL_DATA);
  r.uint32();
  assert.equal(decodeText(r.string()), "no");
  await writing;
  assert.equal(session.bytesOut, 15);
  assert.equal(session.channel.remoteWindow, 98);
  t.end();
});

Deno.test("Connection sends WINDOW_ADJUST only for bytes the consumer has read", async () => {
  const { t, conn } = setup();
  const { session, id, remote } = await openSession(t, conn, {}, { windowSize: 8, maxPacket: 4 });
  t.push(server.data(id, "aaaa"));
  t.push(server.data(id, "bbbb"));
  await settle();
  assert.equal(session.channel.localWindowLeft, 0);
  assert.equal(t.unread.length, 0, "no adjust before anything is read");
  const reader = session.stdout.getReader();
  assert.equal(decodeText((await reader.read()).value!), "aaaa");
  // The window is empty, so the 4 bytes read are credited at once (not the 4 still unread).
  let r = await t.expect(MSG.CHANNEL_WINDOW_ADJUST);
  assert.equal(r.uint32(), remote);
  assert.equal(r.uint32(), 4);
  assert.equal(session.channel.localWindowLeft, 4);
  // With half the window left, 4 bytes owed are not yet worth an adjust.
  assert.equal(decodeText((await reader.read()).value!), "bbbb");
  await settle();
  assert.equal(t.unread.length, 0);
  t.push(server.data(id, "xxxx"));
  assert.equal(decodeText((await reader.read()).value!), "xxxx");
  r = await t.expect(MSG.CHANNEL_WINDOW_ADJUST);
  r.uint32();
  assert.equal(r.uint32(), 8);
  assert.equal(session.channel.localWindowLeft, 8);
  // The reopened window can be used in full.
  t.push(server.data(id, "cccc"));
  t.push(server.data(id, "dddd"));
  assert.equal(decodeText((await reader.read()).value!), "cccc");
  assert.equal(session.bytesIn, 20);
  assert.equal(conn.ended, false);
  reader.releaseLock();
  t.end();
});

Deno.test("Connection tops up a 2 MiB window after 256 KiB are read, long before it runs low", async () => {
  const { t, conn } = setup();
  const { session, id, remote } = await openSession(t, conn);
  const packet = new Uint8Array(32 * 1024).fill(0x61);
  const reader = session.stdout.getReader();
  // Eight full packets (256 KiB) read: not yet more than the step.
  for (let i = 0; i < 8; i++) {
    t.push(server.data(id, packet));
    await reader.read();
  }
  await settle();
  assert.equal(t.unread.length, 0, "no adjust for 256 KiB");
  t.push(server.data(id, packet));
  await reader.read();
  const r = await t.expect(MSG.CHANNEL_WINDOW_ADJUST);
  assert.equal(r.uint32(), remote);
  assert.equal(r.uint32(), 9 * 32 * 1024);
  assert.equal(session.channel.localWindowLeft, 2 * 1024 * 1024);
  reader.releaseLock();
  t.end();
});

Deno.test("Connection delivers data the server sends after its EOF and credits the window until CLOSE", async () => {
  const { t, conn } = setup();
  const { session, id, remote } = await openSession(t, conn, {}, { windowSize: 8, maxPacket: 4 });
  t.push(server.data(id, "aaaa"));
  t.push(server.eof(id));
  t.push(server.data(id, "bbbb"));
  await settle();
  const reader = session.stdout.getReader();
  assert.equal(decodeText((await reader.read()).value!), "aaaa");
  // The window is still credited after EOF, so a server waiting for window space can finish.
  let r = await t.expect(MSG.CHANNEL_WINDOW_ADJUST);
  assert.equal(r.uint32(), remote);
  assert.equal(r.uint32(), 4);
  t.push(server.data(id, "cccc"));
  await settle();
  assert.equal(decodeText((await reader.read()).value!), "bbbb");
  r = await t.expect(MSG.CHANNEL_WINDOW_ADJUST);
  r.uint32();
  assert.equal(r.uint32(), 4);
  t.push(server.extendedData(id, 1, "e"));
  t.push(server.close(id));
  assert.equal(decodeText((await reader.read()).value!), "cccc");
  assert.equal((await reader.read()).done, true);
  assert.equal(await readText(session.stderr), "e");
  await session.exit;
  assert.equal(session.bytesIn, 13);
  assert.equal(session.channel.bytesAfterEof, 9);
  // One quirk event (not one per packet); the total is in the close line.
  const quirks = t.tracer.events.filter((e) => e.type === "quirk" && e.id === "data-after-eof");
  assert.equal(quirks.length, 1);
  assert.equal(quirks[0]!.stage, "data");
  assert.ok(
    t.tracer.events.some((e) =>
      e.type === "info" &&
      e.message === "channel 0 closed: 13 bytes in (9 of them after the server's EOF), 0 bytes out"
    ),
  );
  assert.equal(conn.ended, false);
  t.end();
});

Deno.test("Connection treats data past our window as a protocol error and disconnects", async () => {
  const { t, conn } = setup();
  const { session, id } = await openSession(t, conn, {}, { windowSize: 8, maxPacket: 8 });
  t.push(server.data(id, "12345"));
  t.push(server.data(id, "6789"));
  const error = await rejectsWith(session.exit, "data.window-exceeded");
  assert.equal(error.stage, "data");
  assert.match(error.message, /4 bytes on channel 0 with only 3 bytes left/);
  assert.equal(t.disconnected?.reasonCode, 2);
  assert.equal(await conn.finished, error);
  // Data already received can still be read before the error.
  const reader = session.stdout.getReader();
  assert.equal(decodeText((await reader.read()).value!), "12345");
  await assert.rejects(reader.read(), (e: unknown) => e === error);
  assert.ok(t.tracer.events.some((e) => e.type === "error" && e.code === "data.window-exceeded"));
});

Deno.test("Connection treats data over our max packet as a protocol error", async () => {
  const { t, conn } = setup();
  const { session, id } = await openSession(t, conn, {}, { windowSize: 100, maxPacket: 4 });
  t.push(server.extendedData(id, 1, "12345"));
  await rejectsWith(session.exit, "data.packet-too-large");
  assert.equal(t.disconnected?.reasonCode, 2);
  assert.ok(conn.ended);
});

Deno.test("Connection treats a message for an unknown channel as a protocol error", async () => {
  const { t, conn } = setup();
  const { session } = await openSession(t, conn);
  t.push(server.data(5, "hello"));
  const error = await conn.finished;
  assert.ok(error instanceof SshError);
  assert.equal(error.code, "data.unknown-channel");
  assert.equal(error.details.channel, 5);
  assert.equal(t.disconnected?.reasonCode, 2);
  await rejectsWith(session.exit, "data.unknown-channel");
});

Deno.test("Connection treats a truncated channel message as malformed", async () => {
  const { t, conn } = setup();
  await startCommand(t, await openSession(t, conn));
  t.push(new Uint8Array([MSG.CHANNEL_WINDOW_ADJUST, 0, 0, 0, 0, 1]));
  const error = await conn.finished;
  assert.ok(error instanceof SshError);
  assert.equal(error.code, "data.malformed-message");
});

Deno.test("a malformed message for a channel still being set up is a session-stage error (the channel states its stage)", async () => {
  const { t, conn } = setup();
  await openSession(t, conn);
  t.push(new Uint8Array([MSG.CHANNEL_WINDOW_ADJUST, 0, 0, 0, 0, 1]));
  const error = await conn.finished;
  assert.ok(error instanceof SshError);
  assert.equal(error.stage, "session");
  assert.equal(error.code, "session.malformed-message");
});

Deno.test("EOF and CLOSE go out in order and once; the server's CLOSE is answered with CLOSE", async () => {
  const { t, conn } = setup();
  const { session, id, remote } = await openSession(t, conn);
  const writer = session.stdin.getWriter();
  await writer.write(new TextEncoder().encode("input"));
  await writer.close();
  await session.eof();
  (await t.expect(MSG.CHANNEL_DATA)).uint32();
  const eof = await t.expect(MSG.CHANNEL_EOF);
  assert.equal(eof.uint32(), remote);
  await assert.rejects(session.write(new Uint8Array([1])), /end of input was already sent/);
  t.push(server.eof(id));
  t.push(server.close(id));
  const close = await t.expect(MSG.CHANNEL_CLOSE);
  assert.equal(close.uint32(), remote);
  assert.deepEqual(await session.exit, { status: null, signal: null });
  await session.close();
  await settle();
  assert.equal(t.sentTypes().filter((x) => x === MSG.CHANNEL_CLOSE).length, 1);
  assert.equal(t.sentTypes().filter((x) => x === MSG.CHANNEL_EOF).length, 1);
  assert.equal(conn.channelCount, 0);
  // A message for the forgotten channel is now an error.
  t.push(server.data(id, "late"));
  assert.equal((await conn.finished as SshError).code, "data.unknown-channel");
});

Deno.test("close() sends CLOSE once, abandons a write waiting for window, and waits for the server's CLOSE", async () => {
  const { t, conn } = setup();
  const { session, id, remote } = await openSession(t, conn, { window: 0 });
  const writing = session.write(new Uint8Array([1, 2, 3]));
  let closed = false;
  const closing = session.close().then(() => (closed = true));
  session.close();
  const r = await t.expect(MSG.CHANNEL_CLOSE);
  assert.equal(r.uint32(), remote);
  await rejectsWith(writing, "data.channel-closed");
  await settle();
  assert.equal(closed, false);
  assert.equal(t.unread.length, 0);
  t.push(server.close(id));
  await closing;
  assert.equal(t.sentTypes().filter((x) => x === MSG.CHANNEL_CLOSE).length, 1);
  assert.equal(conn.channelCount, 0);
  t.end();
});

Deno.test("Connection fails every open channel when the server closes the connection", async () => {
  const { t, conn } = setup();
  const a = await openSession(t, conn);
  const b = await openSession(t, conn);
  await startCommand(t, a);
  await startCommand(t, b);
  const opening = conn.openSession();
  await t.expect(MSG.CHANNEL_OPEN);
  t.end();
  const e1 = await rejectsWith(a.session.exit, "data.connection-closed");
  const e2 = await rejectsWith(b.session.exit, "data.connection-closed");
  await rejectsWith(opening, "data.connection-closed");
  assert.equal(e1, e2);
  assert.match(e1.message, /3 channels were open/);
  assert.equal(await conn.finished, e1);
  await rejectsWith(a.session.stdout.getReader().read(), "data.connection-closed");
  await rejectsWith(conn.openSession(), "data.connection-closed");
});

Deno.test("Connection fails channels still being set up with session.connection-closed when the server closes", async () => {
  const { t, conn } = setup();
  const a = await openSession(t, conn);
  const opening = conn.openSession();
  await t.expect(MSG.CHANNEL_OPEN);
  t.end();
  const e = await rejectsWith(a.session.exit, "session.connection-closed");
  assert.equal(e.stage, "session");
  await rejectsWith(opening, "session.connection-closed");
});

Deno.test("Connection fails open channels with the transport's own error", async () => {
  const { t, conn } = setup();
  const { session } = await openSession(t, conn);
  const pending = conn.globalRequest("keepalive@openssh.com", true);
  const broken = new SshError("data", "data.connection-reset", "the connection broke");
  t.fail(broken);
  await assert.rejects(session.exit, (e: unknown) => e === broken);
  await assert.rejects(pending, (e: unknown) => e === broken);
  assert.equal(await conn.finished, broken);
  assert.ok(t.closed);
});

Deno.test("Connection ends cleanly when the server closes with no channel open", async () => {
  const { t, conn } = setup();
  const { id } = await openSession(t, conn);
  t.push(server.close(id));
  await t.expect(MSG.CHANNEL_CLOSE);
  t.end();
  assert.equal(await conn.finished, null);
});

Deno.test("close() sends DISCONNECT and fails open channels, including a write waiting for window", async () => {
  const { t, conn } = setup();
  const { session } = await openSession(t, conn, { window: 1 });
  const writing = session.write(new Uint8Array([1, 2]));
  await t.expect(MSG.CHANNEL_DATA);
  await conn.close();
  assert.equal(t.disconnected?.reasonCode, 11);
  await rejectsWith(writing, "data.connection-closed");
  await rejectsWith(session.exit, "data.connection-closed");
  assert.equal(await conn.finished, null);
  assert.equal(t.unread.length, 0);
});

Deno.test("startKeepalive() fails the connection with data.keepalive-timeout after countMax unanswered requests", async () => {
  const { t, conn } = setup();
  const { session } = await openSession(t, conn);
  const stop = startKeepalive(conn, { intervalMs: 10, countMax: 2 });
  const error = await conn.finished;
  stop();
  assert.ok(error instanceof SshError);
  assert.equal(error.code, "data.keepalive-timeout");
  assert.equal(error.stage, "data");
  assert.equal(error.details.unanswered, 2);
  const requests = t.sent.filter((p) => p[0] === MSG.GLOBAL_REQUEST);
  assert.equal(requests.length, 2);
  const r = new SshReader(requests[0]!.subarray(1));
  assert.equal(r.text(), "keepalive@openssh.com");
  assert.equal(r.bool(), true);
  assert.ok(t.closed);
  await rejectsWith(session.exit, "data.keepalive-timeout");
});

Deno.test("startKeepalive() keeps the connection while the server answers, even with failures", async () => {
  const { t, conn } = setup();
  t.onSend = (p) => {
    if (p[0] === MSG.GLOBAL_REQUEST) queueMicrotask(() => t.push(server.requestFailure()));
  };
  const stop = startKeepalive(conn, { intervalMs: 10, countMax: 1 });
  await settle(120);
  stop();
  assert.equal(conn.ended, false);
  const sent = t.sent.filter((p) => p[0] === MSG.GLOBAL_REQUEST).length;
  assert.ok(sent >= 4, `expected at least 4 keepalives, got ${sent}`);
  // Stopped: no more keepalives go out.
  await settle(40);
  assert.equal(t.sent.filter((p) => p[0] === MSG.GLOBAL_REQUEST).length, sent);
  t.end();
});

Deno.test("startKeepalive() sends nothing while the server keeps sending traffic", async () => {
  const { t, conn } = setup();
  const stop = startKeepalive(conn, { intervalMs: 30, countMax: 0 });
  for (let i = 0; i < 8; i++) {
    t.push(server.globalRequest("hostkeys-00@openssh.com", false));
    await settle(10);
  }
  stop();
  assert.equal(conn.ended, false);
  assert.equal(t.sent.length, 0);
  t.end();
});

Deno.test("startKeepalive() rejects a non-positive interval as a usage error", () => {
  const conn = new Connection(new FakeTransport());
  assert.throws(
    () => startKeepalive(conn, { intervalMs: 0, countMax: 3 }),
    (e: unknown) => e instanceof SshError && e.code === "usage.invalid-keepalive",
  );
});

/** A server that stopped reading: what the client sends is never taken (sends never settle). */
class StalledPeer extends FakeTransport {
  override send(payload: Uint8Array): Promise<void> {
    this.sent.push(payload);
    return new Promise(() => {});
  }
}

const FLOODS = [
  {
    what: "global requests that want a reply",
    message: () => server.globalRequest("keepalive@openssh.com", true),
    stage: "data",
  },
  {
    what: "channel requests that want a reply, on a running command's channel",
    message: () => server.request(0, "keepalive@openssh.com", true),
    stage: "data",
  },
  {
    what: "channel opens, while our session channel is being opened",
    message: () => server.channelOpen("x11", 1),
    stage: "session",
  },
] as const;

for (const { what, message, stage } of FLOODS) {
  Deno.test(`a server sending ${what} and reading none of the answers: ${stage}.reply-flood`, async () => {
    const t = new StalledPeer();
    const conn = new Connection(t);
    conn.start();
    if (what.includes("running command")) {
      const pending = conn.openSession();
      t.push(server.openConfirmation(0, 100, 65536, 32768));
      const session = await pending;
      const exec = session.exec("true");
      t.push(server.success(0));
      await exec;
    } else if (stage === "session") {
      conn.openSession().catch(() => {}); // never confirmed: the channel stays in stage session
    }
    const before = t.receiveTimeouts.length;
    for (let i = 0; i < 3 * MAX_QUEUED_MESSAGES; i++) t.push(message());
    const error = await conn.finished;
    assert.ok(error instanceof SshError, String(error));
    assert.equal(error.code, `${stage}.reply-flood`);
    assert.deepEqual(error.details, {
      queued: MAX_QUEUED_MESSAGES + 1,
      limit: MAX_QUEUED_MESSAGES,
    });
    // It stopped reading once past the limit: the rest of the flood was never taken.
    const read = t.receiveTimeouts.length - before;
    assert.ok(read <= MAX_QUEUED_MESSAGES + 2, `${read} messages read`);
    assert.ok(t.closed, "the connection is closed");
  });
}

Deno.test("answers queue freely below the flood limit (a slow reader is not a flood)", async () => {
  const t = new StalledPeer();
  const conn = new Connection(t);
  conn.start();
  for (let i = 0; i < MAX_QUEUED_MESSAGES; i++) {
    t.push(server.globalRequest("keepalive@openssh.com", true));
  }
  await settle();
  assert.equal(conn.ended, false);
  t.end();
  await conn.finished;
});
