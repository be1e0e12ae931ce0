/**
 * Legacy key exchange methods: SHA-1 exchange hashes and the 1024-bit Oakley group 2. They are
 * never offered by default. This module holds only their descriptions; `kex.ts` builds the
 * working entries from them with the same finite-field code as the modern methods and appends
 * them at the end of `KEX_ALGORITHMS`.
 * @module
 */

import type { AlgorithmInfo, HashName } from "./types.ts";

/** How a legacy method gets its group: a fixed RFC 3526/2409 group, or group exchange. */
export type LegacyKexMethod =
  | { readonly kind: "group"; readonly group: "modp2" | "modp14" }
  | { readonly kind: "gex" };

/** A legacy key exchange method, described as data. */
export interface LegacyKexEntry extends AlgorithmInfo {
  readonly status: "legacy";
  readonly risk: string;
  readonly hash: HashName;
  readonly method: LegacyKexMethod;
}

/** Legacy methods in preference order (strongest first). */
export const LEGACY_KEX: readonly LegacyKexEntry[] = [
  {
    name: "diffie-hellman-group14-sha1",
    status: "legacy",
    spec: "RFC 4253",
    hash: "sha1",
    method: { kind: "group", group: "modp14" },
    risk: "SHA-1 exchange hash: SHA-1 is broken for collisions; use a SHA-2 method",
  },
  {
    name: "diffie-hellman-group-exchange-sha1",
    status: "legacy",
    spec: "RFC 4419",
    hash: "sha1",
    method: { kind: "gex" },
    risk: "SHA-1 exchange hash, and servers offering it often still send 1024-bit groups",
  },
  {
    name: "diffie-hellman-group1-sha1",
    status: "legacy",
    spec: "RFC 4253",
    hash: "sha1",
    method: { kind: "group", group: "modp2" },
    risk: "1024-bit Oakley group 2 is within reach of precomputation attacks (Logjam), with SHA-1",
  },
];
