/**
 * Fault profiles whose peer text (version, banner, prompts, errors) would drive a terminal printed
 * raw (issue 12, item 5).
 * @module
 */

import { concatBytes, SshWriter } from "../../wire/buffer.ts";
import { MSG } from "../../wire/messages.ts";
import type { LabConfig } from "../types.ts";
import type { FaultProfile } from "./mod.ts";
import {
  ch,
  channelData,
  channelSuccess,
  enc,
  exitStatus,
  fast,
  sendThenSilent,
} from "./_helpers.ts";

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
/** Peer strings with terminal escapes, in every place a peer sends text. */
export const HOSTILE_FAULTS: readonly FaultProfile[] = [
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
];
