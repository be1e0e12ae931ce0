/**
 * What sshtrace thinks of each algorithm, in one place: its status (recommended, supported,
 * legacy), the one-line risk of each legacy algorithm, and the order of harm among the legacy
 * ones, which the fix planner (lib/diagnose/catalogue/planner.ts) ranks by. The registries take
 * `status` and `risk` from here ({@link policyOf}); the registry checks at load that every name
 * here is registered and every legacy entry has a risk.
 * @module
 */

import type { AlgorithmStatus } from "./types.ts";

/** The user-facing categories (each applies to both directions). */
export type ListCategory = "kex" | "hostKey" | "cipher" | "mac" | "compression";

/** An algorithm's status and, when legacy, its risk in one line. */
export interface AlgorithmPolicy {
  readonly status: AlgorithmStatus;
  readonly risk?: string;
}

const SUPPORTED: AlgorithmPolicy = { status: "supported" };
const legacy = (risk: string): AlgorithmPolicy => ({ status: "legacy", risk });

const CBC_RISK =
  "CBC mode in SSH allows plaintext recovery from a few bits of a block (CVE-2008-5161)";
const EAM = "MAC over the plaintext (encrypt-and-MAC)";
const COMPRESSION_RISK =
  "compression before encryption can leak data (CRIME-style); rarely useful on fast links";

/**
 * Every algorithm that is not plainly recommended, per list: the supported ones, then the legacy
 * ones from least to most harmful (this order is {@link LEGACY_HARM_ORDER}). Any registered
 * algorithm not named here is recommended. Preference order is the registry's table order.
 */
const POLICY: Record<ListCategory, Readonly<Record<string, AlgorithmPolicy>>> = {
  kex: {
    // Post-quantum hybrids: sound, but newer and bigger on the wire than curve25519.
    "mlkem768x25519-sha256": SUPPORTED,
    "sntrup761x25519-sha512": SUPPORTED,
    "sntrup761x25519-sha512@openssh.com": SUPPORTED,
    // SHA-1 with a 2048-bit group, then group exchange (often 1024-bit groups), then Logjam's.
    "diffie-hellman-group14-sha1": legacy(
      "SHA-1 exchange hash: SHA-1 is broken for collisions; use a SHA-2 method",
    ),
    "diffie-hellman-group-exchange-sha1": legacy(
      "SHA-1 exchange hash, and servers offering it often still send 1024-bit groups",
    ),
    "diffie-hellman-group1-sha1": legacy(
      "1024-bit Oakley group 2 is within reach of precomputation attacks (Logjam), with SHA-1",
    ),
  },
  hostKey: {
    // SHA-1 RSA signatures, then 1024-bit DSA.
    "ssh-rsa": legacy(
      "RSA signatures over SHA-1, which has practical collisions; OpenSSH disabled it in 8.8",
    ),
    "ssh-dss": legacy(
      "1024-bit DSA over SHA-1 is too weak today; OpenSSH disabled it by default in 7.0",
    ),
  },
  cipher: {
    // CBC with AES (larger key first), then 64-bit-block 3DES.
    "aes256-cbc": legacy(CBC_RISK),
    "aes192-cbc": legacy(CBC_RISK),
    "aes128-cbc": legacy(CBC_RISK),
    "3des-cbc": legacy(
      "64-bit blocks (Sweet32 birthday attacks) and CBC plaintext recovery; also very slow",
    ),
  },
  mac: {
    // SHA-1 EtM, SHA-1, truncated SHA-1, then MD5.
    "hmac-sha1-etm@openssh.com": legacy(
      "SHA-1 is deprecated (HMAC-SHA1 itself has no known practical forgery)",
    ),
    "hmac-sha1": legacy(`SHA-1 is deprecated; ${EAM}`),
    "hmac-sha1-96": legacy(`SHA-1 truncated to 96 bits; ${EAM}`),
    "hmac-md5": legacy(`MD5 is broken; ${EAM}`),
    "hmac-md5-96": legacy(`MD5 is broken, truncated to 96 bits; ${EAM}`),
  },
  compression: {
    // Delayed compression (after auth) before compression from the start.
    "zlib@openssh.com": legacy(COMPRESSION_RISK),
    "zlib": legacy(`${COMPRESSION_RISK}; also starts before authentication`),
  },
};

const RECOMMENDED: AlgorithmPolicy = { status: "recommended" };

/**
 * The name with its status (and risk, when legacy), to spread into a registry entry:
 * `{ ...policyOf("cipher", "aes128-cbc"), spec: ... }`.
 */
export function policyOf(
  category: ListCategory,
  name: string,
): { readonly name: string } & AlgorithmPolicy {
  const policy = Object.hasOwn(POLICY[category], name) ? POLICY[category][name]! : RECOMMENDED;
  return { name, ...policy };
}

/** The names this table rates, per category (for the registry's load-time check). */
export function ratedNames(category: ListCategory): string[] {
  return Object.keys(POLICY[category]);
}

/**
 * Legacy algorithms from least to most harmful, per list. Names missing here rank after these,
 * in registry order.
 */
export const LEGACY_HARM_ORDER: Readonly<Record<ListCategory, readonly string[]>> = {
  kex: legacyInOrder("kex"),
  hostKey: legacyInOrder("hostKey"),
  cipher: legacyInOrder("cipher"),
  mac: legacyInOrder("mac"),
  compression: legacyInOrder("compression"),
};

function legacyInOrder(category: ListCategory): readonly string[] {
  const table = POLICY[category];
  return Object.keys(table).filter((name) => table[name]!.status === "legacy");
}
