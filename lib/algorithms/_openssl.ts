/**
 * OpenSSL's libcrypto through Deno's FFI, for the per-packet work: AES-GCM, AES-CTR, ChaCha20,
 * Poly1305 and HMAC (internal).
 *
 * Why: Deno's `node:crypto` and Web Crypto run AES in portable Rust code here (~180 and ~460 MB/s
 * for AES-128-GCM on 32 KiB packets), while the same machine's libcrypto — the library OpenSSH
 * itself uses — does ~4 GB/s with AES-NI and PCLMULQDQ, and HMAC-SHA-256 at ~1.7 GB/s. Packet
 * crypto is the whole cost of a download, so sshtrace uses libcrypto when it can and falls back
 * to `node:crypto` (plus Web Crypto read-ahead) when it cannot: no `--allow-ffi`, no OpenSSL 3
 * library, a failed self-test, or `SSHTRACE_CRYPTO=node`. `./crypto_provider.ts` chooses once
 * and says which and why; the transport traces it.
 *
 * Safety: every call passes buffers whose sizes were checked here (outputs at least as long as
 * inputs; tags and digests into fixed-size arrays), and the library must pass known-answer tests
 * (FIPS 197 / NIST GCM, RFC 8439, RFC 4231) before it is used. Contexts are freed by a
 * `FinalizationRegistry` (OpenSSL clears their key schedules when freeing) or by `free()`.
 * @module
 */

import { firstLine, platform } from "../platform/mod.ts";
/** Which implementation does the packet crypto. */
export interface CryptoBackend {
  readonly name: "openssl" | "node";
  /** E.g. `OpenSSL 3.0.19 27 Jan 2026 (libcrypto.so.3)`, or `node:crypto` with the reason. */
  readonly detail: string;
}

const SYMBOLS = {
  OpenSSL_version_num: { parameters: [], result: "u64" },
  EVP_CIPHER_CTX_new: { parameters: [], result: "pointer" },
  EVP_CIPHER_CTX_free: { parameters: ["pointer"], result: "void" },
  EVP_CIPHER_CTX_ctrl: { parameters: ["pointer", "i32", "i32", "buffer"], result: "i32" },
  EVP_CipherInit_ex: {
    parameters: ["pointer", "pointer", "pointer", "buffer", "buffer", "i32"],
    result: "i32",
  },
  EVP_CipherUpdate: { parameters: ["pointer", "buffer", "buffer", "buffer", "i32"], result: "i32" },
  EVP_CipherFinal_ex: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  EVP_aes_128_ctr: { parameters: [], result: "pointer" },
  EVP_aes_192_ctr: { parameters: [], result: "pointer" },
  EVP_aes_256_ctr: { parameters: [], result: "pointer" },
  EVP_aes_128_gcm: { parameters: [], result: "pointer" },
  EVP_aes_256_gcm: { parameters: [], result: "pointer" },
  EVP_chacha20: { parameters: [], result: "pointer" },
  EVP_md5: { parameters: [], result: "pointer" },
  EVP_sha1: { parameters: [], result: "pointer" },
  EVP_sha256: { parameters: [], result: "pointer" },
  EVP_sha384: { parameters: [], result: "pointer" },
  EVP_sha512: { parameters: [], result: "pointer" },
  EVP_MD_CTX_new: { parameters: [], result: "pointer" },
  EVP_DigestInit_ex: { parameters: ["pointer", "pointer", "pointer"], result: "i32" },
  EVP_DigestUpdate: { parameters: ["pointer", "buffer", "usize"], result: "i32" },
  EVP_DigestFinal_ex: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  HMAC_CTX_new: { parameters: [], result: "pointer" },
  HMAC_CTX_free: { parameters: ["pointer"], result: "void" },
  HMAC_Init_ex: { parameters: ["pointer", "buffer", "i32", "pointer", "pointer"], result: "i32" },
  HMAC_Update: { parameters: ["pointer", "buffer", "usize"], result: "i32" },
  HMAC_Final: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  EVP_MAC_fetch: { parameters: ["pointer", "buffer", "pointer"], result: "pointer" },
  EVP_MAC_free: { parameters: ["pointer"], result: "void" },
  EVP_MAC_CTX_new: { parameters: ["pointer"], result: "pointer" },
  EVP_MAC_CTX_free: { parameters: ["pointer"], result: "void" },
  EVP_MAC_init: { parameters: ["pointer", "buffer", "usize", "pointer"], result: "i32" },
  EVP_MAC_update: { parameters: ["pointer", "buffer", "usize"], result: "i32" },
  EVP_MAC_final: { parameters: ["pointer", "buffer", "buffer", "usize"], result: "i32" },
} as const;

type Lib = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** Where OpenSSL 3's libcrypto is usually found, per OS. */
/**
 * Where OpenSSL 3's libcrypto is looked for, by absolute path first (Debian/Ubuntu multiarch,
 * Fedora/RHEL/SUSE lib64, Arch/Alpine, /usr/local builds), so `--allow-ffi` can be scoped to the
 * one file; the bare name (the dynamic linker's search) last, which needs unscoped `--allow-ffi`.
 * `SSHTRACE_LIBCRYPTO=PATH` is tried before all of them.
 */
const CANDIDATES: Record<string, string[]> = {
  linux: [
    "/usr/lib/x86_64-linux-gnu/libcrypto.so.3",
    "/usr/lib/aarch64-linux-gnu/libcrypto.so.3",
    "/lib/x86_64-linux-gnu/libcrypto.so.3",
    "/lib/aarch64-linux-gnu/libcrypto.so.3",
    "/usr/lib64/libcrypto.so.3",
    "/usr/lib/libcrypto.so.3",
    "/lib/libcrypto.so.3",
    "/usr/local/lib64/libcrypto.so.3",
    "/usr/local/lib/libcrypto.so.3",
    "libcrypto.so.3",
  ],
  darwin: [
    "/opt/homebrew/opt/openssl@3/lib/libcrypto.3.dylib",
    "/usr/local/opt/openssl@3/lib/libcrypto.3.dylib",
    "libcrypto.3.dylib",
  ],
  windows: ["libcrypto-3-x64.dll", "libcrypto-3.dll"],
};

const EVP_CTRL_GCM_GET_TAG = 0x10;
const EVP_CTRL_GCM_SET_TAG = 0x11;
/** `enc` argument of EVP_CipherInit_ex that keeps the current direction. */
const KEEP_DIRECTION = -1;

export type AesCtrBits = 128 | 192 | 256;
export type AesGcmBits = 128 | 256;
export type HmacHash = "md5" | "sha1" | "sha256" | "sha512";
export type DigestName = HmacHash | "sha384";

/** One EVP_CIPHER_CTX: a keyed cipher in one direction. */
export class CipherContext {
  readonly #lib: Lib;
  #ctx: Deno.PointerValue;
  readonly #outLength = new Int32Array(1);
  readonly #outLengthBytes = new Uint8Array(this.#outLength.buffer);
  /** Where EVP_CipherFinal_ex may write (nothing, for the stream and GCM modes used here). */
  readonly #finalOut = new Uint8Array(16);

  /** @internal Made by {@link OpenSsl}. */
  constructor(lib: Lib, ctx: Deno.PointerObject) {
    this.#lib = lib;
    this.#ctx = ctx;
    contexts.register(this, { free: () => lib.EVP_CIPHER_CTX_free(ctx) }, this);
  }

  #live(): Deno.PointerObject {
    if (!this.#ctx) throw new Error("OpenSSL cipher context used after free()");
    return this.#ctx;
  }

  /** Restarts with a new IV (same key and direction). */
  setIv(iv: Uint8Array): void {
    if (this.#lib.EVP_CipherInit_ex(this.#live(), null, null, null, iv, KEEP_DIRECTION) !== 1) {
      throw new Error("OpenSSL could not set the IV");
    }
  }

  /** Feeds additional authenticated data (AES-GCM). */
  aad(data: Uint8Array): void {
    if (
      this.#lib.EVP_CipherUpdate(this.#live(), null, this.#outLengthBytes, data, data.length) !== 1
    ) {
      throw new Error("OpenSSL refused the AAD");
    }
  }

  /** Transforms `input` into the start of `output` (same length; they may be the same bytes). */
  update(input: Uint8Array, output: Uint8Array): void {
    if (output.length < input.length) throw new RangeError("output shorter than input");
    if (input.length === 0) return;
    const ok = this.#lib.EVP_CipherUpdate(
      this.#live(),
      output,
      this.#outLengthBytes,
      input,
      input.length,
    );
    if (ok !== 1 || this.#outLength[0] !== input.length) {
      throw new Error("OpenSSL cipher update failed");
    }
  }

  /** AES-GCM, decrypting: sets the expected tag (16 bytes) before {@link final}. */
  setTag(tag: Uint8Array): void {
    if (tag.length !== 16) throw new RangeError("a GCM tag has 16 bytes");
    if (this.#lib.EVP_CIPHER_CTX_ctrl(this.#live(), EVP_CTRL_GCM_SET_TAG, 16, tag) !== 1) {
      throw new Error("OpenSSL refused the GCM tag");
    }
  }

  /** Finishes a GCM message: false when decrypting and the tag does not match. */
  final(): boolean {
    return this.#lib.EVP_CipherFinal_ex(this.#live(), this.#finalOut, this.#outLengthBytes) === 1;
  }

  /** AES-GCM, encrypting: the tag after {@link final}, into `out` (16 bytes). */
  getTag(out: Uint8Array): void {
    if (out.length !== 16) throw new RangeError("a GCM tag has 16 bytes");
    if (this.#lib.EVP_CIPHER_CTX_ctrl(this.#live(), EVP_CTRL_GCM_GET_TAG, 16, out) !== 1) {
      throw new Error("OpenSSL could not return the GCM tag");
    }
  }

  /** Frees the context now (its key schedule is cleared by OpenSSL). */
  free(): void {
    if (!this.#ctx) return;
    contexts.unregister(this);
    this.#lib.EVP_CIPHER_CTX_free(this.#ctx);
    this.#ctx = null;
  }
}

/** A keyed HMAC: `mac(parts…)` returns HMAC(key, parts joined) without joining them. */
export class HmacContext {
  readonly #lib: Lib;
  readonly #ctx: Deno.PointerObject;
  readonly #digest = new Uint8Array(64);
  readonly #digestLength = new Uint32Array(1);
  readonly #digestLengthBytes = new Uint8Array(this.#digestLength.buffer);

  /** @internal Made by {@link OpenSsl}. */
  constructor(lib: Lib, ctx: Deno.PointerObject) {
    this.#lib = lib;
    this.#ctx = ctx;
    contexts.register(this, { free: () => lib.HMAC_CTX_free(ctx) });
  }

  /** HMAC over `a ‖ b ‖ c` (b and c optional), truncated to `length` bytes; a fresh array. */
  mac(length: number, a: Uint8Array, b?: Uint8Array, c?: Uint8Array): Uint8Array {
    const lib = this.#lib;
    const ctx = this.#ctx;
    let ok = lib.HMAC_Init_ex(ctx, null, 0, null, null) === 1 &&
      lib.HMAC_Update(ctx, a, BigInt(a.length)) === 1;
    if (ok && b) ok = lib.HMAC_Update(ctx, b, BigInt(b.length)) === 1;
    if (ok && c) ok = lib.HMAC_Update(ctx, c, BigInt(c.length)) === 1;
    if (!ok || lib.HMAC_Final(ctx, this.#digest, this.#digestLengthBytes) !== 1) {
      throw new Error("OpenSSL HMAC failed");
    }
    return this.#digest.slice(0, Math.min(length, this.#digestLength[0]!));
  }
}

/** Poly1305 (RFC 8439) as an EVP_MAC, re-keyed per message. */
export class Poly1305Context {
  readonly #lib: Lib;
  readonly #ctx: Deno.PointerObject;
  readonly #outLength = new BigUint64Array(1);
  readonly #outLengthBytes = new Uint8Array(this.#outLength.buffer);

  /** @internal Made by {@link OpenSsl}. */
  constructor(lib: Lib, ctx: Deno.PointerObject) {
    this.#lib = lib;
    this.#ctx = ctx;
    contexts.register(this, { free: () => lib.EVP_MAC_CTX_free(ctx) });
  }

  /** The 16-byte tag of `msg` under the one-time `key` (32 bytes), written into `out`. */
  tag(key: Uint8Array, msg: Uint8Array, out: Uint8Array): void {
    if (key.length !== 32 || out.length !== 16) throw new RangeError("Poly1305 sizes");
    const lib = this.#lib;
    const ok = lib.EVP_MAC_init(this.#ctx, key, 32n, null) === 1 &&
      lib.EVP_MAC_update(this.#ctx, msg, BigInt(msg.length)) === 1 &&
      lib.EVP_MAC_final(this.#ctx, out, this.#outLengthBytes, 16n) === 1;
    if (!ok || this.#outLength[0] !== 16n) throw new Error("OpenSSL Poly1305 failed");
  }
}

/** Frees native contexts whose wrapper was garbage-collected. */
const contexts = new FinalizationRegistry<{ free(): void }>((held) => held.free());

/** The loaded library: factories for keyed contexts. */
export class OpenSsl {
  readonly #lib: Lib;
  readonly #poly1305: Deno.PointerObject;
  /** One EVP_MD_CTX for every digest (never freed: one per process). */
  #mdContext: Deno.PointerValue = null;
  /** `OpenSSL 3.0.19 (/usr/lib/x86_64-linux-gnu/libcrypto.so.3)`. */
  readonly description: string;

  /** @internal Use {@link openssl}. */
  constructor(lib: Lib, file: string) {
    this.#lib = lib;
    // From the version number (0xMNN00PPSL), not OpenSSL_version()'s C string: reading a
    // pointer needs unscoped --allow-ffi, and the rest works with --allow-ffi=PATH.
    const n = BigInt(lib.OpenSSL_version_num());
    const part = (shift: bigint, mask: bigint) => Number((n >> shift) & mask);
    this.description = `OpenSSL ${part(28n, 0xfn)}.${part(20n, 0xffn)}.${
      part(4n, 0xffn)
    } (${file})`;
    const poly = lib.EVP_MAC_fetch(null, new TextEncoder().encode("POLY1305\0"), null);
    if (!poly) throw new Error("this OpenSSL has no POLY1305 MAC");
    this.#poly1305 = poly;
  }

  #cipher(type: Deno.PointerValue, key: Uint8Array, iv: Uint8Array, encrypt: boolean) {
    const lib = this.#lib;
    const ctx = lib.EVP_CIPHER_CTX_new();
    if (!ctx || !type) throw new Error("OpenSSL could not make a cipher context");
    if (lib.EVP_CipherInit_ex(ctx, type, null, key, iv, encrypt ? 1 : 0) !== 1) {
      lib.EVP_CIPHER_CTX_free(ctx);
      throw new Error("OpenSSL refused the cipher key");
    }
    return new CipherContext(lib, ctx);
  }

  /** AES-CTR with a 128-bit big-endian counter starting at `iv`. */
  aesCtr(bits: AesCtrBits, key: Uint8Array, iv: Uint8Array, encrypt: boolean): CipherContext {
    checkLength("AES-CTR key", key, bits / 8);
    checkLength("AES-CTR IV", iv, 16);
    const lib = this.#lib;
    const type = bits === 128
      ? lib.EVP_aes_128_ctr()
      : bits === 192
      ? lib.EVP_aes_192_ctr()
      : lib.EVP_aes_256_ctr();
    return this.#cipher(type, key, iv, encrypt);
  }

  /** AES-GCM with a 12-byte IV; call `setIv` before each message. */
  aesGcm(bits: AesGcmBits, key: Uint8Array, iv: Uint8Array, encrypt: boolean): CipherContext {
    checkLength("AES-GCM key", key, bits / 8);
    checkLength("AES-GCM IV", iv, 12);
    const lib = this.#lib;
    const type = bits === 128 ? lib.EVP_aes_128_gcm() : lib.EVP_aes_256_gcm();
    return this.#cipher(type, key, iv, encrypt);
  }

  /**
   * ChaCha20 with OpenSSL's 16-byte IV: 32-bit little-endian block counter ‖ 96-bit nonce. For
   * OpenSSH's 64-bit counter ‖ 64-bit nonce, pass LE64(counter) ‖ nonce (identical while the
   * counter stays under 2^32).
   */
  chacha20(key: Uint8Array, iv: Uint8Array): CipherContext {
    checkLength("ChaCha20 key", key, 32);
    checkLength("ChaCha20 IV", iv, 16);
    return this.#cipher(this.#lib.EVP_chacha20(), key, iv, true);
  }

  /** A Poly1305 context (keyed per message). */
  poly1305(): Poly1305Context {
    const ctx = this.#lib.EVP_MAC_CTX_new(this.#poly1305);
    if (!ctx) throw new Error("OpenSSL could not make a Poly1305 context");
    return new Poly1305Context(this.#lib, ctx);
  }

  #md(hash: DigestName): Deno.PointerValue {
    const lib = this.#lib;
    switch (hash) {
      case "md5":
        return lib.EVP_md5();
      case "sha1":
        return lib.EVP_sha1();
      case "sha256":
        return lib.EVP_sha256();
      case "sha384":
        return lib.EVP_sha384();
      case "sha512":
        return lib.EVP_sha512();
    }
  }

  /** The digest of `parts` joined (one reused EVP_MD_CTX; parts are not copied). */
  digest(hash: DigestName, parts: readonly Uint8Array[]): Uint8Array {
    const lib = this.#lib;
    const ctx = this.#mdContext ??= lib.EVP_MD_CTX_new();
    if (!ctx) throw new Error("OpenSSL could not make a digest context");
    let ok = lib.EVP_DigestInit_ex(ctx, this.#md(hash), null) === 1;
    for (const part of parts) ok &&= lib.EVP_DigestUpdate(ctx, part, BigInt(part.length)) === 1;
    const out = new Uint8Array(64);
    const length = new Uint32Array(1);
    ok &&= lib.EVP_DigestFinal_ex(ctx, out, new Uint8Array(length.buffer)) === 1;
    if (!ok) throw new Error(`OpenSSL ${hash} digest failed`);
    return out.subarray(0, length[0]!);
  }

  /** A keyed HMAC context. */
  hmac(hash: HmacHash, key: Uint8Array): HmacContext {
    const lib = this.#lib;
    const md = this.#md(hash);
    const ctx = lib.HMAC_CTX_new();
    if (!ctx || !md) throw new Error("OpenSSL could not make an HMAC context");
    if (lib.HMAC_Init_ex(ctx, key, key.length, md, null) !== 1) {
      lib.HMAC_CTX_free(ctx);
      throw new Error("OpenSSL refused the HMAC key");
    }
    return new HmacContext(lib, ctx);
  }
}

function checkLength(what: string, bytes: Uint8Array, length: number): void {
  if (bytes.length !== length) {
    throw new RangeError(`${what} must have ${length} bytes, got ${bytes.length}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Loading, with known-answer tests

const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((b) => parseInt(b, 16)));
const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** Known answers from the specifications; a library that fails any of them is not used. */
function selfTest(ossl: OpenSsl): string | null {
  // AES-128-GCM, NIST GCM test case 3 (McGrew & Viega), first 16 bytes and the tag of case 4
  // style: key, IV, 64-byte plaintext, no AAD.
  const key = hex("feffe9928665731c6d6a8f9467308308");
  const iv = hex("cafebabefacedbaddecaf888");
  const pt = hex(
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
  );
  const gcm = ossl.aesGcm(128, key, iv, true);
  const ct = new Uint8Array(pt.length);
  gcm.update(pt, ct);
  gcm.final();
  const tag = new Uint8Array(16);
  gcm.getTag(tag);
  gcm.free();
  if (
    !toHex(ct).startsWith("42831ec2217774244b7221b784d0d49c") ||
    toHex(tag) !== "4d5c2af327cd64a62cf35abd2ba6fab4"
  ) return "AES-GCM known answer";
  // AES-128-CTR, NIST SP 800-38A F.5.1, first block.
  const ctr = ossl.aesCtr(
    128,
    hex("2b7e151628aed2a6abf7158809cf4f3c"),
    hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"),
    true,
  );
  const block = new Uint8Array(16);
  ctr.update(hex("6bc1bee22e409f96e93d7e117393172a"), block);
  ctr.free();
  if (toHex(block) !== "874d6191b620e3261bef6864990db6ce") return "AES-CTR known answer";
  // ChaCha20 block function, RFC 8439 §2.3.2 (counter 1, nonce 000000090000004a00000000).
  const chacha = ossl.chacha20(
    hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"),
    hex("01000000000000090000004a00000000"),
  );
  const stream = new Uint8Array(16);
  chacha.update(new Uint8Array(16), stream);
  chacha.free();
  if (toHex(stream) !== "10f1e7e4d13b5915500fdd1fa32071c4") return "ChaCha20 known answer";
  // Poly1305, RFC 8439 §2.5.2.
  const polyTag = new Uint8Array(16);
  ossl.poly1305().tag(
    hex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b"),
    new TextEncoder().encode("Cryptographic Forum Research Group"),
    polyTag,
  );
  if (toHex(polyTag) !== "a8061dc1305136c6c22b8baf0c0127a9") return "Poly1305 known answer";
  // SHA-256 of "abc" in two parts (FIPS 180-2 B.1).
  const abc = ossl.digest("sha256", [
    new TextEncoder().encode("a"),
    new TextEncoder().encode("bc"),
  ]);
  if (toHex(abc) !== "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") {
    return "SHA-256 known answer";
  }
  // HMAC-SHA-256, RFC 4231 test case 2, given in two pieces.
  const mac = ossl.hmac("sha256", new TextEncoder().encode("Jefe")).mac(
    32,
    new TextEncoder().encode("what do ya want "),
    new TextEncoder().encode("for nothing?"),
  );
  if (toHex(mac) !== "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843") {
    return "HMAC-SHA-256 known answer";
  }
  return null;
}

let loaded: { ossl: OpenSsl | null; backend: CryptoBackend } | null = null;

/** Whether a file exists (false when it cannot be checked: the open will then say why). */
function exists(file: string): boolean {
  if (!platform.granted({ name: "read", path: file })) return true;
  try {
    platform.stat(file);
    return true;
  } catch {
    return false;
  }
}

function load(): { ossl: OpenSsl | null; backend: CryptoBackend } {
  const node = (why: string) => ({
    ossl: null,
    backend: { name: "node" as const, detail: `node:crypto (${why})` },
  });
  if (platform.grantedEnv("SSHTRACE_CRYPTO") === "node") return node("SSHTRACE_CRYPTO=node");
  const chosen = platform.grantedEnv("SSHTRACE_LIBCRYPTO");
  const files = [...(chosen ? [chosen] : []), ...(CANDIDATES[platform.build.os] ?? [])];
  // Only files we may load: `--allow-ffi` or `--allow-ffi=PATH` naming them (never a prompt).
  const allowed = files.filter((f) =>
    f.includes("/") || f.includes("\\")
      ? platform.granted({ name: "ffi", path: f })
      : platform.granted({ name: "ffi" })
  );
  if (!allowed.length) return node("no --allow-ffi, so OpenSSL cannot be used");
  let lastError = "no OpenSSL 3 libcrypto for this OS";
  for (const file of allowed) {
    if (file.includes("/") && !exists(file)) continue;
    let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
    try {
      lib = platform.dlopen(file, SYMBOLS);
    } catch (e) {
      lastError = `${file} not loadable: ${firstLine(e)}`;
      continue;
    }
    try {
      const major = Number(BigInt(lib.symbols.OpenSSL_version_num()) >> 28n);
      if (major < 3) throw new Error(`${file} is OpenSSL ${major}.x, not 3`);
      const ossl = new OpenSsl(lib.symbols, file);
      const failed = selfTest(ossl);
      if (failed) throw new Error(`${file} failed the ${failed} test`);
      return { ossl, backend: { name: "openssl", detail: ossl.description } };
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e);
      lib.close();
    }
  }
  return node(lastError);
}

/**
 * OpenSSL's libcrypto when usable (loaded and self-tested once per process; null otherwise), and
 * the backend that follows from it, with the reason when it is `node`.
 */
export function loadOpenSsl(): { ossl: OpenSsl | null; backend: CryptoBackend } {
  return loaded ??= load();
}

/** OpenSSL's libcrypto when usable (loaded and self-tested once per process), else null. */
export function openssl(): OpenSsl | null {
  return loadOpenSsl().ossl;
}
