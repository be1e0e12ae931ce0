/**
 * Fault profiles of channels (RFC 4254): opens, requests, data after EOF, terminal modes.
 * @module
 */

import { SshWriter } from "../../wire/buffer.ts";
import { MSG } from "../../wire/messages.ts";
import type { FaultProfile } from "./mod.ts";
import {
  ch,
  channelData,
  channelSuccess,
  closeAt,
  enc,
  exitStatus,
  fast,
  onExec,
  sendThenSilent,
  silentAt,
} from "./_helpers.ts";

/** Faults in channels, data after EOF and terminal modes. */
export const CHANNEL_FAULTS: readonly FaultProfile[] = [
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
];
