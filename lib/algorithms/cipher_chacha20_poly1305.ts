/**
 * The ChaCha20-Poly1305 family: chacha20-poly1305@openssh.com (OpenSSH
 * PROTOCOL.chacha20poly1305). K_2 (key bytes 0..31) encrypts the payload from block 1 and gives
 * the Poly1305 key (first 32 bytes of block 0); K_1 (bytes 32..63) encrypts the 4-byte length.
 * The construction runs on the crypto provider (`./crypto_provider.ts`).
 * @module
 */

import { cryptoProvider } from "./crypto_provider.ts";
import { CHACHA_NAME, checkSizes } from "./_cipher_rules.ts";
import { policyOf } from "./policy.ts";
import type { AeadTransform, CipherAlgorithm } from "./types.ts";

function createChachaPoly(key: Uint8Array, iv: Uint8Array): AeadTransform {
  checkSizes(CHACHA_NAME, key, 64, iv, 0);
  return cryptoProvider().chacha20Poly1305(key);
}

/** The ChaCha20-Poly1305 ciphers, in preference order. */
export const CHACHA20_POLY1305_CIPHERS: readonly CipherAlgorithm[] = [
  {
    ...policyOf("cipher", CHACHA_NAME),
    spec: "OpenSSH PROTOCOL.chacha20poly1305",
    keyLength: 64,
    ivLength: 0,
    blockSize: 8,
    tagLength: 16,
    createAead: createChachaPoly,
  },
];
