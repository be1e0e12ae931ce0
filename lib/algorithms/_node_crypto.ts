/**
 * The crypto provider on `node:crypto` (loaded on first use, `./node_loader.ts`), with Poly1305
 * in WebAssembly (`./poly1305.ts`) and an asynchronous Web Crypto receive path for AES-GCM and
 * AES-CTR (`openAsync`, `updateAsync`), with which the transport keeps several packets in flight
 * while downloading. The fallback when OpenSSL cannot be used (internal; chosen once by
 * `./crypto_provider.ts`).
 * @module
 */

import type { CipherGCMTypes, Cipheriv, Decipheriv } from "node:crypto";
import { chacha20, type Chacha20Stream, nodeCrypto } from "./node_loader.ts";
import { bytesEqual } from "../wire/buffer.ts";
import { poly1305 } from "./poly1305.ts";
import type { CryptoProvider, PacketMac } from "./crypto_provider.ts";
import type { AesCtrBits, AesGcmBits, CryptoBackend, HmacHash } from "./_openssl.ts";
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
import type { AeadTransform, ReadAheadAead, ReadAheadStream } from "./types.ts";

/** The provider on node:crypto; `backend` says why OpenSSL is not used. */
export function nodeProvider(backend: CryptoBackend): CryptoProvider {
  return {
    backend,
    chacha20Poly1305: chachaPolyNode,
    aesGcm: (name, bits: AesGcmBits, key, iv) => gcmNode(name, `aes-${bits}-gcm`, key, iv),
    aesCtr: (name, bits, key, iv, encrypt) => ctrNode(name, bits, key, iv, encrypt),
    hmac: hmacNode,
    digest(name, parts) {
      const h = nodeCrypto().createHash(name);
      for (const part of parts) h.update(part);
      return new Uint8Array(h.digest());
    },
    hmacDigest: (name, key, data) =>
      new Uint8Array(nodeCrypto().createHmac(name, key).update(data).digest()),
  };
}

/** A plain `Uint8Array` view of a node `Buffer` (no copy), so callers never see a Buffer. */
export function plain(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** The same bytes typed for Web Crypto (which never sees a SharedArrayBuffer here). */
function bufferSource(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes as Uint8Array<ArrayBuffer>;
}

// ---------------------------------------------------------------------------------------------
// chacha20-poly1305@openssh.com

/**
 * OpenSSH PROTOCOL.chacha20poly1305: K_2 (key bytes 0..31) encrypts the payload from block 1
 * and gives the Poly1305 key (first 32 bytes of block 0); K_1 (bytes 32..63) encrypts the
 * 4-byte length. The nonce is the sequence number as a big-endian uint64.
 */
function chachaPolyNode(key: Uint8Array): AeadTransform {
  const mainKey = new Uint8Array(key.subarray(0, 32));
  const lengthKey = new Uint8Array(key.subarray(32, 64));
  // node:crypto chacha20 IV: 8-byte little-endian block counter ‖ 8-byte nonce (original DJB
  // layout). The counter stays 0; the payload continues after the Poly1305 key block.
  const nonce = new Uint8Array(16);
  const nonceView = new DataView(nonce.buffer);

  const lengthCipher = (seq: number, first4: Uint8Array): Uint8Array => {
    setChachaSeq(nonceView, seq);
    return chacha20(lengthKey, nonce).update(first4);
  };
  /** Returns the payload cipher positioned at block 1 and the Poly1305 key. */
  const payloadCipher = (seq: number): [Chacha20Stream, Uint8Array] => {
    setChachaSeq(nonceView, seq);
    const cipher = chacha20(mainKey, nonce);
    const polyKey = cipher.update(ZERO_BLOCK).subarray(0, 32);
    return [cipher, polyKey];
  };
  // The length `packetLength` decrypted last (open() needs it again for the same packet).
  let lastLength: { seq: number; wire: number; plain: Uint8Array } | null = null;

  return {
    seal(seq: number, packet: Uint8Array): Uint8Array {
      checkSealable(CHACHA_NAME, packet);
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
      setChachaSeq(nonceView, seq);
      const cipher = chacha20(mainKey, nonce);
      // 60 bytes of block 0 (the Poly1305 key is its first 32), so that decrypting the whole
      // body (length field included) lines the payload up with block 1: one output array, no
      // joining; its first 4 bytes are then replaced by the length decrypted with K_1.
      const polyKey = cipher.update(ZERO_BLOCK.subarray(0, 60)).subarray(0, 32);
      if (!bytesEqual(poly1305(body, polyKey), wire.subarray(bodyLength))) {
        throw tagMismatch(CHACHA_NAME);
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

// ---------------------------------------------------------------------------------------------
// aes*-gcm@openssh.com

/**
 * RFC 5647 as OpenSSH does it: 12-byte IV = 4-byte fixed field ‖ 8-byte invocation counter,
 * incremented after every packet (independent of the sequence number); the packet length is
 * sent in clear and authenticated as AAD.
 */
function gcmNode(
  name: string,
  nodeName: CipherGCMTypes,
  key: Uint8Array,
  iv: Uint8Array,
): ReadAheadAead {
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
    incrementInvocationCounter(nonce);
    return current;
  };
  const transform: ReadAheadAead = {
    seal(_seq: number, packet: Uint8Array): Uint8Array {
      checkSealable(name, packet);
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
        throw tagMismatch(name);
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
          throw tagMismatch(name);
        },
      );
    },
  };
  return transform;
}

// ---------------------------------------------------------------------------------------------
// aes*-ctr

/**
 * RFC 4344 CTR: the IV is a 128-bit big-endian counter that counts cipher blocks across the whole
 * direction. `update` runs a `node:crypto` cipher; `updateAsync` runs one stateless Web Crypto
 * AES-CTR call from the current counter. Both advance the same counter, so they can be mixed (the
 * node cipher is re-created at the right position after asynchronous calls).
 */
function ctrNode(
  name: string,
  bits: AesCtrBits,
  key: Uint8Array,
  iv: Uint8Array,
  encrypt: boolean,
): ReadAheadStream {
  const nodeName = `aes-${bits}-ctr`;
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
      checkBlocks(name, data, 16);
      node ??= encrypt
        ? nodeCrypto().createCipheriv(nodeName, k, counter)
        : nodeCrypto().createDecipheriv(nodeName, k, counter);
      advance(data.length / 16);
      return plain(node.update(data));
    },
    updateAsync(data: Uint8Array): Promise<Uint8Array> {
      try {
        checkBlocks(name, data, 16);
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
}

// ---------------------------------------------------------------------------------------------
// HMAC

/** The block size in bytes of the hashes HMAC is used with here. */
function hashBlockSize(hash: string): number {
  return hash === "sha512" || hash === "sha384" ? 128 : 64;
}

/**
 * HMAC(key, uint32 seq ‖ data ‖ more) truncated to `macLength`, fed in separate updates so
 * `data` is never copied. The inner and outer hash states with the padded key absorbed are
 * computed once per key and copied for every message (RFC 2104), which spares a per-packet HMAC
 * set-up (~5 µs of a ~30 µs 32 KiB packet).
 */
function hmacNode(hash: HmacHash, key: Uint8Array, macLength: number): PacketMac {
  const seqBytes = new Uint8Array(4);
  const seqView = new DataView(seqBytes.buffer);
  const blockSize = hashBlockSize(hash);
  const k = key.length > blockSize
    ? plain(nodeCrypto().createHash(hash).update(key).digest())
    : key;
  const ipad = new Uint8Array(blockSize).fill(0x36);
  const opad = new Uint8Array(blockSize).fill(0x5c);
  for (let i = 0; i < k.length; i++) {
    ipad[i]! ^= k[i]!;
    opad[i]! ^= k[i]!;
  }
  const inner = nodeCrypto().createHash(hash).update(ipad);
  const outer = nodeCrypto().createHash(hash).update(opad);
  ipad.fill(0);
  opad.fill(0);
  return (seq: number, data: Uint8Array, more?: Uint8Array): Uint8Array => {
    seqView.setUint32(0, seq >>> 0);
    const h = inner.copy().update(seqBytes).update(data);
    if (more) h.update(more);
    const mac = outer.copy().update(h.digest()).digest();
    return plain(mac.length > macLength ? mac.subarray(0, macLength) : mac);
  };
}
