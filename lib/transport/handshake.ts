/**
 * ONE key exchange state machine for both roles (RFC 4253 §7–§9, with OpenSSH's strict kex and
 * ext-info): KEXINIT both ways, negotiation, strict kex (no other messages during the first
 * exchange, sequence numbers reset at NEWKEYS), first_kex_packet_follows guesses, NEWKEYS both
 * ways, key derivation A–F, compression (delayed zlib@openssh.com after authentication), rekey
 * (by bytes or time, started by either side; senders wait during an exchange), EXT_INFO, and the
 * transport-level messages (IGNORE, DEBUG, UNIMPLEMENTED, DISCONNECT). It runs over a
 * {@link PacketConn}. The key exchange METHOD is the role's ({@link HandshakeOptions.exchange}):
 * the client's from lib/algorithms, the server's from lib/lab/kex_server.ts. Emits events when
 * given a tracer; never prints.
 * @module
 */

import { findCompression, isAeadCipher, riskOf } from "../algorithms/registry.ts";
import type { KexExchange } from "../algorithms/types.ts";
import { createZlibStream, loadZlib } from "../algorithms/compression.ts";
import type { Tracer } from "../trace.ts";
import type { AlgorithmLists } from "../types.ts";
import { SshError } from "../errors/mod.ts";
import { messageName, MSG } from "../wire/messages.ts";
import {
  decodeKexInit,
  encodeKexInit,
  EXT_INFO_C,
  EXT_INFO_S,
  type KexInit,
  STRICT_KEX_C,
  STRICT_KEX_S,
  withoutKexMarkers,
} from "./kexinit.ts";
import { directionKeys, type KexKeys } from "./keys.ts";
import { type Chosen, describeCategory, negotiateAll, type Negotiated } from "./negotiate.ts";
import type { PacketConn } from "./packet_conn.ts";
import { closedError, Deadline } from "./reader.ts";
import { extInfoMessage, handleTransportMessage } from "./transport_messages.ts";
export type { KexKeys } from "./keys.ts";
export type { Chosen, Negotiated } from "./negotiate.ts";

export type Role = "client" | "server";

/**
 * What the role's kex method gets: the exchange's inputs and its message I/O (kex messages, not
 * held by the kex gate; a wrong guess is skipped on receive).
 */
export interface KexRun extends KexExchange {
  readonly first: boolean;
  readonly chosen: Chosen;
}

/** Named points of the first exchange where a fault can act (the lab's `LabPoint`s). */
export type HandshakePoint = "before-newkeys" | "after-newkeys";

export interface HandshakeOptions {
  role: Role;
  conn: PacketConn;
  tracer: Tracer | null;
  /** Our KEXINIT lists, without the markers. */
  lists(first: boolean): AlgorithmLists;
  /** Names added to our first KEXINIT's kex list (ext-info-c/s, kex-strict-*). */
  markers: string[];
  /** Runs the role's half of the negotiated kex method. */
  exchange(run: KexRun): Promise<KexKeys>;
  /** Called once our NEWKEYS is out, before the keys change (e.g. to trace the backend). */
  newKeysSent?(first: boolean): void;
  /** Fault hooks of the first exchange (the lab's). */
  hooks?: {
    /** Replaces our first KEXINIT payload. */
    kexInit?(lists: AlgorithmLists, payload: Uint8Array): Uint8Array;
    /** A packet sent right after our first KEXINIT, with first_kex_packet_follows set. */
    guess?(): Uint8Array;
    at?(point: HandshakePoint): Promise<void>;
  };
  /** Server role: the server-sig-algs sent in EXT_INFO when the client asks (null: none). */
  serverSigAlgs?: string[] | null;
  /** The budget (ms) of each key exchange as a whole (0: none). */
  timeoutMs: number;
  /** Rekey after this many bytes in either direction. @default 1 GiB */
  rekeyLimitBytes?: number;
  /** Rekey after this long (ms). @default 1 hour */
  rekeyIntervalMs?: number;
}

/** The key exchange state machine of one connection, for either role. */
export class Handshake {
  readonly role: Role;
  readonly conn: PacketConn;
  /** V_C and V_S without CR LF: set by the role once the versions are exchanged. */
  clientVersion: Uint8Array = new Uint8Array(0);
  serverVersion: Uint8Array = new Uint8Array(0);
  sessionId: Uint8Array = new Uint8Array(0);
  negotiated: Negotiated | null = null;
  strict = false;
  /** Whether the peer offered ext-info (ext-info-c or ext-info-s) in its first KEXINIT. */
  peerExtInfo = false;
  /** Algorithms the server accepts for user-auth signatures (client role, EXT_INFO). */
  serverSigAlgs: string[] | null = null;
  /** Completed key exchanges. */
  kexCount = 0;

  readonly tracer: Tracer | null;
  /** Who is at the other end. */
  readonly peer: Role;
  #o: HandshakeOptions;
  #ourKexInit: Uint8Array | null = null;
  /** Non-kex senders wait on this while a key exchange is in progress. */
  #gate: Promise<void> | null = null;
  #openGate: (() => void) | null = null;
  /** The budget of a key exchange we started, and the timer that ends it. */
  #rekeyDeadline: Deadline | null = null;
  #rekeyTimer: ReturnType<typeof setTimeout> | undefined;
  #lastKexAt = 0;
  #authenticated = false;
  /** Directions (true: what we send) whose compression waits for authentication. */
  #delayed: boolean[] = [];

  constructor(options: HandshakeOptions) {
    this.#o = options;
    this.role = options.role;
    this.conn = options.conn;
    this.tracer = options.tracer;
    this.peer = options.role === "client" ? "server" : "client";
  }

  /** Whether user authentication has succeeded (see {@link authenticated}). */
  get isAuthenticated(): boolean {
    return this.#authenticated;
  }

  /** Whether a key exchange is in progress (our KEXINIT sent, new keys not yet in use). */
  get inKex(): boolean {
    return this.#gate !== null;
  }

  // ------------------------------------------------------------------------------------------
  // Sending

  /** Sends a message now, ignoring the kex gate (kex and transport messages). */
  sendNow(payload: Uint8Array): Promise<void> {
    return this.conn.writePacket(payload);
  }

  /** Sends a message of the layers above: waits during a key exchange; may start a rekey. */
  async send(payload: Uint8Array): Promise<void> {
    while (this.#gate) await this.#gate;
    await this.conn.writePacket(payload);
    await this.rekeyIfDue();
  }

  /** Sends our KEXINIT (with the markers and fault hooks on the first) and closes the gate. */
  async sendKexInit(): Promise<void> {
    const first = this.kexCount === 0;
    const lists = this.#o.lists(first);
    if (first) lists.kex = [...lists.kex, ...this.#o.markers];
    let payload = encodeKexInit(lists);
    const hooks = first ? this.#o.hooks : undefined;
    if (hooks?.kexInit) payload = hooks.kexInit(lists, payload);
    if (hooks?.guess) {
      payload = payload.slice();
      payload[payload.length - 5] = 1; // first_kex_packet_follows
    }
    this.#ourKexInit = payload;
    this.#gate ??= new Promise((resolve) => (this.#openGate = resolve));
    this.conn.readAhead = false;
    const cookie = Array.from(payload.subarray(1, 17), (b) => b.toString(16).padStart(2, "0"))
      .join("");
    this.tracer?.emit({ stage: "kex", type: "kexinit-sent", lists, cookie });
    await this.sendNow(payload);
    if (hooks?.guess) await this.sendNow(hooks.guess());
  }

  /**
   * Starts a key exchange when the rekey limit (bytes either way, or time) is reached: checked
   * after each packet sent and each message received (a download sends almost nothing). Only
   * once authenticated: from then on the layers above always read, so the peer's KEXINIT is
   * answered; before that, a sender waiting for new keys could wait for ever.
   */
  async rekeyIfDue(): Promise<void> {
    if (!this.#authenticated || this.#gate || this.conn.closed || !this.#rekeyDue()) return;
    this.tracer?.emit({
      stage: "kex",
      type: "rekey",
      initiator: this.role,
      reason: "rekey limit reached (bytes or time)",
    });
    await this.startRekey();
  }

  /** Starts a key exchange now (our KEXINIT); the peer's answer arrives through receive. */
  async startRekey(): Promise<void> {
    await this.sendKexInit();
    this.#armRekeyDeadline();
  }

  #rekeyDue(): boolean {
    const limit = this.#o.rekeyLimitBytes ?? 1024 ** 3;
    const interval = this.#o.rekeyIntervalMs ?? 3600_000;
    return this.conn.bytesWrittenSinceKex > limit || this.conn.bytesReadSinceKex > limit ||
      performance.now() - this.#lastKexAt > interval;
  }

  /**
   * A key exchange we started must finish within the budget too, although the peer's KEXINIT
   * is read by a wait of the layers above (which may have no timeout): a timer ends that wait
   * with `kex.timeout` if the peer never answers.
   */
  #armRekeyDeadline(): void {
    const ms = this.#o.timeoutMs;
    if (ms <= 0 || this.conn.closed) return;
    const deadline = new Deadline("kex", "key exchange (rekey)", ms);
    this.#rekeyDeadline = deadline;
    this.#rekeyTimer = setTimeout(() => {
      this.#rekeyTimer = undefined;
      if (this.#rekeyDeadline !== deadline) return;
      // The wait under way ends with kex.timeout; senders held for new keys are let go.
      this.conn.abort(deadline.error());
      this.close();
    }, ms);
  }

  #clearRekeyDeadline(): void {
    clearTimeout(this.#rekeyTimer);
    this.#rekeyTimer = undefined;
    this.#rekeyDeadline = null;
  }

  /** Lets every sender waiting for new keys go on (to send, or to fail on a closed conn). */
  #releaseGate(): void {
    const open = this.#openGate;
    this.#gate = null;
    this.#openGate = null;
    open?.();
  }

  /** Closes the connection; every sender waiting for new keys is let go (and fails). */
  close(): void {
    this.#clearRekeyDeadline();
    this.conn.close();
    this.#releaseGate();
  }

  // ------------------------------------------------------------------------------------------
  // Receiving

  #within<T>(what: string, body: () => Promise<T>, deadline?: Deadline): Promise<T> {
    const ms = this.#o.timeoutMs;
    if (!deadline && ms <= 0) return body();
    return this.conn.within(deadline ?? new Deadline("kex", what, ms), body);
  }

  /** The first key exchange: our KEXINIT (unless sent already), the peer's, and the rest. */
  firstKex(): Promise<void> {
    return this.#within("key exchange", async () => {
      if (!this.#gate) await this.sendKexInit();
      // The peer's KEXINIT must come first; anything before it is noted for strict kex.
      let unexpectedBefore: string | null = null;
      for (;;) {
        const p = await this.conn.readPacket();
        if (p === null) throw closedError(this.conn.stage, this.peer);
        if (p[0] === MSG.KEXINIT) return await this.#completeKex(p, unexpectedBefore);
        unexpectedBefore ??= messageName(p[0]!);
        await this.handleTransportMessage(p, true);
      }
    });
  }

  /**
   * Handles a transport-layer message (see transport_messages.ts): true if handled, false for
   * the layers above. KEXINIT after the first exchange (a rekey) runs the key exchange.
   */
  handleTransportMessage(p: Uint8Array, duringFirstKex = false): Promise<boolean> {
    if (p[0] !== MSG.KEXINIT) return handleTransportMessage(this, p);
    if (duringFirstKex) return Promise.resolve(false);
    return this.#peerRekey(p).then(() => true);
  }

  /** A KEXINIT from the peer after the first exchange: answer it (unless we started) and run. */
  #peerRekey(p: Uint8Array): Promise<void> {
    // A rekey we started was traced when our KEXINIT went out (and its budget runs since then).
    const ours = this.#rekeyDeadline;
    return this.#within("key exchange (rekey)", async () => {
      if (!this.#gate) {
        this.tracer?.emit({
          stage: "kex",
          type: "rekey",
          initiator: this.peer,
          reason: `${this.peer} asked for new keys`,
        });
        await this.sendKexInit();
      }
      await this.#completeKex(p, null);
    }, ours ?? undefined);
  }

  // ------------------------------------------------------------------------------------------
  // Key exchange

  /** Decodes a KEXINIT: the peer's, or ours (which a fault hook may have made malformed). */
  #decodeKexInit(payload: Uint8Array, from: string): KexInit {
    try {
      return decodeKexInit(payload);
    } catch (e) {
      throw new SshError(
        "kex",
        "kex.bad-kexinit",
        `malformed KEXINIT from the ${from}: ${(e as Error).message}`,
      );
    }
  }

  /** Runs a key exchange to its end (NEWKEYS both ways), given the peer's KEXINIT. */
  async #completeKex(peerPayload: Uint8Array, unexpectedBefore: string | null): Promise<void> {
    const conn = this.conn;
    const first = this.kexCount === 0;
    const prevStage = conn.stage;
    conn.stage = "kex";
    const peer = this.#decodeKexInit(peerPayload, this.peer);
    this.tracer?.emit({
      stage: "kex",
      type: "kexinit-received",
      lists: peer.lists,
      firstKexPacketFollows: peer.firstKexPacketFollows,
    });
    if (peer.emptyNamesIn.length) {
      this.tracer?.emit({
        stage: "kex",
        type: "quirk",
        id: "kexinit-empty-names",
        description: `the ${this.peer}'s KEXINIT has empty names in ${
          peer.emptyNamesIn.join(", ")
        } (a stray comma, as libssh 0.10 sends); ignored, as OpenSSH does`,
      });
    }
    const client = this.role === "client";
    const ours = this.#decodeKexInit(this.#ourKexInit!, this.role).lists;
    if (first) {
      const [ourStrict, theirStrict] = client
        ? [STRICT_KEX_C, STRICT_KEX_S]
        : [STRICT_KEX_S, STRICT_KEX_C];
      this.strict = ours.kex.includes(ourStrict) && peer.lists.kex.includes(theirStrict);
      this.peerExtInfo = peer.lists.kex.includes(client ? EXT_INFO_S : EXT_INFO_C);
      if (this.strict && unexpectedBefore) {
        throw new SshError(
          "kex",
          "kex.strict-violation",
          `strict key exchange violated: the ${this.peer} sent ${unexpectedBefore} before its ` +
            "KEXINIT",
          { message: unexpectedBefore },
        );
      }
    }
    const [c, s] = client ? [ours, peer.lists] : [peer.lists, ours];
    const [cPlain, sPlain] = [withoutKexMarkers(c), withoutKexMarkers(s)];
    const decisions = negotiateAll(cPlain, sPlain, riskOf, isAeadCipher);
    const extInfo = peer.lists.kex.includes(client ? EXT_INFO_S : EXT_INFO_C);
    this.tracer?.emit({
      stage: "kex",
      type: "negotiated",
      decisions,
      strict: this.strict,
      extInfo,
    });
    const failed = decisions.find((d) => d.chosen === null);
    if (failed) {
      throw new SshError(
        "kex",
        `kex.no-common-${failed.category}`,
        `no ${describeCategory(failed.category)} in common with the ${this.peer}`,
        { category: failed.category, ours: failed.ours, theirs: failed.theirs, decisions },
      );
    }
    const chosen = Object.fromEntries(decisions.map((d) => [d.category, d.chosen!])) as Chosen;
    this.negotiated = { decisions, kex: chosen.kex, hostKey: chosen.hostKey, strict: this.strict };

    // RFC 4253 §7.1: the guess is wrong when the two sides' preferred (first) kex or host key
    // algorithms differ, even if the guesser's first choice is what negotiation picked
    // (OpenSSH's proposals_match() does the same).
    let skipGuess = peer.firstKexPacketFollows &&
      !(cPlain.kex[0] === sPlain.kex[0] && cPlain.hostKey[0] === sPlain.hostKey[0]);
    if (skipGuess) {
      this.tracer?.emit({
        stage: "kex",
        type: "guess-ignored",
        reason:
          `the ${this.peer} guessed a different key exchange; its first kex packet is ignored`,
      });
    }
    const strictNow = this.strict && first;
    const run: KexRun = {
      first,
      chosen,
      clientVersion: this.clientVersion,
      serverVersion: this.serverVersion,
      clientKexInit: client ? this.#ourKexInit! : peerPayload,
      serverKexInit: client ? peerPayload : this.#ourKexInit!,
      send: (payload) => this.sendNow(payload),
      receive: async () => {
        for (;;) {
          const p = await this.#receiveInKex(strictNow, "in the middle of the key exchange");
          if (p[0]! >= 30 && p[0]! < 50) {
            if (!skipGuess) return p;
            skipGuess = false;
            continue;
          }
          throw this.#unexpected(p[0]!, strictNow, "in the middle of the key exchange");
        }
      },
    };
    const result = await this.#o.exchange(run);
    if (first) this.sessionId = result.h;

    // NEWKEYS both ways, keys and compression per direction.
    const c2s = () => directionKeys(result, this.sessionId, true, chosen.cipherC2S, chosen.macC2S);
    const s2c = () => directionKeys(result, this.sessionId, false, chosen.cipherS2C, chosen.macS2C);
    const [compressOut, compressIn] = client
      ? [chosen.compressionC2S, chosen.compressionS2C]
      : [chosen.compressionS2C, chosen.compressionC2S];
    const hooks = first ? this.#o.hooks : undefined;
    if (first && (compressOut !== "none" || compressIn !== "none")) await loadZlib();
    await hooks?.at?.("before-newkeys");
    await this.sendNow(new Uint8Array([MSG.NEWKEYS]));
    this.#o.newKeysSent?.(first);
    conn.setWriteKeys(client ? c2s() : s2c(), this.strict);
    this.tracer?.emit({ stage: "kex", type: "newkeys", direction: "sent" });
    if (first) this.#setupCompression(compressOut, true);
    const sigAlgs = this.#o.serverSigAlgs;
    if (first && !client && this.peerExtInfo && sigAlgs) {
      await this.sendNow(extInfoMessage({ "server-sig-algs": sigAlgs.join(",") }));
    }
    await hooks?.at?.("after-newkeys");
    const where = "where NEWKEYS was expected";
    const newKeys = (await this.#receiveInKex(strictNow, where))[0]!;
    if (newKeys !== MSG.NEWKEYS) throw this.#unexpected(newKeys, strictNow, where);
    conn.setReadKeys(client ? s2c() : c2s(), this.strict);
    this.tracer?.emit({ stage: "kex", type: "newkeys", direction: "received" });
    if (first) this.#setupCompression(compressIn, false);

    this.#lastKexAt = performance.now();
    this.kexCount++;
    this.#ourKexInit = null;
    this.#clearRekeyDeadline();
    this.#releaseGate();
    conn.readAhead = this.#authenticated;
    conn.stage = prevStage;
  }

  /**
   * The next packet during a key exchange: DISCONNECT ends the connection; IGNORE and DEBUG are
   * handled (refused under strict kex); anything else is returned.
   */
  async #receiveInKex(strict: boolean, where: string): Promise<Uint8Array> {
    for (;;) {
      const p = await this.conn.readPacket();
      if (p === null && where.includes("NEWKEYS")) {
        throw new SshError(
          "kex",
          "kex.closed",
          `the ${this.peer} closed the connection before NEWKEYS`,
        );
      }
      if (p === null) throw closedError(this.conn.stage, this.peer);
      const type = p[0]!;
      if (type === MSG.DISCONNECT) await this.handleTransportMessage(p);
      if (type === MSG.IGNORE || type === MSG.DEBUG) {
        if (strict) throw this.#unexpected(type, strict, where);
        await this.handleTransportMessage(p);
        continue;
      }
      return p;
    }
  }

  #unexpected(type: number, strict: boolean, where: string): SshError {
    return new SshError(
      "kex",
      strict ? "kex.strict-violation" : "kex.unexpected-message",
      `the ${this.peer} sent ${messageName(type)} ${where}` +
        (strict ? " (not allowed under strict kex)" : ""),
      { message: messageName(type) },
    );
  }

  /** Starts compression of one direction now, or after authentication for the delayed kind. */
  #setupCompression(name: string, out: boolean): void {
    const alg = findCompression(name);
    if (!alg || name === "none") return;
    if (alg.delayed && !this.#authenticated) this.#delayed.push(out);
    else this.#startCompression(out);
  }

  #startCompression(out: boolean): void {
    const z = createZlibStream();
    if (out) this.conn.compress = (b) => z.compress(b);
    else this.conn.decompress = (b) => z.decompress(b);
  }

  /** User authentication succeeded: delayed compression starts; read-ahead may run. */
  authenticated(): void {
    this.#authenticated = true;
    for (const out of this.#delayed.splice(0)) this.#startCompression(out);
    if (this.kexCount > 0 && !this.#gate) this.conn.readAhead = true;
  }
}
