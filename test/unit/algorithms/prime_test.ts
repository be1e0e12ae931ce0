import assert from "node:assert/strict";
import { getDiffieHellman } from "node:crypto";
import { isProbablePrime } from "../../../lib/algorithms/prime.ts";
import { bytesToBigint } from "../../../lib/wire/buffer.ts";

const prime = (name: string) => bytesToBigint(new Uint8Array(getDiffieHellman(name).getPrime()));

Deno.test("isProbablePrime() accepts the RFC 2409/3526 MODP primes and small primes", () => {
  for (const name of ["modp2", "modp14", "modp16"]) {
    assert.equal(isProbablePrime(prime(name)), true);
  }
  for (const p of [2n, 3n, 1999n, 2003n, 65537n, (1n << 127n) - 1n]) {
    assert.equal(isProbablePrime(p, 20), true, String(p));
  }
});

Deno.test("isProbablePrime() refuses composites: small factors, squares, Carmichael numbers, strong pseudoprimes", () => {
  const p2 = prime("modp2");
  // 3215031751 is a strong pseudoprime to bases 2, 3, 5 and 7; 41041 and 825265 are Carmichael.
  const composites = [0n, 1n, 4n, 561n, 41041n, 825265n, 3215031751n, p2 * p2, p2 * 3n];
  // A Carmichael number with three large prime factors (6k+1)(12k+1)(18k+1), k = 2^60+…
  let k = (1n << 60n) + 1n;
  for (;; k++) {
    const f = [6n * k + 1n, 12n * k + 1n, 18n * k + 1n];
    if (f.every((x) => isProbablePrime(x, 20))) {
      composites.push(f[0]! * f[1]! * f[2]!);
      break;
    }
  }
  for (const n of composites) assert.equal(isProbablePrime(n, 20), false, String(n));
});
