/**
 * The crypto provider: ONE interface for the per-packet and one-shot primitives (the packet
 * ciphers by family, HMAC, digests), with two implementations — OpenSSL's libcrypto through FFI
 * (`./_openssl_provider.ts`, 10–20× faster here) and `node:crypto` with Web Crypto read-ahead
 * (`./_node_crypto.ts`) — chosen once per process. The cipher families and the MACs call it once
 * per key; the transform they get back is the provider's own object, so a packet costs one method
 * call on it and nothing more. {@link cryptoBackend} says which provider is in use and why; the
 * transport traces it.
 * @module
 */

import { type CryptoBackend, type DigestName, type HmacHash, loadOpenSsl } from "./_openssl.ts";
import type { AesCtrBits, AesGcmBits } from "./_openssl.ts";
import { opensslProvider } from "./_openssl_provider.ts";
import { nodeProvider } from "./_node_crypto.ts";
import type { AeadTransform, StreamTransform } from "./types.ts";

export type { AesCtrBits, AesGcmBits, CryptoBackend, DigestName, HmacHash };

/** A packet MAC under one key: MAC(key, uint32 seq ‖ data ‖ more), truncated. */
export type PacketMac = (seq: number, data: Uint8Array, more?: Uint8Array) => Uint8Array;

/**
 * What a crypto implementation provides. Key and IV sizes are checked by the caller (the cipher
 * family or MAC entry) before it asks; `name` is the SSH name, for error messages.
 */
export interface CryptoProvider {
  /** Which implementation this is, and why (traced by the transport). */
  readonly backend: CryptoBackend;
  /** chacha20-poly1305@openssh.com under a 64-byte key (OpenSSH PROTOCOL.chacha20poly1305). */
  chacha20Poly1305(key: Uint8Array): AeadTransform;
  /** aes*-gcm@openssh.com (RFC 5647 as OpenSSH does it) under a key and a 12-byte IV. */
  aesGcm(name: string, bits: AesGcmBits, key: Uint8Array, iv: Uint8Array): AeadTransform;
  /** aes*-ctr (RFC 4344) in one direction from a 16-byte initial counter. */
  aesCtr(
    name: string,
    bits: AesCtrBits,
    key: Uint8Array,
    iv: Uint8Array,
    encrypt: boolean,
  ): StreamTransform;
  /** HMAC under `key`, for packets: see {@link PacketMac}. */
  hmac(hash: HmacHash, key: Uint8Array, macLength: number): PacketMac;
  /** The digest of `parts` joined. */
  digest(name: DigestName, parts: readonly Uint8Array[]): Uint8Array;
  /** HMAC(key, data) with the whole digest. */
  hmacDigest(name: HmacHash, key: Uint8Array, data: Uint8Array): Uint8Array;
}

let chosen: CryptoProvider | null = null;
let forcedNode = false;

/** The provider of this process: OpenSSL when it loads and passes its self-test, else node. */
export function cryptoProvider(): CryptoProvider {
  return chosen ??= choose();
}

function choose(): CryptoProvider {
  if (forcedNode) return nodeProvider({ name: "node", detail: "node:crypto (chosen by a test)" });
  const { ossl, backend } = loadOpenSsl();
  return ossl ? opensslProvider(ossl, backend) : nodeProvider(backend);
}

/** Which implementation does packet crypto in this process, and why. */
export function cryptoBackend(): CryptoBackend {
  return cryptoProvider().backend;
}

/**
 * Tests only: chooses node:crypto (`"node"`) or the usual choice again (`"auto"`), so both
 * implementations can be checked against each other in one process. Affects ciphers and MACs
 * created afterwards.
 */
export function setCryptoBackendForTests(choice: "node" | "auto"): void {
  forcedNode = choice === "node";
  chosen = null;
}
