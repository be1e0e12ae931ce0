import assert from "node:assert/strict";
import {
  bigintToBytes,
  bytesToBigint,
  decodeText,
  mpintBody,
  SshReader,
  SshWriter,
  WireError,
} from "../../../lib/wire/buffer.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");
const bytes = (...b: number[]) => new Uint8Array(b);

// --- SshReader ------------------------------------------------------------------------------

Deno.test("SshReader rejects a truncated byte, uint32 and uint64 and names the field", () => {
  assert.throws(() => new SshReader(bytes(), "MSG").byte("flag"), /MSG: truncated flag/);
  assert.throws(() => new SshReader(bytes(0, 0, 1), "MSG").uint32("count"), (e: unknown) => {
    assert.ok(e instanceof WireError);
    assert.match(e.message, /truncated count \(needs 4 bytes at offset 0, 3 left\)/);
    return true;
  });
  assert.throws(() => new SshReader(bytes(0, 0, 0, 0, 0, 0, 1)).uint64(), WireError);
});

Deno.test("SshReader rejects a string whose length runs past the end", () => {
  const r = new SshReader(bytes(0, 0, 0, 5, 0x61, 0x62), "BANNER");
  assert.throws(
    () => r.string("text"),
    /BANNER: truncated text \(needs 5 bytes at offset 4, 2 left\)/,
  );
});

Deno.test("SshReader rejects a string length prefix that is itself cut short", () => {
  assert.throws(() => new SshReader(bytes(0, 0)).string("name"), /truncated name length/);
});

Deno.test("SshReader rejects a huge string length without allocating", () => {
  const r = new SshReader(bytes(0xff, 0xff, 0xff, 0xff, 1, 2, 3));
  assert.throws(() => r.string(), /needs 4294967295 bytes/);
});

Deno.test("SshReader reads a raw field only when enough bytes remain", () => {
  const r = new SshReader(bytes(1, 2, 3));
  assert.deepEqual(r.raw(2), bytes(1, 2));
  assert.throws(() => r.raw(2, "cookie"), /truncated cookie/);
});

Deno.test("SshReader.mpint() rejects a negative mpint (high bit set)", () => {
  // RFC 4251 §5: -1234 is 00 00 00 02 ed cc.
  const r = new SshReader(bytes(0, 0, 0, 2, 0xed, 0xcc), "KEX_DH_REPLY");
  assert.throws(() => r.mpint("f"), /KEX_DH_REPLY: negative f/);
});

Deno.test("SshReader.mpint() reads the RFC 4251 §5 positive examples", () => {
  const read = (...b: number[]) => new SshReader(bytes(...b)).mpint();
  assert.equal(read(0, 0, 0, 0), 0n);
  assert.equal(
    read(0, 0, 0, 8, 0x09, 0xa3, 0x78, 0xf9, 0xb2, 0xe3, 0x32, 0xa7),
    0x9a378f9b2e332a7n,
  );
  assert.equal(read(0, 0, 0, 2, 0x00, 0x80), 0x80n);
});

Deno.test("SshReader.nameList() rejects empty names anywhere in the list", () => {
  for (const text of ["a,,b", ",a", "a,", ","]) {
    const w = new SshWriter().string(text).bytes();
    assert.throws(
      () => new SshReader(w, "KEXINIT").nameList("kex name-list"),
      /KEXINIT: kex name-list contains an empty name/,
      text,
    );
  }
});

Deno.test("SshReader.lenientNameList() drops and counts empty names (libssh's trailing comma)", () => {
  const read = (text: string) =>
    new SshReader(new SshWriter().string(text).bytes()).lenientNameList();
  assert.deepEqual(read("aes128-ctr,aes256-ctr,"), {
    names: ["aes128-ctr", "aes256-ctr"],
    empty: 1,
  });
  assert.deepEqual(read("a,,b"), { names: ["a", "b"], empty: 1 });
  assert.deepEqual(read(","), { names: [], empty: 2 });
  assert.deepEqual(read(""), { names: [], empty: 0 });
  assert.throws(() => read("a,b c"), /non-printable or non-ASCII/);
});

Deno.test("SshReader.nameList() rejects spaces and non-ASCII bytes", () => {
  for (const text of ["a b", "zlib\u00e9", "a\u0000"]) {
    const w = new SshWriter().string(text).bytes();
    assert.throws(() => new SshReader(w).nameList(), /non-printable or non-ASCII/, text);
  }
});

Deno.test("SshReader.nameList() reads the empty list and the RFC 4251 §5 examples", () => {
  assert.deepEqual(new SshReader(bytes(0, 0, 0, 0)).nameList(), []);
  assert.deepEqual(new SshReader(bytes(0, 0, 0, 4, 0x7a, 0x6c, 0x69, 0x62)).nameList(), ["zlib"]);
  const two = new SshWriter().string("zlib,none").bytes();
  assert.deepEqual(new SshReader(two).nameList(), ["zlib", "none"]);
});

Deno.test("SshReader.end() throws on trailing bytes and passes when all were read", () => {
  const r = new SshReader(bytes(1, 0, 0, 0, 7, 9, 9), "SERVICE_ACCEPT");
  r.byte();
  r.uint32();
  assert.equal(r.remaining, 2);
  assert.throws(() => r.end(), /SERVICE_ACCEPT: 2 unexpected trailing bytes/);
  r.raw(2);
  r.end();
});

Deno.test("SshReader.rest() consumes everything that is left", () => {
  const r = new SshReader(bytes(1, 2, 3));
  r.byte();
  assert.deepEqual(r.rest(), bytes(2, 3));
  assert.equal(r.remaining, 0);
  r.end();
});

Deno.test("SshReader.text() keeps each invalid UTF-8 byte as U+DC80-U+DCFF instead of throwing", () => {
  const r = new SshReader(bytes(0, 0, 0, 2, 0xff, 0x41));
  assert.equal(r.text(), "\udcffA");
});

Deno.test("decodeText() keeps valid UTF-8 and maps only the bytes of invalid sequences", () => {
  const enc = (s: string) => [...new TextEncoder().encode(s)];
  assert.equal(decodeText(new Uint8Array(enc("交换机 ok"))), "交换机 ok");
  // A Latin-1 "ü" (0xfc), a truncated 3-byte sequence, an overlong "/" (C0 AF), an encoded
  // surrogate (ED A0 80) and a code point above U+10FFFF (F4 90 80 80): every byte kept.
  const mixed = [0x61, 0xfc, 0x62, 0xe4, 0xba, 0x63, 0xc0, 0xaf, 0xed, 0xa0, 0x80];
  assert.equal(
    decodeText(new Uint8Array([...mixed, 0xf4, 0x90, 0x80, 0x80, ...enc("é😀")])),
    "a\udcfcb\udce4\udcbac\udcc0\udcaf\udced\udca0\udc80\udcf4\udc90\udc80\udc80é😀",
  );
});

// --- SshWriter ------------------------------------------------------------------------------

Deno.test("SshWriter.mpint() encodes the RFC 4251 §5 examples", () => {
  const mp = (v: bigint) => hex(new SshWriter().mpint(v).bytes());
  assert.equal(mp(0n), "00 00 00 00");
  assert.equal(mp(0x9a378f9b2e332a7n), "00 00 00 08 09 a3 78 f9 b2 e3 32 a7");
  assert.equal(mp(0x80n), "00 00 00 02 00 80");
  assert.equal(mp(0x7fn), "00 00 00 01 7f");
  assert.equal(mp(0xffn), "00 00 00 02 00 ff");
  assert.equal(mp(0x0100n), "00 00 00 02 01 00");
});

Deno.test("SshWriter.mpint() refuses negative values (never sent by this client)", () => {
  assert.throws(() => new SshWriter().mpint(-1234n), WireError);
});

Deno.test("SshWriter.mpintBytes() strips leading zeros and adds one for a set high bit", () => {
  const mp = (...b: number[]) => hex(new SshWriter().mpintBytes(bytes(...b)).bytes());
  assert.equal(mp(0, 0, 0x80), "00 00 00 02 00 80");
  assert.equal(mp(0, 0, 0x01, 0x02), "00 00 00 02 01 02");
  assert.equal(mp(0, 0), "00 00 00 00");
  assert.equal(mp(), "00 00 00 00");
  assert.equal(hex(mpintBody(bytes(0xde, 0xad))), "00 de ad");
});

Deno.test("SshWriter encodes the other RFC 4251 §5 types byte for byte", () => {
  const w = new SshWriter(2) // small initial capacity: growing must keep earlier bytes
    .byte(0x1ff)
    .bool(true)
    .bool(false)
    .uint32(0x29b7f4aa)
    .uint64(0x0102030405060708n)
    .string("testing")
    .nameList(["zlib", "none"])
    .nameList([]);
  assert.equal(
    hex(w.bytes()),
    "ff 01 00 29 b7 f4 aa 01 02 03 04 05 06 07 08 00 00 00 07 74 65 73 74 69 6e 67 " +
      "00 00 00 09 7a 6c 69 62 2c 6e 6f 6e 65 00 00 00 00",
  );
  assert.equal(w.length, 43);
});

Deno.test("SshWriter output reads back through SshReader", () => {
  const big = 2n ** 1023n + 12345n;
  const w = new SshWriter().uint32(0xffffffff).mpint(big).string(bytes(1, 2, 3)).bool(true);
  const r = new SshReader(w.bytes());
  assert.equal(r.uint32(), 0xffffffff);
  assert.equal(r.mpint(), big);
  assert.deepEqual(r.string(), bytes(1, 2, 3));
  assert.equal(r.bool(), true);
  r.end();
});

Deno.test("bigintToBytes() and bytesToBigint() are inverse and 0 is empty", () => {
  assert.deepEqual(bigintToBytes(0n), bytes());
  assert.deepEqual(bigintToBytes(0x10000n), bytes(1, 0, 0));
  assert.equal(bytesToBigint(bytes(1, 0, 0)), 0x10000n);
  assert.equal(bytesToBigint(bytes()), 0n);
});
