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
import { certificateAlgorithmOf, HOST_CERT_ALGORITHMS } from "./hostkey_cert.ts";
import { findKex, KEX_ALGORITHMS } from "./kex.ts";
import { findMac, MAC_ALGORITHMS } from "./mac.ts";
import { type ListCategory, ratedNames } from "./policy.ts";
import type { AlgorithmInfo, HostKeyAlgorithm } from "./types.ts";

export type { ListCategory };
export { findCipher, findCompression, findKex, findMac };

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
}

const byName = new Map<string, AlgorithmInfo>();
for (const table of [...Object.values(REGISTRIES), HOST_CERT_ALGORITHMS]) {
  for (const entry of table as readonly AlgorithmInfo[]) byName.set(entry.name, entry);
}

/** The registry entry for a name in any category. */
export function lookupAlgorithm(name: string): AlgorithmInfo | undefined {
  return byName.get(name);
}

/** The one-line risk of a legacy algorithm, or undefined. */
export function riskOf(name: string): string | undefined {
  const entry = byName.get(name);
  return entry?.status === "legacy" ? (entry.risk ?? "legacy algorithm") : undefined;
}

/** A host key algorithm by name: a registry entry or a host certificate algorithm. */
export function findHostKey(name: string): HostKeyAlgorithm | undefined {
  return HOST_KEY_ALGORITHMS.find((a) => a.name === name) ??
    HOST_CERT_ALGORITHMS.find((a) => a.name === name);
}
/** True for a registered AEAD cipher (its integrity comes with it: no separate MAC). */
export function isAeadCipher(name: string | null | undefined): boolean {
  return !!name && findCipher(name)?.createAead !== undefined;
}

/** Every registered name of a category, in preference order. */
export function allNames(category: ListCategory): string[] {
  return (REGISTRIES[category] as readonly AlgorithmInfo[]).map((a) => a.name);
}

/**
 * Every name a list of the category may hold: the registry's, and for host keys the host
 * certificate algorithms too (lib/algorithms/hostkey_cert.ts: offered on request only).
 */
export function listableNames(category: ListCategory): string[] {
  const names = allNames(category);
  return category === "hostKey" ? [...names, ...HOST_CERT_ALGORITHMS.map((a) => a.name)] : names;
}

/** The default offer: registered, not legacy, runnable here (`available`), in table order. */
export function defaultNames(category: ListCategory): string[] {
  return (REGISTRIES[category] as readonly AlgorithmInfo[])
    .filter((a) => a.status !== "legacy" && a.available?.() !== false)
    .map((a) => a.name);
}

/** Legacy names of a category, in table order. */
export function legacyNames(category: ListCategory): string[] {
  return (REGISTRIES[category] as readonly AlgorithmInfo[])
    .filter((a) => a.status === "legacy")
    .map((a) => a.name);
}

/** Why a list edit is unusable: it is empty, names an unknown algorithm, or leaves nothing. */
export type AlgorithmListProblem = "empty" | "unknown" | "leaves-none";

/**
 * A list edit that names an unknown algorithm or is otherwise unusable. Carries what happened
 * (the list, the edit, the unknown name and the known ones); {@link AlgorithmListError.describe}
 * words it with the name the user gave the list (`KexAlgorithms`, `algorithms.kex`...).
 */
export class AlgorithmListError extends Error {
  override name = "AlgorithmListError";
  constructor(
    readonly category: ListCategory,
    readonly problem: AlgorithmListProblem,
    readonly spec: string,
    readonly item: string | null = null,
    readonly known: readonly string[] = [],
  ) {
    super("");
    this.message = this.describe(category);
  }

  /** The failure in words, naming the list as `listName`. */
  describe(listName: string): string {
    if (this.problem === "empty") return `empty ${listName} list "${this.spec}"`;
    if (this.problem === "unknown") {
      return `unknown ${listName} algorithm "${this.item}"; known: ${this.known.join(", ")}`;
    }
    return `${listName} "${this.spec}" leaves no algorithm`;
  }
}

function matchNames(pattern: string, names: readonly string[]): string[] {
  if (!/[*?]/.test(pattern)) return names.includes(pattern) ? [pattern] : [];
  const re = new RegExp(
    "^" + pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") +
      "$",
  );
  return names.filter((n) => re.test(n));
}

/**
 * Applies an OpenSSH-style list spec to `current`: `+a,b` appends, `-a,b` removes (wildcards
 * allowed), `^a,b` prepends, anything else replaces. Unknown names are refused.
 */
export function applyListSpec(
  category: ListCategory,
  current: readonly string[],
  spec: string,
): string[] {
  const known = listableNames(category);
  const op = spec[0];
  const body = op === "+" || op === "-" || op === "^" ? spec.slice(1) : spec;
  const items = body.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) {
    throw new AlgorithmListError(category, "empty", spec);
  }
  const expanded: string[] = [];
  for (const item of items) {
    const found = matchNames(item, known);
    if (found.length === 0) {
      throw new AlgorithmListError(category, "unknown", spec, item, known);
    }
    for (const f of found) if (!expanded.includes(f)) expanded.push(f);
  }
  let out: string[];
  if (op === "+") out = [...current, ...expanded.filter((n) => !current.includes(n))];
  else if (op === "-") out = current.filter((n) => !expanded.includes(n));
  else if (op === "^") out = [...expanded, ...current.filter((n) => !expanded.includes(n))];
  else out = expanded;
  if (out.length === 0) {
    throw new AlgorithmListError(category, "leaves-none", spec);
  }
  return out;
}

/** The lists the client offers, per user-facing category. */
export type OfferLists = Record<ListCategory, string[]>;

export interface BuildOfferOptions {
  /**
   * Start the host key list with the certificate algorithms of its entries (as OpenSSH's
   * default does), before the user's edits: known_hosts has a `@cert-authority` line for the
   * host. @default false
   */
  hostCertificates?: boolean;
}

/**
 * Builds the client's offer: defaults, plus every legacy algorithm appended when `legacy` is
 * on, then the user's edits in order.
 */
export function buildOffer(
  edits: Partial<Record<ListCategory, string[]>> = {},
  legacy = false,
  options: BuildOfferOptions = {},
): OfferLists {
  const offer = {} as OfferLists;
  for (const category of Object.keys(REGISTRIES) as ListCategory[]) {
    let list = defaultNames(category);
    if (legacy) list = [...list, ...legacyNames(category)];
    if (category === "hostKey" && options.hostCertificates) {
      // As OpenSSH's default HostKeyAlgorithms: every certificate algorithm, then the plain ones.
      const certs = list.map(certificateAlgorithmOf).filter((n): n is string => n !== undefined);
      list = [...certs, ...list];
    }
    for (const spec of edits[category] ?? []) list = applyListSpec(category, list, spec);
    offer[category] = list;
  }
  return offer;
}
