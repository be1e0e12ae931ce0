/**
 * Packet ciphers: chacha20-poly1305@openssh.com, AES-GCM (RFC 5647 as OpenSSH does it) and
 * AES-CTR (RFC 4344), followed by the legacy CBC ciphers. All bulk work is done by synchronous
 * `node:crypto`; Poly1305 comes from `@noble/ciphers`.
 * @module
 */

import {
  type CipherGCMTypes,
  type Cipheriv,
  createCipheriv,
  createDecipheriv,
  type Decipheriv,
} from "node:crypto";
import { poly1305 } from "@noble/ciphers/_poly1305.js";
import { bytesEqual } from "../wire/buffer.ts";
import { LEGACY_CIPHERS } from "./cipher_legacy.ts";
import { checkSizes, plain } from "./_node_crypto.ts";
import type { AeadTransform, CipherAlgorithm, StreamTransform } from "./types.ts";

/** An AEAD packet failed its authentication check: it was altered or the keys disagree. */
export class CipherIntegrityError extends Error {
  override name = "CipherIntegrityError";
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
  const mainKey = new Uint8Array(key.subarray(0, 32));
  const lengthKey = new Uint8Array(key.subarray(32, 64));
  // node:crypto chacha20 IV: 8-byte little-endian block counter ‖ 8-byte nonce (original DJB
  // layout). The counter stays 0; the payload continues after the Poly1305 key block.
  const nonce = new Uint8Array(16);
  const nonceView = new DataView(nonce.buffer);
  const setSeq = (seq: number) => nonceView.setUint32(12, seq >>> 0);

  const lengthCipher = (seq: number, first4: Uint8Array): Uint8Array => {
    setSeq(seq);
    return createCipheriv("chacha20", lengthKey, nonce).update(first4);
  };
  /** Returns the payload cipher positioned at block 1 and the Poly1305 key. */
  const payloadCipher = (seq: number): [Cipheriv, Uint8Array] => {
    setSeq(seq);
    const cipher = createCipheriv("chacha20", mainKey, nonce);
    const polyKey = cipher.update(ZERO_BLOCK).subarray(0, 32);
    return [cipher, polyKey];
  };

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
      return readUint32(lengthCipher(seq, first4.subarray(0, 4)));
    },
    open(seq: number, wire: Uint8Array): Uint8Array {
      checkWire(CHACHA_NAME, wire, 16);
      const bodyLength = wire.length - 16;
      const body = wire.subarray(0, bodyLength);
      const [cipher, polyKey] = payloadCipher(seq);
      if (!bytesEqual(poly1305(body, polyKey), wire.subarray(bodyLength))) {
        throw new CipherIntegrityError(`${CHACHA_NAME} tag does not match the packet`);
      }
      const plain = new Uint8Array(bodyLength);
      plain.set(lengthCipher(seq, body.subarray(0, 4)), 0);
      plain.set(cipher.update(body.subarray(4)), 4);
      return plain;
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
function gcm(name: string, nodeName: CipherGCMTypes, keyLength: number) {
  return (key: Uint8Array, iv: Uint8Array): AeadTransform => {
    checkSizes(name, key, keyLength, iv, 12);
    const k = new Uint8Array(key);
    const nonce = new Uint8Array(iv);
    /** Returns the IV for this packet and advances the invocation counter. */
    const nextIv = (): Uint8Array => {
      const current = nonce.slice();
      for (let i = 11; i >= 4; i--) {
        nonce[i] = (nonce[i]! + 1) & 0xff;
        if (nonce[i] !== 0) break;
      }
      return current;
    };
    return {
      seal(_seq: number, packet: Uint8Array): Uint8Array {
        if (packet.length < 4) throw new RangeError(`${name} packet is shorter than 4 bytes`);
        const cipher = createCipheriv(nodeName, k, nextIv());
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
        const decipher = createDecipheriv(nodeName, k, nextIv());
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
    };
  };
}

// ---------------------------------------------------------------------------------------------
// aes*-ctr

/** RFC 4344 CTR: one `node:crypto` cipher object for the whole direction. */
function ctr(name: string, nodeName: string, keyLength: number) {
  return (key: Uint8Array, iv: Uint8Array, encrypt: boolean): StreamTransform => {
    checkSizes(name, key, keyLength, iv, 16);
    const cipher: Cipheriv | Decipheriv = encrypt
      ? createCipheriv(nodeName, key, iv)
      : createDecipheriv(nodeName, key, iv);
    return {
      update(data: Uint8Array): Uint8Array {
        if (data.length % 16 !== 0) {
          throw new RangeError(
            `${name} can only transform whole 16-byte blocks, got ${data.length} bytes`,
          );
        }
        return plain(cipher.update(data));
      },
    };
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
