/**
 * The lab server's host keys: generated at start with node:crypto (Ed25519, ECDSA P-256/384/521,
 * RSA 2048, and DSA 1024 only when `ssh-dss` is wanted), encoded as SSH public key blobs, and
 * able to sign the exchange hash with each host key algorithm of the registry.
 * @module
 */

import { generateKeyPair, type KeyObject, sign as nodeSign } from "node:crypto";
import { Buffer } from "node:buffer";
import { SshWriter } from "../wire/buffer.ts";
import { derRead } from "../wire/der.ts";

/** The key types the lab server can hold. */
export type HostKeyType =
  | "ssh-ed25519"
  | "ecdsa-sha2-nistp256"
  | "ecdsa-sha2-nistp384"
  | "ecdsa-sha2-nistp521"
  | "ssh-rsa"
  | "ssh-dss";

/** One host key: its public blob and a signer for each signature algorithm it supports. */
export interface HostKey {
  readonly type: HostKeyType;
  /** The SSH public key blob (K_S). */
  readonly blob: Uint8Array;
  /** Signature algorithms this key makes, e.g. `rsa-sha2-512`, `rsa-sha2-256`, `ssh-rsa`. */
  readonly algorithms: readonly string[];
  /** Signs `data` and returns the SSH signature blob (string algorithm, string signature). */
  sign(algorithm: string, data: Uint8Array): Uint8Array;
}

/** The key type behind each host key (signature) algorithm. */
export const KEY_TYPE_OF_ALGORITHM: Readonly<Record<string, HostKeyType>> = {
  "ssh-ed25519": "ssh-ed25519",
  "ecdsa-sha2-nistp256": "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384": "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521": "ecdsa-sha2-nistp521",
  "rsa-sha2-512": "ssh-rsa",
  "rsa-sha2-256": "ssh-rsa",
  "ssh-rsa": "ssh-rsa",
  "ssh-dss": "ssh-dss",
};

const EC = {
  "ecdsa-sha2-nistp256": { curve: "P-256", id: "nistp256", hash: "sha256", size: 32 },
  "ecdsa-sha2-nistp384": { curve: "P-384", id: "nistp384", hash: "sha384", size: 48 },
  "ecdsa-sha2-nistp521": { curve: "P-521", id: "nistp521", hash: "sha512", size: 66 },
} as const;

const RSA_HASH: Record<string, string> = {
  "rsa-sha2-512": "sha512",
  "rsa-sha2-256": "sha256",
  "ssh-rsa": "sha1",
};

function fromBase64Url(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "base64url"));
}

function signatureBlob(algorithm: string, signature: Uint8Array): Uint8Array {
  return new SshWriter().string(algorithm).string(signature).bytes();
}

function pairAsync(type: string, options: Record<string, unknown>) {
  return new Promise<{ publicKey: KeyObject; privateKey: KeyObject }>((resolve, reject) => {
    // deno-lint-ignore no-explicit-any
    (generateKeyPair as any)(
      type,
      options,
      (err: Error | null, publicKey: KeyObject, privateKey: KeyObject) =>
        err ? reject(err) : resolve({ publicKey, privateKey }),
    );
  });
}

/** The INTEGERs found walking a DSA SubjectPublicKeyInfo: p, q, g, then y. */
function dsaIntegers(der: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const walk = (start: number, end: number) => {
    let pos = start;
    while (pos < end) {
      const e = derRead(der, pos);
      if (e.tag === 0x30) walk(e.start, e.end);
      else if (e.tag === 0x03) walk(e.start + 1, e.end); // BIT STRING: skip unused-bits byte
      else if (e.tag === 0x02) out.push(der.slice(e.start, e.end));
      pos = e.end;
    }
  };
  walk(0, der.length);
  return out;
}

async function makeKey(type: HostKeyType): Promise<HostKey> {
  switch (type) {
    case "ssh-ed25519": {
      const { publicKey, privateKey } = await pairAsync("ed25519", {});
      const spki = new Uint8Array(publicKey.export({ type: "spki", format: "der" }));
      const blob = new SshWriter().string(type).string(spki.subarray(spki.length - 32)).bytes();
      return {
        type,
        blob,
        algorithms: [type],
        sign: (algorithm, data) =>
          signatureBlob(algorithm, new Uint8Array(nodeSign(null, data, privateKey))),
      };
    }
    case "ecdsa-sha2-nistp256":
    case "ecdsa-sha2-nistp384":
    case "ecdsa-sha2-nistp521": {
      const ec = EC[type];
      const { publicKey, privateKey } = await pairAsync("ec", { namedCurve: ec.curve });
      const jwk = publicKey.export({ format: "jwk" }) as { x: string; y: string };
      const point = new Uint8Array(1 + 2 * ec.size);
      point[0] = 0x04;
      const x = fromBase64Url(jwk.x);
      const y = fromBase64Url(jwk.y);
      point.set(x, 1 + ec.size - x.length);
      point.set(y, 1 + 2 * ec.size - y.length);
      const blob = new SshWriter().string(type).string(ec.id).string(point).bytes();
      return {
        type,
        blob,
        algorithms: [type],
        sign(algorithm, data) {
          const p1363 = new Uint8Array(
            nodeSign(ec.hash, data, { key: privateKey, dsaEncoding: "ieee-p1363" }),
          );
          const inner = new SshWriter().mpintBytes(p1363.subarray(0, ec.size))
            .mpintBytes(p1363.subarray(ec.size)).bytes();
          return signatureBlob(algorithm, inner);
        },
      };
    }
    case "ssh-rsa": {
      const { publicKey, privateKey } = await pairAsync("rsa", { modulusLength: 2048 });
      const jwk = publicKey.export({ format: "jwk" }) as { n: string; e: string };
      const blob = new SshWriter().string(type).mpintBytes(fromBase64Url(jwk.e))
        .mpintBytes(fromBase64Url(jwk.n)).bytes();
      return {
        type,
        blob,
        algorithms: ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
        sign: (algorithm, data) =>
          signatureBlob(
            algorithm,
            new Uint8Array(nodeSign(RSA_HASH[algorithm] ?? "sha512", data, privateKey)),
          ),
      };
    }
    case "ssh-dss": {
      const { publicKey, privateKey } = await pairAsync("dsa", {
        modulusLength: 1024,
        divisorLength: 160,
      });
      const der = new Uint8Array(publicKey.export({ type: "spki", format: "der" }));
      const [p, q, g, y] = dsaIntegers(der);
      const blob = new SshWriter().string(type).mpintBytes(p!).mpintBytes(q!).mpintBytes(g!)
        .mpintBytes(y!).bytes();
      return {
        type,
        blob,
        algorithms: [type],
        sign: (algorithm, data) =>
          signatureBlob(
            algorithm,
            new Uint8Array(nodeSign("sha1", data, { key: privateKey, dsaEncoding: "ieee-p1363" })),
          ),
      };
    }
  }
}

/** A set of host keys, one per key type. */
export class HostKeys {
  readonly #keys = new Map<HostKeyType, HostKey>();

  constructor(keys: readonly HostKey[]) {
    for (const k of keys) this.#keys.set(k.type, k);
  }

  /** The key types held. */
  get types(): HostKeyType[] {
    return [...this.#keys.keys()];
  }

  /** The key that signs with `algorithm`, or undefined. */
  forAlgorithm(algorithm: string): HostKey | undefined {
    const type = KEY_TYPE_OF_ALGORITHM[algorithm];
    return type ? this.#keys.get(type) : undefined;
  }

  /** The key of a type, or undefined. */
  get(type: HostKeyType): HostKey | undefined {
    return this.#keys.get(type);
  }

  /** Host key algorithms of `wanted` this set can sign with (order kept). */
  usable(wanted: readonly string[]): string[] {
    return wanted.filter((a) => this.forAlgorithm(a) !== undefined);
  }
}

/** The key types needed to sign with every algorithm in `algorithms`. */
export function keyTypesFor(algorithms: readonly string[]): HostKeyType[] {
  const types: HostKeyType[] = [];
  for (const a of algorithms) {
    const t = KEY_TYPE_OF_ALGORITHM[a];
    if (t && !types.includes(t)) types.push(t);
  }
  return types;
}

/**
 * Generates host keys of the given types (default: Ed25519, ECDSA P-256, P-384, P-521 and
 * RSA 2048). Key generation runs off the main thread.
 */
export async function generateHostKeys(
  types: readonly HostKeyType[] = [
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
  ],
): Promise<HostKeys> {
  return new HostKeys(await Promise.all(types.map(makeKey)));
}
