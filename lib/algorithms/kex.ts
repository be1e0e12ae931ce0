/**
 * Key exchange methods (the `kex` registry), in preference order. Two families cover every
 * entry: an ephemeral key agreement over messages 30/31 (`./kex_ephemeral.ts`: X25519, ECDH on
 * the NIST curves, the post-quantum hybrids) and finite-field Diffie-Hellman over a fixed group
 * or by group exchange (`./kex_ffdh.ts`), legacy SHA-1 methods included. Status and risks:
 * `./policy.ts`.
 * @module
 */

import {
  ephemeralKex,
  MLKEM768_X25519,
  nistAgreement,
  SNTRUP761_X25519,
  X25519_AGREEMENT,
} from "./kex_ephemeral.ts";
import { fixedGroupKex, groupExchangeKex } from "./kex_ffdh.ts";
import { hasWebAssembly } from "./names.ts";
import { policyOf } from "./policy.ts";
import type { KexAlgorithm } from "./types.ts";

export { exchangeHash } from "./_kex_common.ts";
export {
  MLKEM768_CIPHERTEXT,
  MLKEM768_PUBLIC,
  SNTRUP761_CIPHERTEXT,
  SNTRUP761_PUBLIC,
  x25519,
} from "./kex_ephemeral.ts";

const CURVE25519_SPEC = "RFC 8731";
const ECDH_SPEC = "RFC 5656";
const SNTRUP_SPEC = "draft-ietf-sshm-ntruprime-ssh";

/** Every key exchange method, in preference order; legacy entries come last. */
export const KEX_ALGORITHMS: readonly KexAlgorithm[] = [
  ephemeralKex(
    { ...policyOf("kex", "mlkem768x25519-sha256"), spec: "draft-ietf-sshm-mlkem-hybrid-kex" },
    "sha256",
    MLKEM768_X25519,
  ),
  // sntrup761x25519 under both names, in OpenSSH 9.9+'s order: the IETF draft's name first,
  // then the one OpenSSH 9.0–9.8 know.
  ...["sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com"].map((name) =>
    ephemeralKex(
      { ...policyOf("kex", name), spec: SNTRUP_SPEC, available: hasWebAssembly },
      "sha512",
      SNTRUP761_X25519,
    )
  ),
  ephemeralKex(
    { ...policyOf("kex", "curve25519-sha256"), spec: CURVE25519_SPEC },
    "sha256",
    X25519_AGREEMENT,
  ),
  ephemeralKex(
    { ...policyOf("kex", "curve25519-sha256@libssh.org"), spec: CURVE25519_SPEC },
    "sha256",
    X25519_AGREEMENT,
  ),
  ephemeralKex(
    { ...policyOf("kex", "ecdh-sha2-nistp256"), spec: ECDH_SPEC },
    "sha256",
    nistAgreement("P-256", 32),
  ),
  ephemeralKex(
    { ...policyOf("kex", "ecdh-sha2-nistp384"), spec: ECDH_SPEC },
    "sha384",
    nistAgreement("P-384", 48),
  ),
  ephemeralKex(
    { ...policyOf("kex", "ecdh-sha2-nistp521"), spec: ECDH_SPEC },
    "sha512",
    nistAgreement("P-521", 66),
  ),
  groupExchangeKex(
    { ...policyOf("kex", "diffie-hellman-group-exchange-sha256"), spec: "RFC 4419" },
    "sha256",
  ),
  fixedGroupKex(
    { ...policyOf("kex", "diffie-hellman-group16-sha512"), spec: "RFC 8268" },
    "sha512",
    "modp16",
  ),
  fixedGroupKex(
    { ...policyOf("kex", "diffie-hellman-group18-sha512"), spec: "RFC 8268" },
    "sha512",
    "modp18",
  ),
  fixedGroupKex(
    { ...policyOf("kex", "diffie-hellman-group14-sha256"), spec: "RFC 8268" },
    "sha256",
    "modp14",
  ),
  // Legacy (never offered unless asked): SHA-1 exchange hashes, the 1024-bit Oakley group 2.
  fixedGroupKex(
    { ...policyOf("kex", "diffie-hellman-group14-sha1"), spec: "RFC 4253" },
    "sha1",
    "modp14",
  ),
  groupExchangeKex(
    { ...policyOf("kex", "diffie-hellman-group-exchange-sha1"), spec: "RFC 4419" },
    "sha1",
  ),
  fixedGroupKex(
    { ...policyOf("kex", "diffie-hellman-group1-sha1"), spec: "RFC 4253" },
    "sha1",
    "modp2",
  ),
];

/** The registry entry for an SSH method name, or undefined. */
export function findKex(name: string): KexAlgorithm | undefined {
  return KEX_ALGORITHMS.find((k) => k.name === name);
}
