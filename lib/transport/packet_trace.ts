/**
 * The `packet` trace event of one packet (`-vv`): sequence number, message name, payload size,
 * and for channel data and window adjustments the recipient channel and byte count. Never the
 * contents, and of user-auth messages (50–79: passwords, keyboard-interactive answers,
 * signatures) nothing but the name. Called only when the tracer asks for packets
 * ({@link Tracer.packets}), so a run without `-vv` builds nothing per packet.
 * @module
 */

import type { TraceEventBody } from "../trace.ts";
import type { Stage } from "../types.ts";
import { messageShortName, MSG } from "../wire/messages.ts";

type PacketEvent = Extract<TraceEventBody, { type: "packet" }>;

/** A big-endian uint32 at `at`, or undefined when the payload is too short to hold it. */
function uint32At(p: Uint8Array, at: number): number | undefined {
  if (p.length < at + 4) return undefined;
  return ((p[at]! << 24) | (p[at + 1]! << 16) | (p[at + 2]! << 8) | p[at + 3]!) >>> 0;
}

/** The event for `payload` (plaintext, uncompressed), sent or received as packet `seq`. */
export function packetEvent(
  stage: Stage,
  direction: "in" | "out",
  seq: number,
  payload: Uint8Array,
): PacketEvent {
  const number = payload[0] ?? 0;
  const e: PacketEvent = {
    stage,
    type: "packet",
    direction,
    seq,
    number,
    message: messageShortName(number),
  };
  if (number >= 50 && number < 80) return e;
  e.length = payload.length;
  // CHANNEL_DATA: channel, string data; EXTENDED_DATA: channel, type code, string data;
  // WINDOW_ADJUST: channel, bytes to add. A malformed one is reported by the layer above.
  const bytesAt = number === MSG.CHANNEL_DATA || number === MSG.CHANNEL_WINDOW_ADJUST
    ? 5
    : number === MSG.CHANNEL_EXTENDED_DATA
    ? 9
    : 0;
  if (bytesAt === 0) return e;
  const channel = uint32At(payload, 1);
  const bytes = uint32At(payload, bytesAt);
  if (channel !== undefined) e.channel = channel;
  if (bytes !== undefined) e.bytes = bytes;
  return e;
}
