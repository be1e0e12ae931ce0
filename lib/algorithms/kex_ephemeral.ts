/**
 * Ephemeral key agreement over messages 30/31 (`string Q_C` / `string K_S, string Q_S,
 * string signature`): X25519 (RFC 8731), ECDH on the NIST curves (RFC 5656) and the ML-KEM-768 +
 * X25519 and sntrup761 + X25519 hybrids (draft-ietf-sshm-mlkem-hybrid-kex,
 * draft-ietf-sshm-ntruprime-ssh). Throws {@link KexFailure} for a peer value that must be refused
 * and lets `WireError` propagate for a malformed message.
 * @module
 */

import { concatBytes, SshWriter } from "../wire/buffer.ts";
import { digest } from "./hash.ts";
import { MSG } from "../wire/messages.ts";
import { type LoadedKem, mlKem768, sntrup761 } from "./pq.ts";
import { type KeyPairAhead, takeSntrup761KeyPair } from "./kem_prefetch.ts";
import { exchangeHash, expectMessage, mpintSecret, own } from "./_kex_common.ts";
import {
  type AlgorithmInfo,
  type HashName,
  type KemBackendInfo,
  type KexAlgorithm,
  type KexContext,
  KexFailure,
  type KexResult,
} from "./types.ts";

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

export function ephemeralKex(
  info: AlgorithmInfo,
  hash: HashName,
  agreement: Agreement,
): KexAlgorithm {
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

export const X25519_AGREEMENT: Agreement = {
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

export function nistAgreement(curve: "P-256" | "P-384" | "P-521", fieldBytes: number): Agreement {
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
  madeAhead?: () => Promise<KeyPairAhead | null>,
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
      // A key pair made ahead (kem_prefetch.ts), used once, else a new one.
      const ahead = await madeAhead?.();
      const keys = ahead && ahead.secretKey.length === kem.secretKeyLength ? ahead : kem.keypair();
      if (ahead && keys !== ahead) ahead.secretKey.fill(0);
      if (keys.publicKey.length !== sizes.publicKey) {
        throw new Error(`${kemName} made a ${keys.publicKey.length}-byte public key`);
      }
      const ecdh = await x25519KeyPair();
      return {
        clientPublic: concatBytes(keys.publicKey, ecdh.publicKey),
        kemBackend: {
          algorithm: kemName,
          ...loaded.backend,
          ...(keys === ahead
            ? { detail: `${loaded.backend.detail}; key pair made ahead ${ahead.where}` }
            : {}),
        },
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

export const MLKEM768_X25519 = hybridAgreement(
  "sha256",
  "ML-KEM-768",
  { publicKey: MLKEM768_PUBLIC, ciphertext: MLKEM768_CIPHERTEXT },
  mlKem768,
);
export const SNTRUP761_X25519 = hybridAgreement(
  "sha512",
  "sntrup761",
  { publicKey: SNTRUP761_PUBLIC, ciphertext: SNTRUP761_CIPHERTEXT },
  sntrup761,
  takeSntrup761KeyPair,
);
