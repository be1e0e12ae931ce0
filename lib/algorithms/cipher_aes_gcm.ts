/**
 * The AES-GCM family: aes128-gcm@openssh.com and aes256-gcm@openssh.com, RFC 5647 as OpenSSH
 * does it: 12-byte IV = 4-byte fixed field ‖ 8-byte invocation counter, incremented after every
 * packet (independent of the sequence number); the packet length is sent in clear and
 * authenticated as AAD. The construction runs on the crypto provider (`./crypto_provider.ts`).
 * @module
 */

import { type AesGcmBits, cryptoProvider } from "./crypto_provider.ts";
import { checkSizes } from "./_cipher_rules.ts";
import { policyOf } from "./policy.ts";
import type { AeadTransform, CipherAlgorithm } from "./types.ts";

function gcmEntry(bits: AesGcmBits): CipherAlgorithm {
  const name = `aes${bits}-gcm@openssh.com`;
  const keyLength = bits / 8;
  return {
    ...policyOf("cipher", name),
    spec: "RFC 5647",
    keyLength,
    ivLength: 12,
    blockSize: 16,
    tagLength: 16,
    createAead(key: Uint8Array, iv: Uint8Array): AeadTransform {
      checkSizes(name, key, keyLength, iv, 12);
      return cryptoProvider().aesGcm(name, bits, key, iv);
    },
  };
}

/** The AES-GCM ciphers, in preference order. */
export const AES_GCM_CIPHERS: readonly CipherAlgorithm[] = [gcmEntry(128), gcmEntry(256)];
