/**
 * The algorithm names of every category without their implementations: preference order,
 * status (from `./policy.ts`), what needs WebAssembly, which ciphers are AEAD, and the
 * OpenSSH-style list editing built on them (`+a` append, `-a` remove, `^a` prepend, a plain
 * list replaces). Command-line and ssh_config checking needs only this, so it runs before the
 * connection starts without loading a single cipher or key exchange; the implementations
 * (`./registry.ts`, which checks at load that its tables list exactly these names in this
 * order) load with the transport.
 * @module
 */

import { type ListCategory, policyOf } from "./policy.ts";

export type { ListCategory };

/** What an OpenSSH certificate's type adds to its key's type (`ssh-ed25519-cert-v01@…`). */
export const CERT_SUFFIX = "-cert-v01@openssh.com";

/** The sntrup761 hybrids exist here only as WebAssembly (no JavaScript fallback). */
export const hasWebAssembly = (): boolean => typeof WebAssembly !== "undefined";

/** Every registered name per category, in preference order (legacy ones last). */
export const ALGORITHM_NAMES: Readonly<Record<ListCategory, readonly string[]>> = {
  kex: [
    "mlkem768x25519-sha256",
    "sntrup761x25519-sha512",
    "sntrup761x25519-sha512@openssh.com",
    "curve25519-sha256",
    "curve25519-sha256@libssh.org",
    "ecdh-sha2-nistp256",
    "ecdh-sha2-nistp384",
    "ecdh-sha2-nistp521",
    "diffie-hellman-group-exchange-sha256",
    "diffie-hellman-group16-sha512",
    "diffie-hellman-group18-sha512",
    "diffie-hellman-group14-sha256",
    "diffie-hellman-group14-sha1",
    "diffie-hellman-group-exchange-sha1",
    "diffie-hellman-group1-sha1",
  ],
  hostKey: [
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "rsa-sha2-512",
    "rsa-sha2-256",
    "ssh-rsa",
    "ssh-dss",
  ],
  cipher: [
    "chacha20-poly1305@openssh.com",
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
    "aes128-ctr",
    "aes192-ctr",
    "aes256-ctr",
    "aes128-cbc",
    "aes192-cbc",
    "aes256-cbc",
    "3des-cbc",
  ],
  mac: [
    "hmac-sha2-256-etm@openssh.com",
    "hmac-sha2-512-etm@openssh.com",
    "hmac-sha2-256",
    "hmac-sha2-512",
    "hmac-sha1-etm@openssh.com",
    "hmac-sha1",
    "hmac-sha1-96",
    "hmac-md5",
    "hmac-md5-96",
  ],
  compression: ["none", "zlib@openssh.com", "zlib"],
};

/** Whether an algorithm can run in this runtime (only the sntrup761 hybrids may not). */
export function availabilityOf(category: ListCategory, name: string): (() => boolean) | undefined {
  return category === "kex" && name.startsWith("sntrup761x25519-") ? hasWebAssembly : undefined;
}

/** The AEAD ciphers (their integrity comes with them: no separate MAC). */
const AEAD_CIPHERS: ReadonlySet<string> = new Set([
  "chacha20-poly1305@openssh.com",
  "aes128-gcm@openssh.com",
  "aes256-gcm@openssh.com",
]);

/** True for a registered AEAD cipher (its integrity comes with it: no separate MAC). */
export function isAeadCipher(name: string | null | undefined): boolean {
  return !!name && AEAD_CIPHERS.has(name);
}

/** The one-line risk of a legacy algorithm, or undefined. */
export function riskOf(name: string): string | undefined {
  const plain = name.endsWith(CERT_SUFFIX) ? name.slice(0, -CERT_SUFFIX.length) : name;
  for (const category of Object.keys(ALGORITHM_NAMES) as ListCategory[]) {
    if (!ALGORITHM_NAMES[category].includes(plain)) continue;
    const p = policyOf(category, plain);
    return p.status === "legacy" ? (p.risk ?? "legacy algorithm") : undefined;
  }
  return undefined;
}

/** The certificate algorithm of a plain host key algorithm name, or undefined. */
export function certificateAlgorithmOf(name: string): string | undefined {
  return ALGORITHM_NAMES.hostKey.includes(name) ? name + CERT_SUFFIX : undefined;
}

/** Every registered name of a category, in preference order. */
export function allNames(category: ListCategory): string[] {
  return [...ALGORITHM_NAMES[category]];
}

/**
 * Every name a list of the category may hold: the registry's, and for host keys the host
 * certificate algorithms too (lib/algorithms/hostkey_cert.ts: offered on request only).
 */
export function listableNames(category: ListCategory): string[] {
  const names = allNames(category);
  return category === "hostKey" ? [...names, ...names.map((n) => n + CERT_SUFFIX)] : names;
}

/** The default offer: registered, not legacy, runnable here (`available`), in table order. */
export function defaultNames(category: ListCategory): string[] {
  return ALGORITHM_NAMES[category].filter((name) =>
    policyOf(category, name).status !== "legacy" && availabilityOf(category, name)?.() !== false
  );
}

/** Legacy names of a category, in table order. */
export function legacyNames(category: ListCategory): string[] {
  return ALGORITHM_NAMES[category].filter((name) => policyOf(category, name).status === "legacy");
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
  for (const category of Object.keys(ALGORITHM_NAMES) as ListCategory[]) {
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
