/** Protocol version exchange (RFC 4253 §4.2). @module */

import { SshError } from "../errors/mod.ts";
import type { Tracer } from "../trace.ts";
import { decodeText } from "../wire/buffer.ts";
import { type BufferedReader, lineBytes } from "./reader.ts";

/** Limits on what a server may send before its version line. */
export const VERSION_LIMITS = {
  /** Lines of other text accepted before the version line. */
  maxPreVersionLines: 64,
  /** Longest line accepted (RFC 4253 allows 255 for the version line; banners may be longer). */
  maxLineLength: 1024,
  /** Longest version line, CR LF included (RFC 4253 §4.2). */
  maxVersionLength: 255,
};

/** The server's identification, parsed. */
export interface ServerVersion {
  /** The line decoded as UTF-8 (invalid bytes replaced), for display and parsing. */
  line: string;
  /** The line exactly as received, without CR LF: V_S in the exchange hash (RFC 4253 §8). */
  bytes: Uint8Array;
  protocol: string;
  software: string;
  comments: string | null;
  preVersionLines: string[];
  note: string | null;
}

/**
 * OpenSSH's one-line refusals, sent instead of its version line just before it closes:
 * `penalty` is PerSourcePenalties (OpenSSH 9.8+ blocks an address for a while after
 * unauthenticated disconnects, failed logins or crashes), `maxstartups` too many unauthenticated
 * connections at once (MaxStartups).
 */
export function openSshRefusal(line: string): "penalty" | "maxstartups" | null {
  if (line === "Not allowed at this time") return "penalty";
  if (line === "Exceeded MaxStartups") return "maxstartups";
  return null;
}

/** What a non-SSH greeting looks like, to explain "this is not an SSH server". */
export function recogniseGreeting(line: string): string | null {
  if (/^HTTP\/\d/i.test(line) || /^<(!doctype|html)/i.test(line)) return "an HTTP server";
  if (/^220[ -].*(smtp|mail|esmtp)/i.test(line)) return "an SMTP mail server";
  if (/^220[ -]/.test(line)) return "an FTP or SMTP server (it greets with 220)";
  if (/^\+OK/.test(line)) return "a POP3 mail server";
  if (/^\* OK/.test(line)) return "an IMAP mail server";
  // Telnet's IAC WILL / IAC DO, as raw bytes or as decodeText() keeps them (U+DCFF U+DCFB…).
  if (/\xff[\xfb\xfd]|\udcff[\udcfb\udcfd]/.test(line)) return "a telnet server";
  if (/login:\s*$/i.test(line) || /username:\s*$/i.test(line)) return "a telnet-style login prompt";
  return null;
}

/** Parses and checks a version line (without line ending). */
export function parseVersionLine(
  line: string,
): Omit<ServerVersion, "preVersionLines" | "bytes"> {
  const m = /^SSH-([^-\s]*)-(.*)$/.exec(line);
  if (!m) {
    throw new SshError(
      "version",
      "version.malformed",
      `malformed version line "${excerpt(line)}"`,
      { versionLine: excerpt(line) },
    );
  }
  const protocol = m[1]!;
  let software = m[2]!;
  let comments: string | null = null;
  const sp = software.indexOf(" ");
  if (sp >= 0) {
    comments = software.slice(sp + 1);
    software = software.slice(0, sp);
  }
  if (protocol === "2.0") return { line, protocol, software, comments, note: null };
  if (protocol === "1.99") {
    return {
      line,
      protocol,
      software,
      comments,
      note: "SSH-1 compatible server (SSH-1.99), using 2.0",
    };
  }
  if (protocol.startsWith("1.")) {
    throw new SshError(
      "version",
      "version.ssh1-only",
      `the server speaks only SSH protocol ${
        excerpt(protocol)
      } (SSH-1), which is broken and unsupported`,
      { versionLine: line },
    );
  }
  throw new SshError(
    "version",
    "version.unsupported",
    `the server announces protocol version ${excerpt(protocol)}; only 2.0 (and 1.99) are supported`,
    { versionLine: line },
  );
}

/**
 * Reads lines until the server's version line. Lines before it are kept (bounded in number and
 * length) and traced.
 */
export async function readServerVersion(
  reader: BufferedReader,
  tracer: Tracer,
): Promise<ServerVersion> {
  const pre: string[] = [];
  for (;;) {
    const line = await reader.readLine(VERSION_LIMITS.maxLineLength);
    if (line === null) {
      const looks = pre.length ? recogniseGreeting(pre[0]!) : null;
      throw new SshError(
        "version",
        pre.length ? "version.not-ssh" : "version.closed",
        pre.length
          ? `the server closed the connection without sending an SSH version line` +
            (looks ? `; it looks like ${looks}` : "")
          : "the server closed the connection before sending anything",
        { preVersionLines: pre },
      );
    }
    if (typeof line !== "string") {
      throw new SshError(
        "version",
        "version.line-too-long",
        `the server sent a line longer than ${VERSION_LIMITS.maxLineLength} bytes before its ` +
          `version line (starts "${excerpt(line.overlong)}")`,
        { preVersionLines: pre },
      );
    }
    if (line.startsWith("SSH-")) {
      const bytes = lineBytes(line);
      // Comments may carry UTF-8 (or other 8-bit) text: shown decoded, hashed as received.
      const text = decodeText(bytes);
      if (line.length + 2 > VERSION_LIMITS.maxVersionLength) {
        throw new SshError(
          "version",
          "version.line-too-long",
          `the server's version line is ${line.length} bytes; at most 253 are allowed`,
          { versionLine: line },
        );
      }
      if (line.includes("\0")) {
        throw new SshError(
          "version",
          "version.malformed",
          "the server's version line contains a NUL byte",
          { versionLine: excerpt(line) },
        );
      }
      const parsed = parseVersionLine(text);
      tracer.emit({
        stage: "version",
        type: "received",
        line: text,
        protocol: parsed.protocol,
        software: parsed.software,
        comments: parsed.comments,
        note: parsed.note,
      });
      return { ...parsed, bytes, preVersionLines: pre };
    }
    // Lines before the version are text for people (banners, refusals): decoded as UTF-8 with
    // invalid bytes kept visible, as the version line is.
    const text = decodeText(lineBytes(line));
    pre.push(text);
    tracer.emit({ stage: "version", type: "pre-version-line", line: text });
    const refusal = openSshRefusal(text);
    if (refusal) {
      throw new SshError(
        "version",
        "version.refused",
        `the server refused this connection for now: "${text}" (OpenSSH's ` +
          (refusal === "penalty" ? "PerSourcePenalties" : "MaxStartups") + ")",
        { preVersionLines: pre, reason: refusal },
      );
    }
    if (pre.length > VERSION_LIMITS.maxPreVersionLines) {
      const looks = recogniseGreeting(pre[0]!);
      throw new SshError(
        "version",
        looks ? "version.not-ssh" : "version.too-many-lines",
        looks
          ? `this is not an SSH server: it looks like ${looks} ("${excerpt(pre[0]!)}")`
          : `the server sent more than ${VERSION_LIMITS.maxPreVersionLines} lines without an ` +
            "SSH version line",
        { preVersionLines: pre.slice(0, 5) },
      );
    }
    const looks = recogniseGreeting(text);
    if (looks && pre.length === 1) {
      throw new SshError(
        "version",
        "version.not-ssh",
        `this is not an SSH server: it looks like ${looks} ("${excerpt(text)}")`,
        { preVersionLines: pre },
      );
    }
  }
}

/**
 * The start of a peer's line for a message, as sent: messages are prose that renderers sanitize
 * where they are printed (lib/render/sanitize.ts), so no byte is hidden or lost here.
 */
function excerpt(s: string): string {
  return s.slice(0, 80);
}
