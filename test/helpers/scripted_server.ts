/**
 * An in-process, scripted SSH-2 server for fault-injection tests: a thin use of the shared
 * transport core in the server role (lib/transport/handshake.ts over a StreamPacketConn, with
 * the lab's server half of curve25519-sha256 from lib/lab/kex_server.ts and an Ed25519 host
 * key), plus just enough of the service and `none`/`password` authentication to reach an
 * authenticated state. Every registry cipher and MAC works, and it runs over `memoryPipe()`
 * against the real client.
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

import { generateKeyPairSync, sign } from "node:crypto";
import { allNames } from "../../lib/algorithms/registry.ts";
import { type ClientOptions, openTransport } from "../../lib/client.ts";
import { createServerKex } from "../../lib/lab/kex_server.ts";
import type { LabPoint } from "../../lib/lab/types.ts";
import { SshTraceError } from "../../lib/errors/mod.ts";
import type { AlgorithmLists } from "../../lib/types.ts";
import { Handshake, type KexKeys, type KexRun } from "../../lib/transport/handshake.ts";
import { EXT_INFO_S, STRICT_KEX_S } from "../../lib/transport/kexinit.ts";
import { StreamPacketConn } from "../../lib/transport/packet_conn.ts";
import type { Transport } from "../../lib/transport/transport.ts";
import { type ByteStream, memoryPipe } from "../../lib/transport/stream.ts";
import { concatBytes, SshReader, SshWriter } from "../../lib/wire/buffer.ts";
import { MSG } from "../../lib/wire/messages.ts";

/**
 * Where in the server's run a script can act: the lab server's named points (see `LabPoint`),
 * the same places in the same core. Kex points apply to the first key exchange.
 */
export type Point = Extract<
  LabPoint,
  | "start"
  | "before-kexinit"
  | "after-kexinit"
  | "before-kex-reply"
  | "before-newkeys"
  | "after-newkeys"
  | "after-service"
  | "after-auth"
>;

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
      return server.hs.kexCount;
    },
    get strict() {
      return server.hs.strict;
    },
    get lastReceivedSeq() {
      return server.conn.lastReadSeq;
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
  readonly conn: StreamPacketConn;
  readonly hs: Handshake;

  #o: ScriptedServerOptions;
  #hostKey = generateKeyPairSync("ed25519");
  #hostKeyBlob: Uint8Array;
  #versionLine: string;
  #sentEncrypted = 0;
  /** Messages that arrived while a server-initiated rekey waited for the client's KEXINIT. */
  #pending: Uint8Array[] = [];

  constructor(stream: ByteStream, options: ScriptedServerOptions) {
    this.#o = options;
    this.#versionLine = options.versionLine ?? "SSH-2.0-ScriptedServer_1.0";
    const spki = new Uint8Array(this.#hostKey.publicKey.export({ type: "spki", format: "der" }));
    this.#hostKeyBlob = new SshWriter().string("ssh-ed25519").string(spki.subarray(12)).bytes();
    this.conn = new StreamPacketConn(stream, {
      peer: "client",
      timeoutMs: 0,
      stage: "kex",
      sealed: (wire, payload, seq) => {
        this.sent.push({ type: payload[0]!, seq });
        if (this.conn.encrypted && ++this.#sentEncrypted === options.corruptMacOfPacket) {
          wire[wire.length - 1]! ^= 0x01;
        }
        return wire;
      },
    });
    const first: string[] = [];
    if (options.extInfoS) first.push(EXT_INFO_S);
    if (options.strictKex ?? true) first.push(STRICT_KEX_S);
    this.hs = new Handshake({
      role: "server",
      conn: this.conn,
      tracer: null,
      lists: () => this.#lists(),
      markers: first,
      exchange: (run) => this.#exchange(run),
      hooks: {
        // encodeKexInit ends with first_kex_packet_follows (1 byte) and reserved (uint32).
        kexInit: options.firstKexPacketFollows
          ? (_lists, payload) => {
            payload[payload.length - 5] = 1;
            return payload;
          }
          : undefined,
        guess: options.guess ? () => options.guess! : undefined,
        at: (point) => this.#at(point),
      },
      serverSigAlgs: options.serverSigAlgs ?? null,
      timeoutMs: 0,
      rekeyLimitBytes: Infinity,
      rekeyIntervalMs: Infinity,
    });
  }

  async run(): Promise<void> {
    try {
      await this.#at("start");
      await this.#versionExchange();
      await this.#at("before-kexinit");
      await this.hs.sendKexInit();
      await this.#at("after-kexinit");
      await this.hs.firstKex();
      await this.#serve();
    } catch (e) {
      if (e instanceof SshTraceError && /\.(closed|disconnect)$/.test(e.code)) return;
      if (e instanceof SshTraceError && e.code.startsWith("kex.no-common-")) {
        // The client sees this too and gives up; wait for it to close.
        await this.#silent().catch(() => {});
        return;
      }
      if (!(e instanceof Stop)) this.error = e as Error;
    } finally {
      this.conn.close();
    }
  }

  // --- script -------------------------------------------------------------------------------

  async #at(point: Point): Promise<void> {
    for (const action of this.#o.at?.[point] ?? []) {
      if ("send" in action) await this.hs.sendNow(action.send);
      else if ("raw" in action) await this.conn.writeRaw(action.raw);
      else if ("rekey" in action) await this.hs.startRekey();
      else if ("silent" in action) await this.#silent();
      else {
        this.conn.close();
        throw new Stop();
      }
    }
  }

  async #silent(): Promise<never> {
    const reader = this.conn.reader;
    while (await reader.fill(0)) reader.take(reader.buffered);
    throw new Stop();
  }

  // --- version and key exchange -------------------------------------------------------------

  async #versionExchange(): Promise<void> {
    const o = this.#o;
    const end = o.lineEnding ?? "\r\n";
    const text = o.greeting ??
      new TextEncoder().encode(
        [...(o.preVersionLines ?? []), this.#versionLine].map((l) => l + end).join(""),
      );
    await this.conn.writeRaw(text);
    const line = await this.conn.reader.readLine(255);
    if (typeof line !== "string") throw new Stop();
    if (!line.startsWith("SSH-2.0-")) throw new Error(`bad client version line "${line}"`);
    this.clientVersion = line;
    this.hs.clientVersion = new TextEncoder().encode(line);
    this.hs.serverVersion = new TextEncoder().encode(this.#versionLine);
  }

  #lists(): AlgorithmLists {
    return {
      kex: ["curve25519-sha256", "curve25519-sha256@libssh.org"],
      hostKey: ["ssh-ed25519"],
      cipherC2S: allNames("cipher"),
      cipherS2C: allNames("cipher"),
      macC2S: allNames("mac"),
      macS2C: allNames("mac"),
      compressionC2S: ["none"],
      compressionS2C: ["none"],
      ...this.#o.lists,
    };
  }

  /** The server half of curve25519-sha256 (the lab's), signed with the Ed25519 host key. */
  async #exchange(run: KexRun): Promise<KexKeys> {
    const name = run.chosen.kex;
    if (!/^curve25519-sha256(@libssh\.org)?$/.test(name)) {
      throw new Error(`the scripted server cannot run kex ${name}`);
    }
    const kex = createServerKex(name, {
      clientVersion: run.clientVersion,
      serverVersion: run.serverVersion,
      clientKexInit: run.clientKexInit,
      serverKexInit: run.serverKexInit,
      hostKeyBlob: this.#hostKeyBlob,
      sign: (h) => {
        const signature = new Uint8Array(sign(null, h, this.#hostKey.privateKey));
        if (this.#o.corruptSignature) signature[10]! ^= 0x01;
        return new SshWriter().string("ssh-ed25519").string(signature).bytes();
      },
    });
    const replies = await kex.onMessage(await run.receive());
    if (run.first) await this.#at("before-kex-reply");
    for (const r of replies) await run.send(r);
    return { hash: kex.hash, k: kex.result!.k, h: kex.result!.h };
  }

  // --- after the key exchange ---------------------------------------------------------------

  async #serve(): Promise<void> {
    for (;;) {
      let p = this.hs.inKex ? undefined : this.#pending.shift();
      if (!p) {
        const read = await this.conn.readPacket(0);
        if (read === null) throw new Stop();
        // Nothing but the exchange while our KEXINIT waits for the client's.
        if (this.hs.inKex && read[0] !== MSG.KEXINIT && read[0] !== MSG.DISCONNECT) {
          this.#pending.push(read);
          continue;
        }
        p = read;
      }
      this.received.push(p);
      const r = new SshReader(p);
      const type = r.byte();
      if (type === MSG.UNIMPLEMENTED) this.unimplemented.push(r.uint32());
      if (await this.hs.handleTransportMessage(p)) continue;
      switch (type) {
        case MSG.SERVICE_REQUEST:
          await this.hs.send(new SshWriter().byte(MSG.SERVICE_ACCEPT).string(r.text()).bytes());
          await this.#at("after-service");
          break;
        case MSG.USERAUTH_REQUEST:
          await this.#userauth(r);
          break;
        case MSG.GLOBAL_REQUEST:
          r.string("request name");
          if (r.bool()) await this.hs.send(new Uint8Array([MSG.REQUEST_FAILURE]));
          break;
        case MSG.UNIMPLEMENTED:
          break;
        default:
          await this.hs.send(msg.unimplemented(this.conn.lastReadSeq));
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
      await this.hs.send(
        new SshWriter().byte(MSG.USERAUTH_FAILURE).nameList(methods).bool(false).bytes(),
      );
      return;
    }
    await this.hs.send(new Uint8Array([MSG.USERAUTH_SUCCESS]));
    this.hs.authenticated();
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
