/**
 * Finite-field Diffie-Hellman: a fixed group (RFC 4253, RFC 8268, and the legacy Oakley group 2
 * and SHA-1 methods) and group exchange (RFC 4419), which reuses the same code. Throws
 * {@link KexFailure} for a peer value that must be refused and lets `WireError` propagate for a
 * malformed message.
 * @module
 */

import { nodeCrypto } from "./node_loader.ts";
import { bigintToBytes, bitLength, bytesToBigint, SshWriter } from "../wire/buffer.ts";
import { isProbablePrime } from "./prime.ts";
import { MSG } from "../wire/messages.ts";
import { exchangeHash, expectMessage, HASH_BITS, mpintSecret, own } from "./_kex_common.ts";
import {
  type AlgorithmInfo,
  DhGroupTooSmall,
  type HashName,
  type KexAlgorithm,
  type KexContext,
  KexFailure,
  type KexResult,
} from "./types.ts";

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

export function fixedGroupKex(info: AlgorithmInfo, hash: HashName, group: ModpGroup): KexAlgorithm {
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

export function groupExchangeKex(info: AlgorithmInfo, hash: HashName): KexAlgorithm {
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
      if (bits < min) throw new DhGroupTooSmall(bits, min);
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
