/**
 * The SSH transport (RFC 4253): version exchange, the KEXINIT/NEWKEYS state machine with strict
 * kex and rekeying, host key signature check, EXT_INFO, and the message loop the upper layers
 * read from. Emits trace events; never prints.
 * @module
 */

import {
  findCipher,
  findCompression,
  findHostKey,
  findKex,
  findMac,
  isAeadCipher,
  type OfferLists,
  riskOf,
} from "../algorithms/registry.ts";
import { CompressionError, createZlibStream, loadZlib } from "../algorithms/compression.ts";
import { type KexContext, KexFailure } from "../algorithms/types.ts";
import { cryptoBackend } from "../algorithms/crypto_provider.ts";
import { preloadNodeCrypto } from "../algorithms/node_loader.ts";
import {
  fingerprintMd5,
  fingerprintSha256,
  MIN_RSA_BITS,
  parsePublicKey,
} from "../algorithms/pubkey.ts";
import { SshTraceError } from "../errors/mod.ts";
import type { Tracer } from "../trace.ts";
import type { AlgorithmLists, Decision, Stage } from "../types.ts";
import { encodeText, SshReader, SshWriter, WireError } from "../wire/buffer.ts";
import { DISCONNECT_REASONS, messageName, MSG } from "../wire/messages.ts";
import {
  decodeKexInit,
  encodeKexInit,
  EXT_INFO_C,
  EXT_INFO_S,
  STRICT_KEX_C,
  STRICT_KEX_S,
  withoutKexMarkers,
} from "./kexinit.ts";
import { packetEvent } from "./packet_trace.ts";
import { deriveKey } from "./keys.ts";
import { type CATEGORIES, negotiateAll } from "./negotiate.ts";
import { type DirectionKeys, PacketError, PacketOpener, PacketSealer } from "./packet.ts";
import { combineAdjustments, type QuirkAdjustments, quirksFor } from "./quirks.ts";
import { BufferedReader, Deadline } from "./reader.ts";
import type { ByteStream } from "./stream.ts";
import type { MessageTransport } from "./types.ts";
import { SSHTRACE_VERSION } from "../about.ts";
import { readServerVersion, type ServerVersion } from "./version.ts";

export const CLIENT_VERSION_LINE = `SSH-2.0-sshtrace_${SSHTRACE_VERSION}`;

/** Read-ahead limits: packets and wire bytes opened ahead of the one being handed up. */
const MAX_AHEAD_PACKETS = 16;
const MAX_AHEAD_BYTES = 1024 * 1024;

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
   * Decides whether to trust the server's host key (known_hosts). Throws `SshTraceError`
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
}

/** Negotiated algorithms of the current keys. */
export interface Negotiated {
  decisions: Decision[];
  kex: string;
  hostKey: string;
  strict: boolean;
}

/** Runs the transport over a byte stream. Create with {@link startTransport}. */
export class Transport implements MessageTransport {
  readonly tracer: Tracer;
  sessionId: Uint8Array = new Uint8Array(0);
  serverSigAlgs: string[] | null = null;
  serverVersion: ServerVersion | null = null;
  negotiated: Negotiated | null = null;
  hostKeyBlob: Uint8Array | null = null;
  /** What the server's quirks ask for (see quirks.ts); empty when none matched. */
  adjustments: QuirkAdjustments = {};

  #stream: ByteStream;
  #reader: BufferedReader;
  #options: TransportOptions;
  #sealer = new PacketSealer();
  #opener = new PacketOpener();
  #writeChain: Promise<void> = Promise.resolve();
  #clientKexInit: Uint8Array | null = null;
  /** Non-kex senders wait on this while a key exchange is in progress. */
  #gate: Promise<void> | null = null;
  #openGate: (() => void) | null = null;
  /** The budget of a key exchange we started, and the timer that ends it (see {@link send}). */
  #rekeyDeadline: Deadline | null = null;
  #rekeyTimer: ReturnType<typeof setTimeout> | undefined;
  #strict = false;
  #firstKexDone = false;
  #lastKexAt = 0;
  #closed = false;
  #delayedCompression: string | null = null;
  #stageOverride: Stage | null = null;
  #authenticated = false;
  /** Packets opened ahead (data phase), in wire order, not yet handed up. */
  #ahead: { seq: number; length: number; payload: Promise<Uint8Array> }[] = [];
  /** Wire bytes of the packets in #ahead. */
  #aheadBytes = 0;
  /** A packet failed to frame: nothing more is opened ahead. */
  #aheadBroken = false;
  /** The sequence number of the last packet handed up. */
  #deliveredSeq = 0;

  constructor(stream: ByteStream, options: TransportOptions) {
    this.#stream = stream;
    this.#options = options;
    this.tracer = options.tracer;
    this.#reader = new BufferedReader(stream, () => this.#stage(), options.timeoutMs);
  }

  #stage(): Stage {
    return this.#stageOverride ?? this.tracer.currentStage ?? "data";
  }

  /** Version exchange and the first key exchange (with the host key check). */
  async handshake(): Promise<void> {
    const tracer = this.tracer;
    tracer.begin("version");
    const line = this.#options.clientVersion ?? CLIENT_VERSION_LINE;
    await this.#writeRaw(new TextEncoder().encode(line + "\r\n"));
    tracer.emit({ stage: "version", type: "sent", line });
    // Load OpenSSL (~10 ms, synchronous) while the server prepares its answer.
    cryptoBackend();
    this.serverVersion = await this.#within(
      "version",
      "version line",
      () => readServerVersion(this.#reader, tracer),
    );
    const quirks = quirksFor(this.serverVersion.software);
    this.adjustments = combineAdjustments(quirks);
    for (const q of quirks) {
      tracer.emit({ stage: "version", type: "quirk", id: q.id, description: q.description });
    }
    tracer.end("version");

    tracer.begin("kex");
    // The whole exchange, KEXINIT to NEWKEYS, has one budget; the host key check after it
    // (which may ask a person) has none.
    const check = await this.#within("kex", "key exchange", async () => {
      await this.#sendKexInit();
      // The server's KEXINIT must come first; anything before it is noted for strict kex.
      let unexpectedBefore: string | null = null;
      for (;;) {
        const p = await this.#readPacket();
        if (p === null) throw this.#closedError();
        if (p[0] === MSG.KEXINIT) return await this.#completeKex(p, unexpectedBefore);
        unexpectedBefore ??= messageName(p[0]!);
        await this.#handleTransportMessage(p, true);
      }
    });
    tracer.end("kex");
    tracer.begin("hostkey");
    await this.#options.checkHostKey(check);
    tracer.end("hostkey");
  }

  /**
   * Runs `body` within a budget of the transport's timeout for `stage` as a whole (see
   * {@link Deadline}); without a timeout, just runs it.
   */
  #within<T>(stage: Stage, what: string, body: () => Promise<T>, deadline?: Deadline): Promise<T> {
    const ms = this.#options.timeoutMs;
    if (!deadline && ms <= 0) return body();
    return this.#reader.within(deadline ?? new Deadline(stage, what, ms), body);
  }

  // ------------------------------------------------------------------------------------------
  // Sending

  #writeRaw(bytes: Uint8Array): Promise<void> {
    const next = this.#writeChain.then(() => this.#stream.write(bytes));
    this.#writeChain = next.catch(() => {});
    return next.catch((e) => {
      if (e instanceof SshTraceError) throw e;
      const stage = this.#stage();
      throw new SshTraceError(
        stage,
        `${stage}.connection-reset`,
        `the connection broke while sending during stage ${stage}: ${(e as Error).message}`,
        {},
        { cause: e },
      );
    });
  }

  /** Seals and writes one payload, ignoring the kex gate (kex messages themselves). */
  #sendNow(payload: Uint8Array): Promise<void> {
    if (this.#closed) {
      return Promise.reject(
        new SshTraceError(this.#stage(), `${this.#stage()}.closed`, "the connection is closed"),
      );
    }
    if (this.tracer.packets) {
      this.tracer.emit(packetEvent(this.#stage(), "out", this.#sealer.seq, payload));
    }
    return this.#writeRaw(this.#sealer.seal(payload));
  }

  async send(payload: Uint8Array): Promise<void> {
    while (this.#gate) await this.#gate;
    await this.#sendNow(payload);
    await this.#rekeyIfDue();
  }

  /**
   * Starts a key exchange when the rekey limit (bytes either way, or time) is reached: checked
   * after each packet sent and each packet received (a download sends almost nothing). Only
   * once authenticated: from then on the connection layer always reads, so the server's KEXINIT
   * is answered; before that, a sender waiting for new keys could wait for ever.
   */
  async #rekeyIfDue(): Promise<void> {
    if (!this.#authenticated || this.#gate || this.#closed || !this.#rekeyDue()) return;
    this.tracer.emit({
      stage: "kex",
      type: "rekey",
      initiator: "client",
      reason: "rekey limit reached (bytes or time)",
    });
    await this.#sendKexInit();
    this.#armRekeyDeadline();
  }

  /**
   * A key exchange we started must finish within the budget too, although the server's
   * KEXINIT is read by the connection layer's wait (which has no timeout): a timer ends that
   * wait with `kex.timeout` if the server never answers.
   */
  #armRekeyDeadline(): void {
    const ms = this.#options.timeoutMs;
    if (ms <= 0 || this.#closed) return;
    const deadline = new Deadline("kex", "key exchange (rekey)", ms);
    this.#rekeyDeadline = deadline;
    this.#rekeyTimer = setTimeout(() => {
      this.#rekeyTimer = undefined;
      if (this.#rekeyDeadline !== deadline) return;
      // The wait under way ends with kex.timeout; senders held for new keys are let go.
      this.#reader.abort(deadline.error());
      this.close();
    }, ms);
  }

  #clearRekeyDeadline(): void {
    clearTimeout(this.#rekeyTimer);
    this.#rekeyTimer = undefined;
    this.#rekeyDeadline = null;
  }

  /** Lets every sender waiting for new keys go on (to send, or to fail on a closed transport). */
  #releaseGate(): void {
    const open = this.#openGate;
    this.#gate = null;
    this.#openGate = null;
    open?.();
  }

  #rekeyDue(): boolean {
    const limit = this.#options.rekeyLimitBytes ?? 1024 ** 3;
    const interval = this.#options.rekeyIntervalMs ?? 3600_000;
    return this.#sealer.bytesSinceKex > limit || this.#opener.bytesSinceKex > limit ||
      performance.now() - this.#lastKexAt > interval;
  }

  async #sendKexInit(): Promise<void> {
    const offer = this.#options.offer;
    const first = !this.#firstKexDone;
    const drop = this.adjustments.dropKex;
    const kexOffer = drop && offer.kex.some((n) => !drop.test(n))
      ? offer.kex.filter((n) => !drop.test(n))
      : offer.kex;
    const lists: AlgorithmLists = {
      kex: first ? [...kexOffer, EXT_INFO_C, STRICT_KEX_C] : [...kexOffer],
      hostKey: this.negotiated ? [this.negotiated.hostKey] : [...offer.hostKey],
      cipherC2S: [...offer.cipher],
      cipherS2C: [...offer.cipher],
      macC2S: [...offer.mac],
      macS2C: [...offer.mac],
      compressionC2S: [...offer.compression],
      compressionS2C: [...offer.compression],
    };
    const payload = encodeKexInit(lists);
    this.#clientKexInit = payload;
    this.#gate = new Promise((resolve) => (this.#openGate = resolve));
    const cookie = Array.from(payload.subarray(1, 17), (b) => b.toString(16).padStart(2, "0"))
      .join("");
    this.tracer.emit({ stage: "kex", type: "kexinit-sent", lists, cookie });
    await this.#sendNow(payload);
  }

  // ------------------------------------------------------------------------------------------
  // Receiving

  #closedError(): SshTraceError {
    const stage = this.#stage();
    return new SshTraceError(
      stage,
      `${stage}.closed`,
      `the server closed the connection during stage ${stage}`,
      {},
    );
  }

  async #readPacket(timeoutMs = this.#options.timeoutMs): Promise<Uint8Array | null> {
    this.#reader.checkDeadline();
    // Packets opened ahead are handed up first, in order, whatever the mode now.
    if (this.#ahead.length || (timeoutMs === 0 && this.#readAheadAllowed())) {
      return await this.#readPacketAhead(timeoutMs);
    }
    // The header stays buffered until the whole packet is in, so it arrives as one array.
    const size = this.#opener.headerSize;
    if (!(await this.#reader.ensure(size, timeoutMs))) {
      if (this.#reader.buffered === 0) return null;
      throw this.#closedError();
    }
    try {
      const need = this.#opener.begin(this.#reader.peekExact(size));
      if (!(await this.#ensureWhole(size + need))) throw this.#closedError();
      const whole = this.#reader.take(size + need)!;
      const payload = this.#opener.finish(whole.subarray(size), whole);
      if (payload.length === 0) throw new PacketError("length", "packet with an empty payload");
      this.#deliveredSeq = (this.#opener.seq - 1) >>> 0;
      if (this.tracer.packets) this.#traceIn(payload);
      return payload;
    } catch (e) {
      throw this.#packetFailure(e);
    }
  }

  #traceIn(payload: Uint8Array): void {
    this.tracer.emit(packetEvent(this.#stage(), "in", this.#deliveredSeq, payload));
  }

  /**
   * Waits until `n` bytes (the rest of a packet whose start is in) are buffered: the packet as a
   * whole must arrive within the timeout, so a peer cannot trickle it byte by byte.
   */
  #ensureWhole(n: number): Promise<boolean> {
    const reader = this.#reader;
    const ms = this.#options.timeoutMs;
    if (reader.buffered >= n) return Promise.resolve(true);
    if (ms <= 0) return reader.ensure(n, 0);
    return reader.within(new Deadline(this.#stage(), "packet", ms), () => reader.ensure(n, ms));
  }

  /**
   * Read-ahead only in the data phase: after the first key exchange and user authentication,
   * with no key exchange under way, for ciphers that frame packets before decrypting them (the
   * length is in clear) and decrypt through Web Crypto (AES-GCM, AES-CTR with an EtM MAC: see
   * `PacketOpener.canReadAhead`). A rekey cannot be overtaken: new
   * keys start after the server's NEWKEYS, which it can only send once we have answered its
   * KEXINIT, and we answer only after it has been handed up in order; from then on (the kex gate
   * is set) no packet is opened ahead, and any still queued were sent before that NEWKEYS.
   */
  #readAheadAllowed(): boolean {
    return this.#authenticated && this.#firstKexDone && this.#gate === null &&
      this.#stageOverride === null && this.#opener.canReadAhead;
  }

  /**
   * Frames every whole packet already buffered (up to the read-ahead limits) and starts its
   * decryption; stops at the first framing error, which is queued to be reported in order.
   */
  #launchAhead(): void {
    const reader = this.#reader;
    const opener = this.#opener;
    while (
      this.#ahead.length < MAX_AHEAD_PACKETS && this.#aheadBytes < MAX_AHEAD_BYTES &&
      !this.#aheadBroken && this.#readAheadAllowed()
    ) {
      const size = opener.headerSize;
      if (reader.buffered < size) return;
      let need: number;
      try {
        need = opener.begin(reader.peekExact(size));
      } catch (e) {
        this.#aheadBroken = true;
        this.#ahead.push({ seq: opener.seq, length: 0, payload: Promise.reject(e) });
        this.#ahead[this.#ahead.length - 1]!.payload.catch(() => {});
        return;
      }
      if (reader.buffered < size + need) return;
      const whole = reader.take(size + need)!;
      const seq = opener.seq;
      const payload = opener.finishAsync(whole.subarray(size), whole);
      payload.catch(() => {}); // reported in order by #readPacketAhead
      this.#ahead.push({ seq, length: whole.length, payload });
      this.#aheadBytes += whole.length;
    }
  }

  async #readPacketAhead(timeoutMs: number): Promise<Uint8Array | null> {
    // The budget of the packet partly in (each turn without a packet waits for the same one).
    let partial: Deadline | null = null;
    for (;;) {
      this.#launchAhead();
      const next = this.#ahead.shift();
      if (next) {
        this.#aheadBytes -= next.length;
        // Read the socket while the queued packets decrypt.
        if (this.#readAheadAllowed()) this.#reader.prefetch();
        let payload: Uint8Array;
        try {
          payload = await next.payload;
          if (payload.length === 0) throw new PacketError("length", "packet with an empty payload");
        } catch (e) {
          // Nothing after a bad packet is handed up.
          this.#ahead = [];
          this.#aheadBytes = 0;
          this.#aheadBroken = true;
          throw this.#packetFailure(e);
        }
        this.#deliveredSeq = next.seq;
        if (this.tracer.packets) this.#traceIn(payload);
        return payload;
      }
      if (!this.#readAheadAllowed()) return await this.#readPacket(timeoutMs);
      // Part of a packet is in: the rest must follow within the timeout (no trickling).
      const ms = this.#options.timeoutMs;
      let more: Promise<boolean>;
      if (this.#reader.buffered > 0 && ms > 0) {
        partial ??= new Deadline(this.#stage(), "packet", ms);
        more = this.#reader.within(partial, () => this.#reader.fill(ms));
      } else more = this.#reader.fill(timeoutMs);
      if (!(await more)) {
        if (this.#reader.buffered === 0) return null;
        throw this.#closedError();
      }
    }
  }

  /** Turns a packet-level failure into the staged error the caller reports. */
  #packetFailure(e: unknown): unknown {
    if (e instanceof CompressionError) {
      const stage = this.#stage();
      return new SshTraceError(
        stage,
        `${stage}.compression-error`,
        `the server's compressed data is corrupt: ${e.message}`,
      );
    }
    if (e instanceof PacketError) {
      const stage = this.#stage();
      const code = e.kind === "mac"
        ? `${stage}.mac-error` as const
        : `${stage}.bad-packet` as const;
      return new SshTraceError(
        stage,
        code,
        e.kind === "mac"
          ? `${e.message}: the data was altered in transit, or the two sides disagree on keys`
          : `the server sent a malformed packet: ${e.message}`,
        { kind: e.kind },
      );
    }
    return e;
  }

  /**
   * Handles a transport-layer message. Returns true if handled. DISCONNECT throws; KEXINIT
   * (rekey) runs the key exchange.
   */
  async #handleTransportMessage(p: Uint8Array, duringFirstKex = false): Promise<boolean> {
    const type = p[0]!;
    const stage = this.#stage();
    try {
      switch (type) {
        case MSG.DISCONNECT: {
          const r = new SshReader(p, "DISCONNECT");
          r.byte();
          const reasonCode = r.uint32("reason code");
          const description = r.text("description");
          const reason = DISCONNECT_REASONS[reasonCode] ?? "UNKNOWN";
          this.tracer.emit({
            stage,
            type: "disconnect",
            from: "server",
            reasonCode,
            reason,
            description,
          });
          this.close();
          throw new SshTraceError(
            stage,
            `${stage}.disconnect`,
            `the server disconnected: ${reason} (${reasonCode})` +
              (description ? `: ${description}` : ""),
            { reasonCode, reason, description },
          );
        }
        case MSG.IGNORE:
          this.tracer.emit({ stage, type: "ignore", length: p.length - 1 });
          return true;
        case MSG.DEBUG: {
          const r = new SshReader(p, "DEBUG");
          r.byte();
          const alwaysDisplay = r.bool();
          const message = r.text("message");
          this.tracer.emit({ stage, type: "debug", message, alwaysDisplay });
          return true;
        }
        case MSG.UNIMPLEMENTED: {
          const r = new SshReader(p, "UNIMPLEMENTED");
          r.byte();
          this.tracer.emit({ stage, type: "unimplemented", sequence: r.uint32() });
          // After authentication the connection layer sees it too (keepalive counts it as an answer).
          return !this.#authenticated;
        }
        case MSG.EXT_INFO: {
          this.#handleExtInfo(p);
          return true;
        }
        case MSG.KEXINIT: {
          if (duringFirstKex) return false;
          // A client-initiated rekey was traced when our KEXINIT went out (and its budget runs
          // since then).
          const ours = this.#rekeyDeadline;
          await this.#within("kex", "key exchange (rekey)", async () => {
            if (!this.#gate) {
              this.tracer.emit({
                stage: "kex",
                type: "rekey",
                initiator: "server",
                reason: "server asked for new keys",
              });
              await this.#sendKexInit();
            }
            await this.#completeKex(p, null);
          }, ours ?? undefined);
          return true;
        }
      }
    } catch (e) {
      if (e instanceof WireError) {
        throw new SshTraceError(stage, `${stage}.bad-message`, `malformed ${e.message}`, {});
      }
      throw e;
    }
    if (type >= 50 || type === MSG.SERVICE_ACCEPT || type === MSG.SERVICE_REQUEST) return false;
    if (type === MSG.NEWKEYS || (type >= 30 && type < 50)) {
      throw new SshTraceError(
        stage,
        `${stage}.unexpected-message`,
        `the server sent ${messageName(type)} outside a key exchange`,
        { message: messageName(type) },
      );
    }
    // Unknown message numbers get UNIMPLEMENTED (RFC 4253 §11.4).
    const w = new SshWriter(8).byte(MSG.UNIMPLEMENTED).uint32(this.#deliveredSeq);
    await this.#sendNow(w.bytes());
    return true;
  }

  #handleExtInfo(p: Uint8Array): void {
    const r = new SshReader(p, "EXT_INFO");
    r.byte();
    const n = r.uint32("extension count");
    if (n > 64) throw new WireError(`EXT_INFO: ${n} extensions is absurd`);
    const names: string[] = [];
    for (let i = 0; i < n; i++) {
      const name = r.text("extension name");
      const value = r.string("extension value");
      names.push(name);
      if (name === "server-sig-algs") {
        this.serverSigAlgs = new TextDecoder().decode(value).split(",").filter((s) => s);
      }
    }
    this.tracer.emit({
      stage: this.#stage(),
      type: "ext-info",
      extensions: names,
      serverSigAlgs: this.serverSigAlgs,
    });
  }

  /**
   * The next message for the layers above. The whole wait (IGNORE, DEBUG and the like included)
   * is bounded by `timeoutMs` (default: the transport's; 0: no bound), or counts against
   * `budget` when given (a stage's budget, whose clock runs only while waiting here).
   */
  async receive(timeoutMs?: number, budget?: Deadline): Promise<Uint8Array | null> {
    const ms = timeoutMs ?? this.#options.timeoutMs;
    const loop = async () => {
      for (;;) {
        const p = await this.#readPacket(ms);
        if (p === null) {
          this.close();
          return null;
        }
        if (!(await this.#handleTransportMessage(p))) {
          await this.#rekeyIfDue();
          return p;
        }
      }
    };
    if (budget) return await this.#reader.within(budget, loop);
    if (ms <= 0) return await loop();
    return await this.#reader.within(
      new Deadline(this.#stage(), "answer from the server", ms),
      loop,
    );
  }

  // ------------------------------------------------------------------------------------------
  // Key exchange

  /**
   * Runs a key exchange to its end (NEWKEYS both ways). Returns what the host-key policy must
   * check after the first one (the caller does that, outside the exchange's budget).
   */
  async #completeKex(
    serverPayload: Uint8Array,
    unexpectedBefore: string | null,
  ): Promise<HostKeyCheck> {
    const tracer = this.tracer;
    const first = !this.#firstKexDone;
    const prevStage = this.#stageOverride;
    if (!first) this.#stageOverride = "kex";
    let server;
    try {
      server = decodeKexInit(serverPayload);
    } catch (e) {
      throw new SshTraceError(
        "kex",
        "kex.bad-kexinit",
        `malformed KEXINIT from the server: ${(e as Error).message}`,
      );
    }
    tracer.emit({
      stage: "kex",
      type: "kexinit-received",
      lists: server.lists,
      firstKexPacketFollows: server.firstKexPacketFollows,
    });
    if (server.emptyNamesIn.length) {
      tracer.emit({
        stage: "kex",
        type: "quirk",
        id: "kexinit-empty-names",
        description: `the server's KEXINIT has empty names in ${
          server.emptyNamesIn.join(", ")
        } (a stray comma, as libssh 0.10 sends); ignored, as OpenSSH does`,
      });
    }
    if (first) {
      this.#strict = server.lists.kex.includes(STRICT_KEX_S);
      if (this.#strict && unexpectedBefore) {
        throw new SshTraceError(
          "kex",
          "kex.strict-violation",
          `strict key exchange violated: the server sent ${unexpectedBefore} before its KEXINIT`,
          { message: unexpectedBefore },
        );
      }
    }
    const ours = decodeKexInit(this.#clientKexInit!).lists;
    const decisions = negotiateAll(
      withoutKexMarkers(ours),
      withoutKexMarkers(server.lists),
      riskOf,
      isAeadCipher,
    );
    const extInfo = server.lists.kex.includes(EXT_INFO_S);
    tracer.emit({ stage: "kex", type: "negotiated", decisions, strict: this.#strict, extInfo });
    const failed = decisions.find((d) => d.chosen === null);
    if (failed) {
      throw new SshTraceError(
        "kex",
        `kex.no-common-${failed.category}`,
        `no ${describeCategory(failed.category)} in common with the server`,
        { category: failed.category, ours: failed.ours, theirs: failed.theirs, decisions },
      );
    }
    const chosen = Object.fromEntries(decisions.map((d) => [d.category, d.chosen!])) as Record<
      (typeof CATEGORIES)[number],
      string
    >;
    this.negotiated = {
      decisions,
      kex: chosen.kex,
      hostKey: chosen.hostKey,
      strict: this.#strict,
    };

    let skipGuess = false;
    if (server.firstKexPacketFollows) {
      // RFC 4253 §7.1: the guess is wrong when the two sides' preferred (first) kex or host key
      // algorithms differ, even if the server's first choice is what negotiation picked
      // (OpenSSH's proposals_match() does the same).
      const [o, t] = [withoutKexMarkers(ours), withoutKexMarkers(server.lists)];
      const rightGuess = o.kex[0] === t.kex[0] && o.hostKey[0] === t.hostKey[0];
      if (!rightGuess) {
        skipGuess = true;
        tracer.emit({
          stage: "kex",
          type: "guess-ignored",
          reason: "the server guessed a different key exchange; its first kex packet is ignored",
        });
      }
    }

    const kex = findKex(chosen.kex)!;
    const hostKeyAlg = findHostKey(chosen.hostKey)!;
    const strict = this.#strict && first;
    // node:crypto (~25 ms to load) only when something negotiated needs it; loading starts now,
    // while the exchange waits for the server.
    const ciphers = [chosen.cipherC2S, chosen.cipherS2C].map((c) => findCipher(c)!);
    if (
      cryptoBackend().name === "node" || kex.usesNodeCrypto || hostKeyAlg.usesNodeCrypto ||
      ciphers.some((c) => c.usesNodeCrypto)
    ) {
      preloadNodeCrypto().catch(() => {}); // a failed load shows at first use
    }
    const kexReceive = async (): Promise<Uint8Array> => {
      for (;;) {
        const p = await this.#readPacket();
        if (p === null) throw this.#closedError();
        const type = p[0]!;
        if (type >= 30 && type < 50) {
          if (skipGuess) {
            skipGuess = false;
            continue;
          }
          return p;
        }
        if (type === MSG.DISCONNECT) await this.#handleTransportMessage(p);
        if (!strict && (type === MSG.IGNORE || type === MSG.DEBUG)) {
          await this.#handleTransportMessage(p);
          continue;
        }
        throw new SshTraceError(
          "kex",
          strict ? "kex.strict-violation" : "kex.unexpected-message",
          `the server sent ${messageName(type)} in the middle of the key exchange` +
            (strict ? " (not allowed under strict kex)" : ""),
          { message: messageName(type) },
        );
      }
    };
    const ctx: KexContext = {
      clientVersion: encodeText(this.#options.clientVersion ?? CLIENT_VERSION_LINE),
      serverVersion: this.serverVersion!.bytes,
      clientKexInit: this.#clientKexInit!,
      serverKexInit: serverPayload,
      send: (payload) => this.#sendNow(payload),
      receive: kexReceive,
      note: (detail) => tracer.emit({ stage: "kex", type: "exchange", method: kex.name, detail }),
      gex: {
        min: this.#options.legacy ? 1024 : 2048,
        preferred: Math.min(3072, this.adjustments.gexMax ?? 8192),
        max: this.adjustments.gexMax ?? 8192,
      },
    };
    let result;
    try {
      result = await kex.exchange(ctx);
    } catch (e) {
      if (e instanceof KexFailure || e instanceof WireError) {
        throw new SshTraceError(
          "kex",
          "kex.exchange-failed",
          `key exchange ${kex.name} failed: ${e.message}`,
          {
            algorithm: kex.name,
          },
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

    // The server proves it holds the host key.
    let keyInfo;
    try {
      keyInfo = parsePublicKey(result.hostKeyBlob);
    } catch (e) {
      throw new SshTraceError(
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
    if (keyInfo.type === "ssh-rsa" && keyInfo.bits < minRsa) {
      throw new SshTraceError(
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
      throw new SshTraceError(
        "kex",
        "kex.bad-signature",
        `the server's ${hostKeyAlg.name} signature over the key exchange does not verify with ` +
          `its host key ${check.fingerprint}`,
        { algorithm: hostKeyAlg.name, fingerprint: check.fingerprint },
      );
    }
    tracer.emit({ stage: "hostkey", type: "signature-verified", algorithm: hostKeyAlg.name });
    if (!first && this.hostKeyBlob && check.fingerprint !== fingerprintSha256(this.hostKeyBlob)) {
      throw new SshTraceError(
        "hostkey",
        "hostkey.changed-on-rekey",
        "the server presented a different host key during a rekey",
        { fingerprint: check.fingerprint },
      );
    }
    if (first) this.sessionId = result.exchangeHash;

    // NEWKEYS both ways, then switch keys.
    const keyFor = (
      letterIv: string,
      letterKey: string,
      letterMac: string,
      cipherName: string,
      macName: string,
    ): DirectionKeys => {
      const cipher = findCipher(cipherName)!;
      const mac = cipher.createAead ? null : findMac(macName)!;
      const d = (letter: string, n: number) =>
        deriveKey(kex.hash, result.sharedSecret, result.exchangeHash, letter, this.sessionId, n);
      return {
        cipher,
        mac,
        iv: d(letterIv, cipher.ivLength),
        encKey: d(letterKey, cipher.keyLength),
        macKey: mac ? d(letterMac, mac.keyLength) : new Uint8Array(0),
      };
    };
    const c2s = keyFor("A", "C", "E", chosen.cipherC2S, chosen.macC2S);
    const s2c = keyFor("B", "D", "F", chosen.cipherS2C, chosen.macS2C);
    await this.#sendNow(new Uint8Array([MSG.NEWKEYS]));
    if (first) {
      const backend = cryptoBackend();
      tracer.emit({
        stage: "kex",
        type: "crypto-backend",
        backend: backend.name,
        detail: backend.detail,
      });
    }
    this.#sealer.setKeys(c2s);
    if (this.#strict) this.#sealer.seq = 0;
    tracer.emit({ stage: "kex", type: "newkeys", direction: "sent" });
    await receiveNewKeys(
      () => this.#readPacket(),
      strict,
      (p) => this.#handleTransportMessage(p),
    );
    if (this.#ahead.length) {
      // Cannot happen (nothing is opened ahead while a key exchange runs); refuse rather than
      // hand up packets opened with the old keys.
      throw new SshTraceError(
        "kex",
        "kex.internal",
        "internal error during stage kex: packets after NEWKEYS were opened with the old keys",
      );
    }
    this.#opener.setKeys(s2c);
    if (this.#strict) this.#opener.seq = 0;
    tracer.emit({ stage: "kex", type: "newkeys", direction: "received" });
    await this.#setupCompression(chosen.compressionC2S, chosen.compressionS2C);

    this.#lastKexAt = performance.now();
    this.#firstKexDone = true;
    this.#clientKexInit = null;
    this.#clearRekeyDeadline();
    this.#releaseGate();
    if (first) this.hostKeyBlob = result.hostKeyBlob;
    this.#stageOverride = prevStage;
    return check;
  }

  async #setupCompression(c2s: string, s2c: string): Promise<void> {
    if (c2s !== "none" || s2c !== "none") await loadZlib();
    const setup = (name: string, out: boolean) => {
      const alg = findCompression(name);
      if (!alg || name === "none") return;
      const z = createZlibStream();
      if (out) this.#sealer.compress = (b) => z.compress(b);
      else this.#opener.decompress = (b) => z.decompress(b);
    };
    const delayed = (n: string) => findCompression(n)?.delayed === true;
    if (delayed(c2s) || delayed(s2c)) this.#delayedCompression = `${c2s},${s2c}`;
    if (!delayed(c2s)) setup(c2s, true);
    if (!delayed(s2c)) setup(s2c, false);
  }

  authenticated(): void {
    this.#authenticated = true;
    if (!this.#delayedCompression) return;
    const [c2s, s2c] = this.#delayedCompression.split(",");
    this.#delayedCompression = null;
    for (const [name, out] of [[c2s!, true], [s2c!, false]] as const) {
      if (findCompression(name)?.delayed) {
        const z = createZlibStream();
        if (out) this.#sealer.compress = (b) => z.compress(b);
        else this.#opener.decompress = (b) => z.decompress(b);
      }
    }
  }

  async disconnect(reasonCode = 11, description = "disconnected by user"): Promise<void> {
    if (this.#closed) return;
    const w = new SshWriter(64).byte(MSG.DISCONNECT).uint32(reasonCode).string(description).string(
      "",
    );
    this.tracer.emit({
      stage: this.#stage(),
      type: "disconnect",
      from: "client",
      reasonCode,
      reason: DISCONNECT_REASONS[reasonCode] ?? "UNKNOWN",
      description,
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        this.#sendNow(w.bytes()),
        new Promise((resolve) => (timer = setTimeout(resolve, 1000))),
      ]);
    } catch {
      // The peer may already be gone; closing is all that is left.
    } finally {
      clearTimeout(timer);
    }
    this.close();
  }

  /** Closes the connection; every sender waiting for new keys is let go (and fails). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearRekeyDeadline();
    this.#releaseGate();
    try {
      this.#stream.close();
    } catch {
      // already closed
    }
  }
}

async function receiveNewKeys(
  read: () => Promise<Uint8Array | null>,
  strict: boolean,
  handle: (p: Uint8Array) => Promise<boolean>,
): Promise<void> {
  for (;;) {
    const p = await read();
    if (p === null) {
      throw new SshTraceError(
        "kex",
        "kex.closed",
        "the server closed the connection before NEWKEYS",
      );
    }
    const type = p[0]!;
    if (type === MSG.NEWKEYS) return;
    if (type === MSG.DISCONNECT) await handle(p);
    if (!strict && (type === MSG.IGNORE || type === MSG.DEBUG)) {
      await handle(p);
      continue;
    }
    throw new SshTraceError(
      "kex",
      strict ? "kex.strict-violation" : "kex.unexpected-message",
      `the server sent ${messageName(type)} where NEWKEYS was expected`,
      { message: messageName(type) },
    );
  }
}

function describeCategory(c: string): string {
  return ({
    kex: "key exchange method",
    hostKey: "host key algorithm",
    cipherC2S: "cipher (client to server)",
    cipherS2C: "cipher (server to client)",
    macC2S: "MAC (client to server)",
    macS2C: "MAC (server to client)",
    compressionC2S: "compression (client to server)",
    compressionS2C: "compression (server to client)",
  } as Record<string, string>)[c] ?? c;
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
