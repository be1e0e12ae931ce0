/**
 * The floor of a probe in this runtime: what `ssh-keyscan` does and no more, with as little
 * JavaScript as possible. Connects, sends the version line and a KEXINIT offering one hybrid key
 * exchange and ssh-ed25519, reads the server's version line and KEXINIT, makes the KEM key pair
 * (liboqs WebAssembly, as sshtrace does) and an X25519 key (Web Crypto), sends KEX_ECDH_INIT,
 * waits for the first bytes of the server's reply, and exits. It checks nothing (no host key,
 * no signature, no decapsulation): it is a lower bound for bench/pq.sh and BENCHMARKS.md, not a
 * client.
 *
 *   deno run -A bench/probe_floor.ts PORT [sntrup761x25519-sha512@openssh.com|mlkem768x25519-sha256]
 * @module
 */

import { mlKem768, sntrup761 } from "../lib/algorithms/pq.ts";

const port = Number(Deno.args[0]);
const kex = Deno.args[1] ?? "sntrup761x25519-sha512@openssh.com";
const conn = await Deno.connect({ hostname: "127.0.0.1", port });
const enc = new TextEncoder();
await conn.write(enc.encode("SSH-2.0-floor\r\n"));

const buf = new Uint8Array(65536);
let have = 0;
const fill = async () => {
  const n = await conn.read(buf.subarray(have));
  if (n === null) throw new Error("closed");
  have += n;
};
// The server's version line.
for (;;) {
  const end = buf.subarray(0, have).indexOf(10);
  if (end >= 0) {
    buf.copyWithin(0, end + 1, have);
    have -= end + 1;
    break;
  }
  await fill();
}

/** An unencrypted packet: length, padding length, payload, padding (4..255, to 8 bytes). */
function packet(payload: Uint8Array): Uint8Array {
  let pad = 8 - ((payload.length + 5) % 8);
  if (pad < 4) pad += 8;
  const out = new Uint8Array(4 + 1 + payload.length + pad);
  new DataView(out.buffer).setUint32(0, 1 + payload.length + pad);
  out[4] = pad;
  out.set(payload, 5);
  return out;
}
function strings(...parts: (Uint8Array | string)[]): Uint8Array {
  const bytes = parts.map((p) => typeof p === "string" ? enc.encode(p) : p);
  const out = new Uint8Array(bytes.reduce((n, b) => n + 4 + b.length, 0));
  let at = 0;
  for (const b of bytes) {
    new DataView(out.buffer).setUint32(at, b.length);
    out.set(b, at + 4);
    at += 4 + b.length;
  }
  return out;
}
const cookie = crypto.getRandomValues(new Uint8Array(16));
const lists = strings(
  kex,
  "ssh-ed25519",
  "chacha20-poly1305@openssh.com",
  "chacha20-poly1305@openssh.com",
  "hmac-sha2-256",
  "hmac-sha2-256",
  "none",
  "none",
  "",
  "",
);
await conn.write(packet(new Uint8Array([20, ...cookie, ...lists, 0, 0, 0, 0, 0])));

// The server's KEXINIT (one whole packet).
const packetLength = () => new DataView(buf.buffer).getUint32(0);
while (have < 4 || have < 4 + packetLength()) await fill();
const used = 4 + packetLength();
buf.copyWithin(0, used, have);
have -= used;

const { kem } = await (kex.startsWith("sntrup") ? sntrup761() : mlKem768());
const { publicKey } = kem.keypair();
const x = await crypto.subtle.generateKey({ name: "X25519" }, true, [
  "deriveBits",
]) as CryptoKeyPair;
const xPublic = new Uint8Array(await crypto.subtle.exportKey("raw", x.publicKey));
const init = new Uint8Array(publicKey.length + 32);
init.set(publicKey);
init.set(xPublic, publicKey.length);
await conn.write(packet(new Uint8Array([30, ...strings(init)])));
// The first bytes of KEX_ECDH_REPLY: the server has done its half.
while (have < 6) await fill();
if (buf[5] !== 31) throw new Error(`expected KEX_ECDH_REPLY (31), got message ${buf[5]}`);
conn.close();
