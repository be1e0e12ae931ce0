/**
 * The packet-cipher registry: every cipher family in preference order — chacha20-poly1305@openssh.com
 * (`./cipher_chacha20_poly1305.ts`), AES-GCM (`./cipher_aes_gcm.ts`), AES-CTR
 * (`./cipher_aes_ctr.ts`), then the legacy CBC ciphers (`./cipher_cbc.ts`). The families run on
 * the crypto provider chosen once per process (`./crypto_provider.ts`).
 * @module
 */

import { CHACHA20_POLY1305_CIPHERS } from "./cipher_chacha20_poly1305.ts";
import { AES_GCM_CIPHERS } from "./cipher_aes_gcm.ts";
import { AES_CTR_CIPHERS } from "./cipher_aes_ctr.ts";
import { CBC_CIPHERS } from "./cipher_cbc.ts";
import type { CipherAlgorithm } from "./types.ts";

export { CipherIntegrityError, type ReadAheadAead, type ReadAheadStream } from "./types.ts";

/** Every packet cipher, in preference order; the legacy CBC ciphers come last. */
export const CIPHER_ALGORITHMS: readonly CipherAlgorithm[] = [
  ...CHACHA20_POLY1305_CIPHERS,
  ...AES_GCM_CIPHERS,
  ...AES_CTR_CIPHERS,
  ...CBC_CIPHERS,
];

/** Looks up a cipher by its SSH name. */
export function findCipher(name: string): CipherAlgorithm | undefined {
  return CIPHER_ALGORITHMS.find((c) => c.name === name);
}
