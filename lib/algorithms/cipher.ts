/**
 * Packet ciphers: chacha20-poly1305@openssh.com, AES-GCM (RFC 5647 as OpenSSH does it) and
 * AES-CTR (RFC 4344), followed by the legacy CBC ciphers.
 *
 * Two implementations of the same transforms, chosen when keys are set (`./_openssl.ts` says
 * which and why): OpenSSL's libcrypto through FFI when it is usable (10–20× faster here), else
 * `node:crypto`, with Poly1305 in a small WebAssembly module assembled below and an asynchronous
 * Web Crypto receive path for AES-GCM and AES-CTR (`openAsync`, `updateAsync`), with which the
 * transport keeps several packets in flight while downloading.
 * @module
 */

import type { CipherGCMTypes, Cipheriv, Decipheriv } from "node:crypto";
import { nodeCrypto } from "./_node.ts";
import { bytesEqual } from "../wire/buffer.ts";
import { LEGACY_CIPHERS } from "./cipher_legacy.ts";
import { checkSizes, plain } from "./_node_crypto.ts";
import { type AesCtrBits, type AesGcmBits, type OpenSsl, openssl } from "./_openssl.ts";
import type { AeadTransform, CipherAlgorithm, StreamTransform } from "./types.ts";

/** An AEAD packet failed its authentication check: it was altered or the keys disagree. */
export class CipherIntegrityError extends Error {
  override name = "CipherIntegrityError";
}

/**
 * An AEAD whose packets can also be opened asynchronously. Calls to `open` and `openAsync` must be
 * made in packet order (each takes the next invocation counter at call time); the promises may
 * settle in any order.
 */
export interface ReadAheadAead extends AeadTransform {
  /**
   * Like `open`, but resolves with the plain packet body only (`padding_length ‖ payload ‖
   * padding`, without the 4-byte length). Rejects with {@link CipherIntegrityError} on a bad tag.
   * `wire` must not change until the promise settles.
   */
  openAsync(seq: number, wire: Uint8Array): Promise<Uint8Array>;
}

/** A stream transform that can also transform asynchronously (stateless per call: AES-CTR). */
export interface ReadAheadStream extends StreamTransform {
  /**
   * Like `update` (calls to both must be made in stream order: each takes its counter position
   * at call time), but through Web Crypto. `data` must not change until the promise settles.
   */
  updateAsync(data: Uint8Array): Promise<Uint8Array>;
}

/** The same bytes typed for Web Crypto (which never sees a SharedArrayBuffer here). */
function bufferSource(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes as Uint8Array<ArrayBuffer>;
}

function readUint32(bytes: Uint8Array, offset = 0): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) |
    bytes[offset + 3]!) >>> 0;
}

function checkWire(name: string, wire: Uint8Array, tagLength: number): void {
  if (wire.length < 4 + tagLength) {
    throw new RangeError(`${name} packet of ${wire.length} bytes is too short to hold its tag`);
  }
}

// ---------------------------------------------------------------------------------------------
// Poly1305 (RFC 8439) with its block loop in WebAssembly
//
// JavaScript Poly1305 (@noble/ciphers) runs at ~250 MB/s here and capped chacha20-poly1305
// downloads; this loop runs at ~1.4 GB/s. The module (about 600 bytes) is assembled from the
// instruction list below, not shipped as an opaque blob: poly1305-donna-32, i.e. five 26-bit
// limbs and 64-bit products. Key clamping, the last partial block and the final reduction stay
// in JavaScript.

const OP = {
  block: 0x02,
  loop: 0x03,
  br: 0x0c,
  brIf: 0x0d,
  end: 0x0b,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Const: 0x41,
  i64Const: 0x42,
  i32Add: 0x6a,
  i32GeU: 0x4f,
  i64Load: 0x29,
  i64Load32U: 0x35,
  i64Store: 0x37,
  i64Add: 0x7c,
  i64Mul: 0x7e,
  i64And: 0x83,
  i64Or: 0x84,
  i64ShrU: 0x88,
} as const;

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/** Signed LEB128 (32-bit range). */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
}

const wasmVec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const wasmSection = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const wasmName = (text: string) => wasmVec([...text].map((ch) => [ch.charCodeAt(0)]));

/**
 * The module: memory (exported) holds h0..h4 at bytes 0..40, r0..r4 at 40..80 and 5·r1..5·r4 at
 * 80..112, each a u64; `blocks(m, end, hibit)` absorbs the 16-byte blocks in [m, end) into h
 * (h = (h + block + hibit·2^128) · r mod 2^130 - 5, partially reduced).
 */
function poly1305Module(): Uint8Array<ArrayBuffer> {
  const [m, end, hibit] = [0, 1, 2]; // parameters: i32, i32, i64
  let nextLocal = 3;
  const five = () => [0, 1, 2, 3, 4].map(() => nextLocal++);
  const h = five();
  const r = five();
  const s = five(); // s[0] unused
  const d = five();
  const c = nextLocal++;
  const i64Locals = nextLocal - 3;
  const MASK = 0x3ffffff;

  const get = (i: number) => [OP.localGet, i];
  const set = (i: number) => [OP.localSet, i];
  const tee = (i: number) => [OP.localTee, i];
  const i64 = (n: number) => [OP.i64Const, ...sleb(n)];
  const load = (offset: number) => [OP.i32Const, 0, OP.i64Load, 3, ...uleb(offset)];
  const store = (offset: number, local: number) => [
    OP.i32Const,
    0,
    ...get(local),
    OP.i64Store,
    3,
    ...uleb(offset),
  ];
  /** h[i] += (le32(m + offset) >> shift) & MASK, or | hibit for the top limb. */
  const addLimb = (i: number, offset: number, shift: number) => [
    ...get(h[i]!),
    ...get(m),
    OP.i64Load32U,
    0,
    ...uleb(offset),
    ...(shift ? [...i64(shift), OP.i64ShrU] : []),
    ...(i === 4 ? [...get(hibit), OP.i64Or] : [...i64(MASK), OP.i64And]),
    OP.i64Add,
    ...set(h[i]!),
  ];
  /** d[k] = Σ h[i]·r[k-i] (i ≤ k) + Σ h[i]·5·r[5+k-i] (i > k). */
  const product = (k: number) => [
    ...[0, 1, 2, 3, 4].flatMap((i) => [
      ...get(h[i]!),
      ...get(i <= k ? r[k - i]! : s[5 + k - i]!),
      OP.i64Mul,
      ...(i ? [OP.i64Add] : []),
    ]),
    ...set(d[k]!),
  ];
  /** c = d[k] (+ c) >> 26; h[k] = d[k] & MASK. */
  const carry = (k: number) => [
    ...get(d[k]!),
    ...(k ? [...get(c), OP.i64Add, ...tee(d[k]!)] : []),
    ...i64(26),
    OP.i64ShrU,
    ...set(c),
    ...get(d[k]!),
    ...i64(MASK),
    OP.i64And,
    ...set(h[k]!),
  ];
  const code = [
    ...[0, 1, 2, 3, 4].flatMap((i) => [...load(i * 8), ...set(h[i]!)]),
    ...[0, 1, 2, 3, 4].flatMap((i) => [...load(40 + i * 8), ...set(r[i]!)]),
    ...[1, 2, 3, 4].flatMap((i) => [...load(72 + i * 8), ...set(s[i]!)]),
    OP.block,
    0x40,
    OP.loop,
    0x40,
    ...get(m),
    ...get(end),
    OP.i32GeU,
    OP.brIf,
    1,
    ...addLimb(0, 0, 0),
    ...addLimb(1, 3, 2),
    ...addLimb(2, 6, 4),
    ...addLimb(3, 9, 6),
    ...addLimb(4, 12, 8),
    ...[0, 1, 2, 3, 4].flatMap(product),
    ...[0, 1, 2, 3, 4].flatMap(carry),
    // h0 += 5·c; h1 += h0 >> 26; h0 &= MASK
    ...get(h[0]!),
    ...get(c),
    ...i64(5),
    OP.i64Mul,
    OP.i64Add,
    ...tee(h[0]!),
    ...i64(26),
    OP.i64ShrU,
    ...get(h[1]!),
    OP.i64Add,
    ...set(h[1]!),
    ...get(h[0]!),
    ...i64(MASK),
    OP.i64And,
    ...set(h[0]!),
    // m += 16
    ...get(m),
    OP.i32Const,
    16,
    OP.i32Add,
    ...set(m),
    OP.br,
    0,
    OP.end,
    OP.end,
    ...[0, 1, 2, 3, 4].flatMap((i) => store(i * 8, h[i]!)),
    OP.end,
  ];
  const body = [...wasmVec([[...uleb(i64Locals), 0x7e]]), ...code];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // magic, version 1
    ...wasmSection(1, wasmVec([[0x60, ...wasmVec([[0x7f], [0x7f], [0x7e]]), ...wasmVec([])]])),
    ...wasmSection(3, wasmVec([[0]])),
    ...wasmSection(5, wasmVec([[0x00, 1]])), // one 64 KiB page to start with
    ...wasmSection(
      7,
      wasmVec([[...wasmName("blocks"), 0x00, 0], [...wasmName("memory"), 0x02, 0]]),
    ),
    ...wasmSection(10, wasmVec([[...uleb(body.length), ...body]])),
  ]);
}

let polyWasm: {
  blocks: (m: number, end: number, hibit: bigint) => void;
  memory: WebAssembly.Memory;
} | null = null;

/** Where messages start in the module's memory (after h, r and 5·r). */
const POLY_MSG = 128;
const POLY_HIBIT = 1n << 24n;
const M26 = 0x3ffffff;

function readUint32LE(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

/** Poly1305 (RFC 8439 §2.5) of `msg` under the one-time `key` (32 bytes): the 16-byte tag. */
export function poly1305(msg: Uint8Array, key: Uint8Array): Uint8Array {
  if (key.length !== 32) throw new RangeError(`Poly1305 needs a 32-byte key, got ${key.length}`);
  if (!polyWasm) {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(poly1305Module()));
    polyWasm = instance.exports as unknown as NonNullable<typeof polyWasm>;
  }
  const { blocks, memory } = polyWasm;
  const full = msg.length - (msg.length % 16);
  const need = POLY_MSG + full + 16;
  if (memory.buffer.byteLength < need) {
    memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65536));
  }
  const mem = new Uint8Array(memory.buffer);
  const words = new Uint32Array(memory.buffer, 0, 28); // the u64 fields as (low, high) pairs
  words.fill(0);
  const r = [
    readUint32LE(key, 0) & 0x3ffffff,
    (readUint32LE(key, 3) >>> 2) & 0x3ffff03,
    (readUint32LE(key, 6) >>> 4) & 0x3ffc0ff,
    (readUint32LE(key, 9) >>> 6) & 0x3f03fff,
    (readUint32LE(key, 12) >>> 8) & 0x00fffff,
  ];
  for (let i = 0; i < 5; i++) words[10 + 2 * i] = r[i]!;
  for (let i = 1; i < 5; i++) words[18 + 2 * i] = r[i]! * 5;
  mem.set(msg, POLY_MSG);
  blocks(POLY_MSG, POLY_MSG + full, POLY_HIBIT);
  if (msg.length > full) {
    // The last partial block: the message bytes, a 1, zeros; no 2^128 bit.
    mem[POLY_MSG + msg.length] = 1;
    mem.fill(0, POLY_MSG + msg.length + 1, POLY_MSG + full + 16);
    blocks(POLY_MSG + full, POLY_MSG + full + 16, 0n);
  }
  // Full carry, then h mod p: subtract p when h ≥ p, chosen without a branch on the value.
  let [h0, h1, h2, h3, h4] = [words[0]!, words[2]!, words[4]!, words[6]!, words[8]!];
  let c = h1 >>> 26;
  h1 &= M26;
  h2 += c;
  c = h2 >>> 26;
  h2 &= M26;
  h3 += c;
  c = h3 >>> 26;
  h3 &= M26;
  h4 += c;
  c = h4 >>> 26;
  h4 &= M26;
  h0 += c * 5;
  c = h0 >>> 26;
  h0 &= M26;
  h1 += c;
  let g0 = h0 + 5;
  c = g0 >>> 26;
  g0 &= M26;
  let g1 = h1 + c;
  c = g1 >>> 26;
  g1 &= M26;
  let g2 = h2 + c;
  c = g2 >>> 26;
  g2 &= M26;
  let g3 = h3 + c;
  c = g3 >>> 26;
  g3 &= M26;
  const g4 = (h4 + c - (1 << 26)) | 0;
  const keep = g4 >> 31; // all ones when h < p
  const take = ~keep;
  h0 = (h0 & keep) | (g0 & take);
  h1 = (h1 & keep) | (g1 & take);
  h2 = (h2 & keep) | (g2 & take);
  h3 = (h3 & keep) | (g3 & take);
  h4 = (h4 & keep) | (g4 & take);
  // Pack to 128 bits and add s (key bytes 16..31) modulo 2^128.
  const packed = [
    (h0 | (h1 << 26)) >>> 0,
    ((h1 >>> 6) | (h2 << 20)) >>> 0,
    ((h2 >>> 12) | (h3 << 14)) >>> 0,
    ((h3 >>> 18) | (h4 << 8)) >>> 0,
  ];
  const tag = new Uint8Array(16);
  const view = new DataView(tag.buffer);
  let carryOut = 0;
  for (let i = 0; i < 4; i++) {
    const sum = packed[i]! + readUint32LE(key, 16 + 4 * i) + carryOut;
    view.setUint32(4 * i, sum >>> 0, true);
    carryOut = sum > 0xffffffff ? 1 : 0;
  }
  return tag;
}

// ---------------------------------------------------------------------------------------------
// chacha20-poly1305@openssh.com

const CHACHA_NAME = "chacha20-poly1305@openssh.com";
const ZERO_BLOCK = new Uint8Array(64);

/**
 * OpenSSH PROTOCOL.chacha20poly1305: K_2 (key bytes 0..31) encrypts the payload from block 1
 * and gives the Poly1305 key (first 32 bytes of block 0); K_1 (bytes 32..63) encrypts the
 * 4-byte length. The nonce is the sequence number as a big-endian uint64.
 */
function createChachaPoly(key: Uint8Array, iv: Uint8Array): AeadTransform {
  checkSizes(CHACHA_NAME, key, 64, iv, 0);
  const ossl = openssl();
  if (ossl) return chachaPolyOpenSsl(ossl, key);
  const mainKey = new Uint8Array(key.subarray(0, 32));
  const lengthKey = new Uint8Array(key.subarray(32, 64));
  // node:crypto chacha20 IV: 8-byte little-endian block counter ‖ 8-byte nonce (original DJB
  // layout). The counter stays 0; the payload continues after the Poly1305 key block.
  const nonce = new Uint8Array(16);
  const nonceView = new DataView(nonce.buffer);
  const setSeq = (seq: number) => nonceView.setUint32(12, seq >>> 0);

  const lengthCipher = (seq: number, first4: Uint8Array): Uint8Array => {
    setSeq(seq);
    return nodeCrypto().createCipheriv("chacha20", lengthKey, nonce).update(first4);
  };
  /** Returns the payload cipher positioned at block 1 and the Poly1305 key. */
  const payloadCipher = (seq: number): [Cipheriv, Uint8Array] => {
    setSeq(seq);
    const cipher = nodeCrypto().createCipheriv("chacha20", mainKey, nonce);
    const polyKey = cipher.update(ZERO_BLOCK).subarray(0, 32);
    return [cipher, polyKey];
  };
  // The length `packetLength` decrypted last (open() needs it again for the same packet).
  let lastLength: { seq: number; wire: number; plain: Uint8Array } | null = null;

  return {
    seal(seq: number, packet: Uint8Array): Uint8Array {
      if (packet.length < 4) throw new RangeError(`${CHACHA_NAME} packet is shorter than 4 bytes`);
      const out = new Uint8Array(packet.length + 16);
      out.set(lengthCipher(seq, packet.subarray(0, 4)), 0);
      const [cipher, polyKey] = payloadCipher(seq);
      out.set(cipher.update(packet.subarray(4)), 4);
      out.set(poly1305(out.subarray(0, packet.length), polyKey), packet.length);
      return out;
    },
    packetLength(seq: number, first4: Uint8Array): number {
      const plain = lengthCipher(seq, first4.subarray(0, 4));
      lastLength = { seq, wire: readUint32(first4), plain };
      return readUint32(plain);
    },
    open(seq: number, wire: Uint8Array): Uint8Array {
      checkWire(CHACHA_NAME, wire, 16);
      const bodyLength = wire.length - 16;
      const body = wire.subarray(0, bodyLength);
      setSeq(seq);
      const cipher = nodeCrypto().createCipheriv("chacha20", mainKey, nonce);
      // 60 bytes of block 0 (the Poly1305 key is its first 32), so that decrypting the whole
      // body (length field included) lines the payload up with block 1: one output array, no
      // joining; its first 4 bytes are then replaced by the length decrypted with K_1.
      const polyKey = cipher.update(ZERO_BLOCK.subarray(0, 60)).subarray(0, 32);
      if (!bytesEqual(poly1305(body, polyKey), wire.subarray(bodyLength))) {
        throw new CipherIntegrityError(`${CHACHA_NAME} tag does not match the packet`);
      }
      const out = plain(cipher.update(body));
      const known = lastLength;
      out.set(
        known && known.seq === seq && known.wire === readUint32(body)
          ? known.plain
          : lengthCipher(seq, body.subarray(0, 4)),
        0,
      );
      lastLength = null;
      return out;
    },
  };
}

/** The same construction on OpenSSL: two keyed ChaCha20 contexts re-IVed per packet. */
function chachaPolyOpenSsl(ossl: OpenSsl, key: Uint8Array): AeadTransform {
  // OpenSSL's IV: 32-bit LE block counter ‖ 96-bit nonce; bytes 0..7 as a 64-bit LE counter
  // of 0 and bytes 8..15 the big-endian sequence number give OpenSSH's layout exactly.
  const nonce = new Uint8Array(16);
  const nonceView = new DataView(nonce.buffer);
  const main = ossl.chacha20(key.subarray(0, 32), nonce);
  const length = ossl.chacha20(key.subarray(32, 64), nonce);
  const poly = ossl.poly1305();
  const block0 = new Uint8Array(64); // keystream block 0: the Poly1305 key is its first 32 bytes
  const tag = new Uint8Array(16);
  const lengthPlain = new Uint8Array(4);
  const setSeq = (seq: number) => nonceView.setUint32(12, seq >>> 0);
  /** Positions `main` at block 1 of packet `seq` and leaves the Poly1305 key in block0. */
  const startPayload = (seq: number) => {
    setSeq(seq);
    main.setIv(nonce);
    main.update(ZERO_BLOCK, block0);
  };
  const cryptLength = (seq: number, first4: Uint8Array, out: Uint8Array) => {
    setSeq(seq);
    length.setIv(nonce);
    length.update(first4.subarray(0, 4), out);
  };
  return {
    seal(seq: number, packet: Uint8Array): Uint8Array {
      if (packet.length < 4) throw new RangeError(`${CHACHA_NAME} packet is shorter than 4 bytes`);
      const out = new Uint8Array(packet.length + 16);
      cryptLength(seq, packet, out.subarray(0, 4));
      startPayload(seq);
      main.update(packet.subarray(4), out.subarray(4, packet.length));
      poly.tag(block0.subarray(0, 32), out.subarray(0, packet.length), out.subarray(packet.length));
      block0.fill(0);
      return out;
    },
    packetLength(seq: number, first4: Uint8Array): number {
      cryptLength(seq, first4, lengthPlain);
      return readUint32(lengthPlain);
    },
    open(seq: number, wire: Uint8Array): Uint8Array {
      checkWire(CHACHA_NAME, wire, 16);
      const bodyLength = wire.length - 16;
      const body = wire.subarray(0, bodyLength);
      startPayload(seq);
      poly.tag(block0.subarray(0, 32), body, tag);
      block0.fill(0);
      if (!bytesEqual(tag, wire.subarray(bodyLength))) {
        throw new CipherIntegrityError(`${CHACHA_NAME} tag does not match the packet`);
      }
      const out = new Uint8Array(bodyLength);
      cryptLength(seq, body, out.subarray(0, 4));
      main.update(body.subarray(4), out.subarray(4));
      return out;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// aes*-gcm@openssh.com

/** AES-GCM on OpenSSL: one context per direction, re-IVed per packet. */
function gcmOpenSsl(
  ossl: OpenSsl,
  name: string,
  bits: AesGcmBits,
  key: Uint8Array,
  iv: Uint8Array,
): AeadTransform {
  const nonce = new Uint8Array(iv);
  const k = new Uint8Array(key);
  let sealing: ReturnType<OpenSsl["aesGcm"]> | null = null;
  let opening: ReturnType<OpenSsl["aesGcm"]> | null = null;
  /** Sets this packet's IV on `ctx` and advances the invocation counter. */
  const nextIv = (ctx: ReturnType<OpenSsl["aesGcm"]>) => {
    ctx.setIv(nonce);
    for (let i = 11; i >= 4; i--) {
      nonce[i] = (nonce[i]! + 1) & 0xff;
      if (nonce[i] !== 0) break;
    }
  };
  const context = (encrypt: boolean) => ossl.aesGcm(bits, k, nonce, encrypt);
  return {
    seal(_seq: number, packet: Uint8Array): Uint8Array {
      if (packet.length < 4) throw new RangeError(`${name} packet is shorter than 4 bytes`);
      const ctx = sealing ??= context(true);
      nextIv(ctx);
      const out = new Uint8Array(packet.length + 16);
      out.set(packet.subarray(0, 4), 0);
      ctx.aad(packet.subarray(0, 4));
      ctx.update(packet.subarray(4), out.subarray(4, packet.length));
      ctx.final();
      ctx.getTag(out.subarray(packet.length));
      return out;
    },
    packetLength(_seq: number, first4: Uint8Array): number {
      return readUint32(first4);
    },
    open(_seq: number, wire: Uint8Array): Uint8Array {
      checkWire(name, wire, 16);
      const bodyLength = wire.length - 16;
      const ctx = opening ??= context(false);
      nextIv(ctx);
      const out = new Uint8Array(bodyLength);
      out.set(wire.subarray(0, 4), 0);
      ctx.aad(wire.subarray(0, 4));
      ctx.update(wire.subarray(4, bodyLength), out.subarray(4));
      ctx.setTag(wire.subarray(bodyLength));
      if (!ctx.final()) {
        out.fill(0);
        throw new CipherIntegrityError(`${name} tag does not match the packet`);
      }
      return out;
    },
  };
}

/**
 * RFC 5647 as OpenSSH does it: 12-byte IV = 4-byte fixed field ‖ 8-byte invocation counter,
 * incremented after every packet (independent of the sequence number); the packet length is
 * sent in clear and authenticated as AAD.
 */
function gcm(name: string, nodeName: CipherGCMTypes, keyLength: number) {
  return (key: Uint8Array, iv: Uint8Array): AeadTransform => {
    checkSizes(name, key, keyLength, iv, 12);
    const ossl = openssl();
    if (ossl) return gcmOpenSsl(ossl, name, (keyLength * 8) as AesGcmBits, key, iv);
    const k = new Uint8Array(key);
    const nonce = new Uint8Array(iv);
    // The Web Crypto key for openAsync, imported on first use.
    let subtleKey: CryptoKey | null = null;
    let importing: Promise<CryptoKey> | null = null;
    const decryptAsync = (
      params: AesGcmParams,
      data: Uint8Array,
    ): Promise<ArrayBuffer> => {
      if (subtleKey) return crypto.subtle.decrypt(params, subtleKey, bufferSource(data));
      importing ??= crypto.subtle.importKey("raw", bufferSource(k), "AES-GCM", false, [
        "decrypt",
      ]).then(
        (key) => (subtleKey = key),
      );
      const copy = data.slice();
      return importing.then((key) => crypto.subtle.decrypt(params, key, copy));
    };
    /** Returns the IV for this packet and advances the invocation counter. */
    const nextIv = (): Uint8Array => {
      const current = nonce.slice();
      for (let i = 11; i >= 4; i--) {
        nonce[i] = (nonce[i]! + 1) & 0xff;
        if (nonce[i] !== 0) break;
      }
      return current;
    };
    const transform: ReadAheadAead = {
      seal(_seq: number, packet: Uint8Array): Uint8Array {
        if (packet.length < 4) throw new RangeError(`${name} packet is shorter than 4 bytes`);
        const cipher = nodeCrypto().createCipheriv(nodeName, k, nextIv());
        const aad = packet.subarray(0, 4);
        cipher.setAAD(aad);
        const out = new Uint8Array(packet.length + 16);
        out.set(aad, 0);
        out.set(cipher.update(packet.subarray(4)), 4);
        cipher.final();
        out.set(cipher.getAuthTag(), packet.length);
        return out;
      },
      packetLength(_seq: number, first4: Uint8Array): number {
        return readUint32(first4);
      },
      open(_seq: number, wire: Uint8Array): Uint8Array {
        checkWire(name, wire, 16);
        const bodyLength = wire.length - 16;
        const decipher = nodeCrypto().createDecipheriv(nodeName, k, nextIv());
        decipher.setAAD(wire.subarray(0, 4));
        decipher.setAuthTag(wire.subarray(bodyLength));
        const plain = new Uint8Array(bodyLength);
        plain.set(wire.subarray(0, 4), 0);
        plain.set(decipher.update(wire.subarray(4, bodyLength)), 4);
        try {
          decipher.final();
        } catch {
          throw new CipherIntegrityError(`${name} tag does not match the packet`);
        }
        return plain;
      },
      openAsync(_seq: number, wire: Uint8Array): Promise<Uint8Array> {
        try {
          checkWire(name, wire, 16);
        } catch (e) {
          return Promise.reject(e);
        }
        const params: AesGcmParams = {
          name: "AES-GCM",
          iv: bufferSource(nextIv()),
          additionalData: wire.slice(0, 4),
          tagLength: 128,
        };
        return decryptAsync(params, wire.subarray(4)).then(
          (body) => new Uint8Array(body),
          () => {
            throw new CipherIntegrityError(`${name} tag does not match the packet`);
          },
        );
      },
    };
    return transform;
  };
}

// ---------------------------------------------------------------------------------------------
// aes*-ctr

/**
 * RFC 4344 CTR: the IV is a 128-bit big-endian counter that counts cipher blocks across the whole
 * direction. `update` runs a `node:crypto` cipher; `updateAsync` runs one stateless Web Crypto
 * AES-CTR call from the current counter. Both advance the same counter, so they can be mixed (the
 * node cipher is re-created at the right position after asynchronous calls).
 */
function ctr(name: string, nodeName: string, keyLength: number) {
  const checkBlocks = (data: Uint8Array) => {
    if (data.length % 16 !== 0) {
      throw new RangeError(
        `${name} can only transform whole 16-byte blocks, got ${data.length} bytes`,
      );
    }
  };
  return (key: Uint8Array, iv: Uint8Array, encrypt: boolean): StreamTransform => {
    checkSizes(name, key, keyLength, iv, 16);
    const ossl = openssl();
    if (ossl) {
      const ctx = ossl.aesCtr((keyLength * 8) as AesCtrBits, key, iv, encrypt);
      return {
        update(data: Uint8Array): Uint8Array {
          checkBlocks(data);
          const out = new Uint8Array(data.length);
          ctx.update(data, out);
          return out;
        },
      };
    }
    const k = new Uint8Array(key);
    /** The counter block of the next block to transform. */
    const counter = new Uint8Array(iv);
    let node: Cipheriv | Decipheriv | null = null;
    let subtleKey: CryptoKey | null = null;
    let importing: Promise<CryptoKey> | null = null;
    const advance = (blocks: number) => {
      // Add `blocks` (< 2^32) to the big-endian 128-bit counter.
      let carry = blocks;
      for (let i = 15; i >= 0 && carry > 0; i--) {
        const sum = counter[i]! + (carry & 0xff);
        counter[i] = sum & 0xff;
        carry = Math.floor(carry / 256) + (sum >> 8);
      }
    };
    const transform: ReadAheadStream = {
      update(data: Uint8Array): Uint8Array {
        checkBlocks(data);
        node ??= encrypt
          ? nodeCrypto().createCipheriv(nodeName, k, counter)
          : nodeCrypto().createDecipheriv(nodeName, k, counter);
        advance(data.length / 16);
        return plain(node.update(data));
      },
      updateAsync(data: Uint8Array): Promise<Uint8Array> {
        try {
          checkBlocks(data);
        } catch (e) {
          return Promise.reject(e);
        }
        const params: AesCtrParams = { name: "AES-CTR", counter: counter.slice(), length: 128 };
        advance(data.length / 16);
        node = null; // the node cipher's position is now behind
        let result: Promise<ArrayBuffer>;
        if (subtleKey) result = crypto.subtle.decrypt(params, subtleKey, bufferSource(data));
        else {
          importing ??= crypto.subtle.importKey("raw", bufferSource(k), "AES-CTR", false, [
            "decrypt",
          ]).then(
            (key) => (subtleKey = key),
          );
          const copy = data.slice();
          result = importing.then((key) => crypto.subtle.decrypt(params, key, copy));
        }
        return result.then((out) => new Uint8Array(out));
      },
    };
    return transform;
  };
}

function ctrEntry(bits: 128 | 192 | 256): CipherAlgorithm {
  const name = `aes${bits}-ctr`;
  return {
    name,
    status: "recommended",
    spec: "RFC 4344",
    keyLength: bits / 8,
    ivLength: 16,
    blockSize: 16,
    tagLength: 0,
    createStream: ctr(name, `aes-${bits}-ctr`, bits / 8),
  };
}

function gcmEntry(bits: 128 | 256): CipherAlgorithm {
  const name = `aes${bits}-gcm@openssh.com`;
  return {
    name,
    status: "recommended",
    spec: "RFC 5647",
    keyLength: bits / 8,
    ivLength: 12,
    blockSize: 16,
    tagLength: 16,
    createAead: gcm(name, `aes-${bits}-gcm` as CipherGCMTypes, bits / 8),
  };
}

/** Every packet cipher, in preference order; the legacy CBC ciphers come last. */
export const CIPHER_ALGORITHMS: readonly CipherAlgorithm[] = [
  {
    name: CHACHA_NAME,
    status: "recommended",
    spec: "OpenSSH PROTOCOL.chacha20poly1305",
    keyLength: 64,
    ivLength: 0,
    blockSize: 8,
    tagLength: 16,
    createAead: createChachaPoly,
  },
  gcmEntry(128),
  gcmEntry(256),
  ctrEntry(128),
  ctrEntry(192),
  ctrEntry(256),
  ...LEGACY_CIPHERS,
];

/** Looks up a cipher by its SSH name. */
export function findCipher(name: string): CipherAlgorithm | undefined {
  return CIPHER_ALGORITHMS.find((c) => c.name === name);
}
