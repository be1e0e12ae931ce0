/**
 * Fault profiles of the version exchange (RFC 4253 §4.2).
 * @module
 */

import type { FaultProfile } from "./mod.ts";
import { closeAt, enc, fast, greetWith, silentAt } from "./_helpers.ts";

/** Faults in the version exchange. */
export const VERSION_FAULTS: readonly FaultProfile[] = [
  {
    name: "version-garbage",
    summary: "sends a garbage version line (no protocol and software fields)",
    expect: { stage: "version", code: "version.malformed" },
    config: fast,
    hooks: greetWith("SSH-%%garbage## @@ !!\r\n"),
  },
  {
    name: "version-escape-codes",
    summary: "sends a malformed version line holding terminal escape codes and a bell; a " +
      "client must not pass them on to a terminal",
    expect: { stage: "version", code: "version.malformed" },
    config: fast,
    hooks: greetWith("SSH-\x1b[2J\x1b[31m\x07garbage\r\n"),
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
    hooks: greetWith("SSH-2.0-Lab" + "x".repeat(389) + "\r\n"),
  },
  {
    name: "version-nul",
    summary: "sends a version line with a NUL byte in it",
    expect: { stage: "version", code: "version.malformed" },
    config: fast,
    hooks: greetWith("SSH-2.0-Lab\0Server\r\n"),
  },
  {
    name: "version-ssh1",
    summary: "announces SSH protocol 1.5 only",
    expect: { stage: "version", code: "version.ssh1-only" },
    config: fast,
    hooks: greetWith("SSH-1.5-OldServer\r\n"),
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
];
