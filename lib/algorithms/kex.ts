/**
 * Key exchange methods (the `kex` registry). Three shared implementations cover every entry:
 *
 * - an ephemeral key agreement over messages 30/31 (`string Q_C` / `string K_S, string Q_S,
 *   string signature`) used by X25519 (RFC 8731), ECDH on the NIST curves (RFC 5656) and the
 *   ML-KEM-768 + X25519 and sntrup761 + X25519 hybrids (draft-ietf-sshm-mlkem-hybrid-kex,
 *   draft-ietf-sshm-ntruprime-ssh);
 * - finite-field Diffie-Hellman over a fixed group (RFC 4253, RFC 8268);
 * - Diffie-Hellman group exchange (RFC 4419), which reuses the finite-field code.
 *
 * Each throws {@link KexFailure} for a peer value that must be refused and lets `WireError`
 * propagate for a malformed message.
 * @module
 */

import { nodeCrypto } from "./node_loader.ts";
import { digest } from "./hash.ts";
import {
  bigintToBytes,
  bitLength,
  bytesToBigint,
  concatBytes,
  SshReader,
  SshWriter,
} from "../wire/buffer.ts";
import { isProbablePrime } from "./prime.ts";
import { messageName, MSG } from "../wire/messages.ts";
import { LEGACY_KEX, type LegacyKexEntry } from "./kex_legacy.ts";
import { type LoadedKem, mlKem768, sntrup761 } from "./pq.ts";
import {
  type AlgorithmInfo,
  type HashName,
  type KemBackendInfo,
  type KexAlgorithm,
  type KexContext,
  KexFailure,
  type KexResult,
} from "./types.ts";

const HASH_BITS: Record<HashName, number> = { sha1: 160, sha256: 256, sha384: 384, sha512: 512 };

/** Copies into a fresh ArrayBuffer-backed array (Web Crypto and node want that). */
function own(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

/**
 * The exchange hash H = HASH(string V_C ‖ string V_S ‖ string I_C ‖ string I_S ‖ string K_S ‖
 * middle ‖ K), where `middle` is the method-specific part and `sharedSecret` is K already
 * SSH-encoded (mpint or string).
 */
export function exchangeHash(
  hash: HashName,
  ctx: Pick<KexContext, "clientVersion" | "serverVersion" | "clientKexInit" | "serverKexInit">,
  hostKeyBlob: Uint8Array,
  middle: (w: SshWriter) => void,
  sharedSecret: Uint8Array,
): Uint8Array {
  const w = new SshWriter(2048);
  w.string(ctx.clientVersion).string(ctx.serverVersion);
  w.string(ctx.clientKexInit).string(ctx.serverKexInit);
  w.string(hostKeyBlob);
  middle(w);
  w.raw(sharedSecret);
  return digest(hash, w.bytes());
}

/** Reads a reply and checks its message number. */
function expectMessage(payload: Uint8Array, type: number, name: string): SshReader {
  const r = new SshReader(payload, name);
  const got = r.byte("message number");
  if (got !== type) {
    throw new KexFailure(`expected ${name} (${type}) but the server sent ${messageName(got)}`);
  }
  return r;
}

/** K as an mpint from unsigned big-endian bytes. */
function mpintSecret(unsigned: Uint8Array): Uint8Array {
  return new SshWriter(unsigned.length + 5).mpintBytes(unsigned).bytes();
}

// ---------------------------------------------------------------------------------------------
// Ephemeral key agreement (X25519, ECDH, ML-KEM hybrid): messages 30/31

/** One side's ephemeral key for a 30/31 exchange. */
interface Ephemeral {
  /** Q_C (or C_INIT) as sent. */
  readonly clientPublic: Uint8Array;
  /** Which implementation computes the post-quantum KEM (hybrids only). */
  readonly kemBackend?: KemBackendInfo;
  /** Takes Q_S (or S_REPLY) and returns K, SSH-encoded. Throws KexFailure for a bad value. */
  finish(serverPublic: Uint8Array): Promise<Uint8Array>;
}

interface Agreement {
  /** For trace notes, e.g. `X25519`, `P-256`, `ML-KEM-768 + X25519`. */
  readonly label: string;
  start(): Promise<Ephemeral>;
}

function ephemeralKex(info: AlgorithmInfo, hash: HashName, agreement: Agreement): KexAlgorithm {
  return {
    ...info,
    hash,
    async exchange(ctx: KexContext): Promise<KexResult> {
      const ours = await agreement.start();
      await ctx.send(new SshWriter().byte(MSG.KEXDH_INIT).string(ours.clientPublic).bytes());
      ctx.note(
        `client ephemeral ${agreement.label} key sent (${ours.clientPublic.length} bytes)`,
      );
      const r = expectMessage(await ctx.receive(), MSG.KEXDH_REPLY, "KEX_ECDH_REPLY");
      const hostKeyBlob = r.string("server host key K_S").slice();
      const serverPublic = r.string("server ephemeral key").slice();
      const signatureBlob = r.string("signature of H").slice();
      r.end();
      ctx.note(
        `server ephemeral ${agreement.label} key received (${serverPublic.length} bytes)`,
      );
      const sharedSecret = await ours.finish(serverPublic);
      const exchangeHashValue = exchangeHash(
        hash,
        ctx,
        hostKeyBlob,
        (w) => w.string(ours.clientPublic).string(serverPublic),
        sharedSecret,
      );
      return {
        sharedSecret,
        exchangeHash: exchangeHashValue,
        hostKeyBlob,
        signatureBlob,
        ...(ours.kemBackend ? { kemBackend: ours.kemBackend } : {}),
      };
    },
  };
}

// X25519 ---------------------------------------------------------------------------------------

const X25519_PKCS8_PREFIX = new Uint8Array([
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x6e,
  0x04,
  0x22,
  0x04,
  0x20,
]);

/**
 * X25519 of our private key and a peer's 32-byte public key. Refuses (KexFailure) a key of the
 * wrong length and a result that is all zero (a low-order peer point). `what` names the value.
 */
async function x25519Derive(
  privateKey: CryptoKey,
  peer: Uint8Array,
  what: string,
): Promise<Uint8Array> {
  if (peer.length !== 32) {
    throw new KexFailure(`${what} has ${peer.length} bytes, expected 32`);
  }
  let shared: Uint8Array;
  try {
    const pub = await crypto.subtle.importKey("raw", own(peer), { name: "X25519" }, false, []);
    shared = new Uint8Array(
      await crypto.subtle.deriveBits({ name: "X25519", public: pub }, privateKey, 256),
    );
  } catch {
    // Web Crypto refuses an all-zero result itself (the only way a 32-byte key can fail).
    throw new KexFailure(`${what} gives an all-zero shared secret (a low-order point)`);
  }
  if (shared.every((b) => b === 0)) {
    throw new KexFailure(`${what} gives an all-zero shared secret (a low-order point)`);
  }
  return shared;
}

/**
 * The X25519 function of RFC 7748 on a 32-byte scalar and u-coordinate (the same code path the
 * key exchange uses; exported for the RFC known-answer tests). Throws KexFailure for an
 * all-zero result.
 */
export async function x25519(scalar: Uint8Array, u: Uint8Array): Promise<Uint8Array> {
  if (scalar.length !== 32) throw new RangeError("X25519 scalar must be 32 bytes");
  const key = await crypto.subtle.importKey(
    "pkcs8",
    own(concatBytes(X25519_PKCS8_PREFIX, scalar)),
    { name: "X25519" },
    false,
    ["deriveBits"],
  );
  return await x25519Derive(key, u, "X25519 u-coordinate");
}

async function x25519KeyPair(): Promise<{ publicKey: Uint8Array; privateKey: CryptoKey }> {
  const pair = await crypto.subtle.generateKey({ name: "X25519" }, true, [
    "deriveBits",
  ]) as CryptoKeyPair;
  const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  return { publicKey, privateKey: pair.privateKey };
}

const X25519_AGREEMENT: Agreement = {
  label: "X25519",
  async start(): Promise<Ephemeral> {
    const { publicKey, privateKey } = await x25519KeyPair();
    return {
      clientPublic: publicKey,
      async finish(serverPublic) {
        // RFC 8731 §3.1: the 32 output bytes, read as a big-endian unsigned integer, as an mpint.
        return mpintSecret(
          await x25519Derive(privateKey, serverPublic, "server's X25519 public key Q_S"),
        );
      },
    };
  },
};

// ECDH on the NIST curves ----------------------------------------------------------------------

function nistAgreement(curve: "P-256" | "P-384" | "P-521", fieldBytes: number): Agreement {
  return {
    label: `ECDH ${curve}`,
    async start(): Promise<Ephemeral> {
      const pair = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: curve }, true, [
        "deriveBits",
      ]) as CryptoKeyPair;
      const clientPublic = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
      return {
        clientPublic,
        async finish(serverPublic) {
          const expected = 1 + 2 * fieldBytes;
          if (serverPublic.length !== expected || serverPublic[0] !== 0x04) {
            const first = serverPublic.length
              ? `0x${serverPublic[0]!.toString(16).padStart(2, "0")}`
              : "nothing";
            throw new KexFailure(
              `server's ECDH public key Q_S is not an uncompressed ${curve} point ` +
                `(expected ${expected} bytes starting with 0x04, got ${serverPublic.length} ` +
                `bytes starting with ${first})`,
            );
          }
          let x: Uint8Array;
          try {
            const pub = await crypto.subtle.importKey(
              "raw",
              own(serverPublic),
              { name: "ECDH", namedCurve: curve },
              false,
              [],
            );
            x = new Uint8Array(
              await crypto.subtle.deriveBits(
                { name: "ECDH", public: pub },
                pair.privateKey,
                fieldBytes * 8,
              ),
            );
          } catch {
            throw new KexFailure(`server's ECDH public key Q_S is not a point on ${curve}`);
          }
          // RFC 5656 §4: K is the x-coordinate of the shared point, as an mpint.
          return mpintSecret(x);
        },
      };
    },
  };
}

// Post-quantum KEM + X25519 hybrids -----------------------------------------------------------

/** ML-KEM-768 encapsulation key and ciphertext sizes (FIPS 203). */
export const MLKEM768_PUBLIC = 1184;
export const MLKEM768_CIPHERTEXT = 1088;
/** sntrup761 public key and ciphertext sizes. */
export const SNTRUP761_PUBLIC = 1158;
export const SNTRUP761_CIPHERTEXT = 1039;

/**
 * A KEM + X25519 hybrid (mlkem768x25519-sha256, draft-ietf-sshm-mlkem-hybrid-kex;
 * sntrup761x25519-sha512, draft-ietf-sshm-ntruprime-ssh): C_INIT = KEM public key ‖ X25519
 * public key; S_REPLY = KEM ciphertext ‖ X25519 public key; K = HASH(KEM shared secret ‖ X25519
 * shared secret), encoded as a string. The two drafts differ only in the KEM and the hash.
 */
function hybridAgreement(
  hash: HashName,
  kemName: string,
  sizes: { publicKey: number; ciphertext: number },
  load: () => Promise<LoadedKem>,
): Agreement {
  return {
    label: `${kemName} + X25519`,
    async start(): Promise<Ephemeral> {
      // Loaded only when this method is negotiated: every other start-up skips it.
      let loaded: LoadedKem;
      try {
        loaded = await load();
      } catch (e) {
        throw new KexFailure(
          `${kemName} could not be loaded (it needs WebAssembly): ` +
            (e instanceof Error ? e.message : String(e)),
        );
      }
      const { kem } = loaded;
      const keys = kem.keypair();
      if (keys.publicKey.length !== sizes.publicKey) {
        throw new Error(`${kemName} made a ${keys.publicKey.length}-byte public key`);
      }
      const ecdh = await x25519KeyPair();
      return {
        clientPublic: concatBytes(keys.publicKey, ecdh.publicKey),
        kemBackend: { algorithm: kemName, ...loaded.backend },
        async finish(serverReply) {
          const expected = sizes.ciphertext + 32;
          if (serverReply.length !== expected) {
            throw new KexFailure(
              `server's S_REPLY has ${serverReply.length} bytes, expected ${expected} ` +
                `(${kemName} ciphertext ${sizes.ciphertext} + X25519 key 32)`,
            );
          }
          const kemSecret = kem.decapsulate(
            serverReply.subarray(0, sizes.ciphertext),
            keys.secretKey,
          );
          keys.secretKey.fill(0);
          const ecdhSecret = await x25519Derive(
            ecdh.privateKey,
            serverReply.subarray(sizes.ciphertext),
            "server's X25519 public key in S_REPLY",
          );
          const k = digest(hash, concatBytes(kemSecret, ecdhSecret));
          kemSecret.fill(0);
          ecdhSecret.fill(0);
          return new SshWriter(k.length + 4).string(k).bytes();
        },
      };
    },
  };
}

const MLKEM768_X25519 = hybridAgreement(
  "sha256",
  "ML-KEM-768",
  { publicKey: MLKEM768_PUBLIC, ciphertext: MLKEM768_CIPHERTEXT },
  mlKem768,
);
const SNTRUP761_X25519 = hybridAgreement(
  "sha512",
  "sntrup761",
  { publicKey: SNTRUP761_PUBLIC, ciphertext: SNTRUP761_CIPHERTEXT },
  sntrup761,
);

// ---------------------------------------------------------------------------------------------
// Finite-field Diffie-Hellman (fixed groups and group exchange)

/** Our half of a finite-field DH exchange in the group (p, g). */
interface FfdhKeys {
  /** e = g^x mod p. */
  readonly e: bigint;
  /** Bits in our private exponent x. */
  readonly privateBits: number;
  /** Checks 1 < f < p-1 and returns K = f^x mod p as an mpint. */
  secret(f: bigint): Uint8Array;
}

/**
 * Generates x with at least twice the hash output bits (and at least 512), but fewer bits
 * than p, and e = g^x mod p.
 */
function ffdhStart(p: bigint, g: bigint, hash: HashName): FfdhKeys {
  const pBits = bitLength(p);
  const privateBits = Math.min(Math.max(2 * HASH_BITS[hash], 512), pBits - 1);
  const x = new Uint8Array(nodeCrypto().randomBytes(Math.ceil(privateBits / 8)));
  const extra = x.length * 8 - privateBits;
  x[0] = (x[0]! & (0xff >> extra)) | (0x80 >> extra); // exactly privateBits bits
  const dh = nodeCrypto().createDiffieHellman(own(bigintToBytes(p)), own(bigintToBytes(g)));
  dh.setPrivateKey(x);
  dh.generateKeys();
  x.fill(0);
  const e = bytesToBigint(new Uint8Array(dh.getPublicKey()));
  return {
    e,
    privateBits,
    secret(f: bigint): Uint8Array {
      if (f <= 1n) throw new KexFailure("server's DH value f is out of range (f <= 1)");
      if (f >= p - 1n) throw new KexFailure("server's DH value f is out of range (f >= p-1)");
      const k = new Uint8Array(dh.computeSecret(own(bigintToBytes(f))));
      const encoded = mpintSecret(k);
      k.fill(0);
      return encoded;
    },
  };
}

/** Reads the common KEXDH_REPLY / KEX_DH_GEX_REPLY body: string K_S, mpint f, string sig. */
function readDhReply(
  payload: Uint8Array,
  type: number,
  name: string,
): { hostKeyBlob: Uint8Array; f: bigint; signatureBlob: Uint8Array } {
  const r = expectMessage(payload, type, name);
  const hostKeyBlob = r.string("server host key K_S").slice();
  const f = r.mpint("server DH value f");
  const signatureBlob = r.string("signature of H").slice();
  r.end();
  return { hostKeyBlob, f, signatureBlob };
}

type ModpGroup = "modp2" | "modp14" | "modp16" | "modp18";

const MODP_LABEL: Record<ModpGroup, string> = {
  modp2: "Oakley group 2, RFC 2409",
  modp14: "group 14, RFC 3526",
  modp16: "group 16, RFC 3526",
  modp18: "group 18, RFC 3526",
};

const modpCache = new Map<ModpGroup, { p: bigint; g: bigint }>();

function modpGroup(group: ModpGroup): { p: bigint; g: bigint } {
  let found = modpCache.get(group);
  if (!found) {
    const dh = nodeCrypto().getDiffieHellman(group);
    found = {
      p: bytesToBigint(new Uint8Array(dh.getPrime())),
      g: bytesToBigint(new Uint8Array(dh.getGenerator())),
    };
    modpCache.set(group, found);
  }
  return found;
}

function fixedGroupKex(info: AlgorithmInfo, hash: HashName, group: ModpGroup): KexAlgorithm {
  return {
    ...info,
    usesNodeCrypto: true,
    hash,
    async exchange(ctx: KexContext): Promise<KexResult> {
      const { p, g } = modpGroup(group);
      ctx.note(`DH group of ${bitLength(p)} bits (${MODP_LABEL[group]})`);
      return await dhRounds(ctx, hash, p, g, {
        init: MSG.KEXDH_INIT,
        reply: MSG.KEXDH_REPLY,
        replyName: "KEXDH_REPLY",
        hashPrefix: () => {},
      });
    },
  };
}

/**
 * The DH rounds both finite-field methods share: send e, read the reply, check f, hash
 * (`hashPrefix` writes what the method puts before e and f in the exchange hash).
 */
async function dhRounds(
  ctx: KexContext,
  hash: HashName,
  p: bigint,
  g: bigint,
  m: { init: number; reply: number; replyName: string; hashPrefix: (w: SshWriter) => void },
): Promise<KexResult> {
  const ours = ffdhStart(p, g, hash);
  await ctx.send(new SshWriter().byte(m.init).mpint(ours.e).bytes());
  ctx.note(`client DH value e sent (private exponent of ${ours.privateBits} bits)`);
  const reply = readDhReply(await ctx.receive(), m.reply, m.replyName);
  ctx.note(`server DH value f received (${bitLength(reply.f)} bits)`);
  const sharedSecret = ours.secret(reply.f);
  const h = exchangeHash(
    hash,
    ctx,
    reply.hostKeyBlob,
    (w) => {
      m.hashPrefix(w);
      w.mpint(ours.e).mpint(reply.f);
    },
    sharedSecret,
  );
  return {
    sharedSecret,
    exchangeHash: h,
    hostKeyBlob: reply.hostKeyBlob,
    signatureBlob: reply.signatureBlob,
  };
}

function groupExchangeKex(info: AlgorithmInfo, hash: HashName): KexAlgorithm {
  return {
    ...info,
    usesNodeCrypto: true,
    hash,
    async exchange(ctx: KexContext): Promise<KexResult> {
      const { min, preferred, max } = ctx.gex;
      await ctx.send(
        new SshWriter().byte(MSG.KEX_DH_GEX_REQUEST).uint32(min).uint32(preferred).uint32(max)
          .bytes(),
      );
      ctx.note(`asked for a group of ${min} to ${max} bits (preferred ${preferred})`);
      const r = expectMessage(await ctx.receive(), MSG.KEX_DH_GEX_GROUP, "KEX_DH_GEX_GROUP");
      const p = r.mpint("group prime p");
      const g = r.mpint("group generator g");
      r.end();
      const bits = bitLength(p);
      const gText = bitLength(g) <= 32 ? `generator ${g}` : `generator of ${bitLength(g)} bits`;
      ctx.note(`server sent a ${bits}-bit group (${gText})`);
      if (bits < min) {
        throw new KexFailure(
          `server's DH group of ${bits} bits is smaller than the minimum of ${min} bits`,
        );
      }
      if (bits > max) {
        throw new KexFailure(
          `server's DH group of ${bits} bits is larger than the maximum of ${max} bits`,
        );
      }
      if ((p & 1n) === 0n) throw new KexFailure("server's DH group prime p is even");
      if (g <= 1n) throw new KexFailure("server's DH generator g is out of range (g <= 1)");
      if (g >= p - 1n) throw new KexFailure("server's DH generator g is out of range (g >= p-1)");
      const started = performance.now();
      if (!isProbablePrime(p)) {
        throw new KexFailure(`server's DH group modulus p (${bits} bits) is not a prime`);
      }
      ctx.note(
        `group modulus is a probable prime (2 Miller-Rabin rounds, ${
          Math.round(performance.now() - started)
        } ms)`,
      );

      return await dhRounds(ctx, hash, p, g, {
        init: MSG.KEX_DH_GEX_INIT,
        reply: MSG.KEX_DH_GEX_REPLY,
        replyName: "KEX_DH_GEX_REPLY",
        hashPrefix: (w) => w.uint32(min).uint32(preferred).uint32(max).mpint(p).mpint(g),
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The registry

function fromLegacy(entry: LegacyKexEntry): KexAlgorithm {
  const info: AlgorithmInfo = {
    name: entry.name,
    status: entry.status,
    spec: entry.spec,
    risk: entry.risk,
  };
  return entry.method.kind === "gex"
    ? groupExchangeKex(info, entry.hash)
    : fixedGroupKex(info, entry.hash, entry.method.group);
}

const CURVE25519_SPEC = "RFC 8731";
const ECDH_SPEC = "RFC 5656";
const SNTRUP_SPEC = "draft-ietf-sshm-ntruprime-ssh";
/** sntrup761 exists here only as WebAssembly (no JavaScript fallback). */
const hasWebAssembly = () => typeof WebAssembly !== "undefined";

/** Every key exchange method, in preference order; legacy entries come last. */
export const KEX_ALGORITHMS: readonly KexAlgorithm[] = [
  ephemeralKex(
    {
      name: "mlkem768x25519-sha256",
      status: "supported",
      spec: "draft-ietf-sshm-mlkem-hybrid-kex",
    },
    "sha256",
    MLKEM768_X25519,
  ),
  // sntrup761x25519 under both names, in OpenSSH 9.9+'s order: the IETF draft's name first,
  // then the one OpenSSH 9.0–9.8 know.
  ...["sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com"].map((name) =>
    ephemeralKex(
      { name, status: "supported", spec: SNTRUP_SPEC, available: hasWebAssembly },
      "sha512",
      SNTRUP761_X25519,
    )
  ),
  ephemeralKex(
    { name: "curve25519-sha256", status: "recommended", spec: CURVE25519_SPEC },
    "sha256",
    X25519_AGREEMENT,
  ),
  ephemeralKex(
    { name: "curve25519-sha256@libssh.org", status: "recommended", spec: CURVE25519_SPEC },
    "sha256",
    X25519_AGREEMENT,
  ),
  ephemeralKex(
    { name: "ecdh-sha2-nistp256", status: "recommended", spec: ECDH_SPEC },
    "sha256",
    nistAgreement("P-256", 32),
  ),
  ephemeralKex(
    { name: "ecdh-sha2-nistp384", status: "recommended", spec: ECDH_SPEC },
    "sha384",
    nistAgreement("P-384", 48),
  ),
  ephemeralKex(
    { name: "ecdh-sha2-nistp521", status: "recommended", spec: ECDH_SPEC },
    "sha512",
    nistAgreement("P-521", 66),
  ),
  groupExchangeKex(
    { name: "diffie-hellman-group-exchange-sha256", status: "recommended", spec: "RFC 4419" },
    "sha256",
  ),
  fixedGroupKex(
    { name: "diffie-hellman-group16-sha512", status: "recommended", spec: "RFC 8268" },
    "sha512",
    "modp16",
  ),
  fixedGroupKex(
    { name: "diffie-hellman-group18-sha512", status: "recommended", spec: "RFC 8268" },
    "sha512",
    "modp18",
  ),
  fixedGroupKex(
    { name: "diffie-hellman-group14-sha256", status: "recommended", spec: "RFC 8268" },
    "sha256",
    "modp14",
  ),
  ...LEGACY_KEX.map(fromLegacy),
];

/** The registry entry for an SSH method name, or undefined. */
export function findKex(name: string): KexAlgorithm | undefined {
  return KEX_ALGORITHMS.find((k) => k.name === name);
}
