/**
 * The server halves of every key exchange method in the registry, for the lab server (and the
 * kex unit tests). They are written apart from the client halves in `lib/algorithms/kex.ts` and
 * share no code with them beyond the wire encoding, so a test that runs one against the other
 * checks both: the exchange hash here is computed by its own few lines. ML-KEM-768 here is
 * `@noble/post-quantum` (the client uses liboqs in WebAssembly first), so the two KEM
 * implementations are checked against each other too; sntrup761 has one implementation only
 * (liboqs), checked against OpenSSH and known answers instead.
 *
 * A server half is message-driven: {@link ServerKex.onMessage} takes each client kex message
 * (30..49) and returns the replies; once the final reply is made, `result` holds K and H.
 * Bad client values throw {@link ServerKexError}.
 * @module
 */

import { createDiffieHellman, createHash, getDiffieHellman, randomBytes } from "node:crypto";
import { ml_kem768 } from "@noble/post-quantum/ml-kem.js";
import { sntrup761 } from "../algorithms/pq.ts";
import type { HashName, KexExchange } from "../algorithms/types.ts";
import { bigintToBytes, bytesToBigint, concatBytes, SshReader, SshWriter } from "../wire/buffer.ts";

/** A client value or message the server half refuses. */
export class ServerKexError extends Error {
  override name = "ServerKexError";
}

/** What a server half needs: the exchange's inputs, the host key and a signer for H. */
export interface ServerKexInput
  extends Pick<KexExchange, "clientVersion" | "serverVersion" | "clientKexInit" | "serverKexInit"> {
  /** K_S, the host key blob. */
  hostKeyBlob: Uint8Array;
  /** Signs H and returns the signature blob (string algorithm, string signature). */
  sign(exchangeHash: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** Group exchange answers with the group of this size whatever was asked (old firmware). */
  gexGroupBits?: number;
}

/** One run of a server half. */
export interface ServerKex {
  readonly name: string;
  readonly hash: HashName;
  /** Handles one client kex message; returns the messages to send back (in order). */
  onMessage(payload: Uint8Array): Promise<Uint8Array[]>;
  /** K (SSH-encoded, as it enters H) and H, once the final reply has been made. */
  result?: { k: Uint8Array; h: Uint8Array };
  /** Length of the client's public value (Q_C, C_INIT or e) as received. */
  clientPublicLength?: number;
}

/** The exchange hash, computed here independently of the client code. */
function exchangeHashOf(
  hash: HashName,
  input: ServerKexInput,
  middle: Uint8Array,
  k: Uint8Array,
): Uint8Array {
  const w = new SshWriter(4096);
  w.string(input.clientVersion).string(input.serverVersion);
  w.string(input.clientKexInit).string(input.serverKexInit);
  w.string(input.hostKeyBlob).raw(middle).raw(k);
  return new Uint8Array(createHash(hash).update(w.bytes()).digest());
}

function own(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

function mpint(unsigned: Uint8Array): Uint8Array {
  return new SshWriter(unsigned.length + 5).mpintBytes(unsigned).bytes();
}

/** A server half: `handle` answers each client message until the final reply sets `result`. */
function serverKex(
  name: string,
  hash: HashName,
  handle: (kex: ServerKex, payload: Uint8Array) => Promise<Uint8Array[]>,
): ServerKex {
  const kex: ServerKex = {
    name,
    hash,
    async onMessage(payload) {
      if (kex.result) throw new ServerKexError(`${name}: message after the exchange ended`);
      return await handle(kex, payload);
    },
  };
  return kex;
}

/**
 * The final reply: H over the inputs, `middle` and K, then K_S, the server's value (`value`:
 * the body of its string or mpint) and the signature over H.
 */
async function finalReply(
  kex: ServerKex,
  input: ServerKexInput,
  type: number,
  middle: Uint8Array,
  k: Uint8Array,
  value: Uint8Array,
): Promise<Uint8Array[]> {
  const h = exchangeHashOf(kex.hash, input, middle, k);
  kex.result = { k, h };
  return [joinKexReply(type, input.hostKeyBlob, value, await input.sign(h))];
}

/** Reads the three strings of a final kex reply (K_S, the server value, the signature). */
export function splitKexReply(payload: Uint8Array): {
  type: number;
  hostKey: Uint8Array;
  value: Uint8Array;
  signature: Uint8Array;
} {
  const r = new SshReader(payload, "kex reply");
  const type = r.byte();
  return { type, hostKey: r.string(), value: r.string(), signature: r.string() };
}

/** Builds a final kex reply from its parts. */
export function joinKexReply(
  type: number,
  hostKey: Uint8Array,
  value: Uint8Array,
  signature: Uint8Array,
): Uint8Array {
  return new SshWriter().byte(type).string(hostKey).string(value).string(signature).bytes();
}

function expect(payload: Uint8Array, type: number, what: string): SshReader {
  const r = new SshReader(payload, what);
  const got = r.byte("message number");
  if (got !== type) {
    throw new ServerKexError(`expected ${what} (${type}) from the client, got message ${got}`);
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// 30/31 exchanges: X25519, ECDH, ML-KEM-768 + X25519

type Agree = (clientPublic: Uint8Array) => Promise<{ serverPublic: Uint8Array; k: Uint8Array }>;

function ephemeral(name: string, hash: HashName, agree: Agree, input: ServerKexInput): ServerKex {
  return serverKex(name, hash, async (kex, payload) => {
    const r = expect(payload, 30, "KEX_ECDH_INIT");
    const clientPublic = r.string("client public key").slice();
    try {
      r.end();
    } catch (e) {
      throw new ServerKexError((e as Error).message);
    }
    kex.clientPublicLength = clientPublic.length;
    const { serverPublic, k } = await agree(clientPublic);
    const middle = new SshWriter().string(clientPublic).string(serverPublic).bytes();
    return await finalReply(kex, input, 31, middle, k, serverPublic);
  });
}

/**
 * A Web Crypto agreement with the client's raw public key `q` (X25519, or ECDH on a NIST curve):
 * our fresh public key and the shared secret of `bits` bits. `bad` names what a key Web Crypto
 * refuses is not (X25519 refuses low-order points, whose shared secret is all zeros).
 */
async function agreeRaw(
  params: EcKeyImportParams | Algorithm,
  bits: number,
  q: Uint8Array,
  bad: string,
): Promise<{ serverPublic: Uint8Array; shared: Uint8Array }> {
  const usage: KeyUsage[] = ["deriveBits"];
  const pair = await crypto.subtle.generateKey(params, true, usage) as CryptoKeyPair;
  let shared: Uint8Array;
  try {
    const peer = await crypto.subtle.importKey("raw", own(q), params, false, []);
    shared = new Uint8Array(
      await crypto.subtle.deriveBits({ name: params.name, public: peer }, pair.privateKey, bits),
    );
  } catch {
    throw new ServerKexError(bad);
  }
  if (shared.every((b) => b === 0)) throw new ServerKexError(bad);
  const serverPublic = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  return { serverPublic, shared };
}

function x25519Agree(q: Uint8Array): Promise<{ serverPublic: Uint8Array; shared: Uint8Array }> {
  if (q.length !== 32) {
    throw new ServerKexError(`client X25519 key has ${q.length} bytes, expected 32`);
  }
  return agreeRaw({ name: "X25519" }, 256, q, "client X25519 key gives an all-zero shared secret");
}

const curve25519: Agree = async (q) => {
  const { serverPublic, shared } = await x25519Agree(q);
  return { serverPublic, k: mpint(shared) };
};

function nist(curve: "P-256" | "P-384" | "P-521", size: number): Agree {
  return async (q) => {
    if (q.length !== 1 + 2 * size || q[0] !== 4) {
      throw new ServerKexError(`client ECDH key is not an uncompressed ${curve} point`);
    }
    const params = { name: "ECDH", namedCurve: curve };
    const bad = `client ECDH key is not a point on ${curve}`;
    const { serverPublic, shared } = await agreeRaw(params, size * 8, q, bad);
    return { serverPublic, k: mpint(shared) };
  };
}

type Encapsulate = (
  publicKey: Uint8Array,
) => Promise<{ ciphertext: Uint8Array; shared: Uint8Array }>;

/**
 * A KEM + X25519 hybrid's server half: C_INIT = KEM public key ‖ X25519 key; S_REPLY = KEM
 * ciphertext ‖ X25519 key; K = string HASH(KEM secret ‖ X25519 secret).
 */
function kemX25519(kemName: string, publicLength: number, hash: HashName, enc: Encapsulate): Agree {
  return async (cInit) => {
    if (cInit.length !== publicLength + 32) {
      throw new ServerKexError(
        `client C_INIT has ${cInit.length} bytes, expected ${publicLength + 32}`,
      );
    }
    let encapsulated;
    try {
      encapsulated = await enc(cInit.subarray(0, publicLength));
    } catch (e) {
      throw new ServerKexError(`client ${kemName} key is invalid: ${(e as Error).message}`);
    }
    const { serverPublic, shared } = await x25519Agree(cInit.subarray(publicLength));
    const k = createHash(hash).update(encapsulated.shared).update(shared).digest();
    return {
      serverPublic: concatBytes(encapsulated.ciphertext, serverPublic),
      k: new SshWriter().string(new Uint8Array(k)).bytes(),
    };
  };
}

const mlkemX25519 = kemX25519("ML-KEM-768", 1184, "sha256", (pk) => {
  const { cipherText, sharedSecret } = ml_kem768.encapsulate(pk);
  return Promise.resolve({ ciphertext: cipherText, shared: sharedSecret });
});

const sntrupX25519 = kemX25519("sntrup761", 1158, "sha512", async (pk) => {
  const { ciphertext, sharedSecret } = (await sntrup761()).kem.encapsulate(pk);
  return { ciphertext, shared: sharedSecret };
});

// ---------------------------------------------------------------------------------------------
// Finite-field Diffie-Hellman

const HASH_BITS: Record<HashName, number> = { sha1: 160, sha256: 256, sha384: 384, sha512: 512 };

/** Our DH value f and K for the client's e, in the group (p, g). */
function dhAnswer(p: Uint8Array, g: Uint8Array, e: bigint, hash: HashName) {
  const pn = bytesToBigint(p);
  if (e <= 1n || e >= pn - 1n) throw new ServerKexError("client DH value e is out of range");
  const dh = createDiffieHellman(own(p), own(g));
  dh.setPrivateKey(randomBytes(Math.max(2 * HASH_BITS[hash], 512) / 8));
  dh.generateKeys();
  const f = new Uint8Array(dh.getPublicKey());
  const k = mpint(new Uint8Array(dh.computeSecret(own(bigintToBytes(e)))));
  return { f, k };
}

type Modp = "modp2" | "modp14" | "modp16" | "modp18";
const groupCache = new Map<Modp, { p: Uint8Array; g: Uint8Array }>();
function group(name: Modp): { p: Uint8Array; g: Uint8Array } {
  let found = groupCache.get(name);
  if (!found) {
    const dh = getDiffieHellman(name);
    found = { p: new Uint8Array(dh.getPrime()), g: new Uint8Array(dh.getGenerator()) };
    groupCache.set(name, found);
  }
  return found;
}

function fixedGroup(name: string, hash: HashName, modp: Modp, input: ServerKexInput): ServerKex {
  return serverKex(name, hash, async (kex, payload) => {
    const r = expect(payload, 30, "KEXDH_INIT");
    const eBody = r.string("e");
    kex.clientPublicLength = eBody.length;
    const e = bytesToBigint(eBody);
    const { p, g } = group(modp);
    const { f, k } = dhAnswer(p, g, e, hash);
    const middle = new SshWriter().mpint(e).mpintBytes(f).bytes();
    return await finalReply(kex, input, 31, middle, k, mpint(f).subarray(4));
  });
}

function groupExchange(name: string, hash: HashName, input: ServerKexInput): ServerKex {
  let request: { min: number; n: number; max: number } | null = null;
  let chosen: { p: Uint8Array; g: Uint8Array } | null = null;
  return serverKex(name, hash, async (kex, payload) => {
    if (payload[0] === 34) {
      const r = expect(payload, 34, "KEX_DH_GEX_REQUEST");
      request = { min: r.uint32("min"), n: r.uint32("n"), max: r.uint32("max") };
      const names: Modp[] = ["modp2", "modp14", "modp16", "modp18"];
      const fits = names.map(group).filter((gr) => {
        const bits = gr.p.length * 8;
        return bits >= request!.min && bits <= request!.max;
      });
      chosen = fits.find((gr) => gr.p.length * 8 >= request!.n) ?? fits.at(-1) ?? null;
      if (input.gexGroupBits) {
        chosen = names.map(group).find((gr) => gr.p.length * 8 === input.gexGroupBits) ?? null;
      }
      if (!chosen) {
        throw new ServerKexError(
          `no group between ${request.min} and ${request.max} bits for group exchange`,
        );
      }
      return [new SshWriter().byte(31).mpintBytes(chosen.p).mpintBytes(chosen.g).bytes()];
    }
    const r = expect(payload, 32, "KEX_DH_GEX_INIT");
    if (!request || !chosen) {
      throw new ServerKexError("KEX_DH_GEX_INIT before KEX_DH_GEX_REQUEST");
    }
    const eBody = r.string("e");
    kex.clientPublicLength = eBody.length;
    const e = bytesToBigint(eBody);
    const { f, k } = dhAnswer(chosen.p, chosen.g, e, hash);
    const middle = new SshWriter().uint32(request.min).uint32(request.n).uint32(request.max)
      .mpintBytes(chosen.p).mpintBytes(chosen.g).mpint(e).mpintBytes(f).bytes();
    return await finalReply(kex, input, 33, middle, k, mpint(f).subarray(4));
  });
}

// ---------------------------------------------------------------------------------------------

type Factory = (name: string, input: ServerKexInput) => ServerKex;
const ecdh = (hash: HashName, agree: Agree): Factory => (n, i) => ephemeral(n, hash, agree, i);
const dh = (hash: HashName, modp: Modp): Factory => (n, i) => fixedGroup(n, hash, modp, i);
const gex = (hash: HashName): Factory => (n, i) => groupExchange(n, hash, i);

const FACTORIES: Record<string, Factory> = {
  "mlkem768x25519-sha256": ecdh("sha256", mlkemX25519),
  "sntrup761x25519-sha512": ecdh("sha512", sntrupX25519),
  "sntrup761x25519-sha512@openssh.com": ecdh("sha512", sntrupX25519),
  "curve25519-sha256": ecdh("sha256", curve25519),
  "curve25519-sha256@libssh.org": ecdh("sha256", curve25519),
  "ecdh-sha2-nistp256": ecdh("sha256", nist("P-256", 32)),
  "ecdh-sha2-nistp384": ecdh("sha384", nist("P-384", 48)),
  "ecdh-sha2-nistp521": ecdh("sha512", nist("P-521", 66)),
  "diffie-hellman-group-exchange-sha256": gex("sha256"),
  "diffie-hellman-group-exchange-sha1": gex("sha1"),
  "diffie-hellman-group16-sha512": dh("sha512", "modp16"),
  "diffie-hellman-group18-sha512": dh("sha512", "modp18"),
  "diffie-hellman-group14-sha256": dh("sha256", "modp14"),
  "diffie-hellman-group14-sha1": dh("sha1", "modp14"),
  "diffie-hellman-group1-sha1": dh("sha1", "modp2"),
};

/** Every kex method with a server half. */
export const SERVER_KEX_NAMES: readonly string[] = Object.keys(FACTORIES);

/** Starts the server half of `name`. Throws for a method without one. */
export function createServerKex(name: string, input: ServerKexInput): ServerKex {
  const factory = FACTORIES[name];
  if (!factory) throw new ServerKexError(`the lab server has no server half for kex ${name}`);
  return factory(name, input);
}
