/**
 * Shapes shared by the connection layer's parts (connection, channel, session) for both roles.
 * @module
 */

import type { Tracer } from "../trace.ts";
import type { Channel } from "./channel.ts";

/** Sizes we advertise for a channel. */
export interface ChannelOptions {
  /** Our initial receive window in bytes (default 2 MiB). */
  windowSize?: number;
  /** The largest data field we accept in one message (default 32 KiB). */
  maxPacket?: number;
}

/** Which end of the connection we are. */
export type Role = "client" | "server";

/** The stage a channel is in: `session` while it opens and is set up, `data` once it runs. */
export type ChannelStage = "session" | "data";

/** What a channel needs from its connection. Not for use outside the connection layer. */
export interface ChannelHost {
  readonly tracer: Tracer;
  readonly role: Role;
  /** How long to wait for a reply to a request (ms); 0 waits forever. */
  readonly replyTimeoutMs: number;
  /** Queues one payload on the connection's ordered send queue. */
  send(payload: Uint8Array): Promise<void>;
  /** Forgets a channel once both sides have sent CLOSE (or it failed to open). */
  release(channel: Channel): void;
}

/** A CHANNEL_REQUEST received from the peer. */
export interface ChannelRequest {
  type: string;
  wantReply: boolean;
  /** The type-specific data after the want_reply flag. */
  data: Uint8Array;
}

/**
 * Decides a peer's channel request: true answers CHANNEL_SUCCESS, false CHANNEL_FAILURE, null
 * sends no reply (the handler took care of it). A promise holds back the connection's next
 * message until it settles (the lab's fault points wait there).
 */
export type ChannelRequestHandler = (
  request: ChannelRequest,
) => boolean | null | Promise<boolean | null>;

/** A CHANNEL_OPEN from the peer, as `onChannelOpen` sees it. */
export interface ChannelOpen {
  type: string;
  /** The peer's channel number, initial window and max packet. */
  remoteId: number;
  remoteWindow: number;
  remoteMaxPacket: number;
  /** The number the channel gets here if accepted. */
  localId: number;
  /** The type-specific data. */
  data: Uint8Array;
}

/**
 * The answer to a peer's CHANNEL_OPEN: `accept` is called with the open channel before the
 * confirmation goes out (set its `onRequest` there); `refuse` sends CHANNEL_OPEN_FAILURE with
 * the reason code; null sends nothing (the handler answered itself).
 */
export type ChannelOpenAnswer =
  | { accept: (channel: Channel) => void }
  | { refuse: number; description: string }
  | null;

/** Defaults for every channel of a connection. */
export interface ConnectionOptions extends ChannelOptions {
  /** How long to wait for the peer to answer a channel open or request (ms); 0: forever. */
  replyTimeoutMs?: number;
  /** Which end we are (default client); names the peer in errors and events. */
  role?: Role;
  /**
   * Decides the peer's CHANNEL_OPEN (a promise holds back the next message until it settles).
   * Unset: every channel the peer opens is refused (administratively prohibited).
   */
  onChannelOpen?: (open: ChannelOpen) => ChannelOpenAnswer | Promise<ChannelOpenAnswer>;
}
