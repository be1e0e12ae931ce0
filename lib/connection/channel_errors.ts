/**
 * The errors a channel raises, built in one place so each carries its data (channel number,
 * sizes, reason codes) the same way in both roles. `peer` names the other side in the text.
 * And the event every such error is traced with.
 * @module
 */

import type { Tracer } from "../trace.ts";
import { SshError } from "../errors/mod.ts";

/** Channel open failure reason codes (RFC 4254 §5.1). */
export const OPEN_FAILURE_REASONS: Record<number, string> = {
  1: "administratively prohibited",
  2: "connect failed",
  3: "unknown channel type",
  4: "resource shortage",
};

/** What the peer can do wrong on one channel, with the text each gets (`d`: its details). */
const VIOLATIONS = {
  "data.message-before-open": (p: string, c: number, d: Details) =>
    `the ${p} sent ${d.message} for channel ${c} before confirming it`,
  "data.unexpected-message": (p: string, c: number, d: Details) =>
    `the ${p} sent ${d.message} for channel ${c}, which is already open`,
  "data.invalid-max-packet": (p: string, c: number) =>
    `the ${p} confirmed channel ${c} with a maximum packet size of 0 bytes`,
  "data.window-overflow": (p: string, c: number) =>
    `the ${p} grew the window of channel ${c} beyond 2^32-1 bytes`,
  "data.packet-too-large": (p: string, c: number, d: Details) =>
    `the ${p} sent ${d.length} bytes in one message on channel ${c}, more than our maximum ` +
    `packet size of ${d.maxPacket} bytes`,
  "data.window-exceeded": (p: string, c: number, d: Details) =>
    `the ${p} sent ${d.length} bytes on channel ${c} with only ${d.window} bytes left in our ` +
    "window",
};

type Details = Record<string, unknown>;

/** A protocol violation by `peer` on one channel (stage data; `code` names it). */
export function channelViolation(
  code: keyof typeof VIOLATIONS,
  peer: string,
  channel: number,
  details: Details = {},
): SshError {
  const message = VIOLATIONS[code](peer, channel, details);
  return new SshError("data", code, message, { channel, ...details });
}

/** `data.connection-closed`: the connection ended (cleanly) under a channel or a call. */
export function connectionClosed(message: string): SshError {
  return new SshError("data", "data.connection-closed", message);
}

/** Sending on a channel that is closed or closing. */
export function channelClosed(channel: number, action: string): SshError {
  return new SshError(
    "data",
    "data.channel-closed",
    `cannot ${action} on channel ${channel}: the channel is closed`,
    { channel },
  );
}

/** Sending data after our own EOF. */
export function writeAfterEof(channel: number): SshError {
  return new SshError(
    "data",
    "data.write-after-eof",
    `cannot send data on channel ${channel}: end of input was already sent`,
    { channel },
  );
}

/** The peer answered CHANNEL_OPEN with CHANNEL_OPEN_FAILURE. */
export function openRefused(
  peer: string,
  channelType: string,
  reasonCode: number,
  description: string,
): SshError {
  const reason = OPEN_FAILURE_REASONS[reasonCode] ?? "unknown reason";
  const text = description ? `: ${description}` : "";
  return new SshError(
    "session",
    "session.channel-open-refused",
    `the ${peer} refused to open a ${channelType} channel: ${reason} (code ${reasonCode})${text}`,
    { channelType, reasonCode, reason, description },
  );
}

/** The peer closed a channel while our requests on it waited for their replies. */
export function closedBeforeReply(peer: string, channel: number): SshError {
  return new SshError(
    "session",
    "session.channel-closed",
    `the ${peer} closed channel ${channel} before answering the request`,
    { channel },
  );
}

/** Emits the `error` event of a protocol-stage `error`, with the data it carries. */
export function traceError(tracer: Tracer, error: Error): void {
  if (!(error instanceof SshError) || error.stage === "usage") return;
  tracer.emit({ stage: error.stage, type: "error", code: error.code, message: error.message });
}
