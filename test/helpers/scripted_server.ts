/**
 * An in-process, scripted SSH-2 server for fault-injection tests: the server half of the
 * transport (version exchange, KEXINIT, curve25519-sha256 with an Ed25519 host key, NEWKEYS,
 * strict kex, EXT_INFO, rekeying) plus just enough of the service and `none`/`password`
 * authentication to reach an authenticated state. It is built from the project's own layers
 * (PacketSealer/PacketOpener, encodeKexInit/decodeKexInit, negotiateAll, deriveKey, the
 * algorithm registries), so every registry cipher and MAC works, and it runs over
 * `memoryPipe()` against the real client.
 *
 * A script is an options object: what to send as the greeting, the KEXINIT lists, and
 * {@link Action}s to run at named {@link Point}s (inject messages or raw bytes, go silent, close,
 * start a rekey). The server never throws: `done` resolves when it stops, and `error` says why
 * if it stopped on something other than the client closing the connection.
 *
 * @example
 * ```ts
 * const server = startScriptedServer({ at: { "before-kexinit": [{ send: msg.ignore(4) }] } });
 * const t = await openTransport({ host: "scripted", stream: server.clientStream, ... });
 * ```
 * @module
 */

import { Buffer } from "node:buffer";
import { createPublicKey, diffieHellman, generateKeyPairSync, sign } from "node:crypto";
import { allNames, findCipher, findMac, riskOf } from "../../lib/algorithms/registry.ts";
import { exchangeHash } from "../../lib/algorithms/kex.ts";
import { type ClientOptions, openTransport } from "../../lib/client.ts";
import { type AlgorithmLists, SshTraceError } from "../../lib/trace.ts";
import {
  decodeKexInit,
  encodeKexInit,
  EXT_INFO_C,
  EXT_INFO_S,
  STRICT_KEX_C,
  STRICT_KEX_S,
  withoutKexMarkers,
} from "../../lib/transport/kexinit.ts";
import { deriveKey } from "../../lib/transport/keys.ts";
import { negotiateAll } from "../../lib/transport/negotiate.ts";
import type { Transport } from "../../lib/transport/transport.ts";
import { type DirectionKeys, PacketOpener, PacketSealer } from "../../lib/transport/packet.ts";
import { BufferedReader } from "../../lib/transport/reader.ts";
import { type ByteStream, memoryPipe } from "../../lib/transport/stream.ts";
import { concatBytes, SshReader, SshWriter } from "../../lib/wire/buffer.ts";
import { MSG } from "../../lib/wire/messages.ts";

/** Where in the server's run a script can act. Kex points apply to the first key exchange. */
export type Point =
  /** Before anything is sent (silence here means no version line at all). */
  | "start"
  /** After the version exchange, before the server's KEXINIT. */
  | "before-kexinit"
  /** Right after the server's KEXINIT (and guessed packet). */
  | "after-kexinit"
  /** After the client's KEX_ECDH_INIT arrived, before the reply. */
  | "before-kex-reply"
  /** After the kex reply, before the server's NEWKEYS. */
  | "before-newkeys"
  /** After the server's NEWKEYS (and EXT_INFO): the first encrypted packets. */
  | "after-newkeys"
  /** After SERVICE_ACCEPT. */
  | "after-service"
  /** After USERAUTH_SUCCESS. */
  | "after-auth";

/** One step of a script. */
export type Action =
  /** A message payload, sealed with the current keys. */
  | { send: Uint8Array }
  /** Bytes written to the stream as they are (bypassing the packet layer). */
  | { raw: Uint8Array }
  /** Start a key exchange (server-initiated rekey); only after the first kex. */
  | { rekey: true }
  /** Send nothing more; wait until the client closes. */
  | { silent: true }
  /** Close the connection. */
  | { close: true };

export interface ScriptedServerOptions {
  /** Version line without its ending; also V_S in the exchange hash. */
  versionLine?: string;
  /** Ending of the version and pre-version lines. @default "\r\n" */
  lineEnding?: string;
  /** Lines sent before the version line. */
  preVersionLines?: string[];
  /** Raw bytes sent instead of the pre-version lines and version line. */
  greeting?: Uint8Array;
  /** KEXINIT lists (each category replaces the default). Defaults: curve25519, ssh-ed25519,
   * every registry cipher and MAC, compression none. */
  lists?: Partial<AlgorithmLists>;
  /** Offer `kex-strict-s-v00@openssh.com`. @default true */
  strictKex?: boolean;
  /** Offer `ext-info-s`. @default false */
  extInfoS?: boolean;
  /** Set first_kex_packet_follows in the first KEXINIT. */
  firstKexPacketFollows?: boolean;
  /** The "guessed" kex packet sent right after the first KEXINIT. */
  guess?: Uint8Array;
  /** Flip a bit of the host key signature. */
  corruptSignature?: boolean;
  /** Flip the last (MAC or tag) byte of the Nth packet sent after the first NEWKEYS (1-based). */
  corruptMacOfPacket?: number;
  /** Send EXT_INFO with server-sig-algs after NEWKEYS when the client offered ext-info-c. */
  serverSigAlgs?: string[];
  /** Methods listed in USERAUTH_FAILURE. @default ["publickey", "password"] */
  authMethods?: string[];
  /** Answer the `none` request with USERAUTH_SUCCESS. */
  acceptNone?: boolean;
  /** Accept this password (method `password`). */
  password?: string;
  /** What to do at each point. */
  at?: Partial<Record<Point, Action[]>>;
}

export interface ScriptedServer {
  /** The client's end of the connection. */
  readonly clientStream: ByteStream;
  /** Resolves when the server has stopped (never rejects). */
  readonly done: Promise<void>;
  /** Why the server stopped, if not because the client closed or a script said so. */
  readonly error: Error | null;
  /** The client's version line. */
  readonly clientVersion: string | null;
  /** Every packet sent: message number and sequence number. */
  readonly sent: { type: number; seq: number }[];
  /** Every payload received after the first key exchange. */
  readonly received: Uint8Array[];
  /** Sequence numbers the client reported in UNIMPLEMENTED. */
  readonly unimplemented: number[];
  /** Completed key exchanges. */
  readonly kexCount: number;
  /** Whether the first key exchange ran under strict kex. */
  readonly strict: boolean;
  /** The sequence number of the last packet received. */
  readonly lastReceivedSeq: number;
  /** Closes the connection. */
  close(): void;
}

/** DER SubjectPublicKeyInfo header of an X25519 key (the raw 32 bytes follow). */
const X25519_SPKI_PREFIX = new Uint8Array(
  "302a300506032b656e032100".match(/../g)!.map((h) => parseInt(h, 16)),
);

/** Builders for the messages scripts inject. */
export const msg = {
  ignore: (length = 8): Uint8Array =>
    new SshWriter().byte(MSG.IGNORE).string(new Uint8Array(length)).bytes(),
  debug: (text: string, alwaysDisplay = true): Uint8Array =>
    new SshWriter().byte(MSG.DEBUG).bool(alwaysDisplay).string(text).string("").bytes(),
  disconnect: (reasonCode: number, description: string): Uint8Array =>
    new SshWriter().byte(MSG.DISCONNECT).uint32(reasonCode).string(description).string("")
      .bytes(),
  unimplemented: (seq: number): Uint8Array =>
    new SshWriter().byte(MSG.UNIMPLEMENTED).uint32(seq).bytes(),
  extInfo: (extensions: Record<string, string>): Uint8Array => {
    const w = new SshWriter().byte(MSG.EXT_INFO).uint32(Object.keys(extensions).length);
    for (const [name, value] of Object.entries(extensions)) w.string(name).string(value);
    return w.bytes();
  },
  /** A message with any number and body (e.g. an unknown message number). */
  raw: (type: number, body: Uint8Array = new Uint8Array(0)): Uint8Array =>
    concatBytes(new Uint8Array([type]), body),
};

/** Unencrypted packets that break RFC 4253 §6 framing (for the plaintext phase). */
export function badPacket(
  kind: "zero-length" | "huge-length" | "not-block-multiple" | "short-padding",
): Uint8Array {
  const packet = (length: number, padding: number, total: number) => {
    const b = new Uint8Array(total);
    new DataView(b.buffer).setUint32(0, length);
    b[4] = padding;
    return b;
  };
  switch (kind) {
    case "zero-length":
      return packet(0, 0, 8);
    case "huge-length":
      return packet(0x7fffffff, 4, 16);
    case "not-block-multiple":
      return packet(13, 4, 17); // 4 + 13 is not a multiple of 8
    case "short-padding":
      return packet(12, 3, 16); // 8 bytes of payload, 3 of padding
  }
}

/** Starts a scripted server on one end of a memory pipe. */
export function startScriptedServer(options: ScriptedServerOptions = {}): ScriptedServer {
  const [clientStream, serverStream] = memoryPipe();
  const server = new Server(serverStream, options);
  const done = server.run();
  return {
    clientStream,
    done,
    get error() {
      return server.error;
    },
    get clientVersion() {
      return server.clientVersion;
    },
    sent: server.sent,
    received: server.received,
    unimplemented: server.unimplemented,
    get kexCount() {
      return server.kexCount;
    },
    get strict() {
      return server.strict;
    },
    get lastReceivedSeq() {
      return server.lastSeq;
    },
    close: () => serverStream.close(),
  };
}

/** The script stopped the run (silence or close): not an error. */
class Stop extends Error {}

class Server {
  error: Error | null = null;
  clientVersion: string | null = null;
  sent: { type: number; seq: number }[] = [];
  received: Uint8Array[] = [];
  unimplemented: number[] = [];
  kexCount = 0;
  strict = false;
  lastSeq = -1;

  #o: ScriptedServerOptions;
  #stream: ByteStream;
  #reader: BufferedReader;
  #sealer = new PacketSealer();
  #opener = new PacketOpener();
  #hostKey = generateKeyPairSync("ed25519");
  #hostKeyBlob: Uint8Array;
  #versionLine: string;
  #sessionId: Uint8Array | null = null;
  #clientExtInfo = false;
  #sentEncrypted = 0;
  /** Messages that arrived while a server-initiated rekey waited for the client's KEXINIT. */
  #pending: Uint8Array[] = [];

  constructor(stream: ByteStream, options: ScriptedServerOptions) {
    this.#stream = stream;
    this.#o = options;
    this.#reader = new BufferedReader(stream, "kex", 0);
    this.#versionLine = options.versionLine ?? "SSH-2.0-ScriptedServer_1.0";
    const spki = new Uint8Array(this.#hostKey.publicKey.export({ type: "spki", format: "der" }));
    this.#hostKeyBlob = new SshWriter().string("ssh-ed25519").string(spki.subarray(12)).bytes();
  }

  async run(): Promise<void> {
    try {
      await this.#at("start");
      await this.#versionExchange();
      await this.#at("before-kexinit");
      const ours = await this.#sendKexInit(true);
      await this.#at("after-kexinit");
      const theirs = await this.#read();
      if (theirs[0] !== MSG.KEXINIT) throw new Error(`expected KEXINIT, got message ${theirs[0]}`);
      await this.#kex(ours, theirs, true);
      await this.#serve();
    } catch (e) {
      if (!(e instanceof Stop)) this.error = e as Error;
    } finally {
      this.#stream.close();
    }
  }

  // --- script -------------------------------------------------------------------------------

  async #at(point: Point): Promise<void> {
    for (const action of this.#o.at?.[point] ?? []) {
      if ("send" in action) await this.#send(action.send);
      else if ("raw" in action) await this.#stream.write(action.raw);
      else if ("rekey" in action) await this.#serverRekey();
      else if ("silent" in action) {
        while (await this.#reader.fill(0)) this.#reader.take(this.#reader.buffered);
        throw new Stop();
      } else {
        this.#stream.close();
        throw new Stop();
      }
    }
  }

  // --- packets ------------------------------------------------------------------------------

  async #send(payload: Uint8Array): Promise<void> {
    const seq = this.#sealer.seq;
    const encrypted = this.#sealer.encrypted;
    const wire = this.#sealer.seal(payload);
    this.sent.push({ type: payload[0]!, seq });
    if (encrypted && ++this.#sentEncrypted === this.#o.corruptMacOfPacket) {
      wire[wire.length - 1]! ^= 0x01;
    }
    await this.#stream.write(wire);
  }

  /** The next packet's payload; the client closing ends the run. */
  async #read(): Promise<Uint8Array> {
    const header = await this.#reader.readExact(this.#opener.headerSize, 0);
    if (header === null) throw new Stop();
    const rest = await this.#reader.readExact(this.#opener.begin(header), 0);
    if (rest === null) throw new Error("the client closed in the middle of a packet");
    this.lastSeq = this.#opener.seq;
    return this.#opener.finish(rest);
  }

  // --- version ------------------------------------------------------------------------------

  async #versionExchange(): Promise<void> {
    const o = this.#o;
    const end = o.lineEnding ?? "\r\n";
    const text = o.greeting ??
      new TextEncoder().encode(
        [...(o.preVersionLines ?? []), this.#versionLine].map((l) => l + end).join(""),
      );
    await this.#stream.write(text);
    const line = await this.#reader.readLine(255);
    if (typeof line !== "string") throw new Stop();
    if (!line.startsWith("SSH-2.0-")) throw new Error(`bad client version line "${line}"`);
    this.clientVersion = line;
  }

  // --- key exchange -------------------------------------------------------------------------

  async #sendKexInit(first: boolean): Promise<Uint8Array> {
    const o = this.#o;
    const lists: AlgorithmLists = {
      kex: ["curve25519-sha256", "curve25519-sha256@libssh.org"],
      hostKey: ["ssh-ed25519"],
      cipherC2S: allNames("cipher"),
      cipherS2C: allNames("cipher"),
      macC2S: allNames("mac"),
      macS2C: allNames("mac"),
      compressionC2S: ["none"],
      compressionS2C: ["none"],
      ...o.lists,
    };
    if (first && o.extInfoS) lists.kex = [...lists.kex, EXT_INFO_S];
    if (first && (o.strictKex ?? true)) lists.kex = [...lists.kex, STRICT_KEX_S];
    const payload = encodeKexInit(lists);
    // encodeKexInit ends with first_kex_packet_follows (1 byte) and reserved (uint32).
    if (first && o.firstKexPacketFollows) payload[payload.length - 5] = 1;
    await this.#send(payload);
    if (first && o.guess) await this.#send(o.guess);
    return payload;
  }

  /** A rekey the server starts: KEXINIT, then the client's (queueing other messages). */
  async #serverRekey(): Promise<void> {
    const ours = await this.#sendKexInit(false);
    for (;;) {
      const p = await this.#read();
      if (p[0] === MSG.KEXINIT) return await this.#kex(ours, p, false);
      this.#pending.push(p);
    }
  }

  /** Runs one curve25519-sha256 exchange and switches keys. */
  async #kex(serverKexInit: Uint8Array, clientKexInit: Uint8Array, first: boolean): Promise<void> {
    const at = (p: Point) => (first ? this.#at(p) : Promise.resolve());
    const client = decodeKexInit(clientKexInit).lists;
    const server = decodeKexInit(serverKexInit).lists;
    if (first) {
      this.strict = client.kex.includes(STRICT_KEX_C) && server.kex.includes(STRICT_KEX_S);
      this.#clientExtInfo = client.kex.includes(EXT_INFO_C);
    }
    const decisions = negotiateAll(
      withoutKexMarkers(client),
      withoutKexMarkers(server),
      riskOf,
      (n) => findCipher(n)?.createAead !== undefined,
    );
    const chosen = Object.fromEntries(decisions.map((d) => [d.category, d.chosen]));
    if (decisions.some((d) => d.chosen === null)) {
      // The client sees this too and gives up; wait for it to close.
      while (await this.#reader.fill(0)) this.#reader.take(this.#reader.buffered);
      throw new Stop();
    }
    if (!/^curve25519-sha256(@libssh\.org)?$/.test(chosen.kex!)) {
      throw new Error(`the scripted server cannot run kex ${chosen.kex}`);
    }

    const init = new SshReader(await this.#read(), "KEX_ECDH_INIT");
    if (init.byte() !== MSG.KEXDH_INIT) throw new Error("expected KEX_ECDH_INIT");
    const qc = init.string("Q_C").slice();
    await at("before-kex-reply");
    const eph = generateKeyPairSync("x25519");
    const qs = new Uint8Array(eph.publicKey.export({ type: "spki", format: "der" })).subarray(12);
    const peer = createPublicKey({
      key: Buffer.from(concatBytes(X25519_SPKI_PREFIX, qc)),
      format: "der",
      type: "spki",
    });
    const shared = new Uint8Array(diffieHellman({ privateKey: eph.privateKey, publicKey: peer }));
    const k = new SshWriter().mpintBytes(shared).bytes();
    const h = exchangeHash(
      "sha256",
      {
        clientVersion: new TextEncoder().encode(this.clientVersion!),
        serverVersion: new TextEncoder().encode(this.#versionLine),
        clientKexInit,
        serverKexInit,
      },
      this.#hostKeyBlob,
      (w) => w.string(qc).string(qs),
      k,
    );
    const signature = new Uint8Array(sign(null, h, this.#hostKey.privateKey));
    if (this.#o.corruptSignature) signature[10]! ^= 0x01;
    const sigBlob = new SshWriter().string("ssh-ed25519").string(signature).bytes();
    await this.#send(
      new SshWriter().byte(MSG.KEXDH_REPLY).string(this.#hostKeyBlob).string(qs).string(sigBlob)
        .bytes(),
    );
    this.#sessionId ??= h;

    const keys = (iv: string, key: string, mac: string, cipherName: string, macName: string) => {
      const cipher = findCipher(cipherName)!;
      const macAlg = cipher.createAead ? null : findMac(macName)!;
      const d = (letter: string, n: number) =>
        deriveKey("sha256", k, h, letter, this.#sessionId!, n);
      return {
        cipher,
        mac: macAlg,
        iv: d(iv, cipher.ivLength),
        encKey: d(key, cipher.keyLength),
        macKey: macAlg ? d(mac, macAlg.keyLength) : new Uint8Array(0),
      } satisfies DirectionKeys;
    };
    await at("before-newkeys");
    await this.#send(new Uint8Array([MSG.NEWKEYS]));
    this.#sealer.setKeys(keys("B", "D", "F", chosen.cipherS2C!, chosen.macS2C!));
    if (this.strict) this.#sealer.seq = 0;
    if (first && this.#clientExtInfo && this.#o.serverSigAlgs) {
      await this.#send(msg.extInfo({ "server-sig-algs": this.#o.serverSigAlgs.join(",") }));
    }
    await at("after-newkeys");
    const newkeys = await this.#read();
    if (newkeys[0] !== MSG.NEWKEYS) throw new Error(`expected NEWKEYS, got message ${newkeys[0]}`);
    this.#opener.setKeys(keys("A", "C", "E", chosen.cipherC2S!, chosen.macC2S!));
    if (this.strict) this.#opener.seq = 0;
    this.kexCount++;
  }

  // --- after the key exchange ---------------------------------------------------------------

  async #serve(): Promise<void> {
    for (;;) {
      const p = this.#pending.shift() ?? (await this.#read());
      this.received.push(p);
      const r = new SshReader(p);
      const type = r.byte();
      switch (type) {
        case MSG.SERVICE_REQUEST:
          await this.#send(new SshWriter().byte(MSG.SERVICE_ACCEPT).string(r.text()).bytes());
          await this.#at("after-service");
          break;
        case MSG.USERAUTH_REQUEST:
          await this.#userauth(r);
          break;
        case MSG.KEXINIT:
          await this.#kex(await this.#sendKexInit(false), p, false);
          break;
        case MSG.GLOBAL_REQUEST:
          r.string("request name");
          if (r.bool()) await this.#send(new Uint8Array([MSG.REQUEST_FAILURE]));
          break;
        case MSG.UNIMPLEMENTED:
          this.unimplemented.push(r.uint32());
          break;
        case MSG.DISCONNECT:
          throw new Stop();
        case MSG.IGNORE:
        case MSG.DEBUG:
          break;
        default:
          await this.#send(msg.unimplemented(this.lastSeq));
      }
    }
  }

  async #userauth(r: SshReader): Promise<void> {
    r.text("user");
    r.text("service");
    const method = r.text("method");
    let ok = false;
    if (method === "none") ok = this.#o.acceptNone === true;
    if (method === "password" && this.#o.password !== undefined) {
      r.bool();
      ok = r.text("password") === this.#o.password;
    }
    if (!ok) {
      const methods = this.#o.authMethods ?? ["publickey", "password"];
      await this.#send(
        new SshWriter().byte(MSG.USERAUTH_FAILURE).nameList(methods).bool(false).bytes(),
      );
      return;
    }
    await this.#send(new Uint8Array([MSG.USERAUTH_SUCCESS]));
    await this.#at("after-auth");
  }
}

// --- client side ----------------------------------------------------------------------------

/**
 * Opens the real client's transport against `server` (StrictHostKeyChecking=no, no known_hosts
 * files, a 2 s limit unless `options` say otherwise).
 */
export function openScripted(
  server: ScriptedServer,
  options: Partial<ClientOptions> = {},
): Promise<Transport> {
  return openTransport({
    host: "scripted",
    stream: server.clientStream,
    strictHostKeyChecking: "no",
    knownHostsFiles: [],
    timeoutMs: 2000,
    ...options,
  });
}

/** Awaits `promise`, which must reject with an `SshTraceError`; returns it and the time taken. */
export async function expectTraceError(
  promise: Promise<unknown>,
): Promise<{ error: SshTraceError; ms: number }> {
  const start = performance.now();
  try {
    await promise;
  } catch (e) {
    if (e instanceof SshTraceError) return { error: e, ms: performance.now() - start };
    throw new Error(`expected an SshTraceError, got ${e}`, { cause: e });
  }
  throw new Error("expected an SshTraceError, but the call succeeded");
}
