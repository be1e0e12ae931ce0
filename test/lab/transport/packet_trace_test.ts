/**
 * The `packet` trace events: what one packet's event holds (and never holds), and that the
 * transport emits them both ways only when the tracer asks for packets.
 */

import assert from "node:assert/strict";
import { startLabServer } from "../../../lib/lab/mod.ts";
import { Tracer } from "../../../lib/trace.ts";
import { packetEvent } from "../../../lib/transport/packet_trace.ts";
import { SshWriter } from "../../../lib/wire/buffer.ts";
import { MSG } from "../../../lib/wire/messages.ts";
import { connectLab, sharedHostKeys } from "../../helpers/lab.ts";

Deno.test("packetEvent() gives CHANNEL_DATA's channel and data byte count, not the data", () => {
  const p = new SshWriter().byte(MSG.CHANNEL_DATA).uint32(3).string(new Uint8Array(1000)).bytes();
  assert.deepEqual(packetEvent("data", "in", 42, p), {
    stage: "data",
    type: "packet",
    direction: "in",
    seq: 42,
    number: 94,
    message: "CHANNEL_DATA",
    length: 1009,
    channel: 3,
    bytes: 1000,
  });
});

Deno.test("packetEvent() gives EXTENDED_DATA's byte count after its type code, and WINDOW_ADJUST's bytes", () => {
  const ext = new SshWriter().byte(MSG.CHANNEL_EXTENDED_DATA).uint32(1).uint32(1)
    .string(new Uint8Array(7)).bytes();
  const e = packetEvent("data", "in", 1, ext);
  assert.equal(e.channel, 1);
  assert.equal(e.bytes, 7);
  const adjust = new SshWriter().byte(MSG.CHANNEL_WINDOW_ADJUST).uint32(0).uint32(0xffffffff)
    .bytes();
  const a = packetEvent("data", "out", 2, adjust);
  assert.equal(a.channel, 0);
  assert.equal(a.bytes, 0xffffffff);
});

Deno.test("packetEvent() gives a user-auth message's name only, not even its size", () => {
  const p = new SshWriter().byte(MSG.USERAUTH_REQUEST).string("demo").string("ssh-connection")
    .string("password").bool(false).string("secret").bytes();
  assert.deepEqual(packetEvent("auth", "out", 5, p), {
    stage: "auth",
    type: "packet",
    direction: "out",
    seq: 5,
    number: 50,
    message: "USERAUTH_REQUEST",
  });
  for (const n of [51, 60, 61, 79]) {
    assert.equal(packetEvent("auth", "in", 0, new Uint8Array([n, 1, 2, 3])).length, undefined);
  }
});

Deno.test("packetEvent() leaves out what a truncated channel message does not hold, and names unknown numbers UNKNOWN", () => {
  const e = packetEvent("data", "in", 0, new Uint8Array([MSG.CHANNEL_DATA, 0, 0]));
  assert.equal(e.length, 3);
  assert.ok(!("channel" in e) && !("bytes" in e));
  const u = packetEvent("data", "in", 0, new Uint8Array([200]));
  assert.equal(u.message, "UNKNOWN");
  assert.equal(u.number, 200);
});

async function packetEvents(packets: boolean) {
  const lab = await startLabServer({ hostKeys: await sharedHostKeys() });
  try {
    const tracer = new Tracer({ packets });
    const client = await connectLab(lab, { tracer });
    await client.exec("echo hi");
    await client.close();
    return tracer.events.filter((e) => e.type === "packet");
  } finally {
    await lab.stop();
  }
}

Deno.test("the transport traces each packet both ways when the tracer asks for packets", async () => {
  const events = await packetEvents(true);
  const names = (dir: string) =>
    events.filter((e) => e.type === "packet" && e.direction === dir).map((e) =>
      e.type === "packet" ? e.message : ""
    );
  assert.deepEqual(names("out").slice(0, 3), ["KEXINIT", "KEX_30", "NEWKEYS"]);
  assert.deepEqual(names("in").slice(0, 3), ["KEXINIT", "KEX_31", "NEWKEYS"]);
  assert.ok(names("out").includes("CHANNEL_REQUEST"));
  assert.ok(names("in").includes("CHANNEL_DATA"));
  assert.equal(names("out").at(-1), "DISCONNECT");
});

Deno.test("the transport traces no packet when the tracer does not ask", async () => {
  assert.deepEqual(await packetEvents(false), []);
});
