/** The SOCKS handshake (lib/forward/socks.ts): SOCKS4, 4a and 5 CONNECT, and garbage refused. */

import assert from "node:assert/strict";
import {
  MAX_HANDSHAKE,
  SocksError,
  socksHandshake,
  type SocksIo,
  socksReply,
} from "../../../lib/forward/socks.ts";

/** An io that hands out `chunks` one read at a time and records what is written. */
function scripted(...chunks: (number[] | Uint8Array)[]): SocksIo & { written: number[][] } {
  const queue = chunks.map((c) => c instanceof Uint8Array ? c : new Uint8Array(c));
  const written: number[][] = [];
  return {
    written,
    read: () => Promise.resolve(queue.shift() ?? null),
    write: (b) => {
      written.push([...b]);
      return Promise.resolve();
    },
  };
}

const text = (s: string) => [...new TextEncoder().encode(s)];

async function refused(io: SocksIo, message: RegExp): Promise<void> {
  await assert.rejects(socksHandshake(io), (e: unknown) => {
    assert.ok(e instanceof SocksError, String(e));
    assert.match(e.message, message);
    return true;
  });
}

Deno.test("SOCKS4 CONNECT to an IPv4 address, the user id skipped", async () => {
  const io = scripted([4, 1, 0, 80, 10, 0, 0, 7, ...text("me"), 0]);
  const t = await socksHandshake(io);
  assert.deepEqual({ ...t, early: [...t.early] }, {
    version: 4,
    host: "10.0.0.7",
    port: 80,
    early: [],
  });
});

Deno.test("SOCKS4a CONNECT to a host name, split over reads, early data kept", async () => {
  const io = scripted([4, 1, 0x1f], [0x90, 0, 0, 0, 1, 0], [...text("intranet.example"), 0, 9, 9]);
  const t = await socksHandshake(io);
  assert.equal(t.host, "intranet.example");
  assert.equal(t.port, 8080);
  assert.deepEqual([...t.early], [9, 9]);
});

Deno.test("SOCKS5 without authentication: domain, IPv4 and IPv6 targets", async () => {
  const domain = scripted([5, 1, 0], [5, 1, 0, 3, 4, ...text("core"), 0, 22]);
  assert.deepEqual((await socksHandshake(domain)).host, "core");
  assert.deepEqual(domain.written, [[5, 0]], "method 0 chosen before the request");
  const v4 = await socksHandshake(scripted([5, 2, 2, 0, 5, 1, 0, 1, 192, 168, 1, 1, 1, 187]));
  assert.deepEqual([v4.host, v4.port, v4.version], ["192.168.1.1", 443, 5]);
  const v6 = await socksHandshake(
    scripted([5, 1, 0, 5, 1, 0, 4, 0x20, 1, 0xd, 0xb8, ...Array(11).fill(0), 1, 0, 22]),
  );
  assert.equal(v6.host, "2001:db8:0:0:0:0:0:1");
});

Deno.test("SOCKS5 with only username/password authentication is refused with 0xFF", async () => {
  const io = scripted([5, 1, 2]);
  await refused(io, /no method without authentication/);
  assert.deepEqual(io.written, [[5, 0xff]]);
});

Deno.test("commands other than CONNECT get the protocol's failure reply", async () => {
  const bind5 = scripted([5, 1, 0, 5, 2, 0, 1, 1, 2, 3, 4, 0, 80]);
  await refused(bind5, /SOCKS5 command 2 is not supported/);
  assert.deepEqual(bind5.written.at(-1), [...socksReply(5, 7)]);
  const bind4 = scripted([4, 2, 0, 80, 1, 2, 3, 4, 0]);
  await refused(bind4, /SOCKS4 command 2/);
  assert.deepEqual(bind4.written, [[0, 0x5b, 0, 0, 0, 0, 0, 0]]);
  const atyp = scripted([5, 1, 0, 5, 1, 0, 9]);
  await refused(atyp, /address type 9/);
  assert.deepEqual(atyp.written.at(-1), [...socksReply(5, 8)]);
});

Deno.test("garbage, an early close and endless fields are refused, bounded", async () => {
  await refused(scripted(text("GET / HTTP/1.1\r\n")), /not a SOCKS request \(first byte 0x47\)/);
  await refused(scripted([5, 1]), /closed the connection mid-handshake/);
  await refused(scripted([4, 1, 0, 80, 1, 2, 3, 4, ...Array(300).fill(65)]), /longer than 255/);
  const flood = Array.from({ length: 20 }, () => new Uint8Array(100).fill(65));
  await refused(scripted([4, 1, 0, 80, 0, 0, 0, 1, 0], ...flood), /longer than 255/);
  await refused(
    scripted([5, 255], new Uint8Array(MAX_HANDSHAKE)),
    new RegExp(`past ${MAX_HANDSHAKE} bytes`),
  );
  await refused(scripted([5, 1, 0, 5, 1, 0, 3, 0, 0, 80]), /host name is empty/);
});

Deno.test("socksReply() builds the success and failure replies of both versions", () => {
  assert.deepEqual([...socksReply(4, 0)], [0, 0x5a, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual([...socksReply(5, 0)], [5, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual([...socksReply(5, 5)].slice(0, 2), [5, 5]);
});
