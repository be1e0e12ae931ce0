/**
 * The crypto provider on OpenSSL's libcrypto through FFI (`./_openssl.ts`): every packet cipher
 * keeps one native context per direction, re-IVed per packet; HMAC keeps one context per key
 * (internal; chosen once by `./crypto_provider.ts`).
 * @module
 */

import type { CryptoProvider, PacketMac } from "./crypto_provider.ts";
import type {
  AesCtrBits,
  AesGcmBits,
  CryptoBackend,
  DigestName,
  HmacHash,
  OpenSsl,
} from "./_openssl.ts";
import {
  CHACHA_NAME,
  checkBlocks,
  checkSealable,
  checkWire,
  incrementInvocationCounter,
  readUint32,
  setChachaSeq,
  tagMismatch,
  ZERO_BLOCK,
} from "./_cipher_rules.ts";
import type { AeadTransform, StreamTransform } from "./types.ts";

/** The provider on a loaded, self-tested libcrypto. */
export function opensslProvider(ossl: OpenSsl, backend: CryptoBackend): CryptoProvider {
  return {
    backend,
    chacha20Poly1305: (key) => chachaPolyOpenSsl(ossl, key),
    aesGcm: (name, bits, key, iv) => gcmOpenSsl(ossl, name, bits, key, iv),
    aesCtr: (name, bits, key, iv, encrypt) => ctrOpenSsl(ossl, name, bits, key, iv, encrypt),
    hmac: (hash, key, macLength) => hmacOpenSsl(ossl, hash, key, macLength),
    digest: (name: DigestName, parts) => ossl.digest(name, parts),
    hmacDigest: (name: HmacHash, key, data) => ossl.hmac(name, key).mac(64, data),
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
  const polyKey = block0.subarray(0, 32);
  // The length field in and out: copied byte by byte, so no per-packet views are made.
  const lengthIn = new Uint8Array(4);
  const lengthPlain = new Uint8Array(4);
  /** Positions `main` at block 1 of packet `seq` and leaves the Poly1305 key in block0. */
  const startPayload = (seq: number) => {
    setChachaSeq(nonceView, seq);
    main.setIv(nonce);
    main.update(ZERO_BLOCK, block0);
  };
  /** Decrypts (or encrypts) the 4-byte length at the start of `first4` into `lengthPlain`. */
  const cryptLength = (seq: number, first4: Uint8Array) => {
    setChachaSeq(nonceView, seq);
    length.setIv(nonce);
    for (let i = 0; i < 4; i++) lengthIn[i] = first4[i]!;
    length.update(lengthIn, lengthPlain);
  };
  return {
    seal(seq: number, packet: Uint8Array): Uint8Array {
      checkSealable(CHACHA_NAME, packet);
      const out = new Uint8Array(packet.length + 16);
      cryptLength(seq, packet);
      out.set(lengthPlain, 0);
      startPayload(seq);
      main.update(packet.subarray(4), out.subarray(4, packet.length));
      poly.tag(polyKey, out.subarray(0, packet.length), out.subarray(packet.length));
      block0.fill(0);
      return out;
    },
    packetLength(seq: number, first4: Uint8Array): number {
      cryptLength(seq, first4);
      return readUint32(lengthPlain);
    },
    open(seq: number, wire: Uint8Array): Uint8Array {
      checkWire(CHACHA_NAME, wire, 16);
      const bodyLength = wire.length - 16;
      const body = wire.subarray(0, bodyLength);
      startPayload(seq);
      poly.tag(polyKey, body, tag);
      block0.fill(0);
      let diff = 0; // constant time, as bytesEqual, without a view of the wire's tag
      for (let i = 0; i < 16; i++) diff |= tag[i]! ^ wire[bodyLength + i]!;
      if (diff !== 0) {
        throw tagMismatch(CHACHA_NAME);
      }
      const out = new Uint8Array(bodyLength);
      cryptLength(seq, body);
      out.set(lengthPlain, 0);
      main.update(body.subarray(4), out.subarray(4));
      return out;
    },
  };
}

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
    incrementInvocationCounter(nonce);
  };
  const context = (encrypt: boolean) => ossl.aesGcm(bits, k, nonce, encrypt);
  return {
    seal(_seq: number, packet: Uint8Array): Uint8Array {
      checkSealable(name, packet);
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
        throw tagMismatch(name);
      }
      return out;
    },
  };
}

/** AES-CTR (RFC 4344) on OpenSSL: one context per direction, keeping its own counter. */
function ctrOpenSsl(
  ossl: OpenSsl,
  name: string,
  bits: AesCtrBits,
  key: Uint8Array,
  iv: Uint8Array,
  encrypt: boolean,
): StreamTransform {
  const ctx = ossl.aesCtr(bits, key, iv, encrypt);
  return {
    update(data: Uint8Array): Uint8Array {
      checkBlocks(name, data, 16);
      const out = new Uint8Array(data.length);
      ctx.update(data, out);
      return out;
    },
  };
}

/** HMAC(key, uint32 seq ‖ data ‖ more) truncated to `macLength`, on one context per key. */
function hmacOpenSsl(ossl: OpenSsl, hash: HmacHash, key: Uint8Array, macLength: number): PacketMac {
  const seqBytes = new Uint8Array(4);
  const seqView = new DataView(seqBytes.buffer);
  const ctx = ossl.hmac(hash, key);
  return (seq: number, data: Uint8Array, more?: Uint8Array): Uint8Array => {
    seqView.setUint32(0, seq >>> 0);
    return ctx.mac(macLength, seqBytes, data, more);
  };
}
