/**
 * Server quirks (lib/transport/quirks.ts): the table and its combination rules as units, then
 * through the scripted server that the version line alone makes the client trace the quirk and
 * change what it puts on the wire (KEXINIT without group exchange, a clamped GEX request).
 */

import assert from "node:assert/strict";
import { Tracer } from "../../../lib/trace.ts";
import { decodeKexInit } from "../../../lib/transport/kexinit.ts";
import {
  combineAdjustments,
  type Quirk,
  QUIRKS,
  quirksFor,
} from "../../../lib/transport/quirks.ts";
import type { ByteStream } from "../../../lib/transport/stream.ts";
import { concatBytes, SshReader } from "../../../lib/wire/buffer.ts";
import { MSG } from "../../../lib/wire/messages.ts";
import {
  openScripted,
  type ScriptedServerOptions,
  startScriptedServer,
} from "../../helpers/scripted_server.ts";

const GEX = /^diffie-hellman-group-exchange-/;
const ids = (software: string) => quirksFor(software).map((q) => q.id);

function quirk(id: string, adjust: Quirk["adjust"]): Quirk {
  return { id, match: /^x$/, description: id, adjust };
}

Deno.test("quirksFor() matches the old switch firmware each quirk names", () => {
  assert.deepEqual(ids("Cisco-1.25"), ["cisco-gex", "cisco-1.25-no-gex"]);
  assert.deepEqual(ids("Cisco-1.0"), ["cisco-gex"]);
  assert.deepEqual(ids("Cisco-2.0"), []);
  assert.deepEqual(ids("Comware-5.20"), ["comware-small-window"]);
  assert.deepEqual(ids("Comware-3.10"), ["comware-small-window"]);
  assert.deepEqual(ids("Comware-7.1.064"), []);
  assert.deepEqual(ids("HUAWEI-1.5"), ["huawei-vrp-gex"]);
  assert.deepEqual(ids("HUAWEI-2.0"), []);
  assert.deepEqual(ids("RomSShell_4.62"), ["allegro-romsshell"]);
  assert.deepEqual(ids("RomSShell_5.40"), []);
  assert.deepEqual(ids("NetScreen"), ["netscreen-gex"]);
});

Deno.test("quirksFor() leaves modern servers alone", () => {
  for (
    const software of [
      "OpenSSH_9.2p1",
      "OpenSSH_7.4",
      "dropbear_2022.83",
      "AsyncSSH_2.10.1",
      "libssh_0.10.4",
      "Go",
      "",
      "xCisco-1.25",
    ]
  ) {
    assert.deepEqual(ids(software), [], software);
  }
});

Deno.test("QUIRKS entries have unique ids, a description and at least one adjustment", () => {
  assert.equal(new Set(QUIRKS.map((q) => q.id)).size, QUIRKS.length);
  for (const q of QUIRKS) {
    assert.match(q.id, /^[a-z0-9.-]+$/);
    assert.ok(q.description.length > 20, q.id);
    assert.ok(Object.keys(q.adjust).length > 0, q.id);
    assert.ok(q.match.source.startsWith("^"), `${q.id} is anchored`);
  }
});

Deno.test("combineAdjustments() of no quirks changes nothing", () => {
  assert.deepEqual(combineAdjustments([]), {});
});

Deno.test("combineAdjustments() keeps the smallest window, packet and group sizes", () => {
  const out = combineAdjustments([
    quirk("a", { windowSize: 32768, gexMax: 8192 }),
    quirk("b", { windowSize: 16384, maxPacket: 32768 }),
    quirk("c", { maxPacket: 8192, gexMax: 4096 }),
  ]);
  assert.deepEqual(out, { windowSize: 16384, maxPacket: 8192, gexMax: 4096 });
});

Deno.test("combineAdjustments() drops the kex methods of every quirk, not only the last", () => {
  const out = combineAdjustments([
    quirk("a", { dropKex: /^diffie-hellman-group-exchange-/ }),
    quirk("b", { dropKex: /^ecdh-sha2-nistp521$/ }),
  ]);
  const drop = out.dropKex!;
  assert.ok(drop.test("diffie-hellman-group-exchange-sha256"));
  assert.ok(drop.test("ecdh-sha2-nistp521"));
  assert.equal(drop.test("ecdh-sha2-nistp256"), false);
  assert.equal(drop.test("curve25519-sha256"), false);
  // The same pattern twice stays one pattern.
  const same = combineAdjustments([quirk("a", { dropKex: GEX }), quirk("b", { dropKex: GEX })]);
  assert.equal(same.dropKex!.source, GEX.source);
});

Deno.test("combineAdjustments() for Cisco-1.25 clamps gex, drops gex and shrinks windows", () => {
  const out = combineAdjustments(quirksFor("Cisco-1.25"));
  assert.equal(out.gexMax, 4096);
  assert.equal(out.windowSize, 16 * 1024);
  assert.equal(out.maxPacket, 16 * 1024);
  assert.ok(out.dropKex!.test("diffie-hellman-group-exchange-sha1"));
  assert.equal(out.dropKex!.test("diffie-hellman-group14-sha1"), false);
});

// ---------------------------------------------------------------------------------------------
// Through the scripted server

/** Wraps the client's stream and records every byte it writes. */
function recording(stream: ByteStream): { stream: ByteStream; written: () => Uint8Array } {
  const chunks: Uint8Array[] = [];
  return {
    stream: {
      read: () => stream.read(),
      write: (bytes) => {
        chunks.push(bytes.slice());
        return stream.write(bytes);
      },
      close: () => stream.close(),
    },
    written: () => concatBytes(...chunks),
  };
}

/** The plaintext packets after the client's version line (before NEWKEYS they are unencrypted). */
function plaintextPackets(wire: Uint8Array): Uint8Array[] {
  let off = wire.indexOf(0x0a) + 1; // after "SSH-2.0-...\r\n"
  const out: Uint8Array[] = [];
  while (off + 5 <= wire.length) {
    const view = new DataView(wire.buffer, wire.byteOffset + off);
    const length = view.getUint32(0);
    const padding = wire[off + 4]!;
    if (off + 4 + length > wire.length) break;
    const payload = wire.subarray(off + 5, off + 4 + length - padding);
    out.push(payload);
    off += 4 + length;
    if (payload[0] === MSG.NEWKEYS) break;
  }
  return out;
}

interface Run {
  tracer: Tracer;
  wire: Uint8Array;
  adjustments: Record<string, unknown> | null;
  error: unknown;
}

/** Connects the real client to a scripted server; returns its trace and what it wrote. */
async function connectTo(options: ScriptedServerOptions): Promise<Run> {
  const server = startScriptedServer(options);
  const rec = recording(server.clientStream);
  const tracer = new Tracer();
  let adjustments: Record<string, unknown> | null = null;
  let error: unknown = null;
  try {
    const t = await openScripted(server, { tracer, stream: rec.stream });
    adjustments = { ...t.adjustments };
    await t.disconnect();
  } catch (e) {
    error = e;
  } finally {
    server.close();
    await server.done;
  }
  return { tracer, wire: rec.written(), adjustments, error };
}

function quirkEvents(tracer: Tracer) {
  return tracer.events.filter((e) => e.type === "quirk") as unknown as {
    stage: string;
    id: string;
    description: string;
  }[];
}

/** The client's first KEXINIT as it went over the wire. */
function wireKexInit(wire: Uint8Array) {
  const kexinit = plaintextPackets(wire).find((p) => p[0] === MSG.KEXINIT);
  assert.ok(kexinit, "the client sent a KEXINIT");
  return decodeKexInit(kexinit).lists;
}

Deno.test("a Cisco-1.25 version line is traced as quirks at stage version", async () => {
  const run = await connectTo({ versionLine: "SSH-1.99-Cisco-1.25" });
  assert.equal(run.error, null, String(run.error));
  const events = quirkEvents(run.tracer);
  assert.deepEqual(events.map((e) => e.id), ["cisco-gex", "cisco-1.25-no-gex"]);
  for (const e of events) {
    assert.equal(e.stage, "version");
    assert.equal(e.description, QUIRKS.find((q) => q.id === e.id)!.description);
  }
  // The quirk events come after the server's version line and before the first KEXINIT.
  const types = run.tracer.events.map((e) => e.type);
  assert.ok(types.indexOf("quirk") < types.indexOf("kexinit-sent"));
  assert.equal(run.adjustments!.gexMax, 4096);
  assert.equal(run.adjustments!.windowSize, 16 * 1024);
  assert.equal(wireKexInit(run.wire).kex.some((n) => GEX.test(n)), false);
});

Deno.test("a HUAWEI-1.5 version line removes group exchange from the KEXINIT on the wire", async () => {
  const huawei = await connectTo({ versionLine: "SSH-2.0-HUAWEI-1.5" });
  const plain = await connectTo({ versionLine: "SSH-2.0-OpenSSH_9.2p1" });
  assert.equal(huawei.error, null, String(huawei.error));
  assert.equal(plain.error, null, String(plain.error));
  assert.deepEqual(quirkEvents(huawei.tracer).map((e) => e.id), ["huawei-vrp-gex"]);
  assert.deepEqual(quirkEvents(plain.tracer), []);

  const withQuirk = wireKexInit(huawei.wire);
  const without = wireKexInit(plain.wire);
  // Without the quirk group exchange is offered; with it, exactly the gex names are gone.
  assert.ok(without.kex.some((n) => GEX.test(n)), without.kex.join(","));
  assert.deepEqual(withQuirk.kex, without.kex.filter((n) => !GEX.test(n)));
  // The other lists are untouched.
  assert.deepEqual(withQuirk.cipherC2S, without.cipherC2S);
  assert.deepEqual(withQuirk.hostKey, without.hostKey);
  // The kexinit-sent event says the same as the wire.
  const sent = huawei.tracer.events.find((e) => e.type === "kexinit-sent") as unknown as {
    lists: { kex: string[] };
  };
  assert.deepEqual(sent.lists.kex, withQuirk.kex);
  assert.equal(huawei.adjustments!.windowSize, 16 * 1024);
  assert.equal(huawei.adjustments!.maxPacket, 16 * 1024);
});

Deno.test("a Cisco-1.x server gets a group-exchange request clamped to 4096 bits", async () => {
  // The scripted server cannot run group exchange: it stops after the client's request, which
  // is all this test reads (from the wire, in plaintext before NEWKEYS).
  const run = await connectTo({
    versionLine: "SSH-2.0-Cisco-1.0",
    lists: { kex: ["diffie-hellman-group-exchange-sha256"] },
  });
  assert.ok(run.error, "the handshake cannot complete against the scripted server");
  const request = plaintextPackets(run.wire).find((p) => p[0] === MSG.KEX_DH_GEX_REQUEST);
  assert.ok(request, "the client sent KEX_DH_GEX_REQUEST");
  const r = new SshReader(request, "KEX_DH_GEX_REQUEST");
  r.byte();
  const [min, preferred, max] = [r.uint32(), r.uint32(), r.uint32()];
  assert.deepEqual({ min, preferred, max }, { min: 2048, preferred: 3072, max: 4096 });
  assert.deepEqual(quirkEvents(run.tracer).map((e) => e.id), ["cisco-gex"]);
});

Deno.test("without a quirk the group-exchange request asks for up to 8192 bits", async () => {
  const run = await connectTo({
    versionLine: "SSH-2.0-OpenSSH_9.2p1",
    lists: { kex: ["diffie-hellman-group-exchange-sha256"] },
  });
  const request = plaintextPackets(run.wire).find((p) => p[0] === MSG.KEX_DH_GEX_REQUEST);
  assert.ok(request, "the client sent KEX_DH_GEX_REQUEST");
  const r = new SshReader(request, "KEX_DH_GEX_REQUEST");
  r.byte();
  assert.deepEqual([r.uint32(), r.uint32(), r.uint32()], [2048, 3072, 8192]);
});
