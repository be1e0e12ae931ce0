/**
 * The connection layer against itself: a client `Connection` and a server `Connection` (the
 * role the lab server runs) joined in memory (test/helpers/mux_pair.ts, like Go's muxPair).
 * Data both ways, window exhaustion, max packet splitting, many channels, EOF and close,
 * abrupt transport loss, channel and global requests, refused opens — in both directions.
 */

import assert from "node:assert/strict";
import type { Channel } from "../../../lib/connection/channel.ts";
import type { ConnectionOptions } from "../../../lib/connection/mux.ts";
import { SshError } from "../../../lib/errors/mod.ts";
import { SshReader, SshWriter } from "../../../lib/wire/buffer.ts";
import { MSG } from "../../../lib/wire/messages.ts";
import { muxPair } from "../../helpers/mux_pair.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** What a test server runs for an exec request; resolves with the exit status. */
type Program = (channel: Channel, command: string) => Promise<number>;

/** Server options: session channels accepted, exec runs `program`, env accepted, rest refused. */
function execServer(program: Program, options: ConnectionOptions = {}): ConnectionOptions {
  return {
    ...options,
    onChannelOpen: (open) => {
      if (open.type !== "session") return { refuse: 3, description: `no ${open.type} here` };
      return {
        accept: (channel) => {
          channel.onRequest = (request) => {
            if (request.type === "env") return true;
            if (request.type !== "exec") return false;
            const command = new SshReader(request.data, "exec").text("command");
            if (request.wantReply) channel.reply(true);
            channel.stage = "data";
            program(channel, command).then(async (status) => {
              await channel.request("exit-status", false, new SshWriter().uint32(status).bytes());
              await channel.eof();
              await channel.close();
            }).catch(() => {});
            return null;
          };
        },
      };
    },
  };
}

/** Reads a stream to its end. */
async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Echoes input (upper-cased when the command is `upper`) and writes `err:<command>` to stderr. */
const echo: Program = async (channel, command) => {
  const input = await readAll(channel.readable);
  const text = dec.decode(input);
  await channel.write(enc.encode(command === "upper" ? text.toUpperCase() : text));
  await channel.write(enc.encode(`err:${command}`), 1);
  return command === "upper" ? 0 : 3;
};

/** Fails if `promise` has not settled within `ms` (a hang is a failure, not a stuck test). */
function within<T>(promise: Promise<T>, ms = 2000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

async function settled(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
    return "resolved";
  } catch (e) {
    return e;
  }
}

function dataMessages(sent: Uint8Array[]): Uint8Array[] {
  return sent.filter((p) => p[0] === MSG.CHANNEL_DATA || p[0] === MSG.CHANNEL_EXTENDED_DATA);
}

Deno.test("muxPair: data flows both ways, stderr and exit status arrive, both sides end clean", async () => {
  const { client, server } = muxPair(execServer(echo));
  const session = await client.openSession();
  await session.exec("upper");
  assert.equal(session.channel.stage, "data");
  await session.write("hello over the pair");
  await session.eof();
  const [out, err] = await Promise.all([readAll(session.stdout), readAll(session.stderr)]);
  assert.equal(dec.decode(out), "HELLO OVER THE PAIR");
  assert.equal(dec.decode(err), "err:upper");
  assert.deepEqual(await session.exit, { status: 0, signal: null });
  assert.equal(client.channelCount, 0);
  assert.equal(server.channelCount, 0);
  await client.close();
  assert.equal(await client.finished, null);
  assert.equal(await within(server.finished), null);
});

Deno.test("muxPair: a writer blocks on an exhausted window until the reader takes bytes (WINDOW_ADJUST), then completes", async () => {
  let serverChannel: Channel | null = null;
  let release!: () => void;
  const reading = new Promise<void>((resolve) => (release = resolve));
  const { client, serverEnd } = muxPair(
    execServer(async (channel) => {
      serverChannel = channel;
      await reading;
      return (await readAll(channel.readable)).length === 20000 ? 0 : 1;
    }, { windowSize: 4096, maxPacket: 1024 }),
  );
  const session = await client.openSession();
  assert.equal(session.channel.remoteWindow, 4096);
  assert.equal(session.channel.remoteMaxPacket, 1024);
  await session.exec("sink");
  let done = false;
  const writing = session.write(new Uint8Array(20000).fill(7)).then(() => (done = true));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(done, false, "the write waits while the window is shut");
  assert.equal(session.channel.remoteWindow, 0);
  assert.equal(session.channel.bytesOut, 4096);
  assert.equal(serverChannel!.localWindowLeft, 0);
  assert.equal(serverEnd.sent.filter((p) => p[0] === MSG.CHANNEL_WINDOW_ADJUST).length, 0);
  release();
  await within(writing);
  assert.equal(session.channel.bytesOut, 20000);
  assert.ok(serverEnd.sent.some((p) => p[0] === MSG.CHANNEL_WINDOW_ADJUST));
  await session.eof();
  assert.deepEqual(await within(session.exit), { status: 0, signal: null });
  await client.close();
});

Deno.test("muxPair: writes are split to the peer's max packet in both directions", async () => {
  const { client, clientEnd, serverEnd } = muxPair(
    execServer(async (channel) => {
      await readAll(channel.readable);
      await channel.write(new Uint8Array(1000).fill(2));
      return 0;
    }, { maxPacket: 100 }),
    { maxPacket: 300 },
  );
  const session = await client.openSession();
  await session.exec("x");
  await session.write(new Uint8Array(1050).fill(1));
  await session.eof();
  const out = await readAll(session.stdout);
  assert.equal(out.length, 1000);
  await session.exit;
  const up = dataMessages(clientEnd.sent).map((p) => new SshReader(p.subarray(5)).string().length);
  assert.deepEqual(up, [100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 50]);
  const down = dataMessages(serverEnd.sent).map((p) =>
    new SshReader(p.subarray(5)).string().length
  );
  assert.deepEqual(down, [300, 300, 300, 100]);
  await client.close();
});

Deno.test("muxPair: 50 concurrent channels each get their own data back", async () => {
  const { client, server } = muxPair(execServer(echo));
  const runs = Array.from({ length: 50 }, async (_, i) => {
    const session = await client.openSession();
    await session.exec("upper");
    await session.write(`channel number ${i} `.repeat(100 + i));
    await session.eof();
    const out = dec.decode(await readAll(session.stdout));
    assert.equal(out, `CHANNEL NUMBER ${i} `.repeat(100 + i));
    return (await session.exit).status;
  });
  assert.deepEqual(await within(Promise.all(runs), 5000), new Array(50).fill(0));
  assert.equal(client.channelCount, 0);
  assert.equal(server.channelCount, 0);
  await client.close();
});

Deno.test("muxPair: EOF ends the server's input but not its output; CLOSE is answered once on each side", async () => {
  const { client, clientEnd, serverEnd } = muxPair(execServer(echo));
  const session = await client.openSession();
  await session.exec("cat");
  await session.write("abc");
  await session.eof();
  await assert.rejects(session.write("late"), /end of input was already sent/);
  assert.equal(dec.decode(await readAll(session.stdout)), "abc");
  assert.deepEqual(await session.exit, { status: 3, signal: null });
  const count = (sent: Uint8Array[], type: number) => sent.filter((p) => p[0] === type).length;
  assert.equal(count(clientEnd.sent, MSG.CHANNEL_EOF), 1);
  assert.equal(count(serverEnd.sent, MSG.CHANNEL_EOF), 1);
  assert.equal(count(clientEnd.sent, MSG.CHANNEL_CLOSE), 1);
  assert.equal(count(serverEnd.sent, MSG.CHANNEL_CLOSE), 1);
  await assert.rejects(session.write("later"), /the channel is closed/);
  await client.close();
});

Deno.test("muxPair: an abrupt transport loss rejects every reader, writer and open with a clear error, and nothing hangs", async () => {
  const serverChannels: Channel[] = [];
  const { client, server, clientEnd, serverEnd } = muxPair(
    execServer((channel) => {
      serverChannels.push(channel);
      return new Promise<number>(() => {}); // never ends on its own
    }, { windowSize: 1024, maxPacket: 512 }),
  );
  const sessions = await Promise.all([0, 1, 2].map(() => client.openSession()));
  for (const s of sessions) await s.exec("hang");
  // Every outcome is taken at once (settled), so none is an unhandled rejection meanwhile.
  const writes = sessions.map((s) => settled(s.write(new Uint8Array(4096))));
  const reads = sessions.map((s) => settled(s.stderr.getReader().read()));
  const exits = sessions.map((s) => settled(s.exit));
  const serverReads = serverChannels.map((c) => settled(c.stderr.getReader().read()));
  const serverWrites = serverChannels.map((c) => settled(c.write(new Uint8Array(3 * 1024 * 1024))));
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(sessions[0]!.channel.remoteWindow, 0, "the client's writers wait for window");
  assert.equal(serverChannels[0]!.remoteWindow, 0, "so do the server's (stdout is not read)");
  const lost = new SshError("data", "data.connection-reset", "the connection was reset");
  clientEnd.breakWith(lost);
  serverEnd.breakWith(lost);
  for (const outcome of [...writes, ...reads, ...exits, ...serverReads, ...serverWrites]) {
    assert.equal(await within(outcome), lost);
  }
  assert.equal(await within(client.finished), lost);
  assert.equal(await within(server.finished), lost);
  const late = await settled(client.openSession());
  assert.equal(late, lost);
});

Deno.test("muxPair: the server closing the connection under open channels fails them at the stage they are in", async () => {
  const { client, serverEnd } = muxPair(execServer(() => new Promise<number>(() => {})));
  const running = await client.openSession();
  await running.exec("hang");
  const settingUp = await client.openSession();
  serverEnd.close();
  const e = await within(settled(running.exit));
  assert.ok(e instanceof SshError);
  assert.equal(e.code, "data.connection-closed");
  assert.match(e.message, /the server closed the connection while 2 channels were open/);
  assert.equal(await within(settled(settingUp.exit)), e);
});

Deno.test("muxPair: channel requests with want-reply get success or failure; without, they are only sent", async () => {
  const seen: string[] = [];
  const options = execServer(echo);
  const accept = options.onChannelOpen!;
  const { client } = muxPair({
    ...options,
    onChannelOpen: (open) => {
      const answer = accept(open);
      if (answer instanceof Promise || answer === null || !("accept" in answer)) return answer;
      return {
        accept: (channel) => {
          answer.accept(channel);
          const inner = channel.onRequest;
          channel.onRequest = (request) => {
            seen.push(`${request.type}:${request.wantReply}`);
            return inner(request);
          };
        },
      };
    },
  });
  const session = await client.openSession();
  assert.equal(await session.setEnv("LANG", "C"), true);
  assert.equal(await session.channel.request("x11-req", true), false);
  assert.equal(await session.subsystem("sftp"), false);
  assert.equal(await session.channel.request("keepalive@openssh.com", false), true);
  assert.equal(session.channel.stage, "session", "nothing runs yet");
  await session.exec("upper");
  assert.deepEqual(seen, [
    "env:true",
    "x11-req:true",
    "subsystem:true",
    "keepalive@openssh.com:false",
    "exec:true",
  ]);
  await session.eof();
  assert.deepEqual(await session.exit, { status: 0, signal: null });
  await client.close();
});

Deno.test("muxPair: global requests are refused by default in both roles", async () => {
  const { client, server } = muxPair();
  assert.equal(await client.globalRequest("keepalive@openssh.com", true), false);
  assert.equal(await server.globalRequest("hostkeys-prove-00@openssh.com", true), false);
  assert.equal(await client.globalRequest("no-more-sessions@openssh.com", false), true);
  await client.close();
});

Deno.test("muxPair: a refused open rejects with session.channel-open-refused in both directions", async () => {
  const { client, server } = muxPair(execServer(echo));
  const e = await settled(client.openChannel("direct-tcpip"));
  assert.ok(e instanceof SshError);
  assert.equal(e.code, "session.channel-open-refused");
  assert.equal(e.details.reasonCode, 3);
  assert.match(
    e.message,
    /the server refused to open a direct-tcpip channel: unknown channel type/,
  );
  // The client accepts no channels: a server-opened one is refused (administratively prohibited).
  const back = await settled(server.openChannel("forwarded-tcpip"));
  assert.ok(back instanceof SshError);
  assert.equal(back.code, "session.channel-open-refused");
  assert.equal(back.details.reasonCode, 1);
  assert.match(back.message, /the client refused to open a forwarded-tcpip channel/);
  assert.equal(client.channelCount, 0);
  assert.equal(server.channelCount, 0);
  await client.close();
});

Deno.test("muxPair: a server's window limit is enforced against a misbehaving client", async () => {
  const { client, server, clientEnd } = muxPair(
    execServer(() => new Promise<number>(() => {}), { windowSize: 100, maxPacket: 100 }),
  );
  const session = await client.openSession();
  await session.exec("hang");
  // Bypass the client's own window accounting: 101 bytes in one message.
  await clientEnd.send(
    new SshWriter().byte(MSG.CHANNEL_DATA).uint32(session.channel.remoteId)
      .string(new Uint8Array(101)).bytes(),
  );
  const error = await within(server.finished);
  assert.ok(error instanceof SshError);
  assert.equal(error.code, "data.packet-too-large");
  assert.match(error.message, /the client sent 101 bytes in one message/);
  await within(settled(session.exit));
});
