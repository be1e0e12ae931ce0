/**
 * Building blocks shared by the fault profiles of this folder: configuration changes, hooks
 * that go silent or close at a point, raw and sealed packets, and channel messages.
 * @module
 */

import { SshWriter } from "../../wire/buffer.ts";
import { MSG } from "../../wire/messages.ts";
import { joinKexReply, splitKexReply } from "../kex_server.ts";
import type { FaultHooks, FaultIo, LabConfig, LabPoint } from "../types.ts";

export const enc = new TextEncoder();

/** Curve25519 and an Ed25519 host key: cheap to run, offered by every client. */
export function fast(c: LabConfig): LabConfig {
  return {
    ...c,
    lists: {
      ...c.lists,
      kex: ["curve25519-sha256", "curve25519-sha256@libssh.org"],
      hostKey: ["ssh-ed25519"],
    },
  };
}

export function withLists(change: Partial<LabConfig["lists"]>) {
  return (c: LabConfig): LabConfig => {
    const f = fast(c);
    return { ...f, lists: { ...f.lists, ...change } };
  };
}

/** Greets with `line` (raw bytes, CR LF included) instead of the version line. */
export const greetWith = (line: string): FaultHooks => ({
  greeting: (io) => io.raw(enc.encode(line)),
});

export const silentAt = (point: LabPoint): FaultHooks => ({
  at: { [point]: (io: FaultIo) => io.silent() },
});
export const closeAt = (point: LabPoint): FaultHooks => ({
  at: { [point]: (io: FaultIo) => io.close() },
});

/** An unencrypted packet header with chosen packet_length and padding_length. */
export function plainPacket(length: number, padding: number, total: number): Uint8Array {
  const b = new Uint8Array(total);
  new DataView(b.buffer).setUint32(0, length);
  b[4] = padding;
  return b;
}

/** Unencrypted packets that break RFC 4253 §6 framing (for the plaintext phase). */
export function badPacket(
  kind: "zero-length" | "huge-length" | "not-block-multiple" | "short-padding",
): Uint8Array {
  switch (kind) {
    case "zero-length":
      return plainPacket(0, 0, 8);
    case "huge-length":
      return plainPacket(0x7fffffff, 4, 16);
    case "not-block-multiple":
      return plainPacket(13, 4, 17); // 4 + 13 is not a multiple of 8
    case "short-padding":
      return plainPacket(12, 3, 16); // 8 bytes of payload, 3 of padding
  }
}

/** Sends `bytes` raw where the KEXINIT should be, then goes silent. */
export function rawInsteadOfKexInit(bytes: Uint8Array): FaultHooks {
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
export function sendThenSilent(
  point: LabPoint,
  payload: (io: FaultIo) => Uint8Array | Uint8Array[],
) {
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

export function flipLast(wire: Uint8Array): Uint8Array {
  const out = wire.slice();
  out[out.length - 1]! ^= 0x01;
  return out;
}

/** Corrupts the last byte (the MAC or AEAD tag) of the first packet sealed with the new keys. */
export const corruptFirstSealed: FaultHooks = {
  seal: (wire, index) => (index === 1 ? flipLast(wire) : wire),
};

/** Changes the server value (f, Q_S or S_REPLY) of the final kex reply. */
export function replaceValue(change: (value: Uint8Array) => Uint8Array) {
  return (payload: Uint8Array): Uint8Array => {
    const r = splitKexReply(payload);
    return joinKexReply(r.type, r.hostKey, change(r.value), r.signature);
  };
}

export function names(count: number, length: number): string[] {
  return Array.from(
    { length: count },
    (_, i) => `x${i}-`.padEnd(length - 12, "a") + "@example.com",
  );
}

export const channelData = (clientId: number, data: Uint8Array) =>
  new SshWriter(data.length + 16).byte(MSG.CHANNEL_DATA).uint32(clientId).string(data).bytes();

export const channelSuccess = (clientId: number) =>
  new SshWriter().byte(MSG.CHANNEL_SUCCESS).uint32(clientId).bytes();

export const exitStatus = (clientId: number, status: number) =>
  new SshWriter().byte(MSG.CHANNEL_REQUEST).uint32(clientId).string("exit-status").bool(false)
    .uint32(status).bytes();

/** Acts on the exec request (pty-req and the like are answered normally). */
export function onExec(act: (io: FaultIo) => Promise<boolean | void>): FaultHooks {
  return {
    at: {
      "channel-request": (io) => (io.request === "exec" ? act(io) : Promise.resolve(false)),
    },
  };
}

export const ch = (io: FaultIo) => io.channel!;
