/**
 * Poly1305 (RFC 8439 §2.5) with its block loop in WebAssembly, for chacha20-poly1305@openssh.com
 * on node:crypto (`./_node_crypto.ts`) and for key files encrypted with it (lib/keys/).
 *
 * JavaScript Poly1305 (@noble/ciphers) runs at ~250 MB/s here and capped chacha20-poly1305
 * downloads; this loop runs at ~1.4 GB/s. The module (about 600 bytes) is assembled from the
 * instruction list below, not shipped as an opaque blob: poly1305-donna-32, i.e. five 26-bit
 * limbs and 64-bit products. Key clamping, the last partial block and the final reduction stay
 * in JavaScript.
 * @module
 */

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
