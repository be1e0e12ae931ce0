/**
 * An in-process, scripted SSH-2 server for fault-injection tests: a thin use of the lab server's
 * transport (lib/lab/transport.ts, the shared core in the server role) whose fault hooks run the
 * script, plus just enough of the service and `none` authentication to reach an
 * authenticated state (and to answer requests before it). It runs over `memoryPipe()` against
 * the real client.
 *
 * A script is an options object: what to send as the greeting, the KEXINIT lists, and
 * {@link Action}s to run at named {@link Point}s (inject messages or raw bytes, go silent, close,
 * start a rekey). The server never throws: `done` resolves when it stops, and `error` says why
 * if it stopped on something other than the client or the script ending the connection.
 *
 * @example
 * ```ts
 * const server = startScriptedServer({ at: { "before-kexinit": [{ send: msg.ignore(4) }] } });
 * const t = await openTransport({ host: "scripted", stream: server.clientStream, ... });
 * ```
 * @module
 */

import { allNames } from "../../lib/algorithms/registry.ts";
import { type ClientOptions, openTransport } from "../../lib/client/open_transport.ts";
import { SshError } from "../../lib/errors/mod.ts";
import { flipLast } from "../../lib/lab/faults/mod.ts";
import { generateHostKeys, type HostKeys, keyTypesFor } from "../../lib/lab/hostkeys.ts";
import { modernConfig } from "../../lib/lab/profiles.ts";
import { ServerTransport, Stop } from "../../lib/lab/transport.ts";
import type { FaultHooks, LabConfig, LabPoint } from "../../lib/lab/types.ts";
import type { AlgorithmLists } from "../../lib/types.ts";
import type { Transport } from "../../lib/transport/transport.ts";
import { disconnectMessage, extInfoMessage } from "../../lib/transport/transport_messages.ts";
import { type ByteStream, memoryPipe } from "../../lib/transport/stream.ts";
import { concatBytes, SshReader, SshWriter } from "../../lib/wire/buffer.ts";
import { MSG } from "../../lib/wire/messages.ts";

/**
 * Where in the server's run a script can act: the lab server's named points (see `LabPoint`)
 * up to the connection layer, the same places in the same core. Kex points apply to the first
 * key exchange.
 */
export type Point = Exclude<LabPoint, "channel-open" | "channel-request">;

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

/**
 * A script. The lab configuration it may change keeps the lab's meaning (`versionLine` is V_S,
 * `strictKex` defaults to true, `authMethods` to publickey,password).
 */
export interface ScriptedServerOptions extends
  Partial<
    Pick<LabConfig, "versionLine" | "lineEnding" | "preVersionLines" | "strictKex" | "authMethods">
  > {
  /** Raw bytes sent instead of the pre-version lines and version line. */
  greeting?: Uint8Array;
  /** KEXINIT lists (each category replaces the default). Defaults: curve25519, ssh-ed25519,
   * every registry cipher and MAC, compression none. */
  lists?: Partial<AlgorithmLists>;
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
  /** Answer the `none` request with USERAUTH_SUCCESS. */
  acceptNone?: boolean;
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
  /** Every packet sent after the first NEWKEYS: message number and sequence number. */
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
  disconnect: disconnectMessage,
  unimplemented: (seq: number): Uint8Array =>
    new SshWriter().byte(MSG.UNIMPLEMENTED).uint32(seq).bytes(),
  extInfo: extInfoMessage,
  /** A message with any number and body (e.g. an unknown message number). */
  raw: (type: number, body: Uint8Array = new Uint8Array(0)): Uint8Array =>
    concatBytes(new Uint8Array([type]), body),
};

/** Unencrypted packets that break RFC 4253 §6 framing (the lab's). */
export { badPacket } from "../../lib/lab/faults/mod.ts";

/** Starts a scripted server on one end of a memory pipe. */
export function startScriptedServer(options: ScriptedServerOptions = {}): ScriptedServer {
  const [clientStream, serverStream] = memoryPipe();
  const config = scriptConfig(options);
  let t: ServerTransport | null = null;
  let error: Error | null = null;
  const server = {
    clientStream,
    get error() {
      return error;
    },
    get clientVersion() {
      return t?.clientVersion || null;
    },
    sent: [] as { type: number; seq: number }[],
    received: [] as Uint8Array[],
    unimplemented: [] as number[],
    get kexCount() {
      return t?.kexCount ?? 0;
    },
    get strict() {
      return t?.strict ?? false;
    },
    lastReceivedSeq: 0,
    close: () => serverStream.close(),
  };
  const hooks = scriptHooks(options, server, () => t!);
  const run = async () => {
    t = new ServerTransport(serverStream, config, await hostKeys(config), hooks, () => {});
    try {
      await t.handshake();
      await serve(t, options, server);
    } catch (e) {
      if (!(e instanceof Stop)) error = e as Error;
    } finally {
      t.close();
    }
  };
  return Object.assign(server, { done: run() });
}

/** The lab configuration of a script: curve25519 and Ed25519 unless it says otherwise. */
function scriptConfig(o: ScriptedServerOptions): LabConfig {
  return {
    ...modernConfig(),
    versionLine: o.versionLine ?? "SSH-2.0-ScriptedServer_1.0",
    preVersionLines: o.preVersionLines ?? [],
    lineEnding: o.lineEnding,
    lists: {
      kex: ["curve25519-sha256", "curve25519-sha256@libssh.org"],
      hostKey: ["ssh-ed25519"],
      cipherC2S: allNames("cipher"),
      cipherS2C: allNames("cipher"),
      macC2S: allNames("mac"),
      macS2C: allNames("mac"),
      compressionC2S: ["none"],
      compressionS2C: ["none"],
      ...o.lists,
    },
    strictKex: o.strictKex ?? true,
    extInfo: o.serverSigAlgs !== undefined,
    serverSigAlgs: o.serverSigAlgs ?? [],
    authMethods: o.authMethods ?? ["publickey", "password"],
    loginGraceMs: 0,
  };
}

/** Host keys by the types a script's lists name (generated once per set of types). */
const keyCache = new Map<string, Promise<HostKeys>>();
function hostKeys(config: LabConfig): Promise<HostKeys> {
  const types = keyTypesFor(config.lists.hostKey);
  const key = types.join(",");
  if (!keyCache.has(key)) keyCache.set(key, generateHostKeys(types));
  return keyCache.get(key)!;
}

/** The lab's fault hooks that run a script and record what the tests read. */
function scriptHooks(
  o: ScriptedServerOptions,
  record: Pick<ScriptedServer, "sent" | "received" | "unimplemented"> & {
    lastReceivedSeq: number;
  },
  t: () => ServerTransport,
): FaultHooks {
  const at: FaultHooks["at"] = {};
  for (const [point, actions] of Object.entries(o.at ?? {}) as [Point, Action[]][]) {
    at[point] = async (io) => {
      for (const a of actions) {
        if ("send" in a) await io.send(a.send);
        else if ("raw" in a) await io.raw(a.raw);
        else if ("rekey" in a) await t().rekey();
        else if ("silent" in a) await io.silent();
        else await io.close();
      }
    };
  }
  return {
    at,
    greeting: o.greeting ? (io) => io.raw(o.greeting!) : undefined,
    // encodeKexInit ends with first_kex_packet_follows (1 byte) and reserved (uint32).
    kexInit: o.firstKexPacketFollows
      ? (_lists, payload) => {
        payload[payload.length - 5] = 1;
        return payload;
      }
      : undefined,
    guess: o.guess ? () => o.guess! : undefined,
    // The quirk tests read only the client's group-exchange request: stop there.
    kexGroup: () => {
      throw new Stop("the scripted server runs no group exchange");
    },
    signature: o.corruptSignature ? flipLast : undefined,
    seal: (wire, index, payload, seq) => {
      record.sent.push({ type: payload[0]!, seq });
      return index === o.corruptMacOfPacket ? flipLast(wire) : wire;
    },
    received: (payload, seq) => {
      record.received.push(payload);
      record.lastReceivedSeq = seq;
      if (payload[0] === MSG.UNIMPLEMENTED) {
        record.unimplemented.push(new SshReader(payload.subarray(1)).uint32());
      }
    },
  };
}

/**
 * After the key exchange: the service, `none` authentication, and a failure for
 * each global request (also before authentication); UNIMPLEMENTED for anything else. Answers go
 * out in order while reading goes on, so a rekey the script started is read while they wait.
 */
async function serve(
  t: ServerTransport,
  o: ScriptedServerOptions,
  record: { lastReceivedSeq: number },
): Promise<void> {
  let answers = Promise.resolve();
  for (;;) {
    const p = await t.receive(0);
    if (p === null) break;
    const seq = record.lastReceivedSeq;
    answers = answers.then(() => answer(t, o, p, seq));
  }
  await answers;
}

async function answer(
  t: ServerTransport,
  o: ScriptedServerOptions,
  p: Uint8Array,
  seq: number,
): Promise<void> {
  const r = new SshReader(p);
  switch (r.byte()) {
    case MSG.SERVICE_REQUEST:
      if (await t.at("service-request")) return;
      await t.send(new SshWriter().byte(MSG.SERVICE_ACCEPT).string(r.text()).bytes());
      await t.at("after-service");
      return;
    case MSG.USERAUTH_REQUEST: {
      r.text("user");
      r.text("service");
      const method = r.text("method");
      if (await t.at("userauth-request", { method })) return;
      if (method !== "none" || o.acceptNone !== true) {
        const methods = t.config.authMethods;
        await t.send(
          new SshWriter().byte(MSG.USERAUTH_FAILURE).nameList(methods).bool(false).bytes(),
        );
        return;
      }
      await t.send(new Uint8Array([MSG.USERAUTH_SUCCESS]));
      t.authenticated();
      await t.at("after-auth");
      return;
    }
    case MSG.GLOBAL_REQUEST:
      r.string("request name");
      if (r.bool()) await t.send(new Uint8Array([MSG.REQUEST_FAILURE]));
      return;
    default:
      await t.send(msg.unimplemented(seq));
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

/** Awaits `promise`, which must reject with an `SshError`; returns it and the time taken. */
export async function expectTraceError(
  promise: Promise<unknown>,
): Promise<{ error: SshError; ms: number }> {
  const start = performance.now();
  try {
    await promise;
  } catch (e) {
    if (e instanceof SshError) return { error: e, ms: performance.now() - start };
    throw new Error(`expected an SshError, got ${e}`, { cause: e });
  }
  throw new Error("expected an SshError, but the call succeeded");
}
