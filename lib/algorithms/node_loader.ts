/**
 * `node:crypto`, loaded on first use instead of at start-up (for lib/algorithms and lib/keys).
 *
 * Loading Deno's `node:crypto` costs ~25 ms of main-thread time (its compatibility layer), about
 * a sixth of a whole `sshtrace host true`. Many runs never need it (OpenSSL does the packet
 * crypto, Web Crypto the curves), and the others need it only after the server has answered. So
 * modules call {@link nodeCrypto} at the point of use, and the transport calls
 * {@link preloadNodeCrypto} right after sending its version line, when the process would
 * otherwise wait for the server: the load then costs no wall time.
 * @module
 */

import type * as NodeCryptoModule from "node:crypto";

type NodeCrypto = typeof NodeCryptoModule;

let loaded: NodeCrypto | null = null;
let loading: Promise<NodeCrypto> | null = null;

/**
 * The `node:crypto` module. Synchronous: when {@link preloadNodeCrypto} has not finished yet,
 * it is fetched through `process.getBuiltinModule` (Deno supports it).
 */
export function nodeCrypto(): NodeCrypto {
  if (loaded) return loaded;
  const process = (globalThis as { process?: { getBuiltinModule?(id: string): unknown } })
    .process;
  const mod = process?.getBuiltinModule?.("node:crypto") as NodeCrypto | undefined;
  if (!mod) throw new Error("internal error: node:crypto is not available in this runtime");
  return (loaded = mod);
}

/** ChaCha20 with a 64-bit nonce and counter (DJB's original layout), as @noble/ciphers has it. */
export type Chacha20Orig = (
  key: Uint8Array,
  nonce: Uint8Array,
  data: Uint8Array,
  output?: Uint8Array,
  counter?: number,
) => Uint8Array;

let nobleChacha: Chacha20Orig | null = null;
let nodeHasChacha: boolean | null = null;

/**
 * Starts loading `node:crypto` in the background (idempotent); resolves when it is ready. Where
 * it has no raw `chacha20` cipher (Bun: BoringSSL), @noble/ciphers' ChaCha20 is loaded too.
 */
export function preloadNodeCrypto(): Promise<void> {
  loading ??= (loaded ? Promise.resolve(loaded) : import("node:crypto")).then(async (m) => {
    loaded ??= m as unknown as NodeCrypto;
    nodeHasChacha ??= loaded.getCiphers().includes("chacha20");
    if (!nodeHasChacha) {
      nobleChacha = (await import("@noble/ciphers/chacha.js")).chacha20orig;
    }
    return loaded;
  });
  return loading.then(() => {});
}

/**
 * The JavaScript ChaCha20 when `node:crypto` lacks one (loaded by {@link preloadNodeCrypto},
 * which the transport runs before any key exists), else null: use `node:crypto`.
 */
function chacha20Fallback(): Chacha20Orig | null {
  if (nobleChacha) return nobleChacha;
  nodeHasChacha ??= nodeCrypto().getCiphers().includes("chacha20");
  if (nodeHasChacha) return null;
  throw new Error("internal error: chacha20 needs preloadNodeCrypto() in this runtime");
}

/** ChaCha20 as a stream from the start of the keystream: each update goes on where the last ended. */
export interface Chacha20Stream {
  update(data: Uint8Array): Uint8Array;
}

/**
 * `node:crypto`'s `chacha20` under `key` and a 16-byte IV (LE64 counter ‖ 8-byte nonce), or the
 * same stream from @noble/ciphers where the runtime has none (the standalone Bun executable).
 */
export function chacha20(key: Uint8Array, iv: Uint8Array): Chacha20Stream {
  const noble = chacha20Fallback();
  if (!noble) return nodeCrypto().createCipheriv("chacha20", key, iv);
  const nonce = iv.slice(8, 16);
  let position = Number(new DataView(iv.buffer, iv.byteOffset).getBigUint64(0, true)) * 64;
  return {
    update(data) {
      const out = new Uint8Array(data.length);
      let done = 0;
      const offset = position % 64;
      if (offset !== 0 && data.length > 0) {
        // Finish the current block from its keystream.
        const block = noble(key, nonce, new Uint8Array(64), undefined, Math.floor(position / 64));
        done = Math.min(64 - offset, data.length);
        for (let i = 0; i < done; i++) out[i] = data[i]! ^ block[offset + i]!;
      }
      if (done < data.length) {
        noble(key, nonce, data.subarray(done), out.subarray(done), (position + done) / 64);
      }
      position += data.length;
      return out;
    },
  };
}

/**
 * Tests only: the JavaScript ChaCha20 even where `node:crypto` has one (`true`), or the usual
 * choice again (`false`), so the Bun executable's path is checked under Deno too.
 */
export async function useChacha20FallbackForTests(on: boolean): Promise<void> {
  nobleChacha = on ? (await import("@noble/ciphers/chacha.js")).chacha20orig : null;
  nodeHasChacha = null;
}
