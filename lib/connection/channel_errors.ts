/**
 * The errors a channel raises, built in one place so each carries its data (channel number,
 * sizes, reason codes) the same way in both roles. `peer` names the other side in the text.
 * @module
 */

import { SshTraceError } from "../trace.ts";

/** Channel open failure reason codes (RFC 4254 §5.1). */
export const OPEN_FAILURE_REASONS: Record<number, string> = {
  1: "administratively prohibited",
  2: "connect failed",
  3: "unknown channel type",
  4: "resource shortage",
};

/** A protocol violation by the peer on one channel (stage data; ends the connection). */
export function channelViolation(
  channel: number,
  code: string,
  message: string,
  details: Record<string, unknown> = {},
): SshTraceError {
  return new SshTraceError("data", code, message, { channel, ...details });
}

/** Sending on a channel that is closed or closing. */
export function channelClosed(channel: number, action: string): SshTraceError {
  return new SshTraceError(
    "data",
    "data.channel-closed",
    `cannot ${action} on channel ${channel}: the channel is closed`,
    { channel },
  );
}

/** Sending data after our own EOF. */
export function writeAfterEof(channel: number): SshTraceError {
  return new SshTraceError(
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
): SshTraceError {
  const reason = OPEN_FAILURE_REASONS[reasonCode] ?? "unknown reason";
  const text = description ? `: ${description}` : "";
  return new SshTraceError(
    "session",
    "session.channel-open-refused",
    `the ${peer} refused to open a ${channelType} channel: ${reason} (code ${reasonCode})${text}`,
    { channelType, reasonCode, reason, description },
  );
}

/** The peer closed a channel while our requests on it waited for their replies. */
export function closedBeforeReply(peer: string, channel: number): SshTraceError {
  return new SshTraceError(
    "session",
    "session.channel-closed",
    `the ${peer} closed channel ${channel} before answering the request`,
    { channel },
  );
}
