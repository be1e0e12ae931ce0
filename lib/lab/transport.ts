/**
 * The server half of the transport (RFC 4253) for the lab server: version exchange, KEXINIT,
 * the server halves of every kex method, host key signatures, NEWKEYS through the project's
 * PacketSealer/PacketOpener and deriveKey, strict kex, EXT_INFO (server-sig-algs), client
 * rekeying, compression, and the fault hooks.
 * @module
 */

import {
  findCipher,
  findCompression,
  findMac,
  isAeadCipher,
  riskOf,
} from "../algorithms/registry.ts";
import { createZlibStream, loadZlib } from "../algorithms/compression.ts";
import { type AlgorithmLists, SshTraceError } from "../trace.ts";
import {
  decodeKexInit,
  encodeKexInit,
  EXT_INFO_C,
  STRICT_KEX_C,
  STRICT_KEX_S,
  withoutKexMarkers,
} from "../transport/kexinit.ts";
import { deriveKey } from "../transport/keys.ts";
import { negotiateAll } from "../transport/negotiate.ts";
import {
  type DirectionKeys,
  PacketError,
  PacketOpener,
  PacketSealer,
} from "../transport/packet.ts";
import { BufferedReader, lineBytes } from "../transport/reader.ts";
import type { ByteStream } from "../transport/stream.ts";
import { SshReader, SshWriter } from "../wire/buffer.ts";
import { MSG } from "../wire/messages.ts";
import type { HostKeys } from "./hostkeys.ts";
import { createServerKex } from "./kex_server.ts";
import type { FaultHooks, FaultIo, LabConfig, LabPoint } from "./types.ts";

/** Disconnect reason codes the server uses. */
export const REASON = {
  PROTOCOL_ERROR: 2,
  KEY_EXCHANGE_FAILED: 3,
  MAC_ERROR: 5,
  SERVICE_NOT_AVAILABLE: 7,
  BY_APPLICATION: 11,
  NO_MORE_AUTH_METHODS_AVAILABLE: 14,
} as const;

/** The connection ended (client closed, a fault stopped, or the server gave up): not a crash. */
export class Stop extends Error {
  override name = "Stop";
}

/** Extra fields a fault hook sees at one point. */
export type PointContext = Partial<Pick<FaultIo, "channel" | "request" | "method">>;

/** The server's transport over one connection. */
export class ServerTransport {
  readonly config: LabConfig;
  readonly hooks: FaultHooks;
  clientVersion = "";
  sessionId: Uint8Array = new Uint8Array(0);
  /** Chosen algorithms of the current keys, by KEXINIT category. */
  chosen: Record<string, string> = {};
  strict = false;

  #stream: ByteStream;
  #reader: BufferedReader;
  #hostKeys: HostKeys;
  #log: (message: string) => void;
  #sealer = new PacketSealer();
  #opener = new PacketOpener();
  #writeChain: Promise<void> = Promise.resolve();
  #gate: Promise<void> | null = null;
  #openGate: (() => void) | null = null;
  #closed = false;
  #encryptedSent = 0;
  #firstKexDone = false;
  #clientExtInfo = false;
  /** Directions (true: server to client) whose compression waits for authentication. */
  #delayed: boolean[] = [];
  #closeWaiters: (() => void)[] = [];

  constructor(
    stream: ByteStream,
    config: LabConfig,
    hostKeys: HostKeys,
    hooks: FaultHooks,
    log: (message: string) => void,
  ) {
    this.#stream = stream;
    this.config = config;
    this.hooks = hooks;
    this.#hostKeys = hostKeys;
    this.#log = log;
    this.#reader = new BufferedReader(stream, "kex", config.loginGraceMs);
  }

  get closed(): boolean {
    return this.#closed;
  }

  // ------------------------------------------------------------------------------------------
  // Fault points

  /** The I/O a fault hook gets at a point. */
  faultIo(extra: PointContext = {}): FaultIo {
    return {
      send: (payload) => this.#sendNow(payload),
      sendUncompressed: (payload) => this.#sendUncompressed(payload),
      raw: (bytes) => this.#writeRaw(bytes),
      sealed: (payload) => this.#sealer.seal(payload),
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
    while (await this.#reader.fill(0)) this.#reader.take(this.#reader.buffered);
    throw new Stop("the client closed the connection");
  }

  /** Waits `ms`, or less if the connection closes first. */
  sleep(ms: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
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
    if (this.#closed) return Promise.reject(new Stop("the connection is closed"));
    const next = this.#writeChain.then(() => this.#stream.write(bytes));
    this.#writeChain = next.catch(() => {});
    return next.catch(() => {
      this.close();
      throw new Stop("the client went away while the server was sending");
    });
  }

  #sendNow(payload: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(new Stop("the connection is closed"));
    const encrypted = this.#sealer.encrypted;
    let wire = this.#sealer.seal(payload);
    if (encrypted && this.hooks.seal) wire = this.hooks.seal(wire, ++this.#encryptedSent);
    return this.#writeRaw(wire);
  }

  /** Seals a payload without compressing it, even when compression is on (for faults). */
  #sendUncompressed(payload: Uint8Array): Promise<void> {
    const compress = this.#sealer.compress;
    this.#sealer.compress = null;
    try {
      return this.#sendNow(payload);
    } finally {
      this.#sealer.compress = compress;
    }
  }

  /** Sends a payload; waits while a key exchange is in progress. */
  async send(payload: Uint8Array): Promise<void> {
    while (this.#gate) await this.#gate;
    await this.#sendNow(payload);
  }

  /** Sends DISCONNECT and closes. */
  async disconnect(reason: number, description: string): Promise<void> {
    if (this.#closed) return;
    this.#log(`disconnect (reason ${reason}): ${description}`);
    try {
      await this.#sendNow(
        new SshWriter().byte(MSG.DISCONNECT).uint32(reason).string(description).string("")
          .bytes(),
      );
    } catch {
      // the client may be gone already
    }
    this.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#stream.close();
    } catch {
      // already closed
    }
    for (const w of this.#closeWaiters.splice(0)) w();
    const open = this.#openGate;
    this.#gate = null;
    open?.();
  }

  // ------------------------------------------------------------------------------------------
  // Reading

  async #readPacket(timeoutMs: number): Promise<Uint8Array> {
    try {
      const header = await this.#reader.readExact(this.#opener.headerSize, timeoutMs);
      if (header === null) throw new Stop("the client closed the connection");
      const rest = await this.#reader.readExact(this.#opener.begin(header), timeoutMs);
      if (rest === null) throw new Stop("the client closed the connection in a packet");
      const payload = this.#opener.finish(rest);
      if (payload.length === 0) throw new Error("packet with an empty payload");
      return payload;
    } catch (e) {
      if (e instanceof Stop) throw e;
      if (e instanceof SshTraceError) {
        if (e.code.endsWith(".timeout")) {
          await this.disconnect(REASON.BY_APPLICATION, "login grace time exceeded");
          throw new Stop("the client was silent too long");
        }
        this.close();
        throw new Stop("the connection broke");
      }
      const message = (e as Error).message;
      await this.disconnect(
        e instanceof PacketError && e.kind === "mac" ? REASON.MAC_ERROR : REASON.PROTOCOL_ERROR,
        `bad packet from the client: ${message}`,
      );
      throw new Stop(`bad packet from the client: ${message}`);
    }
  }

  /**
   * The next message for the layers above (service, auth, connection), or null once the
   * client has closed or disconnected. Transport messages and rekeying are handled here.
   */
  async receive(timeoutMs = this.config.loginGraceMs): Promise<Uint8Array | null> {
    for (;;) {
      let p: Uint8Array;
      try {
        p = await this.#readPacket(timeoutMs);
      } catch (e) {
        if (e instanceof Stop) return null;
        throw e;
      }
      switch (p[0]) {
        case MSG.IGNORE:
        case MSG.DEBUG:
        case MSG.UNIMPLEMENTED:
        case MSG.EXT_INFO:
          continue;
        case MSG.DISCONNECT:
          this.close();
          return null;
        case MSG.KEXINIT:
          await this.#rekey(p);
          continue;
      }
      if (p[0]! < MSG.SERVICE_REQUEST || (p[0]! >= 20 && p[0]! < 50)) {
        await this.disconnect(REASON.PROTOCOL_ERROR, `unexpected message ${p[0]} after kex`);
        return null;
      }
      return p;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Version exchange and the first key exchange

  /** Version exchange and first key exchange. Ends with {@link Stop} if the connection ends. */
  async handshake(): Promise<void> {
    await this.at("start");
    if (this.hooks.greeting) await this.hooks.greeting(this.faultIo());
    else {
      const lines = [...this.config.preVersionLines, this.config.versionLine];
      await this.#writeRaw(new TextEncoder().encode(lines.map((l) => l + "\r\n").join("")));
    }
    const line = await this.#reader.readLine(255).catch((e) => {
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
    await this.at("before-kexinit");
    const ours = await this.#sendKexInit(true);
    if (this.hooks.guess) await this.#sendNow(this.hooks.guess());
    await this.at("after-kexinit");
    let theirs: Uint8Array;
    for (;;) {
      theirs = await this.#readPacket(this.config.loginGraceMs);
      if (theirs[0] === MSG.KEXINIT) break;
      if (theirs[0] === MSG.DISCONNECT) throw new Stop("the client disconnected");
      if (theirs[0] === MSG.IGNORE || theirs[0] === MSG.DEBUG) continue;
      await this.disconnect(REASON.PROTOCOL_ERROR, `expected KEXINIT, got message ${theirs[0]}`);
      throw new Stop("protocol error before KEXINIT");
    }
    await this.#kex(ours, theirs, true);
  }

  #serverLists(): AlgorithmLists {
    const lists = this.config.lists;
    return {
      ...lists,
      hostKey: this.#hostKeys.usable(lists.hostKey),
    };
  }

  async #sendKexInit(first: boolean): Promise<Uint8Array> {
    const lists = this.#serverLists();
    if (first && this.config.strictKex) lists.kex = [...lists.kex, STRICT_KEX_S];
    let payload = encodeKexInit(lists);
    if (first && this.hooks.kexInit) payload = this.hooks.kexInit(lists, payload);
    if (first && this.hooks.guess) {
      payload = payload.slice();
      payload[payload.length - 5] = 1; // first_kex_packet_follows
    }
    this.#gate ??= new Promise((resolve) => (this.#openGate = resolve));
    await this.#sendNow(payload);
    return payload;
  }

  /** A key exchange the client started after the first one. */
  async #rekey(clientKexInit: Uint8Array): Promise<void> {
    this.#log("client started a rekey");
    if (await this.at("client-rekey")) return;
    const ours = await this.#sendKexInit(false);
    await this.#kex(ours, clientKexInit, false);
  }

  async #kex(serverKexInit: Uint8Array, clientKexInit: Uint8Array, first: boolean): Promise<void> {
    const at = async (p: LabPoint) => {
      if (first) await this.at(p);
    };
    let client;
    let server;
    try {
      client = decodeKexInit(clientKexInit);
      server = decodeKexInit(serverKexInit);
    } catch (e) {
      await this.disconnect(REASON.PROTOCOL_ERROR, `bad KEXINIT: ${(e as Error).message}`);
      throw new Stop("bad KEXINIT");
    }
    if (first) {
      this.strict = client.lists.kex.includes(STRICT_KEX_C) &&
        server.lists.kex.includes(STRICT_KEX_S);
      this.#clientExtInfo = client.lists.kex.includes(EXT_INFO_C);
    }
    const decisions = negotiateAll(
      withoutKexMarkers(client.lists),
      withoutKexMarkers(server.lists),
      riskOf,
      isAeadCipher,
    );
    const failed = decisions.find((d) => d.chosen === null);
    if (failed) {
      // The client sees the same and gives up; tell it why all the same.
      await this.disconnect(
        REASON.KEY_EXCHANGE_FAILED,
        `no matching ${failed.category} algorithm`,
      );
      throw new Stop(`no common ${failed.category}`);
    }
    const chosen = Object.fromEntries(decisions.map((d) => [d.category, d.chosen!]));
    this.chosen = chosen;
    this.#log(
      `kex ${chosen.kex}, host key ${chosen.hostKey}, cipher ${chosen.cipherS2C}, ` +
        `mac ${chosen.macS2C}${this.strict ? ", strict kex" : ""}`,
    );
    const hostKey = this.#hostKeys.forAlgorithm(chosen.hostKey!)!;
    const kex = createServerKex(chosen.kex!, {
      clientVersion: lineBytes(this.clientVersion),
      serverVersion: new TextEncoder().encode(this.config.versionLine),
      clientKexInit,
      serverKexInit,
      hostKeyBlob: hostKey.blob,
      sign: (h) => {
        const blob = hostKey.sign(chosen.hostKey!, h);
        return first && this.hooks.signature ? this.hooks.signature(blob) : blob;
      },
    });
    // A wrong guess from the client (first_kex_packet_follows) is skipped.
    let skipGuess = client.firstKexPacketFollows &&
      !(withoutKexMarkers(client.lists).kex[0] === withoutKexMarkers(server.lists).kex[0] &&
        client.lists.hostKey[0] === server.lists.hostKey[0]);
    const strictNow = this.strict && first;
    while (!kex.result) {
      const p = await this.#readPacket(this.config.loginGraceMs);
      const type = p[0]!;
      if (type >= 30 && type < 50) {
        if (skipGuess) {
          skipGuess = false;
          continue;
        }
        let replies: Uint8Array[];
        try {
          replies = await kex.onMessage(p);
        } catch (e) {
          await this.disconnect(REASON.KEY_EXCHANGE_FAILED, (e as Error).message);
          throw new Stop(`kex failed: ${(e as Error).message}`);
        }
        if (kex.result) {
          await at("before-kex-reply");
          if (first && this.hooks.kexReply) {
            replies[replies.length - 1] = this.hooks.kexReply(replies[replies.length - 1]!);
          }
        } else if (first && this.hooks.kexGroup) {
          replies = replies.map((r) => this.hooks.kexGroup!(r));
        }
        for (const r of replies) await this.#sendNow(r);
        continue;
      }
      if (type === MSG.DISCONNECT) throw new Stop("the client disconnected during kex");
      if (!strictNow && (type === MSG.IGNORE || type === MSG.DEBUG)) continue;
      await this.disconnect(REASON.PROTOCOL_ERROR, `unexpected message ${type} during kex`);
      throw new Stop("protocol error during kex");
    }
    if (first) this.sessionId = kex.result.h;
    const { k, h } = kex.result;
    const keys = (
      iv: string,
      key: string,
      mac: string,
      cipherName: string,
      macName: string,
    ): DirectionKeys => {
      const cipher = findCipher(cipherName)!;
      const macAlg = cipher.createAead ? null : findMac(macName)!;
      const d = (letter: string, n: number) => deriveKey(kex.hash, k, h, letter, this.sessionId, n);
      return {
        cipher,
        mac: macAlg,
        iv: d(iv, cipher.ivLength),
        encKey: d(key, cipher.keyLength),
        macKey: macAlg ? d(mac, macAlg.keyLength) : new Uint8Array(0),
      };
    };
    await at("before-newkeys");
    await this.#sendNow(new Uint8Array([MSG.NEWKEYS]));
    this.#sealer.setKeys(keys("B", "D", "F", chosen.cipherS2C!, chosen.macS2C!));
    if (this.strict) this.#sealer.seq = 0;
    // Compression starts with the new keys, each direction on its own.
    if (first && (chosen.compressionS2C !== "none" || chosen.compressionC2S !== "none")) {
      await loadZlib();
    }
    if (first) this.#setupCompression(chosen.compressionS2C!, true);
    if (first && this.#clientExtInfo && this.config.extInfo) {
      await this.#sendNow(
        new SshWriter().byte(MSG.EXT_INFO).uint32(1).string("server-sig-algs")
          .string(this.config.serverSigAlgs.join(",")).bytes(),
      );
    }
    // Senders waiting for the exchange may go now (our side already uses the new keys).
    const open = this.#openGate;
    this.#gate = null;
    this.#openGate = null;
    open?.();
    await at("after-newkeys");
    for (;;) {
      const p = await this.#readPacket(this.config.loginGraceMs);
      if (p[0] === MSG.NEWKEYS) break;
      if (p[0] === MSG.DISCONNECT) throw new Stop("the client disconnected before NEWKEYS");
      if (!strictNow && (p[0] === MSG.IGNORE || p[0] === MSG.DEBUG)) continue;
      await this.disconnect(REASON.PROTOCOL_ERROR, `expected NEWKEYS, got message ${p[0]}`);
      throw new Stop("protocol error: no NEWKEYS");
    }
    this.#opener.setKeys(keys("A", "C", "E", chosen.cipherC2S!, chosen.macC2S!));
    if (this.strict) this.#opener.seq = 0;
    if (first) this.#setupCompression(chosen.compressionC2S!, false);
    this.#firstKexDone = true;
  }

  /** Starts compression of one direction now, or after authentication for the delayed kind. */
  #setupCompression(name: string, out: boolean): void {
    if (name === "none" || !findCompression(name)) return;
    if (findCompression(name)!.delayed) this.#delayed.push(out);
    else this.#startCompression(out);
  }

  #startCompression(out: boolean): void {
    const z = createZlibStream();
    if (out) this.#sealer.compress = (b) => z.compress(b);
    else this.#opener.decompress = (b) => z.decompress(b);
  }

  /** User authentication succeeded: starts delayed compression (zlib@openssh.com). */
  authenticated(): void {
    for (const out of this.#delayed.splice(0)) this.#startCompression(out);
  }

  /** Whether the first key exchange has completed. */
  get ready(): boolean {
    return this.#firstKexDone;
  }
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
