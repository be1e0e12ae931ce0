/**
 * Fault profiles of resource bounds: floods, trickles, a close during a client rekey.
 * @module
 */

import { SshWriter } from "../../wire/buffer.ts";
import { MSG } from "../../wire/messages.ts";
import type { FaultIo } from "../types.ts";
import type { FaultProfile } from "./mod.ts";
import {
  ch,
  channelData,
  channelSuccess,
  enc,
  exitStatus,
  fast,
  onExec,
  plainPacket,
} from "./_helpers.ts";

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

const globalRequest = new SshWriter().byte(MSG.GLOBAL_REQUEST).string("keepalive@openssh.com")
  .bool(true).bytes();

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
export const BOUNDS_FAULTS: readonly FaultProfile[] = [
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
    name: "reply-flood-session",
    summary: "on the client's CHANNEL_OPEN, floods global requests that want a reply and reads " +
      "none of the answers; a client must not queue answers without bound",
    expect: { stage: "session", code: "session.reply-flood" },
    config: fast,
    hooks: { at: { "channel-open": (io) => floodSealed(io, globalRequest).then(() => true) } },
  },
  {
    name: "reply-flood",
    summary: "answers the exec, then floods channel requests that want a reply and reads none " +
      "of the answers; a client must not queue answers without bound",
    expect: { stage: "data", code: "data.reply-flood" },
    config: fast,
    hooks: onExec(async (io) => {
      const c = ch(io);
      await io.send(channelSuccess(c.clientId));
      const request = new SshWriter().byte(MSG.CHANNEL_REQUEST).uint32(c.clientId)
        .string("keepalive@openssh.com").bool(true).bytes();
      await floodSealed(io, request);
      return true;
    }),
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
