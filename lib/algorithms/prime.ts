/**
 * A probable-prime test for Diffie-Hellman group moduli a server chooses (group exchange,
 * RFC 4419): trial division by small primes, then Miller-Rabin rounds with random bases. The
 * modular exponentiation runs natively (node:crypto's DH `computeSecret` computes `a^d mod p`),
 * so a round costs what one DH key computation costs; bigint arithmetic does the rest.
 * @module
 */

import { bigintToBytes, bytesToBigint } from "../wire/buffer.ts";
import { nodeCrypto } from "./node_loader.ts";

/**
 * Primes below 2000, for trial division: sieved on first use, not at load (every login loads
 * this module through the registry; the old filter at load cost 2–7 ms of CPU).
 */
let smallPrimes: readonly bigint[] | undefined;
function primesBelow2000(): readonly bigint[] {
  if (smallPrimes) return smallPrimes;
  const composite = new Uint8Array(2000);
  const out: bigint[] = [];
  for (let n = 2; n < 2000; n++) {
    if (composite[n]) continue;
    out.push(BigInt(n));
    for (let m = n * n; m < 2000; m += n) composite[m] = 1;
  }
  smallPrimes = out;
  return out;
}

/** Fixed-length big-endian bytes in a buffer of its own (node:crypto keeps no view of ours). */
function fixed(value: bigint, length: number): Uint8Array {
  const raw = bigintToBytes(value);
  const out = new Uint8Array(length);
  out.set(raw, length - raw.length);
  return out;
}

/** A uniformly random integer in [2, p - 2]. */
function randomBase(p: bigint, length: number): bigint {
  for (;;) {
    const a = bytesToBigint(new Uint8Array(nodeCrypto().randomBytes(length))) % p;
    if (a >= 2n && a <= p - 2n) return a;
  }
}

/**
 * True when `p` is probably prime: no small factor, and `rounds` Miller-Rabin rounds with
 * random bases pass (a composite passes a round with probability at most 1/4, so 2 rounds
 * catch a corrupt or careless modulus, and fool a deliberate one at most 1 time in 16).
 */
export function isProbablePrime(p: bigint, rounds = 2): boolean {
  if (p < 2n) return false;
  for (const q of primesBelow2000()) {
    if (p === q) return true;
    if (p % q === 0n) return false;
  }
  let d = p - 1n;
  let s = 0;
  while ((d & 1n) === 0n) {
    d >>= 1n;
    s++;
  }
  const length = bigintToBytes(p).length;
  const pBytes = fixed(p, length);
  for (let round = 0; round < rounds; round++) {
    const a = randomBase(p, length);
    // a^d mod p: a DH "shared secret" with private key d and peer value a.
    const dh = nodeCrypto().createDiffieHellman(pBytes.slice(), new Uint8Array([2]));
    dh.setPrivateKey(fixed(d, length));
    let x = bytesToBigint(new Uint8Array(dh.computeSecret(fixed(a, length))));
    if (x === 1n || x === p - 1n) continue;
    let witness = true;
    for (let i = 1; i < s; i++) {
      x = (x * x) % p;
      if (x === p - 1n) {
        witness = false;
        break;
      }
    }
    if (witness) return false;
  }
  return true;
}
