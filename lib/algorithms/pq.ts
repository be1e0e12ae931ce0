/**
 * The post-quantum halves of the hybrid key exchanges: ML-KEM-768 (FIPS 203) and sntrup761
 * (Streamlined NTRU Prime), each loaded once per process on first use.
 *
 * Both come from liboqs compiled to WebAssembly (`_oqs.ts`), which costs about 1 ms to compile
 * and start and runs at close to native speed. ML-KEM-768 falls back to `@noble/post-quantum`
 * (plain JavaScript, 20–60 ms on a cold process) when WebAssembly cannot be used, or when
 * `SSHTRACE_KEM=js` asks for it; which one ran is traced (`kem-backend`), like the packet crypto
 * backend. sntrup761 has no JavaScript implementation: without WebAssembly it fails with a
 * message saying so.
 * @module
 */

import { firstLine, platform } from "../platform/mod.ts";
import { instantiateOqsKem, type Kem } from "./_oqs.ts";

/** Which implementation computes a KEM, and why: for the trace. */
export interface KemBackend {
  readonly name: "wasm" | "js";
  readonly detail: string;
}

export interface LoadedKem {
  readonly kem: Kem;
  readonly backend: KemBackend;
}

/** ML-KEM-768 by `@noble/post-quantum`, as a {@link Kem}. */
async function nobleMlKem768(): Promise<Kem> {
  const { ml_kem768 } = await import("@noble/post-quantum/ml-kem.js");
  const check = (what: string, bytes: Uint8Array, n: number) => {
    if (bytes.length !== n) {
      throw new RangeError(`ML-KEM-768 ${what} has ${bytes.length} bytes, expected ${n}`);
    }
  };
  return {
    algorithm: "ML-KEM-768",
    publicKeyLength: 1184,
    secretKeyLength: 2400,
    ciphertextLength: 1088,
    sharedSecretLength: 32,
    keypair: () => ml_kem768.keygen(),
    encapsulate(publicKey) {
      check("public key", publicKey, 1184);
      try {
        const { cipherText, sharedSecret } = ml_kem768.encapsulate(publicKey);
        return { ciphertext: cipherText, sharedSecret };
      } catch (e) {
        throw new RangeError(`ML-KEM-768 refuses the public key (${firstLine(e)})`);
      }
    },
    decapsulate(ciphertext, secretKey) {
      check("ciphertext", ciphertext, 1088);
      check("secret key", secretKey, 2400);
      return ml_kem768.decapsulate(ciphertext, secretKey);
    },
  };
}

let mlkem: Promise<LoadedKem> | undefined;
let forcedJs = false;

async function loadMlKem768(): Promise<LoadedKem> {
  const js = async (why: string): Promise<LoadedKem> => ({
    kem: await nobleMlKem768(),
    backend: { name: "js", detail: `@noble/post-quantum, JavaScript (${why})` },
  });
  if (forcedJs) return await js("chosen by a test");
  if (platform.grantedEnv("SSHTRACE_KEM") === "js") {
    return await js("SSHTRACE_KEM=js");
  }
  try {
    const { WASM } = await import("./_wasm/mlkem768.ts");
    return {
      kem: await instantiateOqsKem(WASM),
      backend: { name: "wasm", detail: `liboqs, WebAssembly (${WASM.source.split(" ")[0]})` },
    };
  } catch (e) {
    return await js(`WebAssembly failed: ${firstLine(e)}`);
  }
}

/** ML-KEM-768: liboqs in WebAssembly, else `@noble/post-quantum`. Loaded once per process. */
export function mlKem768(): Promise<LoadedKem> {
  mlkem ??= loadMlKem768();
  return mlkem;
}

let sntrup: Promise<LoadedKem> | undefined;

/** sntrup761: liboqs in WebAssembly (no fallback). Loaded once per process. */
export function sntrup761(): Promise<LoadedKem> {
  sntrup ??= (async () => {
    const { WASM } = await import("./_wasm/sntrup761.ts");
    return {
      kem: await instantiateOqsKem(WASM),
      backend: { name: "wasm", detail: `liboqs, WebAssembly (${WASM.source.split(" ")[0]})` },
    } as LoadedKem;
  })();
  sntrup.catch(() => {
    sntrup = undefined;
  });
  return sntrup;
}

/**
 * Tests only: makes {@link mlKem768} load `@noble/post-quantum` (`"js"`) or choose again
 * (`"auto"`) from the next call on.
 */
export function setKemBackendForTests(choice: "js" | "auto"): void {
  forcedJs = choice === "js";
  mlkem = undefined;
}
