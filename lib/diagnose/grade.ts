/**
 * A security grade (A–F) of what a server offers, from its KEXINIT lists and host key. Each
 * weakness found costs points (the {@link DEDUCTIONS} table); the score left gives the letter
 * ({@link GRADE_THRESHOLDS}). One reason per deduction, naming the algorithms that caused it.
 *
 * The grade judges the server's offer, not the connection sshtrace made: a weak algorithm the
 * server offers counts even when a strong one was chosen, because other clients may pick it.
 * Pure: no I/O.
 * @module
 */

import { isKexMarker, STRICT_KEX_S } from "../transport/kexinit.ts";
import type { AlgorithmLists } from "../types.ts";

export type GradeLetter = "A" | "B" | "C" | "D" | "F";

/** What the KEXINIT lists alone do not tell. */
export interface GradeExtra {
  /** Whether the server announced strict kex (`kex-strict-s-v00@openssh.com`). */
  strictKex: boolean;
  /** Size of the host key the server used (RSA modulus bits), when known. */
  hostKeyBits?: number;
  /** Key type of that host key, e.g. `ssh-rsa`, `ssh-ed25519`. */
  hostKeyType?: string;
}

export interface GradeReason {
  /** Points taken off (out of 100). */
  deduction: number;
  /** Stable identifier of the rule, e.g. `cbc-mode`. */
  id: string;
  reason: string;
  /** The offered algorithms (or the key) responsible. */
  algorithms: string[];
}

export interface Grade {
  letter: GradeLetter;
  /** 100 minus the deductions, at least 0. */
  score: number;
  reasons: GradeReason[];
}

/** One rule: `match` returns the responsible algorithms (empty: the rule does not apply). */
export interface Deduction {
  id: string;
  points: number;
  reason: string;
  match: (lists: AlgorithmLists, extra: GradeExtra) => string[];
}

/** Post-quantum hybrid key exchange methods. */
export const PQ_KEX: readonly string[] = [
  "mlkem768x25519-sha256",
  "sntrup761x25519-sha512@openssh.com",
  "sntrup761x25519-sha512",
];

const both = (a: string[] | undefined, b: string[] | undefined) => [
  ...new Set([...(a ?? []), ...(b ?? [])]),
];
const ciphersOf = (l: AlgorithmLists) => both(l.cipherC2S, l.cipherS2C);
const macsOf = (l: AlgorithmLists) => both(l.macC2S, l.macS2C);
const kexOf = (l: AlgorithmLists) => (l.kex ?? []).filter((n) => !isKexMarker(n));
const hostKeysOf = (l: AlgorithmLists) => l.hostKey ?? [];

const isCbc = (n: string) => /-cbc(@|$)/.test(n) || n === "rijndael-cbc@lysator.liu.se";
const isEtm = (n: string) => /-etm@openssh\.com$/.test(n);
const isAead = (n: string) => n === "chacha20-poly1305@openssh.com" || /-gcm@openssh\.com$/.test(n);
const is64BitBlock = (n: string) => /^(3des|blowfish|cast128|idea|des)(-|$)/.test(n);

/** The deductions, as data. Points are out of 100. */
export const DEDUCTIONS: readonly Deduction[] = [
  {
    id: "broken-cipher",
    points: 40,
    reason: "broken or no encryption offered (RC4/arcfour, single DES, or none)",
    match: (l) =>
      ciphersOf(l).filter((n) => n === "none" || /^arcfour/.test(n) || /^des(-|$)/.test(n)),
  },
  {
    id: "small-dh-group",
    points: 15,
    reason: "Diffie-Hellman group under 2048 bits (1024-bit Oakley group 2: Logjam, " +
      "precomputation by a nation-state is feasible)",
    match: (l) => kexOf(l).filter((n) => /^diffie-hellman-group1-/.test(n)),
  },
  {
    id: "sha1-kex",
    points: 10,
    reason: "SHA-1 key exchange offered (SHA-1 has practical collisions)",
    match: (l) => kexOf(l).filter((n) => /-sha1(@|$)/.test(n)),
  },
  {
    id: "sha1-hostkey",
    points: 10,
    reason: "SHA-1 host key signatures offered (ssh-rsa; disabled by default since OpenSSH 8.8)",
    match: (l) =>
      hostKeysOf(l).filter((n) => n === "ssh-rsa" || n === "ssh-rsa-cert-v01@openssh.com"),
  },
  {
    id: "ssh-dss",
    points: 15,
    reason: "DSA host key offered (1024-bit DSA over SHA-1; disabled by default since OpenSSH 7.0)",
    match: (l) =>
      hostKeysOf(l).filter((n) => n === "ssh-dss" || n === "ssh-dss-cert-v01@openssh.com"),
  },
  {
    id: "small-rsa-key",
    points: 20,
    reason: "RSA host key under 2048 bits",
    match: (_l, x) =>
      x.hostKeyType === "ssh-rsa" && typeof x.hostKeyBits === "number" && x.hostKeyBits < 2048
        ? [`ssh-rsa ${x.hostKeyBits} bits`]
        : [],
  },
  {
    id: "cbc-mode",
    points: 10,
    reason: "CBC mode ciphers offered (plaintext recovery attacks on SSH's CBC, CVE-2008-5161)",
    match: (l) => ciphersOf(l).filter(isCbc),
  },
  {
    id: "64-bit-block",
    points: 10,
    reason: "64-bit block ciphers offered (Sweet32 birthday attacks on long sessions)",
    match: (l) => ciphersOf(l).filter(is64BitBlock),
  },
  {
    id: "weak-mac",
    points: 10,
    reason: "weak MACs offered (MD5, or tags truncated to 96 bits)",
    match: (l) => macsOf(l).filter((n) => /md5/.test(n) || /-96(@|$)/.test(n)),
  },
  {
    id: "encrypt-and-mac",
    points: 5,
    reason: "encrypt-and-MAC offered instead of encrypt-then-MAC (non-EtM MACs: the MAC is " +
      "computed over the plaintext)",
    match: (l) =>
      ciphersOf(l).some((n) => !isAead(n))
        ? macsOf(l).filter((n) => n !== "none" && !isEtm(n))
        : [],
  },
  {
    id: "terrapin",
    points: 15,
    reason: "Terrapin-exposed combination (chacha20-poly1305, or CBC with an EtM MAC) without " +
      "strict kex (CVE-2023-48795: a man in the middle can drop the first encrypted messages)",
    match: (l, x) => {
      if (x.strictKex || kexOf(l).length === 0) return [];
      const ciphers = ciphersOf(l);
      const out: string[] = ciphers.filter((n) => n === "chacha20-poly1305@openssh.com");
      const etm = macsOf(l).filter(isEtm);
      if (ciphers.some(isCbc) && etm.length) out.push(...ciphers.filter(isCbc), ...etm);
      return out;
    },
  },
  {
    id: "no-post-quantum",
    points: 5,
    reason: "no post-quantum key exchange (mlkem768x25519-sha256 or " +
      "sntrup761x25519-sha512@openssh.com): recorded traffic could be decrypted by a future " +
      "quantum computer",
    match: (l) => (kexOf(l).some((n) => PQ_KEX.includes(n)) ? [] : ["(none offered)"]),
  },
];

/** Lowest score for each letter, best first; below the last one is F. */
export const GRADE_THRESHOLDS: readonly { letter: GradeLetter; min: number }[] = [
  { letter: "A", min: 90 },
  { letter: "B", min: 75 },
  { letter: "C", min: 60 },
  { letter: "D", min: 45 },
];

/** The letter for a score. */
export function letterFor(score: number): GradeLetter {
  return GRADE_THRESHOLDS.find((t) => score >= t.min)?.letter ?? "F";
}

/**
 * Grades a server's offer: every rule of {@link DEDUCTIONS} that matches takes its points off
 * 100 and adds one reason naming the algorithms.
 *
 * @example
 * ```ts
 * const grade = gradeServer(report.kex.server, { strictKex: report.kex.strict ?? false });
 * // grade.letter: "A", grade.reasons: [{ deduction: 5, reason: "encrypt-and-MAC ...", ... }]
 * ```
 */
export function gradeServer(serverLists: AlgorithmLists, extra: GradeExtra): Grade {
  const strictKex = extra.strictKex || (serverLists.kex ?? []).includes(STRICT_KEX_S);
  const x = { ...extra, strictKex };
  const reasons: GradeReason[] = [];
  for (const rule of DEDUCTIONS) {
    const algorithms = [...new Set(rule.match(serverLists, x))];
    if (algorithms.length === 0) continue;
    reasons.push({ deduction: rule.points, id: rule.id, reason: rule.reason, algorithms });
  }
  const score = Math.max(0, 100 - reasons.reduce((sum, r) => sum + r.deduction, 0));
  return { letter: letterFor(score), score, reasons };
}

/** The host key a connection saw (the `key` trace event), as the grade needs it. */
export interface SeenHostKey {
  keyType: string;
  bits: number | null;
}

/** The key type a host key algorithm name stands for (`rsa-sha2-512` → `ssh-rsa`). */
function keyTypeOf(algorithm: string): string {
  if (/^(rsa-sha2-(256|512)|ssh-rsa)(-cert-v01@openssh\.com)?$/.test(algorithm)) return "ssh-rsa";
  return algorithm.replace(/-cert-v01@openssh\.com$/, "");
}

/**
 * What a grade from one connection could not check (empty: the grade is complete). The offer's
 * lists are graded whole, but the RSA host key's size (rule `small-rsa-key`) only when the
 * connection saw that key: not when the key exchange ended before the host key (the same
 * server then grades higher without `--legacy` than with it, once `--legacy` reaches a small
 * RSA key), nor when it used another key type.
 */
export function gradePartial(serverLists: AlgorithmLists, seen: SeenHostKey | null): string[] {
  const types = [...new Set(hostKeysOf(serverLists).map(keyTypeOf))];
  if (!types.includes("ssh-rsa") || seen?.keyType === "ssh-rsa") return [];
  return [
    (seen
      ? `the RSA host key's size is not graded: this connection used ${seen.keyType}`
      : "the RSA host key's size is not graded: the key exchange ended before the host key") +
    " (probe --deep grades every host key)",
  ];
}
