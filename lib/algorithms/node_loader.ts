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

/** Starts loading `node:crypto` in the background (idempotent); resolves when it is ready. */
export function preloadNodeCrypto(): Promise<void> {
  if (loaded) return Promise.resolve();
  loading ??= import("node:crypto").then((m) => (loaded ??= m as unknown as NodeCrypto));
  return loading.then(() => {});
}
