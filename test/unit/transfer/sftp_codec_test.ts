/** The SFTP v3 codec: attributes, 64-bit offsets, replies, and the framer's limits. */

import assert from "node:assert/strict";
import { SshReader, SshWriter, WireError } from "../../../lib/wire/buffer.ts";
import {
  decodeAttrs,
  decodeReply,
  decodeVersion,
  encodeAttrs,
  encodeInit,
  encodeRead,
  encodeWrite,
  Framer,
  FX,
  FXP,
  kindOf,
  MAX_PACKET,
  S_IFDIR,
  S_IFREG,
  safeUint64,
} from "../../../lib/transfer/sftp_codec.ts";
import { releasable, release } from "../../../lib/wire/release.ts";

const body = (packet: Uint8Array) => packet.subarray(4);

Deno.test("encodeAttrs() and decodeAttrs() round-trip every field, sizes above 4 GiB included", () => {
  const attrs = {
    size: 5 * 2 ** 30 + 7,
    uid: 1000,
    gid: 100,
    permissions: S_IFREG | 0o640,
    atime: 1_700_000_000,
    mtime: 1_700_000_001,
  };
  const w = encodeAttrs(new SshWriter(), attrs);
  assert.deepEqual(decodeAttrs(new SshReader(w.bytes())), attrs);
  assert.deepEqual(decodeAttrs(new SshReader(encodeAttrs(new SshWriter(), {}).bytes())), {});
});

Deno.test("decodeAttrs() skips extended pairs; kindOf() reads the type bits", () => {
  const w = new SshWriter().uint32(0x80000004).uint32(S_IFDIR | 0o755).uint32(1).string("a")
    .string("b");
  const attrs = decodeAttrs(new SshReader(w.bytes()));
  assert.equal(kindOf(attrs), "directory");
  assert.equal(kindOf({ permissions: S_IFREG }), "file");
  assert.equal(kindOf({ permissions: 0o120777 }), "symlink");
  assert.equal(kindOf({}), "unknown");
});

Deno.test("encodeRead() and encodeWrite() carry offsets beyond 2^32 exactly", () => {
  const offset = 4 * 2 ** 30 + 12345;
  const r = new SshReader(body(encodeRead(7, new Uint8Array([1, 2]), offset, 32768)));
  assert.equal(r.byte(), FXP.READ);
  assert.equal(r.uint32(), 7);
  assert.deepEqual([...r.string()], [1, 2]);
  assert.equal(r.uint64(), BigInt(offset));
  assert.equal(r.uint32(), 32768);
  const w = new SshReader(body(encodeWrite(8, new Uint8Array([9]), offset, new Uint8Array(3))));
  assert.equal(w.byte(), FXP.WRITE);
  w.uint32();
  w.string();
  assert.equal(w.uint64(), BigInt(offset));
  assert.equal(w.string().length, 3);
});

Deno.test("safeUint64() refuses sizes beyond 2^53 instead of rounding them", () => {
  assert.equal(safeUint64(2n ** 40n, "size"), 2 ** 40);
  assert.throws(() => safeUint64(2n ** 60n, "size"), WireError);
});

Deno.test("encodeInit() asks for version 3; decodeVersion() reads the extensions", () => {
  assert.deepEqual([...encodeInit()], [0, 0, 0, 5, FXP.INIT, 0, 0, 0, 3]);
  const v = new SshWriter().byte(FXP.VERSION).uint32(3).string("posix-rename@openssh.com")
    .string("1");
  const version = decodeVersion(v.bytes());
  assert.equal(version.version, 3);
  assert.equal(version.extensions.get("posix-rename@openssh.com"), "1");
});

Deno.test("decodeReply() reads status (with or without message), data, name and handle", () => {
  const s = decodeReply(
    new SshWriter().byte(FXP.STATUS).uint32(4).uint32(FX.NO_SUCH_FILE).string("No such file")
      .string("").bytes(),
  );
  assert.deepEqual(s, { type: "status", id: 4, code: FX.NO_SUCH_FILE, message: "No such file" });
  const bare = decodeReply(new SshWriter().byte(FXP.STATUS).uint32(5).uint32(FX.OK).bytes());
  assert.deepEqual(bare, { type: "status", id: 5, code: FX.OK, message: "" });
  const n = decodeReply(
    encodeAttrs(new SshWriter().byte(FXP.NAME).uint32(6).uint32(1).string("a").string("-rw a"), {
      size: 1,
    }).bytes(),
  );
  assert.equal(n.type === "name" && n.names[0]!.filename, "a");
  assert.throws(() => decodeReply(new SshWriter().byte(99).uint32(1).bytes()), WireError);
  assert.throws(
    () =>
      decodeReply(new SshWriter().byte(FXP.HANDLE).uint32(1).string(new Uint8Array(257)).bytes()),
    /257-byte handle/,
  );
  assert.throws(
    () => decodeReply(new SshWriter().byte(FXP.HANDLE).uint32(1).string("h").byte(0).bytes()),
    /trailing/,
  );
});

Deno.test("Framer cuts packets split across chunks and joined in one chunk", () => {
  const a = encodeRead(1, new Uint8Array(4), 0, 10);
  const b = encodeRead(2, new Uint8Array(4), 10, 10);
  const all = new Uint8Array([...a, ...b]);
  const f = new Framer();
  const out: Uint8Array[] = [];
  for (let i = 0; i < all.length; i += 3) out.push(...f.push(all.subarray(i, i + 3)));
  assert.equal(out.length, 2);
  assert.deepEqual([...out[0]!], [...body(a)]);
  assert.deepEqual([...out[1]!], [...body(b)]);
  assert.equal(f.buffered, 0);
  assert.equal(new Framer().push(all).length, 2);
});

Deno.test("Framer refuses a length over 256 KiB before buffering it", () => {
  const head = new Uint8Array(4);
  new DataView(head.buffer).setUint32(0, MAX_PACKET + 1);
  assert.throws(() => new Framer().push(head), /exceeds the limit/);
});

Deno.test("Framer copies a packet that spans chunks into memory of its own and releases the chunks used up", () => {
  const data = new Uint8Array(40_000).map((_, i) => i & 0xff);
  const packet = new Uint8Array(4 + 9 + data.length);
  new DataView(packet.buffer).setUint32(0, packet.length - 4);
  packet[4] = FXP.DATA;
  new DataView(packet.buffer).setUint32(9, data.length);
  packet.set(data, 13);
  // Three received chunks, each in memory of its own and marked as a transport payload is.
  const cut = [0, 16_384, 28_000, packet.length];
  const chunks = cut.slice(1).map((end, i) => releasable(packet.slice(cut[i], end)));
  const framer = new Framer();
  assert.deepEqual(framer.push(chunks[0]!), []);
  assert.deepEqual(framer.push(chunks[1]!), []);
  const [whole] = framer.push(chunks[2]!);
  const reply = decodeReply(whole!);
  assert.equal(reply.type, "data");
  assert.deepEqual(reply.type === "data" ? reply.data : null, data);
  assert.deepEqual(chunks.map((c) => c.length), [0, 0, 0]); // all copied out: released
  release(whole!); // the copy is the caller's to release
  assert.equal(whole!.length, 0);
});

Deno.test("Framer hands out a packet inside one chunk as a view and never releases that chunk", () => {
  const packet = encodeWrite(1, new Uint8Array([1, 2, 3, 4]), 0, new Uint8Array(20_000).fill(9));
  const chunk = releasable(packet.slice());
  const framer = new Framer();
  const [view] = framer.push(chunk);
  release(view!); // a view of the chunk: its mark was withdrawn, nothing is freed
  assert.equal(chunk.length, packet.length);
  assert.deepEqual(view, packet.subarray(4));
});
