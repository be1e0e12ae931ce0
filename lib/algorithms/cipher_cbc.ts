/**
 * The CBC family: aes128-cbc, aes192-cbc, aes256-cbc and 3des-cbc (RFC 4253 §6.3), all legacy:
 * never offered unless legacy algorithms are switched on; their risks are in `./policy.ts`.
 * They run on `node:crypto` only, whichever crypto provider does the other ciphers
 * (`usesNodeCrypto`).
 *
 * `aes192-cbc` is built from `aes-192-ecb` because the runtime's `node:crypto` has no
 * `aes-192-cbc`; the others use `node:crypto` CBC directly with padding switched off.
 * @module
 */

import type { Cipheriv, Decipheriv } from "node:crypto";
import { nodeCrypto } from "./node_loader.ts";
import { policyOf } from "./policy.ts";
import type { CipherAlgorithm, StreamTransform } from "./types.ts";
import { checkBlocks, checkSizes } from "./_cipher_rules.ts";
import { plain } from "./_node_crypto.ts";

/** CBC through a `node:crypto` cipher that supports it. */
function nodeCbc(name: string, nodeName: string, keyLength: number, blockSize: number) {
  return (key: Uint8Array, iv: Uint8Array, encrypt: boolean): StreamTransform => {
    checkSizes(name, key, keyLength, iv, blockSize);
    const cipher: Cipheriv | Decipheriv = encrypt
      ? nodeCrypto().createCipheriv(nodeName, key, iv)
      : nodeCrypto().createDecipheriv(nodeName, key, iv);
    cipher.setAutoPadding(false);
    return {
      update(data: Uint8Array): Uint8Array {
        checkBlocks(name, data, blockSize);
        return plain(cipher.update(data));
      },
    };
  };
}

/** CBC chained by hand over an ECB cipher (16-byte blocks). */
function ecbCbc(name: string, nodeName: string, keyLength: number) {
  const blockSize = 16;
  return (key: Uint8Array, iv: Uint8Array, encrypt: boolean): StreamTransform => {
    checkSizes(name, key, keyLength, iv, blockSize);
    const chain = new Uint8Array(iv);
    if (encrypt) {
      const ecb = nodeCrypto().createCipheriv(nodeName, key, null);
      ecb.setAutoPadding(false);
      const block = new Uint8Array(blockSize);
      return {
        update(data: Uint8Array): Uint8Array {
          checkBlocks(name, data, blockSize);
          const out = new Uint8Array(data.length);
          for (let off = 0; off < data.length; off += blockSize) {
            for (let i = 0; i < blockSize; i++) block[i] = data[off + i]! ^ chain[i]!;
            const enc = ecb.update(block);
            out.set(enc, off);
            chain.set(enc);
          }
          return out;
        },
      };
    }
    const ecb = nodeCrypto().createDecipheriv(nodeName, key, null);
    ecb.setAutoPadding(false);
    return {
      update(data: Uint8Array): Uint8Array {
        checkBlocks(name, data, blockSize);
        const out = new Uint8Array(ecb.update(data));
        for (let i = 0; i < blockSize && i < data.length; i++) out[i]! ^= chain[i]!;
        for (let i = blockSize; i < data.length; i++) out[i]! ^= data[i - blockSize]!;
        if (data.length) chain.set(data.subarray(data.length - blockSize));
        return out;
      },
    };
  };
}

/** The CBC ciphers (all legacy), in preference order. */
export const CBC_CIPHERS: readonly CipherAlgorithm[] = [
  {
    ...policyOf("cipher", "aes128-cbc"),
    usesNodeCrypto: true,
    spec: "RFC 4253",
    keyLength: 16,
    ivLength: 16,
    blockSize: 16,
    tagLength: 0,
    createStream: nodeCbc("aes128-cbc", "aes-128-cbc", 16, 16),
  },
  {
    ...policyOf("cipher", "aes192-cbc"),
    usesNodeCrypto: true,
    spec: "RFC 4253",
    keyLength: 24,
    ivLength: 16,
    blockSize: 16,
    tagLength: 0,
    createStream: ecbCbc("aes192-cbc", "aes-192-ecb", 24),
  },
  {
    ...policyOf("cipher", "aes256-cbc"),
    usesNodeCrypto: true,
    spec: "RFC 4253",
    keyLength: 32,
    ivLength: 16,
    blockSize: 16,
    tagLength: 0,
    createStream: nodeCbc("aes256-cbc", "aes-256-cbc", 32, 16),
  },
  {
    ...policyOf("cipher", "3des-cbc"),
    usesNodeCrypto: true,
    spec: "RFC 4253",
    keyLength: 24,
    ivLength: 8,
    blockSize: 8,
    tagLength: 0,
    createStream: nodeCbc("3des-cbc", "des-ede3-cbc", 24, 8),
  },
];
