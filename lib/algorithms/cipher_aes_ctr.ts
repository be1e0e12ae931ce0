/**
 * The AES-CTR family: aes128-ctr, aes192-ctr, aes256-ctr (RFC 4344). The IV is a 128-bit
 * big-endian counter that counts cipher blocks across the whole direction. The transform comes
 * from the crypto provider (`./crypto_provider.ts`); on node:crypto it can also decrypt
 * asynchronously through Web Crypto (`updateAsync`) for read-ahead.
 * @module
 */

import { type AesCtrBits, cryptoProvider } from "./crypto_provider.ts";
import { checkSizes } from "./_cipher_rules.ts";
import { policyOf } from "./policy.ts";
import type { CipherAlgorithm, StreamTransform } from "./types.ts";

function ctrEntry(bits: AesCtrBits): CipherAlgorithm {
  const name = `aes${bits}-ctr`;
  const keyLength = bits / 8;
  return {
    ...policyOf("cipher", name),
    spec: "RFC 4344",
    keyLength,
    ivLength: 16,
    blockSize: 16,
    tagLength: 0,
    createStream(key: Uint8Array, iv: Uint8Array, encrypt: boolean): StreamTransform {
      checkSizes(name, key, keyLength, iv, 16);
      return cryptoProvider().aesCtr(name, bits, key, iv, encrypt);
    },
  };
}

/** The AES-CTR ciphers, in preference order. */
export const AES_CTR_CIPHERS: readonly CipherAlgorithm[] = [
  ctrEntry(128),
  ctrEntry(192),
  ctrEntry(256),
];
