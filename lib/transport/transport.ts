/**
 * The client role of the SSH transport (RFC 4253): the version exchange, the client half of the
 * key exchange methods (lib/algorithms) with the host key signature check, and the message loop
 * the upper layers read from. The message loop, send queue and DISCONNECT are the shared
 * {@link RoleTransport}'s, the state machine (KEXINIT, strict kex, NEWKEYS, rekey, ext-info) the
 * shared {@link Handshake}'s. Emits trace events; never prints.
 * @module
 */

import { findCipher, findHostKey, findKex, type OfferLists } from "../algorithms/registry.ts";
import { DhGroupTooSmall, type KexContext, KexFailure } from "../algorithms/types.ts";
import { cryptoBackend } from "../algorithms/crypto_provider.ts";
import { preloadNodeCrypto } from "../algorithms/node_loader.ts";
import {
  fingerprintMd5,
  fingerprintSha256,
  MIN_RSA_BITS,
  parsePublicKey,
} from "../algorithms/pubkey.ts";
import type { Tracer } from "../trace.ts";
import { SshError } from "../errors/mod.ts";
import type { AlgorithmLists } from "../types.ts";
import { encodeText, WireError } from "../wire/buffer.ts";
import { EXT_INFO_C, STRICT_KEX_C } from "./kexinit.ts";
import type { KexKeys, KexRun } from "./handshake.ts";
import { RoleTransport } from "./message_transport.ts";
import { combineAdjustments, type QuirkAdjustments, quirksFor } from "./quirks.ts";
import { Deadline } from "./reader.ts";
import type { ByteStream } from "./stream.ts";
import { SSHTRACE_VERSION } from "../about.ts";
import { readServerVersion, type ServerVersion } from "./version.ts";

export type { Negotiated } from "./handshake.ts";

export const CLIENT_VERSION_LINE = `SSH-2.0-sshtrace_${SSHTRACE_VERSION}`;

/** What the host-key policy is told once the server has proven it holds the key. */
export interface HostKeyCheck {
  algorithm: string;
  blob: Uint8Array;
  keyType: string;
  fingerprint: string;
  md5: string;
  bits: number;
}

export interface TransportOptions {
  tracer: Tracer;
  /**
   * The time budget (ms) of each stage as a whole: the version exchange, each key exchange
   * (rekeys too), each answer awaited; and of each packet once its first bytes are in. 0: none.
   */
  timeoutMs: number;
  offer: OfferLists;
  /** Whether legacy algorithms are allowed (group exchange then accepts 1024-bit groups). */
  legacy?: boolean;
  /**
   * Decides whether to trust the server's host key (known_hosts). Throws `SshError`
   * (stage `hostkey`) to refuse. Called once, after the signature is verified.
   */
  checkHostKey: (key: HostKeyCheck) => Promise<void>;
  /** Rekey after this many bytes in either direction (default 1 GiB). */
  rekeyLimitBytes?: number;
  /** The smallest RSA host key accepted, in bits (OpenSSH's RequiredRSASize). @default 1024 */
  requiredRsaSize?: number;
  /** Rekey after this long (ms, default 1 hour). */
  rekeyIntervalMs?: number;
  clientVersion?: string;
  /** Send our version line only once the server's has arrived (devices that drop earlier data). */
  versionAfterGreeting?: boolean;
  /** The group sizes a group exchange asks for (bits), instead of the defaults (audits). */
  gexRequest?: { min: number; preferred: number; max: number };
  /** Offer strict kex (`kex-strict-c-v00@openssh.com`). @default true */
  strictKex?: boolean;
}

/** Runs the transport over a byte stream. Create with {@link startTransport}. */
export class Transport extends RoleTransport {
  serverVersion: ServerVersion | null = null;
  hostKeyBlob: Uint8Array | null = null;
  /** What the server's quirks ask for (see quirks.ts); empty when none matched. */
  adjustments: QuirkAdjustments = {};

  #options: TransportOptions;
  /** The host key the first exchange proved, for the policy check after it. */
  #proven: HostKeyCheck | null = null;
  #backendLoaded = false;

  constructor(stream: ByteStream, options: TransportOptions) {
    const { tracer, timeoutMs } = options;
    super(stream, {
      tracer,
      conn: { peer: "server", timeoutMs, tracer },
      handshake: {
        role: "client",
        markers: options.strictKex === false ? [EXT_INFO_C] : [EXT_INFO_C, STRICT_KEX_C],
        newKeysSent: (first) => {
          if (!first) return;
          const backend = cryptoBackend();
          tracer.emit({
            stage: "kex",
            type: "crypto-backend",
            backend: backend.name,
            detail: backend.detail,
          });
        },
        timeoutMs,
        rekeyLimitBytes: options.rekeyLimitBytes,
        rekeyIntervalMs: options.rekeyIntervalMs,
      },
    });
    this.#options = options;
  }

  /** Version exchange and the first key exchange (with the host key check). */
  async handshake(): Promise<void> {
    const tracer = this.tracer;
    const conn = this.conn;
    tracer.begin("version");
    conn.stage = "version";
    const line = this.#options.clientVersion ?? CLIENT_VERSION_LINE;
    const sendLine = async () => {
      await conn.writeRaw(new TextEncoder().encode(line + "\r\n"));
      tracer.emit({ stage: "version", type: "sent", line });
    };
    const after = this.#options.versionAfterGreeting ?? false;
    if (!after) await sendLine();
    const ms = this.#options.timeoutMs;
    const read = () => readServerVersion(conn.reader, tracer);
    const reading = ms > 0
      ? conn.within(new Deadline("version", "version line", ms), read)
      : read();
    // The crypto backend (OpenSSL: ~10 ms, synchronous) loads while the server is busy: here
    // when its greeting is still to come, else once our first key exchange message is out.
    if (!(await settlesAtOnce(reading))) this.#loadCryptoBackend();
    this.serverVersion = await reading;
    if (after) await sendLine();
    const quirks = quirksFor(this.serverVersion.software);
    this.adjustments = combineAdjustments(quirks);
    for (const q of quirks) {
      tracer.emit({ stage: "version", type: "quirk", id: q.id, description: q.description });
    }
    tracer.end("version");
    this.hs.clientVersion = encodeText(line);
    this.hs.serverVersion = this.serverVersion.bytes;

    tracer.begin("kex");
    conn.stage = "kex";
    // The whole exchange, KEXINIT to NEWKEYS, has one budget; the host key check after it
    // (which may ask a person) has none.
    await this.hs.firstKex();
    tracer.end("kex");
    tracer.begin("hostkey");
    conn.stage = "hostkey";
    await this.#options.checkHostKey(this.#proven!);
    tracer.end("hostkey");
  }

  /** Chooses the crypto backend now (idempotent); node:crypto starts loading if it is that. */
  #loadCryptoBackend(): void {
    if (this.#backendLoaded) return;
    this.#backendLoaded = true;
    if (cryptoBackend().name === "node") {
      preloadNodeCrypto().catch(() => {}); // a failed load shows at first use
    }
  }

  protected lists(first: boolean): AlgorithmLists {
    const offer = this.#options.offer;
    const drop = this.adjustments.dropKex;
    const kexOffer = drop && offer.kex.some((n) => !drop.test(n))
      ? offer.kex.filter((n) => !drop.test(n))
      : offer.kex;
    const negotiated = this.hs.negotiated;
    return {
      kex: [...kexOffer],
      hostKey: negotiated && !first ? [negotiated.hostKey] : [...offer.hostKey],
      cipherC2S: [...offer.cipher],
      cipherS2C: [...offer.cipher],
      macC2S: [...offer.mac],
      macS2C: [...offer.mac],
      compressionC2S: [...offer.compression],
      compressionS2C: [...offer.compression],
    };
  }

  /** The client half of the negotiated method, then the server's proof of its host key. */
  protected async exchange(run: KexRun): Promise<KexKeys> {
    const tracer = this.tracer;
    const { chosen, first } = run;
    const kex = findKex(chosen.kex)!;
    const hostKeyAlg = findHostKey(chosen.hostKey)!;
    // node:crypto (~25 ms to load) only when something negotiated needs it (or the backend is
    // node's); loading starts now, while the exchange waits for the server.
    const ciphers = [chosen.cipherC2S, chosen.cipherS2C].map((c) => findCipher(c)!);
    if (kex.usesNodeCrypto || hostKeyAlg.usesNodeCrypto || ciphers.some((c) => c.usesNodeCrypto)) {
      preloadNodeCrypto().catch(() => {}); // a failed load shows at first use
    }
    const ctx: KexContext = {
      ...run,
      // The backend loads, if it has not yet, while the server answers our first message (the
      // exchange hash needs it once the answer is in).
      send: async (payload) => {
        await run.send(payload);
        this.#loadCryptoBackend();
      },
      note: (detail) => tracer.emit({ stage: "kex", type: "exchange", method: kex.name, detail }),
      gex: this.#options.gexRequest ?? {
        min: this.#options.legacy ? 1024 : 2048,
        preferred: Math.min(3072, this.adjustments.gexMax ?? 8192),
        max: this.adjustments.gexMax ?? 8192,
      },
    };
    let result;
    try {
      result = await kex.exchange(ctx);
    } catch (e) {
      if (e instanceof DhGroupTooSmall) {
        throw new SshError(
          "kex",
          "kex.dh-group-too-small",
          `key exchange ${kex.name} failed: ${e.message}`,
          { algorithm: kex.name, bits: e.bits, min: e.min },
        );
      }
      if (e instanceof KexFailure || e instanceof WireError) {
        throw new SshError(
          "kex",
          "kex.exchange-failed",
          `key exchange ${kex.name} failed: ${e.message}`,
          { algorithm: kex.name },
        );
      }
      throw e;
    }
    if (result.kemBackend) {
      tracer.emit({
        stage: "kex",
        type: "kem-backend",
        algorithm: result.kemBackend.algorithm,
        backend: result.kemBackend.name,
        detail: result.kemBackend.detail,
      });
    }
    const check = await this.#verifyHostKey(hostKeyAlg.name, result, first);
    if (first) {
      this.#proven = check;
      this.hostKeyBlob = result.hostKeyBlob;
    }
    return { hash: kex.hash, k: result.sharedSecret, h: result.exchangeHash };
  }

  /** The server proves it holds the host key (and keeps it across rekeys). */
  async #verifyHostKey(
    algorithm: string,
    result: { hostKeyBlob: Uint8Array; signatureBlob: Uint8Array; exchangeHash: Uint8Array },
    first: boolean,
  ): Promise<HostKeyCheck> {
    const tracer = this.tracer;
    const hostKeyAlg = findHostKey(algorithm)!;
    let keyInfo;
    try {
      keyInfo = parsePublicKey(result.hostKeyBlob);
    } catch (e) {
      throw new SshError(
        "kex",
        "kex.bad-host-key",
        `the server's host key is malformed: ${(e as Error).message}`,
      );
    }
    const check: HostKeyCheck = {
      algorithm: hostKeyAlg.name,
      blob: result.hostKeyBlob,
      keyType: keyInfo.type,
      fingerprint: fingerprintSha256(result.hostKeyBlob),
      md5: fingerprintMd5(result.hostKeyBlob),
      bits: keyInfo.bits,
    };
    if (first) {
      tracer.emit({
        stage: "hostkey",
        type: "key",
        algorithm: check.algorithm,
        keyType: check.keyType,
        fingerprint: check.fingerprint,
        md5: check.md5,
        bits: check.bits || null,
      });
    }
    const minRsa = Math.max(this.#options.requiredRsaSize ?? MIN_RSA_BITS, MIN_RSA_BITS);
    const rsa = keyInfo.type === "ssh-rsa" || keyInfo.type === "ssh-rsa-cert-v01@openssh.com";
    if (rsa && keyInfo.bits < minRsa) {
      throw new SshError(
        "kex",
        "kex.host-key-too-small",
        `the server's RSA host key ${check.fingerprint} has ${keyInfo.bits} bits, fewer than the ` +
          `${minRsa} required (RequiredRSASize)`,
        { bits: keyInfo.bits, required: minRsa, fingerprint: check.fingerprint },
      );
    }
    let good = false;
    if (keyInfo.type === hostKeyAlg.keyType) {
      try {
        good = await hostKeyAlg.verify(
          result.hostKeyBlob,
          result.signatureBlob,
          result.exchangeHash,
        );
      } catch {
        good = false;
      }
    }
    if (!good) {
      throw new SshError(
        "kex",
        "kex.bad-signature",
        `the server's ${hostKeyAlg.name} signature over the key exchange does not verify with ` +
          `its host key ${check.fingerprint}`,
        { algorithm: hostKeyAlg.name, fingerprint: check.fingerprint },
      );
    }
    tracer.emit({ stage: "hostkey", type: "signature-verified", algorithm: hostKeyAlg.name });
    if (!first && this.hostKeyBlob && check.fingerprint !== fingerprintSha256(this.hostKeyBlob)) {
      throw new SshError(
        "hostkey",
        "hostkey.changed-on-rekey",
        "the server presented a different host key during a rekey",
        { fingerprint: check.fingerprint },
      );
    }
    return check;
  }
}

/** Whether `promise` settles (either way) before the next turn of the event loop. */
function settlesAtOnce(promise: Promise<unknown>): Promise<boolean> {
  const settled = promise.then(() => true, () => true);
  return Promise.race([settled, new Promise<boolean>((r) => setTimeout(() => r(false), 0))]);
}

/** Starts a transport over `stream`: version exchange, key exchange and host key check. */
export async function startTransport(
  stream: ByteStream,
  options: TransportOptions,
): Promise<Transport> {
  const t = new Transport(stream, options);
  try {
    await t.handshake();
  } catch (e) {
    t.close();
    throw e;
  }
  return t;
}
