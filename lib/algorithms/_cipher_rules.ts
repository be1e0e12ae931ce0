/**
 * The packet-cipher rules both crypto providers (`./_openssl_provider.ts`, `./_node_crypto.ts`)
 * and the cipher families share, each written once: size checks, the GCM invocation counter,
 * the chacha20-poly1305 nonce layout (internal).
 * @module
 */

import { CipherIntegrityError } from "./types.ts";

/** The SSH name of OpenSSH's ChaCha20-Poly1305 construction. */
export const CHACHA_NAME = "chacha20-poly1305@openssh.com";

/** 64 zero bytes: ChaCha20 keystream block 0 is produced by encrypting them. */
export const ZERO_BLOCK = new Uint8Array(64);

/** A big-endian uint32 at `offset`. */
export function readUint32(bytes: Uint8Array, offset = 0): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) |
    bytes[offset + 3]!) >>> 0;
}

/** Throws a `RangeError` naming the algorithm when a key or IV has the wrong size. */
export function checkSizes(
  name: string,
  key: Uint8Array,
  keyLength: number,
  iv: Uint8Array,
  ivLength: number,
): void {
  if (key.length !== keyLength) {
    throw new RangeError(`${name} needs a ${keyLength}-byte key, got ${key.length} bytes`);
  }
  if (iv.length !== ivLength) {
    throw new RangeError(`${name} needs a ${ivLength}-byte IV, got ${iv.length} bytes`);
  }
}

/** Throws a `RangeError` when `data` is not whole cipher blocks. */
export function checkBlocks(name: string, data: Uint8Array, blockSize: number): void {
  if (data.length % blockSize !== 0) {
    throw new RangeError(
      `${name} can only transform whole ${blockSize}-byte blocks, got ${data.length} bytes`,
    );
  }
}

/** Throws a `RangeError` when an AEAD wire packet cannot even hold its length and tag. */
export function checkWire(name: string, wire: Uint8Array, tagLength: number): void {
  if (wire.length < 4 + tagLength) {
    throw new RangeError(`${name} packet of ${wire.length} bytes is too short to hold its tag`);
  }
}

/** Throws a `RangeError` when a packet to seal cannot even hold its 4-byte length field. */
export function checkSealable(name: string, packet: Uint8Array): void {
  if (packet.length < 4) throw new RangeError(`${name} packet is shorter than 4 bytes`);
}

/** The error of an AEAD packet whose tag does not match (corrupted or forged on the way). */
export function tagMismatch(name: string): CipherIntegrityError {
  return new CipherIntegrityError(`${name} tag does not match the packet`);
}

/**
 * RFC 5647 as OpenSSH does it: the 12-byte GCM IV is a 4-byte fixed field ‖ an 8-byte invocation
 * counter, incremented (big-endian, wrapping) after every packet, independent of the sequence
 * number.
 */
export function incrementInvocationCounter(nonce: Uint8Array): void {
  for (let i = 11; i >= 4; i--) {
    nonce[i] = (nonce[i]! + 1) & 0xff;
    if (nonce[i] !== 0) break;
  }
}

/**
 * OpenSSH PROTOCOL.chacha20poly1305: the nonce is the sequence number as a big-endian uint64.
 * Both providers use a 16-byte IV whose first 8 bytes are a zero block counter (node: 64-bit LE
 * counter ‖ 64-bit nonce; OpenSSL: 32-bit LE counter ‖ 96-bit nonce, which lines up the same),
 * so the sequence number goes into bytes 12..15.
 */
export function setChachaSeq(nonceView: DataView, seq: number): void {
  nonceView.setUint32(12, seq >>> 0);
}
