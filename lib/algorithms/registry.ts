/**
 * All algorithm registries in one place — the single list that tests loop over: lookups by
 * category, the default offer (every entry that is not legacy, in table order), and OpenSSH-style
 * list editing (`+a` append, `-a` remove, `^a` prepend, plain list replaces). Each entry's status
 * and risk come from `./policy.ts`.
 * @module
 */

import { CIPHER_ALGORITHMS, findCipher } from "./cipher.ts";
import { COMPRESSION_ALGORITHMS, findCompression } from "./compression.ts";
import { HOST_KEY_ALGORITHMS } from "./hostkey.ts";
import { HOST_CERT_ALGORITHMS } from "./hostkey_cert.ts";
import { findKex, KEX_ALGORITHMS } from "./kex.ts";
import { findMac, MAC_ALGORITHMS } from "./mac.ts";
import { type ListCategory, ratedNames } from "./policy.ts";
import { ALGORITHM_NAMES, availabilityOf, isAeadCipher } from "./names.ts";
import type { AlgorithmInfo, HostKeyAlgorithm } from "./types.ts";

export type { ListCategory };
export { findCipher, findCompression, findKex, findMac };
export {
  AlgorithmListError,
  type AlgorithmListProblem,
  allNames,
  applyListSpec,
  buildOffer,
  type BuildOfferOptions,
  certificateAlgorithmOf,
  defaultNames,
  isAeadCipher,
  legacyNames,
  listableNames,
  type OfferLists,
  riskOf,
} from "./names.ts";

export const REGISTRIES = {
  kex: KEX_ALGORITHMS,
  hostKey: HOST_KEY_ALGORITHMS,
  cipher: CIPHER_ALGORITHMS,
  mac: MAC_ALGORITHMS,
  compression: COMPRESSION_ALGORITHMS,
} as const satisfies Record<ListCategory, readonly AlgorithmInfo[]>;

// Load-time checks: unique names per category; the policy rates only registered names; every
// legacy entry says why.
for (const [category, table] of Object.entries(REGISTRIES)) {
  const seen = new Set<string>();
  for (const entry of table as readonly AlgorithmInfo[]) {
    if (seen.has(entry.name)) throw new Error(`duplicate ${category} algorithm ${entry.name}`);
    seen.add(entry.name);
    if (entry.status === "legacy" && !entry.risk) {
      throw new Error(`legacy ${category} algorithm ${entry.name} has no risk`);
    }
  }
  for (const name of ratedNames(category as ListCategory)) {
    if (!seen.has(name)) throw new Error(`policy.ts rates unregistered ${category} ${name}`);
  }
  // ./names.ts (what runs before the connection) names exactly these, in this order.
  const names = (table as readonly AlgorithmInfo[]).map((a) => a.name).join(",");
  if (names !== ALGORITHM_NAMES[category as ListCategory].join(",")) {
    throw new Error(`names.ts lists other ${category} algorithms than the registry`);
  }
  for (const entry of table as readonly AlgorithmInfo[]) {
    const available = availabilityOf(category as ListCategory, entry.name);
    if (entry.available !== available) {
      throw new Error(`names.ts and the registry disagree on where ${entry.name} runs`);
    }
    if (
      category === "cipher" &&
      isAeadCipher(entry.name) !== ((entry as { createAead?: unknown }).createAead !== undefined)
    ) {
      throw new Error(`names.ts and the registry disagree on whether ${entry.name} is AEAD`);
    }
  }
}

const byName = new Map<string, AlgorithmInfo>();
for (const table of [...Object.values(REGISTRIES), HOST_CERT_ALGORITHMS]) {
  for (const entry of table as readonly AlgorithmInfo[]) byName.set(entry.name, entry);
}

/** The registry entry for a name in any category. */
export function lookupAlgorithm(name: string): AlgorithmInfo | undefined {
  return byName.get(name);
}

/** A host key algorithm by name: a registry entry or a host certificate algorithm. */
export function findHostKey(name: string): HostKeyAlgorithm | undefined {
  return HOST_KEY_ALGORITHMS.find((a) => a.name === name) ??
    HOST_CERT_ALGORITHMS.find((a) => a.name === name);
}
