/**
 * The ciphers that encrypt an OpenSSH private key file's private section (PROTOCOL.key), through
 * node:crypto: AES-CTR, AES-CBC, AES-GCM and chacha20-poly1305@openssh.com.
 * @module
 */

import { chacha20, nodeCrypto } from "../algorithms/node_loader.ts";
import { poly1305 } from "../algorithms/poly1305.ts";
import { bytesEqual, concatBytes } from "../wire/buffer.ts";

/** One key-file cipher: sizes, and a decryption that returns null on a tag mismatch. */
export interface KeyCipher {
  keyLen: number;
  ivLen: number;
  block: number;
  tagLen: number;
  decrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array, tag: Uint8Array): Uint8Array | null;
}

function nodeCipher(name: string, keyLen: number, ivLen: number): KeyCipher {
  return {
    keyLen,
    ivLen,
    block: 16,
    tagLen: 0,
    decrypt(key, iv, data) {
      const d = nodeCrypto().createDecipheriv(name, key, iv);
      d.setAutoPadding(false);
      return concatBytes(new Uint8Array(d.update(data)), new Uint8Array(d.final()));
    },
  };
}

function gcmCipher(name: "aes-128-gcm" | "aes-256-gcm", keyLen: number): KeyCipher {
  return {
    keyLen,
    ivLen: 12,
    block: 16,
    tagLen: 16,
    decrypt(key, iv, data, tag) {
      const d = nodeCrypto().createDecipheriv(name, key, iv, { authTagLength: 16 });
      d.setAuthTag(tag);
      try {
        return concatBytes(new Uint8Array(d.update(data)), new Uint8Array(d.final()));
      } catch {
        return null;
      }
    },
  };
}

/** chacha20-poly1305@openssh.com with sequence number 0 and no length header. */
const chachaPoly: KeyCipher = {
  keyLen: 64,
  ivLen: 0,
  block: 8,
  tagLen: 16,
  decrypt(key, _iv, data, tag) {
    const mainKey = key.subarray(0, 32);
    // node:crypto chacha20 IV: little-endian 64-bit block counter ‖ 64-bit nonce (here 0).
    const block = (counter: number) => {
      const iv = new Uint8Array(16);
      iv[0] = counter;
      return chacha20(mainKey, iv);
    };
    const polyKey = new Uint8Array(block(0).update(new Uint8Array(32)));
    if (!bytesEqual(poly1305(data, polyKey), tag)) return null;
    return new Uint8Array(block(1).update(data));
  },
};

const CIPHERS: Record<string, KeyCipher> = {
  "aes128-ctr": nodeCipher("aes-128-ctr", 16, 16),
  "aes192-ctr": nodeCipher("aes-192-ctr", 24, 16),
  "aes256-ctr": nodeCipher("aes-256-ctr", 32, 16),
  "aes128-cbc": nodeCipher("aes-128-cbc", 16, 16),
  "aes192-cbc": nodeCipher("aes-192-cbc", 24, 16),
  "aes256-cbc": nodeCipher("aes-256-cbc", 32, 16),
  "aes128-gcm@openssh.com": gcmCipher("aes-128-gcm", 16),
  "aes256-gcm@openssh.com": gcmCipher("aes-256-gcm", 32),
  "chacha20-poly1305@openssh.com": chachaPoly,
};

/** Cipher names accepted in OpenSSH private key files (besides `none`). */
export const KEY_FILE_CIPHERS: readonly string[] = Object.keys(CIPHERS);

/** The key-file cipher of that name, or null. */
export function findKeyCipher(name: string): KeyCipher | null {
  return Object.hasOwn(CIPHERS, name) ? CIPHERS[name]! : null;
}
