/**
 * Server policies: a baseline a server's offer is checked against, rule by rule (allowed and
 * required algorithms, smallest host key sizes, strict kex, a banner, a lowest grade). Built-in
 * policies for a hardened modern server and for the least a legacy switch may offer;
 * {@link makePolicy} writes one from a reference device. Pure: data in, results out.
 * @module
 */

import type { GradeLetter } from "../diagnose/grade.ts";
import { usageError } from "../config/options.ts";
import { EXT_INFO_S, STRICT_KEX_S } from "../transport/kexinit.ts";
import type { AlgorithmLists } from "../types.ts";

export type PolicyList = "kex" | "hostKey" | "cipher" | "mac";
const LISTS: readonly PolicyList[] = ["kex", "hostKey", "cipher", "mac"];
const LETTERS: readonly GradeLetter[] = ["A", "B", "C", "D", "F"];

export interface Policy {
  name: string;
  /** Per list: the only algorithms the server may offer (`*` wildcards allowed). */
  allowed?: Partial<Record<PolicyList, string[]>>;
  /** Per list: algorithms the server must offer. */
  required?: Partial<Record<PolicyList, string[]>>;
  /** The smallest host key size per key type, in bits (`ssh-rsa`: 3072). */
  minHostKeyBits?: Record<string, number>;
  /** The server must offer strict kex (Terrapin mitigated). */
  strictKex?: boolean;
  /** The server must send a pre-authentication banner. */
  banner?: boolean;
  /** The lowest grade accepted. */
  minGrade?: GradeLetter;
}

/** What was observed of a server (a deep probe gives all of it). */
export interface Observed {
  lists: AlgorithmLists | null;
  hostKeys: { keyType: string; bits: number | null }[];
  strictKex: boolean;
  banner: string | null;
  grade: GradeLetter | null;
}

export interface RuleResult {
  /** `allowed.kex`, `required.cipher`, `minHostKeyBits.ssh-rsa`, `strictKex`… */
  rule: string;
  pass: boolean;
  detail: string;
}

const MARKERS = new Set([STRICT_KEX_S, EXT_INFO_S, "ext-info-c", "kex-strict-c-v00@openssh.com"]);

/** The server's offer per policy list (both directions, markers left out). */
function offered(lists: AlgorithmLists, list: PolicyList): string[] {
  const names = list === "kex"
    ? lists.kex
    : list === "hostKey"
    ? lists.hostKey
    : list === "cipher"
    ? [...lists.cipherC2S, ...lists.cipherS2C]
    : [...lists.macC2S, ...lists.macS2C];
  return [...new Set(names)].filter((n) => !MARKERS.has(n));
}

function matches(pattern: string, name: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${re}$`).test(name);
}

/** Checks `observed` against `policy`: one result per rule the policy states. */
export function checkPolicy(policy: Policy, observed: Observed): RuleResult[] {
  const out: RuleResult[] = [];
  const lists = observed.lists;
  for (const list of LISTS) {
    const allowed = policy.allowed?.[list];
    if (allowed) {
      if (!lists) out.push({ rule: `allowed.${list}`, pass: false, detail: "offer not seen" });
      else {
        const extra = offered(lists, list).filter((n) => !allowed.some((p) => matches(p, n)));
        out.push({
          rule: `allowed.${list}`,
          pass: extra.length === 0,
          detail: extra.length ? `also offers ${extra.join(", ")}` : "only allowed algorithms",
        });
      }
    }
    const required = policy.required?.[list];
    if (required) {
      if (!lists) out.push({ rule: `required.${list}`, pass: false, detail: "offer not seen" });
      else {
        const have = offered(lists, list);
        const missing = required.filter((r) => !have.some((n) => matches(r, n)));
        out.push({
          rule: `required.${list}`,
          pass: missing.length === 0,
          detail: missing.length ? `does not offer ${missing.join(", ")}` : "all offered",
        });
      }
    }
  }
  for (const [keyType, min] of Object.entries(policy.minHostKeyBits ?? {})) {
    const keys = observed.hostKeys.filter((k) => k.keyType === keyType);
    const small = keys.filter((k) => k.bits !== null && k.bits < min);
    out.push({
      rule: `minHostKeyBits.${keyType}`,
      pass: small.length === 0,
      detail: small.length
        ? `a ${small[0]!.bits}-bit ${keyType} key (at least ${min} required)`
        : keys.length
        ? `${keys.map((k) => k.bits).join(", ")} bits`
        : `no ${keyType} key`,
    });
  }
  if (policy.strictKex !== undefined) {
    out.push({
      rule: "strictKex",
      pass: !policy.strictKex || observed.strictKex,
      detail: observed.strictKex ? "offered" : "not offered",
    });
  }
  if (policy.banner !== undefined) {
    out.push({
      rule: "banner",
      pass: !policy.banner || !!observed.banner,
      detail: observed.banner ? "sent" : "none",
    });
  }
  if (policy.minGrade) {
    const g = observed.grade;
    out.push({
      rule: "minGrade",
      pass: g !== null && LETTERS.indexOf(g) <= LETTERS.indexOf(policy.minGrade),
      detail: g ? `grade ${g} (at least ${policy.minGrade})` : "no grade",
    });
  }
  return out;
}

/** A policy that `observed` (a reference device) passes: its offer, key sizes and settings. */
export function makePolicy(observed: Observed, name: string): Policy {
  const policy: Policy = { name };
  if (observed.lists) {
    policy.allowed = {};
    policy.required = {};
    for (const list of LISTS) {
      const names = offered(observed.lists, list);
      policy.allowed[list] = names;
      if (names.length) policy.required[list] = [names[0]!];
    }
  }
  const min: Record<string, number> = {};
  for (const k of observed.hostKeys) {
    if (k.bits !== null) min[k.keyType] = Math.min(min[k.keyType] ?? Infinity, k.bits);
  }
  if (Object.keys(min).length) policy.minHostKeyBits = min;
  policy.strictKex = observed.strictKex;
  policy.banner = observed.banner !== null;
  if (observed.grade) policy.minGrade = observed.grade;
  return policy;
}

/** Built-in policies, by name (`--policy builtin:NAME`). */
export const BUILTIN_POLICIES: Readonly<Record<string, Policy>> = {
  "modern-hardened": {
    name: "modern-hardened",
    allowed: {
      kex: [
        "mlkem768x25519-sha256",
        "sntrup761x25519-sha512*",
        "curve25519-sha256*",
        "diffie-hellman-group16-sha512",
        "diffie-hellman-group18-sha512",
        "diffie-hellman-group-exchange-sha256",
      ],
      hostKey: ["ssh-ed25519*", "rsa-sha2-512*", "rsa-sha2-256*", "ecdsa-sha2-*"],
      cipher: ["chacha20-poly1305@openssh.com", "aes*-gcm@openssh.com", "aes*-ctr"],
      mac: ["hmac-sha2-*-etm@openssh.com", "umac-128-etm@openssh.com"],
    },
    minHostKeyBits: { "ssh-rsa": 3072 },
    strictKex: true,
    minGrade: "B",
  },
  "legacy-switch-minimum": {
    name: "legacy-switch-minimum",
    required: {
      kex: ["diffie-hellman-group14-sha*"],
      cipher: ["aes*-ctr"],
      mac: ["hmac-sha2-256*"],
    },
    allowed: {
      kex: [
        "mlkem768x25519-sha256",
        "sntrup761x25519-sha512*",
        "curve25519-sha256*",
        "ecdh-sha2-*",
        "diffie-hellman-group14-*",
        "diffie-hellman-group16-*",
        "diffie-hellman-group18-*",
        "diffie-hellman-group-exchange-sha*",
      ],
      cipher: ["chacha20-poly1305@openssh.com", "aes*-gcm@openssh.com", "aes*-ctr", "aes*-cbc"],
    },
    minHostKeyBits: { "ssh-rsa": 2048, "ssh-dss": 1024 },
    minGrade: "D",
  },
};

/** Parses a policy file (JSON) or `builtin:NAME`; a usage error says what is wrong. */
export function parsePolicy(text: string, source: string): Policy {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw usageError(`policy ${source}: not JSON (${(e as Error).message})`);
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    throw usageError(`policy ${source}: expected a JSON object`);
  }
  const p = raw as Record<string, unknown>;
  const known = [
    "name",
    "allowed",
    "required",
    "minHostKeyBits",
    "strictKex",
    "banner",
    "minGrade",
  ];
  const unknown = Object.keys(p).filter((k) => !known.includes(k));
  if (unknown.length) {
    throw usageError(`policy ${source}: unknown keys ${unknown.join(", ")}`, { supported: known });
  }
  for (const key of ["allowed", "required"] as const) {
    const v = p[key];
    if (v === undefined) continue;
    if (!v || typeof v !== "object") throw usageError(`policy ${source}: ${key} is not an object`);
    for (const [list, names] of Object.entries(v)) {
      if (!LISTS.includes(list as PolicyList)) {
        throw usageError(`policy ${source}: ${key}.${list} is not a list`, { supported: LISTS });
      }
      if (!Array.isArray(names) || names.some((n) => typeof n !== "string")) {
        throw usageError(`policy ${source}: ${key}.${list} must be an array of names`);
      }
    }
  }
  if (p.minGrade !== undefined && !LETTERS.includes(p.minGrade as GradeLetter)) {
    throw usageError(`policy ${source}: minGrade must be one of ${LETTERS.join(", ")}`);
  }
  return { name: typeof p.name === "string" ? p.name : source, ...p } as Policy;
}
