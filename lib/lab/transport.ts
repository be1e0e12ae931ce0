/**
 * The server role of the transport for the lab server: the version exchange, the server halves
 * of the kex methods (kex_server.ts) with host key signatures, and the fault hooks at the lab's
 * named points. The message loop and the state machine (KEXINIT, strict kex, guesses, NEWKEYS,
 * key derivation, compression, rekey, EXT_INFO) are the shared {@link RoleTransport} and
 * Handshake; their errors become a DISCONNECT with a reason and a {@link Stop}.
 * @module
 */

import { SshError } from "../errors/mod.ts";
import { Tracer } from "../trace.ts";
import type { AlgorithmLists, Stage } from "../types.ts";
import type { KexKeys, KexRun } from "../transport/handshake.ts";
import { STRICT_KEX_S } from "../transport/kexinit.ts";
import { RoleTransport } from "../transport/message_transport.ts";
import { type Deadline, lineBytes } from "../transport/reader.ts";
import type { ByteStream } from "../transport/stream.ts";
import { DISCONNECT, MSG } from "../wire/messages.ts";
import type { HostKeys } from "./hostkeys.ts";
import { createServerKex } from "./kex_server.ts";
import type { FaultHooks, FaultIo, LabConfig, LabPoint } from "./types.ts";

/** Disconnect reason codes (RFC 4250 §4.2.2). */
export const REASON = DISCONNECT;

/** The connection ended (client closed, a fault stopped, or the server gave up): not a crash. */
export class Stop extends Error {
  override name = "Stop";
}

/** Extra fields a fault hook sees at one point. */
export type PointContext = Partial<Pick<FaultIo, "channel" | "request" | "method">>;

/** The server's transport over one connection (what the lab's auth and connection layers use). */
export class ServerTransport extends RoleTransport {
  readonly config: LabConfig;
  readonly hooks: FaultHooks;
  clientVersion = "";

  #hostKeys: HostKeys;
  #log: (message: string) => void;
  #closeWaiters: (() => void)[] = [];
  #onFailure = (e: unknown): Promise<never> => this.#fail(e);

  constructor(
    stream: ByteStream,
    config: LabConfig,
    hostKeys: HostKeys,
    hooks: FaultHooks,
    log: (message: string) => void,
  ) {
    const seal = hooks.seal;
    let sent = 0;
    super(stream, {
      tracer: new Tracer(),
      conn: {
        peer: "client",
        timeoutMs: config.loginGraceMs,
        stage: "kex",
        sealed: seal
          ? (wire, payload, seq) => this.conn.encrypted ? seal(wire, ++sent, payload, seq) : wire
          : null,
      },
      handshake: {
        role: "server",
        markers: config.strictKex ? [STRICT_KEX_S] : [],
        hooks: {
          kexInit: hooks.kexInit,
          guess: hooks.guess,
          at: async (point) => {
            await this.at(point);
          },
        },
        serverSigAlgs: config.extInfo ? config.serverSigAlgs : null,
        timeoutMs: 0,
        // The lab answers rekeys; it starts none (its connection layer may wait to send while
        // it handles a message, and would not read the client's KEXINIT then).
        rekeyLimitBytes: Infinity,
        rekeyIntervalMs: Infinity,
      },
    });
    this.config = config;
    this.hooks = hooks;
    this.#hostKeys = hostKeys;
    this.#log = log;
  }

  /** Whether the first key exchange ran under strict kex. */
  get strict(): boolean {
    return this.hs.strict;
  }

  /** Starts a key exchange now (the lab starts none by itself; see the constructor). */
  rekey(): Promise<void> {
    return this.hs.startRekey().catch(this.#onFailure);
  }

  // ------------------------------------------------------------------------------------------
  // Fault points

  /** The I/O a fault hook gets at a point. */
  faultIo(extra: PointContext = {}): FaultIo {
    return {
      send: (payload) => this.#sendNow(payload),
      sendUncompressed: (payload) => this.#sendUncompressed(payload),
      raw: (bytes) => this.#writeRaw(bytes),
      sealed: (payload) => this.conn.seal(payload),
      silent: () => this.silent(),
      close: () => {
        this.close();
        return Promise.reject(new Stop("closed by the fault profile"));
      },
      sleep: (ms) => this.sleep(ms),
      ...extra,
    };
  }

  /** Runs the fault hook at `point`; true when it handled the point. */
  async at(point: LabPoint, extra: PointContext = {}): Promise<boolean> {
    const hook = this.hooks.at?.[point];
    if (!hook) return false;
    return (await hook(this.faultIo(extra))) === true;
  }

  /** Drops everything the client sends until it closes; always ends with {@link Stop}. */
  async silent(): Promise<never> {
    this.#log("fault: going silent");
    const reader = this.conn.reader;
    while (await reader.fill(0)) reader.take(reader.buffered);
    throw new Stop("the client closed the connection");
  }

  /** Waits `ms`, or less if the connection closes first. */
  sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#closeWaiters = this.#closeWaiters.filter((w) => w !== done);
        resolve();
      }, ms);
      this.#closeWaiters.push(done);
    });
  }

  // ------------------------------------------------------------------------------------------
  // Writing

  #writeRaw(bytes: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new Stop("the connection is closed"));
    return this.conn.writeRaw(bytes).catch(() => {
      this.close();
      throw new Stop("the client went away while the server was sending");
    });
  }

  #sendNow(payload: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new Stop("the connection is closed"));
    return this.hs.sendNow(payload).catch(this.#onFailure);
  }

  /** Seals a payload without compressing it, even when compression is on (for faults). */
  #sendUncompressed(payload: Uint8Array): Promise<void> {
    const compress = this.conn.compress;
    this.conn.compress = null;
    try {
      return this.#sendNow(payload);
    } finally {
      this.conn.compress = compress;
    }
  }

  /** Sends a payload; waits while a key exchange is in progress. */
  override send(payload: Uint8Array, stage?: Stage): Promise<void> {
    if (this.closed) return Promise.reject(new Stop("the connection is closed"));
    return super.send(payload, stage).catch(this.#onFailure);
  }

  /** Sends DISCONNECT and closes. */
  override disconnect(reason: number = REASON.BY_APPLICATION, description = ""): Promise<void> {
    if (!this.closed) this.#log(`disconnect (reason ${reason}): ${description}`);
    return super.disconnect(reason, description);
  }

  /** Closes the connection (idempotent); fault sleeps end at once. */
  override close(): void {
    super.close();
    for (const w of this.#closeWaiters.splice(0)) w();
  }

  /**
   * Ends the connection after a failure of the shared core: a DISCONNECT with the matching
   * reason (unless the client is gone or disconnected), then {@link Stop}.
   */
  async #fail(e: unknown): Promise<never> {
    if (!(e instanceof SshError)) throw e;
    const code = e.code;
    const why = (e.cause as Error | undefined)?.message ?? e.message;
    if (code.endsWith(".timeout")) {
      await this.disconnect(REASON.BY_APPLICATION, "login grace time exceeded");
      throw new Stop("the client was silent too long");
    }
    if (/\.(closed|connection-reset|disconnect)$/.test(code)) {
      this.close();
      throw new Stop(`the connection ended: ${e.message}`);
    }
    if (code.endsWith(".mac-error") || code.endsWith(".bad-packet")) {
      await this.disconnect(
        code.endsWith(".mac-error") ? REASON.MAC_ERROR : REASON.PROTOCOL_ERROR,
        `bad packet from the client: ${why}`,
      );
      throw new Stop(`bad packet from the client: ${why}`);
    }
    if (/^kex\.no-common-/.test(code)) {
      // The client sees the same and gives up; tell it why all the same.
      const category = String(e.details.category);
      await this.disconnect(REASON.KEY_EXCHANGE_FAILED, `no matching ${category} algorithm`);
      throw new Stop(`no common ${category}`);
    }
    await this.disconnect(REASON.PROTOCOL_ERROR, e.message);
    throw new Stop(`protocol error: ${e.message}`);
  }

  // ------------------------------------------------------------------------------------------
  // Reading

  /**
   * The next message for the layers above (service, auth, connection), or null once the
   * client has closed or disconnected. Transport messages and rekeying are handled here.
   */
  override async receive(
    timeoutMs?: number,
    budget?: Deadline,
    stage?: Stage,
  ): Promise<Uint8Array | null> {
    try {
      return await super.receive(timeoutMs, budget, stage);
    } catch (e) {
      try {
        if (!(e instanceof Stop)) await this.#fail(e); // closes; DISCONNECT when due
      } catch (stop) {
        if (!(stop instanceof Stop)) throw stop;
      }
      return null;
    }
  }

  /** Each message read: the `received` hook sees it; the client's rekey meets `client-rekey`. */
  protected override async peek(p: Uint8Array): Promise<boolean> {
    this.hooks.received?.(p, this.conn.lastReadSeq);
    if (p[0] !== MSG.KEXINIT || this.hs.inKex) return false;
    this.#log("client started a rekey");
    return await this.at("client-rekey");
  }

  // ------------------------------------------------------------------------------------------
  // Version exchange and the first key exchange

  /** Version exchange and first key exchange. Ends with {@link Stop} if the connection ends. */
  async handshake(): Promise<void> {
    await this.at("start");
    if (this.hooks.greeting) await this.hooks.greeting(this.faultIo());
    else {
      const lines = [...this.config.preVersionLines, this.config.versionLine];
      const end = this.config.lineEnding ?? "\r\n";
      await this.#writeRaw(new TextEncoder().encode(lines.map((l) => l + end).join("")));
    }
    const line = await this.conn.reader.readLine(255).catch((e) => {
      throw new Stop(`no version line from the client: ${(e as Error).message}`);
    });
    if (line === null) throw new Stop("the client closed before its version line");
    if (typeof line !== "string" || !line.startsWith("SSH-2.0-")) {
      await this.#writeRaw(new TextEncoder().encode("Invalid SSH identification string.\r\n"))
        .catch(() => {});
      this.close();
      throw new Stop("the client sent a bad version line");
    }
    this.clientVersion = line;
    this.#log(`client version ${line}`);
    this.hs.clientVersion = lineBytes(line);
    this.hs.serverVersion = new TextEncoder().encode(this.config.versionLine);
    await this.at("before-kexinit");
    try {
      await this.hs.sendKexInit();
      await this.at("after-kexinit");
      await this.hs.firstKex();
    } catch (e) {
      if (e instanceof Stop) throw e;
      await this.#fail(e);
    }
  }

  protected lists(): AlgorithmLists {
    const lists = this.config.lists;
    return { ...lists, hostKey: this.#hostKeys.usable(lists.hostKey) };
  }

  /** The server half of the negotiated method (kex_server.ts), with the fault hooks. */
  protected async exchange(run: KexRun): Promise<KexKeys> {
    const { chosen, first } = run;
    this.#log(
      `kex ${chosen.kex}, host key ${chosen.hostKey}, cipher ${chosen.cipherS2C}, ` +
        `mac ${chosen.macS2C}${this.hs.strict ? ", strict kex" : ""}`,
    );
    const hostKey = this.#hostKeys.forAlgorithm(chosen.hostKey)!;
    const signature = first ? this.hooks.signature : undefined;
    const kex = createServerKex(chosen.kex, {
      ...run,
      hostKeyBlob: hostKey.blob,
      gexGroupBits: this.config.gexGroupBits,
      sign: (h) => {
        const blob = hostKey.sign(chosen.hostKey, h);
        return signature ? signature(blob) : blob;
      },
    });
    while (!kex.result) {
      const p = await run.receive();
      let replies: Uint8Array[];
      try {
        replies = await kex.onMessage(p);
      } catch (e) {
        await this.disconnect(REASON.KEY_EXCHANGE_FAILED, (e as Error).message);
        throw new Stop(`kex failed: ${(e as Error).message}`);
      }
      if (kex.result) {
        if (first) await this.at("before-kex-reply");
        if (first && this.hooks.kexReply) {
          replies[replies.length - 1] = this.hooks.kexReply(replies[replies.length - 1]!);
        }
      } else if (first && this.hooks.kexGroup) {
        replies = replies.map((r) => this.hooks.kexGroup!(r));
      }
      for (const r of replies) await run.send(r);
    }
    return { hash: kex.hash, k: kex.result.k, h: kex.result.h };
  }
}
