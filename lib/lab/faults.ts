/**
 * Fault profiles: the lab server misbehaving on purpose, one way each, so a client's failure
 * paths can be seen and tested (`sshtrace lab --profile NAME`). Each profile documents what it
 * does and what a correct client reports: the stage and error code it stops at, or success when
 * the right answer is to carry on. Apart from its fault, a profile behaves like `modern`
 * (user `demo`, password `demo`), mostly with curve25519 and an Ed25519 host key.
 * @module
 */

import type { ListCategory } from "../algorithms/registry.ts";
import type { Stage } from "../types.ts";
import { encodeKexInit } from "../transport/kexinit.ts";
import { getDiffieHellman } from "node:crypto";
import { bytesToBigint, concatBytes, SshReader, SshWriter } from "../wire/buffer.ts";
import { DISCONNECT_REASONS, MSG } from "../wire/messages.ts";
import { joinKexReply, splitKexReply } from "./transport.ts";
import type { FaultHooks, FaultIo, LabConfig, LabPoint } from "./types.ts";
import { DOCTOR_FAULTS } from "./faults_doctor.ts";

/** What a correct client does against a fault profile. */
export type FaultExpectation =
  | { readonly stage: Stage; readonly code: string }
  | { readonly success: true; readonly exitStatus?: number };

/** A fault profile. */
export interface FaultProfile {
  readonly name: string;
  /** What the server does wrong, in one line. */
  readonly summary: string;
  readonly expect: FaultExpectation;
  /** Changes to the modern configuration. */
  readonly config?: (base: LabConfig) => LabConfig;
  readonly hooks: FaultHooks;
  /** What a client must offer beyond its defaults to reach the fault. */
  readonly client?: {
    readonly legacy?: boolean;
    readonly algorithms?: Partial<Record<ListCategory, string[]>>;
    /** Rekey after this many bytes (RekeyLimit), to reach faults in a client's rekey. */
    readonly rekeyLimitBytes?: number;
  };
}

const enc = new TextEncoder();

/** Curve25519 and an Ed25519 host key: cheap to run, offered by every client. */
function fast(c: LabConfig): LabConfig {
  return {
    ...c,
    lists: {
      ...c.lists,
      kex: ["curve25519-sha256", "curve25519-sha256@libssh.org"],
      hostKey: ["ssh-ed25519"],
    },
  };
}

function withLists(change: Partial<LabConfig["lists"]>) {
  return (c: LabConfig): LabConfig => {
    const f = fast(c);
    return { ...f, lists: { ...f.lists, ...change } };
  };
}

const silentAt = (point: LabPoint): FaultHooks => ({
  at: { [point]: (io: FaultIo) => io.silent() },
});
const closeAt = (point: LabPoint): FaultHooks => ({ at: { [point]: (io: FaultIo) => io.close() } });

/** An unencrypted packet header with chosen packet_length and padding_length. */
function plainPacket(length: number, padding: number, total: number): Uint8Array {
  const b = new Uint8Array(total);
  new DataView(b.buffer).setUint32(0, length);
  b[4] = padding;
  return b;
}

/** Sends `bytes` raw where the KEXINIT should be, then goes silent. */
function rawInsteadOfKexInit(bytes: Uint8Array): FaultHooks {
  return {
    at: {
      "before-kexinit": async (io) => {
        await io.raw(bytes);
        return await io.silent();
      },
    },
  };
}

/** Sends `payload` (sealed) at `point`, then goes silent. */
function sendThenSilent(point: LabPoint, payload: (io: FaultIo) => Uint8Array | Uint8Array[]) {
  return {
    at: {
      [point]: async (io: FaultIo) => {
        const p = payload(io);
        for (const m of Array.isArray(p) ? p : [p]) await io.send(m);
        return await io.silent();
      },
    },
  } satisfies FaultHooks;
}

function flipLast(wire: Uint8Array): Uint8Array {
  const out = wire.slice();
  out[out.length - 1]! ^= 0x01;
  return out;
}

/** Changes the server value (f, Q_S or S_REPLY) of the final kex reply. */
function replaceValue(change: (value: Uint8Array) => Uint8Array) {
  return (payload: Uint8Array): Uint8Array => {
    const r = splitKexReply(payload);
    return joinKexReply(r.type, r.hostKey, change(r.value), r.signature);
  };
}

function names(count: number, length: number): string[] {
  return Array.from(
    { length: count },
    (_, i) => `x${i}-`.padEnd(length - 12, "a") + "@example.com",
  );
}

const channelData = (clientId: number, data: Uint8Array) =>
  new SshWriter(data.length + 16).byte(MSG.CHANNEL_DATA).uint32(clientId).string(data).bytes();

const channelSuccess = (clientId: number) =>
  new SshWriter().byte(MSG.CHANNEL_SUCCESS).uint32(clientId).bytes();

const exitStatus = (clientId: number, status: number) =>
  new SshWriter().byte(MSG.CHANNEL_REQUEST).uint32(clientId).string("exit-status").bool(false)
    .uint32(status).bytes();

/** Acts on the exec request (pty-req and the like are answered normally). */
function onExec(act: (io: FaultIo) => Promise<boolean | void>): FaultHooks {
  return {
    at: {
      "channel-request": (io) => (io.request === "exec" ? act(io) : Promise.resolve(false)),
    },
  };
}

const ch = (io: FaultIo) => io.channel!;

// --- bounds: floods, trickles, a close during a client rekey (resource bounds) ----------------

/** A packet as sent before the first NEWKEYS: in clear, no MAC (RFC 4253 §6). */
function clearFrame(payload: Uint8Array): Uint8Array {
  let padding = 8 - ((payload.length + 5) % 8);
  if (padding < 4) padding += 8;
  const b = new Uint8Array(5 + payload.length + padding);
  new DataView(b.buffer).setUint32(0, 1 + payload.length + padding);
  b[4] = padding;
  b.set(payload, 5);
  return b;
}

/** Sends `payload` in clear, over and over (64 a write), until the client closes. */
async function floodInClear(io: FaultIo, payload: Uint8Array): Promise<never> {
  const one = clearFrame(payload);
  const batch = new Uint8Array(one.length * 64);
  for (let i = 0; i < 64; i++) batch.set(one, i * one.length);
  for (;;) await io.raw(batch); // rejects once the client has closed
}

/** Sends `payload` (sealed) over and over for `ms` (for ever when Infinity). */
async function floodSealed(io: FaultIo, payload: Uint8Array, ms = Infinity): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 64; i++) sends.push(io.send(payload));
    await Promise.all(sends); // rejects once the client has closed
  }
}

/** Sends `bytes` one byte every `everyMs`, round and round, until the client closes. */
async function trickle(io: FaultIo, bytes: Uint8Array, everyMs: number): Promise<never> {
  for (let i = 0;; i = (i + 1) % bytes.length) {
    await io.raw(bytes.subarray(i, i + 1));
    await io.sleep(everyMs);
  }
}

const debugMessage = (text: string) =>
  new SshWriter().byte(MSG.DEBUG).bool(true).string(text).string("").bytes();

const FLOOD_TEXT = "lab fault: a DEBUG message in a flood of them, ".repeat(4);

/** `debug-flood-session[:SECONDS]`: DEBUG messages during the exec, then its output. */
export function debugFloodSession(seconds = 1.5): FaultProfile {
  return {
    name: seconds === 1.5 ? "debug-flood-session" : `debug-flood-session:${seconds}`,
    summary: "floods DEBUG messages (always_display) during the session for N seconds " +
      "(debug-flood-session:N; default 1.5), then prints hi and exits 0; a client keeps a " +
      "bounded trace",
    expect: { success: true },
    config: fast,
    hooks: onExec(async (io) => {
      const c = ch(io);
      await io.send(channelSuccess(c.clientId));
      await floodSealed(io, debugMessage(FLOOD_TEXT), seconds * 1000);
      await io.send(channelData(c.clientId, enc.encode("hi\n")));
      await io.send(exitStatus(c.clientId, 0));
      await io.send(new SshWriter().byte(MSG.CHANNEL_EOF).uint32(c.clientId).bytes());
      await io.send(new SshWriter().byte(MSG.CHANNEL_CLOSE).uint32(c.clientId).bytes());
      return true;
    }),
  };
}

/** Floods, trickles and a close during a client rekey: each must end bounded in memory and time. */
const BOUNDS_FAULTS: readonly FaultProfile[] = [
  {
    name: "debug-flood-kexinit",
    summary: "sends DEBUG messages (always_display, in clear) instead of its KEXINIT, without end",
    expect: { stage: "kex", code: "kex.timeout" },
    config: fast,
    hooks: { at: { "before-kexinit": (io) => floodInClear(io, debugMessage(FLOOD_TEXT)) } },
  },
  {
    name: "kex-never-completes",
    summary: "without strict kex, answers the client's kex init with IGNORE messages (in " +
      "clear), arriving steadily without end: the key exchange never completes",
    expect: { stage: "kex", code: "kex.timeout" },
    config: (c) => ({ ...fast(c), strictKex: false }),
    hooks: {
      at: {
        "before-kex-reply": (io) =>
          floodInClear(io, new SshWriter().byte(MSG.IGNORE).string(new Uint8Array(200)).bytes()),
      },
    },
  },
  debugFloodSession(),
  {
    name: "banner-flood",
    summary: "answers the first authentication request with USERAUTH_BANNER messages, without end",
    expect: { stage: "auth", code: "auth.timeout" },
    config: fast,
    hooks: {
      at: {
        "userauth-request": async (io) => {
          const text = "lab fault: one more banner line in a flood of them\r\n".repeat(20);
          await floodSealed(
            io,
            new SshWriter().byte(MSG.USERAUTH_BANNER).string(text).string("").bytes(),
          );
          return true;
        },
      },
    },
  },
  {
    name: "trickle-version",
    summary: "sends lines before its version line one byte every 100 ms, without end",
    expect: { stage: "version", code: "version.timeout" },
    config: fast,
    hooks: { greeting: (io) => trickle(io, enc.encode("Please wait, welcome text...\r\n"), 100) },
  },
  {
    name: "trickle-packet",
    summary: "announces a 256 KiB packet where its KEXINIT should be, then sends it one byte " +
      "every 100 ms",
    expect: { stage: "kex", code: "kex.timeout" },
    config: fast,
    hooks: {
      at: {
        "before-kexinit": async (io) => {
          await io.raw(plainPacket(256 * 1024 - 4, 4, 16));
          return await trickle(io, new Uint8Array(1), 100);
        },
      },
    },
  },
  {
    name: "trickle-data-packet",
    summary: "during the session, sends a 30 KiB CHANNEL_DATA packet one byte every 100 ms",
    expect: { stage: "data", code: "data.timeout" },
    config: fast,
    hooks: onExec(async (io) => {
      const c = ch(io);
      await io.send(channelSuccess(c.clientId));
      const wire = io.sealed(channelData(c.clientId, new Uint8Array(30 * 1024).fill(0x61)));
      return await trickle(io, wire, 100);
    }),
  },
  {
    name: "rekey-close",
    summary: "sends 1.5 MiB on stderr, hi, exit status 0 and closes the channel; then closes " +
      "the connection 300 ms after the client starts a rekey (reached with -o RekeyLimit=64K)",
    expect: { success: true },
    config: fast,
    client: { rekeyLimitBytes: 64 * 1024 },
    hooks: {
      at: {
        "client-rekey": async (io) => {
          await io.sleep(300);
          return await io.close();
        },
        "channel-request": (io) => bigExecThenClose(io),
      },
    },
  },
  {
    name: "rekey-silent",
    summary: "like rekey-close, but never answers the client's rekey (and never closes)",
    expect: { success: true },
    config: fast,
    client: { rekeyLimitBytes: 64 * 1024 },
    hooks: {
      at: {
        "client-rekey": (io) => io.silent(),
        "channel-request": (io) => bigExecThenClose(io),
      },
    },
  },
];

/** At exec: 1.5 MiB on stderr (so the client adjusts its window), hi, exit 0, EOF, CLOSE. */
async function bigExecThenClose(io: FaultIo): Promise<boolean> {
  if (io.request !== "exec") return false;
  const c = ch(io);
  await io.send(channelSuccess(c.clientId));
  const block = new Uint8Array(Math.min(c.clientMaxPacket - 64, 32 * 1024)).fill(0x2e);
  for (let sent = 0; sent < 1.5 * 1024 * 1024; sent += block.length) {
    await io.send(
      new SshWriter(block.length + 20).byte(MSG.CHANNEL_EXTENDED_DATA).uint32(c.clientId)
        .uint32(1).string(block).bytes(),
    );
  }
  await io.send(channelData(c.clientId, enc.encode("hi\n")));
  await io.send(exitStatus(c.clientId, 0));
  await io.send(new SshWriter().byte(MSG.CHANNEL_EOF).uint32(c.clientId).bytes());
  await io.send(new SshWriter().byte(MSG.CHANNEL_CLOSE).uint32(c.clientId).bytes());
  return true;
}

/** Every fault profile (the parameterised `disconnect` is listed with its default code 2). */
export const FAULT_PROFILES: readonly FaultProfile[] = [
  // --- version exchange ----------------------------------------------------------------------
  {
    name: "version-garbage",
    summary: "sends a garbage version line (no protocol and software fields)",
    expect: { stage: "version", code: "version.malformed" },
    config: fast,
    hooks: { greeting: (io) => io.raw(enc.encode("SSH-%%garbage## @@ !!\r\n")) },
  },
  {
    name: "version-escape-codes",
    summary: "sends a malformed version line holding terminal escape codes and a bell; a " +
      "client must not pass them on to a terminal",
    expect: { stage: "version", code: "version.malformed" },
    config: fast,
    hooks: { greeting: (io) => io.raw(enc.encode("SSH-\x1b[2J\x1b[31m\x07garbage\r\n")) },
  },
  {
    name: "version-utf8-comment",
    summary: "puts non-ASCII UTF-8 text in the version line's comment (RFC 4253 wants US-ASCII); " +
      "the exchange hash must use the bytes as received",
    expect: { success: true },
    config: (c) => ({ ...fast(c), versionLine: "SSH-2.0-OpenSSH_9.2 Débian-交换机 ✓" }),
    hooks: {},
  },
  {
    name: "version-endless",
    summary: "sends text lines before the version line, forever",
    expect: { stage: "version", code: "version.too-many-lines" },
    config: fast,
    hooks: {
      async greeting(io) {
        for (let i = 0; i < 1_000_000; i++) {
          await io.raw(enc.encode(`Please wait, line ${i} of the welcome text...\r\n`));
          if (i % 50 === 49) await io.sleep(1);
        }
        await io.silent();
      },
    },
  },
  {
    name: "version-overlong",
    summary: "sends a 400-byte version line (RFC 4253 allows 255 with CR LF)",
    expect: { stage: "version", code: "version.line-too-long" },
    config: fast,
    hooks: { greeting: (io) => io.raw(enc.encode("SSH-2.0-Lab" + "x".repeat(389) + "\r\n")) },
  },
  {
    name: "version-nul",
    summary: "sends a version line with a NUL byte in it",
    expect: { stage: "version", code: "version.malformed" },
    config: fast,
    hooks: { greeting: (io) => io.raw(enc.encode("SSH-2.0-Lab\0Server\r\n")) },
  },
  {
    name: "version-ssh1",
    summary: "announces SSH protocol 1.5 only",
    expect: { stage: "version", code: "version.ssh1-only" },
    config: fast,
    hooks: { greeting: (io) => io.raw(enc.encode("SSH-1.5-OldServer\r\n")) },
  },
  {
    name: "version-http",
    summary: "answers like a web server",
    expect: { stage: "version", code: "version.not-ssh" },
    config: fast,
    hooks: {
      greeting: async (io) => {
        await io.raw(enc.encode("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"));
        await io.close();
      },
    },
  },
  {
    name: "silent-version",
    summary: "accepts the connection and never sends a version line",
    expect: { stage: "version", code: "version.timeout" },
    config: fast,
    hooks: silentAt("start"),
  },
  {
    name: "close-version",
    summary: "closes the connection before sending anything",
    expect: { stage: "version", code: "version.closed" },
    config: fast,
    hooks: closeAt("start"),
  },

  // --- key exchange -----------------------------------------------------------------------------
  {
    name: "silent-kexinit",
    summary: "sends its version line, then nothing (no KEXINIT)",
    expect: { stage: "kex", code: "kex.timeout" },
    config: fast,
    hooks: silentAt("before-kexinit"),
  },
  {
    name: "close-kexinit",
    summary: "closes the connection after the version exchange",
    expect: { stage: "kex", code: "kex.closed" },
    config: fast,
    hooks: closeAt("before-kexinit"),
  },
  {
    name: "silent-kex-reply",
    summary: "never answers the client's KEX_ECDH_INIT",
    expect: { stage: "kex", code: "kex.timeout" },
    config: fast,
    hooks: silentAt("before-kex-reply"),
  },
  {
    name: "close-kex-reply",
    summary: "closes the connection instead of the kex reply",
    expect: { stage: "kex", code: "kex.closed" },
    config: fast,
    hooks: closeAt("before-kex-reply"),
  },
  {
    name: "silent-newkeys",
    summary: "sends the kex reply but never NEWKEYS",
    expect: { stage: "kex", code: "kex.timeout" },
    config: fast,
    hooks: silentAt("before-newkeys"),
  },
  {
    name: "close-newkeys",
    summary: "closes the connection after the kex reply, before NEWKEYS",
    expect: { stage: "kex", code: "kex.closed" },
    config: fast,
    hooks: closeAt("before-newkeys"),
  },
  {
    name: "packet-length-zero",
    summary: "sends a packet whose packet_length is 0",
    expect: { stage: "kex", code: "kex.bad-packet" },
    config: fast,
    hooks: rawInsteadOfKexInit(plainPacket(0, 0, 8)),
  },
  {
    name: "packet-length-huge",
    summary: "sends a packet whose packet_length is 2 GiB",
    expect: { stage: "kex", code: "kex.bad-packet" },
    config: fast,
    hooks: rawInsteadOfKexInit(plainPacket(0x7fffffff, 4, 16)),
  },
  {
    name: "packet-not-block-multiple",
    summary: "sends a packet whose length is not a multiple of the block size",
    expect: { stage: "kex", code: "kex.bad-packet" },
    config: fast,
    hooks: rawInsteadOfKexInit(plainPacket(13, 4, 17)),
  },
  {
    name: "padding-too-short",
    summary: "sends a packet with 3 bytes of padding (the minimum is 4)",
    expect: { stage: "kex", code: "kex.bad-packet" },
    config: fast,
    hooks: rawInsteadOfKexInit(plainPacket(12, 3, 16)),
  },
  {
    name: "bad-mac",
    summary: "corrupts the MAC of its first encrypted packet (aes128-ctr, hmac-sha2-256)",
    expect: { stage: "auth", code: "auth.mac-error" },
    config: withLists({
      cipherC2S: ["aes128-ctr"],
      cipherS2C: ["aes128-ctr"],
      macC2S: ["hmac-sha2-256"],
      macS2C: ["hmac-sha2-256"],
    }),
    hooks: { seal: (wire, index) => (index === 1 ? flipLast(wire) : wire) },
  },
  {
    name: "bad-aead-tag",
    summary: "corrupts the Poly1305 tag of its first encrypted packet (chacha20-poly1305)",
    expect: { stage: "auth", code: "auth.mac-error" },
    config: withLists({
      cipherC2S: ["chacha20-poly1305@openssh.com"],
      cipherS2C: ["chacha20-poly1305@openssh.com"],
    }),
    hooks: { seal: (wire, index) => (index === 1 ? flipLast(wire) : wire) },
  },
  {
    name: "bad-gcm-tag",
    summary: "corrupts the GCM tag of its first encrypted packet (aes256-gcm)",
    expect: { stage: "auth", code: "auth.mac-error" },
    config: withLists({
      cipherC2S: ["aes256-gcm@openssh.com"],
      cipherS2C: ["aes256-gcm@openssh.com"],
    }),
    hooks: { seal: (wire, index) => (index === 1 ? flipLast(wire) : wire) },
  },
  {
    name: "bad-compression",
    summary: "negotiates zlib, then sends a packet whose payload is not zlib data " +
      "(reached with --legacy -o Compression=yes)",
    expect: { stage: "auth", code: "auth.compression-error" },
    config: withLists({ compressionC2S: ["zlib"], compressionS2C: ["zlib"] }),
    client: { legacy: true, algorithms: { compression: ["zlib"] } },
    hooks: {
      at: {
        "service-request": async (io) => {
          await io.sendUncompressed(
            new SshWriter().byte(MSG.SERVICE_ACCEPT).string("ssh-userauth").bytes(),
          );
          return await io.silent();
        },
      },
    },
  },
  {
    name: "bad-signature",
    summary: "signs the exchange hash wrongly (one bit of the Ed25519 signature flipped)",
    expect: { stage: "kex", code: "kex.bad-signature" },
    config: fast,
    hooks: {
      signature(blob) {
        const out = blob.slice();
        out[out.length - 5]! ^= 0x01;
        return out;
      },
    },
  },
  {
    name: "kexinit-empty-lists",
    summary: "sends a KEXINIT whose name-lists are all empty",
    expect: { stage: "kex", code: "kex.no-common-kex" },
    config: fast,
    hooks: {
      kexInit: () =>
        encodeKexInit({
          kex: [],
          hostKey: [],
          cipherC2S: [],
          cipherS2C: [],
          macC2S: [],
          macS2C: [],
          compressionC2S: [],
          compressionS2C: [],
        }),
    },
  },
  {
    name: "kexinit-absurd-lists",
    summary: "sends a KEXINIT with 1000 names in every list",
    expect: { stage: "kex", code: "kex.bad-kexinit" },
    config: fast,
    hooks: {
      kexInit: (lists) =>
        encodeKexInit({
          kex: [...lists.kex, ...names(1000, 24)],
          hostKey: [...lists.hostKey, ...names(1000, 24)],
          cipherC2S: names(1000, 24),
          cipherS2C: names(1000, 24),
          macC2S: names(1000, 24),
          macS2C: names(1000, 24),
          compressionC2S: names(1000, 24),
          compressionS2C: names(1000, 24),
        }),
    },
  },
  {
    name: "kexinit-huge-name",
    summary: "sends a KEXINIT whose kex list is one 70 KB name",
    expect: { stage: "kex", code: "kex.bad-kexinit" },
    config: fast,
    hooks: {
      kexInit: (lists) => encodeKexInit({ ...lists, kex: ["k".repeat(70_000), ...lists.kex] }),
    },
  },
  {
    name: "kexinit-empty-names",
    summary: "sends name-lists with empty names (a trailing comma as libssh 0.10 does, and `a,,b`)",
    expect: { success: true },
    config: fast,
    hooks: {
      kexInit: (lists) =>
        encodeKexInit({
          ...lists,
          kex: [lists.kex[0]!, "", ...lists.kex.slice(1)],
          cipherC2S: [...lists.cipherC2S, ""],
          cipherS2C: [...lists.cipherS2C, ""],
          macC2S: ["", ...lists.macC2S],
        }),
    },
  },
  {
    name: "hostkey-ecdsa-only",
    summary: "shows only an ECDSA P-256 host key (an impostor of a host known by its Ed25519 " +
      "key): fine for a client that knows nothing of the host, 'changed' for one that does",
    expect: { success: true },
    config: withLists({ hostKey: ["ecdsa-sha2-nistp256"] }),
    hooks: {},
  },
  {
    name: "hostkey-rsa-768",
    summary: "presents a 768-bit RSA host key (below OpenSSH's 1024-bit floor) in the kex reply",
    expect: { stage: "kex", code: "kex.host-key-too-small" },
    config: withLists({ hostKey: ["rsa-sha2-256", "rsa-sha2-512"] }),
    hooks: {
      kexReply(payload) {
        const r = splitKexReply(payload);
        // A well-formed public key with a 768-bit modulus; the check must come before the
        // signature is verified (which would fail too: the lab signs with its real key).
        const small = new SshWriter().string("ssh-rsa").mpint(65537n)
          .mpint((1n << 767n) | 0xabcdefn).bytes();
        return joinKexReply(r.type, small, r.value, r.signature);
      },
    },
  },
  {
    name: "kexinit-no-common-cipher",
    summary: "offers only 3des-cbc, which a client does not offer by default",
    expect: { stage: "kex", code: "kex.no-common-cipherC2S" },
    config: withLists({ cipherC2S: ["3des-cbc"], cipherS2C: ["3des-cbc"] }),
    hooks: {},
  },
  {
    name: "strict-kex-ignore-first",
    summary: "offers strict kex but sends IGNORE before its KEXINIT (the Terrapin pattern)",
    expect: { stage: "kex", code: "kex.strict-violation" },
    config: fast,
    hooks: {
      at: {
        "before-kexinit": async (io) => {
          await io.send(new SshWriter().byte(MSG.IGNORE).string("terrapin").bytes());
        },
      },
    },
  },
  {
    name: "strict-kex-debug-before-newkeys",
    summary: "offers strict kex but sends DEBUG between its kex reply and NEWKEYS",
    expect: { stage: "kex", code: "kex.strict-violation" },
    config: fast,
    hooks: {
      at: {
        "before-newkeys": async (io) => {
          await io.send(
            new SshWriter().byte(MSG.DEBUG).bool(true).string("out of order").string("").bytes(),
          );
        },
      },
    },
  },
  {
    name: "ignore-flood",
    summary: "without strict kex, sends IGNORE messages instead of NEWKEYS, endlessly (20 s)",
    expect: { stage: "kex", code: "kex.timeout" },
    config: (c) => ({ ...fast(c), strictKex: false }),
    hooks: {
      at: {
        "before-newkeys": async (io) => {
          const ignore = new SshWriter().byte(MSG.IGNORE).string(new Uint8Array(512)).bytes();
          const end = performance.now() + 20_000;
          for (let i = 0; performance.now() < end; i++) {
            await io.send(ignore);
            if (i % 20 === 19) await io.sleep(1);
          }
          return await io.silent();
        },
      },
    },
  },
  {
    name: "wrong-guess",
    summary: "sends a wrongly guessed first kex packet (first_kex_packet_follows); " +
      "a client must ignore it and carry on",
    expect: { success: true },
    config: withLists({ kex: ["ecdh-sha2-nistp256", "curve25519-sha256"] }),
    hooks: {
      guess: () =>
        new SshWriter().byte(MSG.KEXDH_REPLY).string("a wrong guess, to be ignored").bytes(),
    },
  },
  {
    name: "dh-f-one",
    summary: "answers diffie-hellman-group14-sha256 with f = 1",
    expect: { stage: "kex", code: "kex.exchange-failed" },
    config: withLists({ kex: ["diffie-hellman-group14-sha256"] }),
    hooks: { kexReply: replaceValue(() => new Uint8Array([1])) },
  },
  {
    name: "gex-composite-modulus",
    summary: "answers a group exchange with a 2048-bit modulus that is not a prime (the square " +
      "of Oakley group 2's 1024-bit prime: odd, in range, no small factor)",
    expect: { stage: "kex", code: "kex.exchange-failed" },
    config: withLists({ kex: ["diffie-hellman-group-exchange-sha256"] }),
    hooks: {
      kexGroup(payload) {
        const r = new SshReader(payload, "KEX_DH_GEX_GROUP");
        const type = r.byte();
        r.mpint();
        const g = r.mpint();
        const p2 = bytesToBigint(new Uint8Array(getDiffieHellman("modp2").getPrime()));
        return new SshWriter().byte(type).mpint(p2 * p2).mpint(g).bytes();
      },
    },
  },
  {
    name: "x25519-zero-point",
    summary: "answers curve25519-sha256 with the all-zero X25519 point",
    expect: { stage: "kex", code: "kex.exchange-failed" },
    config: withLists({ kex: ["curve25519-sha256"] }),
    hooks: { kexReply: replaceValue(() => new Uint8Array(32)) },
  },
  {
    name: "ecdh-off-curve",
    summary: "answers ecdh-sha2-nistp256 with a point that is not on the curve",
    expect: { stage: "kex", code: "kex.exchange-failed" },
    config: withLists({ kex: ["ecdh-sha2-nistp256"] }),
    hooks: { kexReply: replaceValue((v) => flipLast(v)) },
  },
  {
    name: "truncated-kex-reply",
    summary: "sends a kex reply cut short by 10 bytes",
    expect: { stage: "kex", code: "kex.exchange-failed" },
    config: fast,
    hooks: { kexReply: (p) => p.slice(0, p.length - 10) },
  },
  {
    name: "kex-reply-wrong-message",
    summary: "sends its kex reply as message 33 instead of 31",
    expect: { stage: "kex", code: "kex.exchange-failed" },
    config: fast,
    hooks: {
      kexReply(p) {
        const out = p.slice();
        out[0] = 33;
        return out;
      },
    },
  },

  // --- service and authentication ---------------------------------------------------------------
  {
    name: "ext-info-absurd",
    summary: "sends an EXT_INFO claiming 100000 extensions",
    expect: { stage: "auth", code: "auth.bad-message" },
    config: fast,
    hooks: {
      at: {
        "after-newkeys": async (io) => {
          await io.send(new SshWriter().byte(MSG.EXT_INFO).uint32(100_000).bytes());
        },
      },
    },
  },
  {
    name: "silent-service",
    summary: "never answers the ssh-userauth service request",
    expect: { stage: "auth", code: "auth.timeout" },
    config: fast,
    hooks: silentAt("service-request"),
  },
  {
    name: "truncated-service-accept",
    summary: "sends a SERVICE_ACCEPT whose service name is cut short",
    expect: { stage: "auth", code: "auth.service-refused" },
    config: fast,
    hooks: sendThenSilent(
      "service-request",
      () => concatBytes(new Uint8Array([MSG.SERVICE_ACCEPT, 0, 0, 0, 12]), enc.encode("ssh-")),
    ),
  },
  {
    name: "silent-auth",
    summary: "accepts the service, then never answers an authentication request",
    expect: { stage: "auth", code: "auth.timeout" },
    config: fast,
    hooks: silentAt("userauth-request"),
  },
  {
    name: "close-auth",
    summary: "closes the connection on the first authentication request",
    expect: { stage: "auth", code: "auth.connection-closed" },
    config: fast,
    hooks: closeAt("userauth-request"),
  },
  {
    name: "truncated-userauth-failure",
    summary: "answers with a USERAUTH_FAILURE whose method list is cut short",
    expect: { stage: "auth", code: "auth.protocol" },
    config: fast,
    hooks: sendThenSilent(
      "userauth-request",
      () => concatBytes(new Uint8Array([MSG.USERAUTH_FAILURE, 0, 0, 0, 40]), enc.encode("pass")),
    ),
  },

  // --- channels ---------------------------------------------------------------------------------
  {
    name: "silent-channel-open",
    summary: "never answers the client's CHANNEL_OPEN",
    expect: { stage: "session", code: "session.timeout" },
    config: fast,
    hooks: silentAt("channel-open"),
  },
  {
    name: "close-channel-open",
    summary: "closes the connection on the client's CHANNEL_OPEN",
    expect: { stage: "session", code: "session.connection-closed" },
    config: fast,
    hooks: closeAt("channel-open"),
  },
  {
    name: "silent-channel-request",
    summary: "opens the channel, then never answers the exec (or shell) request",
    expect: { stage: "session", code: "session.timeout" },
    config: fast,
    hooks: {
      at: {
        "channel-request": (io) =>
          io.request === "exec" || io.request === "shell" ? io.silent() : Promise.resolve(false),
      },
    },
  },
  {
    name: "channel-open-refused",
    summary: "refuses to open a session channel (administratively prohibited)",
    expect: { stage: "session", code: "session.channel-open-refused" },
    config: fast,
    hooks: sendThenSilent(
      "channel-open",
      (io) =>
        new SshWriter().byte(MSG.CHANNEL_OPEN_FAILURE).uint32(ch(io).clientId).uint32(1)
          .string("sessions are not allowed in the lab").string("").bytes(),
    ),
  },
  {
    name: "truncated-channel-open-confirmation",
    summary: "confirms the channel with a message missing its window and packet sizes",
    expect: { stage: "session", code: "session.malformed-message" },
    config: fast,
    hooks: sendThenSilent(
      "channel-open",
      (io) =>
        new SshWriter().byte(MSG.CHANNEL_OPEN_CONFIRMATION).uint32(ch(io).clientId).uint32(0)
          .bytes(),
    ),
  },
  {
    name: "exec-refused",
    summary: "refuses every exec request",
    expect: { stage: "session", code: "session.exec-refused" },
    config: (c) => ({ ...fast(c), exec: false }),
    hooks: {},
  },
  {
    name: "window-exceeded",
    summary: "sends more channel data than the client's window allows",
    expect: { stage: "data", code: "data.window-exceeded" },
    config: fast,
    hooks: onExec(async (io) => {
      const c = ch(io);
      const size = Math.min(c.clientMaxPacket, 32 * 1024);
      const block = new Uint8Array(size).fill(0x61);
      for (let sent = 0; sent <= c.clientWindow; sent += size) {
        await io.send(channelData(c.clientId, block));
      }
      return await io.silent();
    }),
  },
  {
    name: "max-packet-exceeded",
    summary: "sends one CHANNEL_DATA larger than the client's maximum packet",
    expect: { stage: "data", code: "data.packet-too-large" },
    config: fast,
    hooks: onExec(async (io) => {
      const c = ch(io);
      await io.send(channelData(c.clientId, new Uint8Array(c.clientMaxPacket + 1).fill(0x62)));
      return await io.silent();
    }),
  },
  {
    name: "data-unknown-channel",
    summary: "sends CHANNEL_DATA for a channel the client never opened",
    expect: { stage: "data", code: "data.unknown-channel" },
    config: fast,
    hooks: onExec(async (io) => {
      await io.send(channelData(ch(io).clientId + 7, enc.encode("hello?\n")));
      return await io.silent();
    }),
  },
  {
    name: "window-adjust-overflow",
    summary: "grows the client's send window beyond 2^32-1 bytes",
    expect: { stage: "data", code: "data.window-overflow" },
    config: fast,
    hooks: onExec(async (io) => {
      const c = ch(io);
      await io.send(channelSuccess(c.clientId));
      await io.send(
        new SshWriter().byte(MSG.CHANNEL_WINDOW_ADJUST).uint32(c.clientId).uint32(0xffffffff)
          .bytes(),
      );
      return await io.silent();
    }),
  },
  {
    name: "exit-status-twice",
    summary: "reports exit status 3, then exit status 0; a client keeps the first",
    expect: { success: true, exitStatus: 3 },
    config: fast,
    hooks: onExec(async (io) => {
      const c = ch(io);
      await io.send(channelSuccess(c.clientId));
      await io.send(channelData(c.clientId, enc.encode("hi\n")));
      await io.send(exitStatus(c.clientId, 3));
      await io.send(exitStatus(c.clientId, 0));
      await io.send(new SshWriter().byte(MSG.CHANNEL_EOF).uint32(c.clientId).bytes());
      await io.send(new SshWriter().byte(MSG.CHANNEL_CLOSE).uint32(c.clientId).bytes());
      return true;
    }),
  },
  // --- data after EOF (issue 12, item 11) ------------------------------------------------------
  {
    name: "data-after-eof",
    summary: "sends half of each command's output, then EOF, then the other half (RFC 4254 " +
      "forbids data after EOF; a client should still deliver it, as a traced quirk)",
    expect: { success: true },
    config: (c) => ({ ...fast(c), lateData: "after-eof" }),
    hooks: {},
  },
  {
    name: "eof-while-waiting",
    summary: "sends EOF as soon as a command ends, while its output still waits for window " +
      "space, then the rest as the client opens the window (a client that stops crediting the " +
      "window at EOF hangs)",
    expect: { success: true },
    config: (c) => ({ ...fast(c), lateData: "eof-while-waiting" }),
    hooks: {},
  },
  // --- terminal modes (issue 12, item 12) ---------------------------------------------------
  {
    name: "emulated-terminal",
    summary: "emulates a pty from the client's terminal modes, as Apache MINA SSHD does: Enter " +
      "(CR) ends a line only with ICRNL, LF is written as CR LF only with OPOST and ONLCR " +
      "(`stty` shows the modes received); a client sending no modes gets a shell that never " +
      "sees Enter",
    expect: { success: true },
    config: (c) => ({ ...fast(c), terminal: "emulated" }),
    hooks: {},
  },
  disconnectProfile(2),
  // --- hostile text: peer strings that would drive a terminal printed raw (issue 12, item 5) ---
  {
    name: "hostile-text",
    summary: "puts terminal escapes (screen clear, OSC 52 clipboard write, bell, CR overwrite, " +
      "C1 CSI, right-to-left override) in its pre-version lines, version comment, banner, " +
      "keyboard-interactive name/instruction/prompt, a DEBUG message (with invalid UTF-8) and an " +
      "exit-signal message",
    expect: { success: true },
    config: hostileConfig,
    hooks: {
      at: {
        "after-newkeys": async (io) => {
          // Ends with two bytes that are not UTF-8 (a Latin-1 "ÿ", half a sequence).
          const text = concatBytes(enc.encode(HOSTILE_TEXT), new Uint8Array([0xff, 0xc3]));
          await io.send(new SshWriter().byte(MSG.DEBUG).bool(true).string(text).string("").bytes());
        },
        "channel-request": async (io) => {
          if (io.request !== "exec") return false;
          const c = ch(io);
          await io.send(channelSuccess(c.clientId));
          await io.send(channelData(c.clientId, enc.encode("hi\n")));
          await io.send(exitStatus(c.clientId, 0));
          await io.send(
            new SshWriter().byte(MSG.CHANNEL_REQUEST).uint32(c.clientId).string("exit-signal")
              .bool(false).string("TERM").bool(false).string(HOSTILE_TEXT).string("").bytes(),
          );
          await io.send(new SshWriter().byte(MSG.CHANNEL_EOF).uint32(c.clientId).bytes());
          await io.send(new SshWriter().byte(MSG.CHANNEL_CLOSE).uint32(c.clientId).bytes());
          return true;
        },
      },
    },
  },
  {
    name: "hostile-text-disconnect",
    summary: "hostile-text's version and pre-version lines, then disconnects at the first " +
      "authentication request with terminal escapes in the description",
    expect: { stage: "auth", code: "auth.disconnect" },
    config: hostileConfig,
    hooks: {
      at: {
        "userauth-request": async (io) => {
          await io.send(
            new SshWriter().byte(MSG.DISCONNECT).uint32(2).string(HOSTILE_TEXT).string("").bytes(),
          );
          return await io.close();
        },
      },
    },
  },
  {
    name: "hostile-text-open-failure",
    summary: "hostile-text's version and pre-version lines, then refuses the session channel " +
      "with terminal escapes in the description",
    expect: { stage: "session", code: "session.channel-open-refused" },
    config: hostileConfig,
    hooks: sendThenSilent(
      "channel-open",
      (io) =>
        new SshWriter().byte(MSG.CHANNEL_OPEN_FAILURE).uint32(ch(io).clientId).uint32(1)
          .string(HOSTILE_TEXT).string("").bytes(),
    ),
  },
  {
    name: "hostile-text-password-change",
    summary: "hostile-text's version and pre-version lines, then answers the password with a " +
      "password change request whose prompt holds terminal escapes",
    expect: { stage: "auth", code: "auth.password-change-requested" },
    config: (c) => ({ ...hostileConfig(c), authMethods: ["password"] }),
    hooks: {
      at: {
        "userauth-request": async (io) => {
          if (io.method !== "password") return false;
          await io.send(
            new SshWriter().byte(MSG.USERAUTH_PASSWD_CHANGEREQ).string(HOSTILE_TEXT).string("")
              .bytes(),
          );
          return await io.silent();
        },
      },
    },
  },

  // --- bounds: floods, trickles, a close during a client rekey --------------------------------
  ...BOUNDS_FAULTS,
  // --- devices for the doctor's rungs (faults_doctor.ts) ---------------------------------------
  ...DOCTOR_FAULTS,
];

/**
 * Text that drives a terminal when printed raw: a screen clear, an OSC 52 clipboard write, a
 * bell, a CR that overwrites the line with a fake one, a C1 CSI (U+009B) colour, a right-to-left
 * override, and a bidi isolate, around Chinese that must stay readable.
 */
export const HOSTILE_TEXT =
  "欢迎\x1b[2J\x1b]52;c;c3NoIHB3bmVk\x07\rFAKE\x9b31m\u202eevil\u2066交换机";

/** C0 controls only: a version line must stay ASCII (its bytes enter the exchange hash). */
const HOSTILE_ASCII = "\x1b[2J\x1b]52;c;c3NoIHB3bmVk\x07\x1b[31m";

/** The hostile-text profiles' configuration: peer text with terminal escapes everywhere. */
function hostileConfig(c: LabConfig): LabConfig {
  return {
    ...fast(c),
    versionLine: `SSH-2.0-Lab_1.0 ${HOSTILE_ASCII}comment`,
    preVersionLines: [HOSTILE_TEXT, `pre-version ${HOSTILE_ASCII}line`],
    banner: `${HOSTILE_TEXT}\r\n第二行\tok\r\n`,
    authMethods: ["keyboard-interactive"],
    kbdInteractive: {
      name: HOSTILE_TEXT,
      instruction: `${HOSTILE_TEXT}\nline 2`,
      prompt: `Password ${HOSTILE_TEXT}: `,
    },
  };
}

/** The parameterised `disconnect:N` profile (N = 1..15, the RFC 4253 reason codes). */
export function disconnectProfile(code: number): FaultProfile {
  const reason = DISCONNECT_REASONS[code] ?? "UNKNOWN";
  return {
    name: code === 2 ? "disconnect" : `disconnect:${code}`,
    summary: "disconnects on the first authentication request with reason code N " +
      "(disconnect:N, N = 1..15; plain disconnect uses 2)" +
      (code === 2 ? "" : `; here ${reason} (${code})`),
    expect: { stage: "auth", code: "auth.disconnect" },
    config: fast,
    hooks: {
      at: {
        "userauth-request": async (io) => {
          await io.send(
            new SshWriter().byte(MSG.DISCONNECT).uint32(code)
              .string(`lab fault: disconnect with reason ${code}`).string("").bytes(),
          );
          return await io.close();
        },
      },
    },
  };
}

/** The fault profile called `name` (including `disconnect:N`), or undefined. */
export function findFault(name: string): FaultProfile | undefined {
  const m = /^disconnect:(\d{1,2})$/.exec(name);
  if (m) {
    const code = Number(m[1]);
    return code >= 1 && code <= 15 ? disconnectProfile(code) : undefined;
  }
  const flood = /^debug-flood-session:(\d{1,3})$/.exec(name);
  if (flood) return debugFloodSession(Number(flood[1]));
  return FAULT_PROFILES.find((f) => f.name === name);
}
