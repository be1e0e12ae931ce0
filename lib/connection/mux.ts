/**
 * The connection protocol (RFC 4254) over an established, authenticated transport, for both
 * roles: one dispatch loop routes channel messages to their channels, answers the peer's global
 * requests and channel opens, and sends everything through one ordered queue. The role decides
 * who opens channels (the client opens sessions; the server accepts them through
 * `onChannelOpen`) and which requests are accepted (each channel's `onRequest`); windows,
 * max packet, EOF and close are the channel's, the same for both.
 * @module
 */

import { SshReader, SshWriter, WireError } from "../wire/buffer.ts";
import { DISCONNECT, messageName, MSG } from "../wire/messages.ts";
import { SshError } from "../errors/mod.ts";
import type { Tracer } from "../trace.ts";
import type { MessageTransport } from "../transport/message_transport.ts";
import { Channel } from "./channel.ts";
import type {
  ChannelHost,
  ChannelOpen,
  ChannelOpenAnswer,
  ChannelOptions,
  ChannelStage,
  ConnectionOptions,
} from "./types.ts";
import { deferred, LATE, noop, orLate, toError } from "../async.ts";
import { withReplyTimeout } from "./wait.ts";
import { DEFAULT_MAX_PACKET, DEFAULT_WINDOW_SIZE } from "./window.ts";
import { Session } from "./session.ts";
import { connectionClosed, traceError } from "./channel_errors.ts";

export type { ChannelOpen, ChannelOpenAnswer, ConnectionOptions } from "./types.ts";

/**
 * The most messages waiting in the send queue before the peer counts as flooding: it keeps
 * sending messages we must answer (requests that want a reply, channel opens) while it reads
 * none of our answers, which would otherwise pile up without bound. Our own writers add at most
 * a few per channel (each channel's writer waits for its packet), far below this.
 */
export const MAX_QUEUED_MESSAGES = 8192;

function checkSize(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 0xffffffff) {
    throw new SshError(
      "usage",
      "usage.invalid-channel-option",
      `${name} must be a whole number of bytes from 1 to 4294967295, not ${value}`,
      { option: name, value },
    );
  }
  return value;
}

/** The connection layer: channels, sessions and global requests over one transport. */
export class Connection {
  readonly transport: MessageTransport;
  /**
   * Resolves (never rejects) when the connection ends: with null for a clean end (the client
   * closed it, or the server closed it with no channel open), otherwise with the error.
   */
  readonly finished: Promise<Error | null>;
  /** Messages received from the server (any traffic); keepalive uses it. */
  messagesIn = 0;

  #windowSize: number;
  #maxPacket: number;
  #channels = new Map<number, Channel>();
  #nextId = 0;
  #pendingGlobal: ReturnType<typeof deferred<boolean | Uint8Array>>[] = [];
  #sendChain: Promise<void> = Promise.resolve();
  /** Messages in the send queue, not yet handed to the transport (see MAX_QUEUED_MESSAGES). */
  #queued = 0;
  #loop: Promise<void> | null = null;
  #ended = false;
  #error: Error | null = null;
  #resolveFinished!: (error: Error | null) => void;
  #host: ChannelHost;
  #peer: string;
  #onChannelOpen: ConnectionOptions["onChannelOpen"];
  /** A channel last seen in stage data (see {@link #stage}). */
  #running: Channel | null = null;

  constructor(transport: MessageTransport, options: ConnectionOptions = {}) {
    this.transport = transport;
    const role = options.role ?? "client";
    this.#peer = role === "client" ? "server" : "client";
    this.#onChannelOpen = options.onChannelOpen;
    this.#windowSize = checkSize("windowSize", options.windowSize ?? DEFAULT_WINDOW_SIZE);
    this.#maxPacket = checkSize("maxPacket", options.maxPacket ?? DEFAULT_MAX_PACKET);
    this.finished = new Promise((resolve) => (this.#resolveFinished = resolve));
    this.#host = {
      tracer: transport.tracer,
      role,
      replyTimeoutMs: options.replyTimeoutMs ?? 0,
      send: (payload) => this.#send(payload),
      release: (channel) => {
        if (this.#channels.get(channel.localId) === channel) {
          this.#channels.delete(channel.localId);
        }
      },
    };
  }

  get tracer(): Tracer {
    return this.transport.tracer;
  }

  /** True once the connection has ended (cleanly or not). */
  get ended(): boolean {
    return this.#ended;
  }

  /** The error that ended the connection, if any. */
  get error(): Error | null {
    return this.#error;
  }

  /** Channels opening or open. */
  get channelCount(): number {
    return this.#channels.size;
  }

  /**
   * Starts the dispatch loop (once; later calls return the same promise). The promise resolves
   * when the loop stops; it never rejects — failures go to the channels and `finished`.
   */
  start(): Promise<void> {
    this.#loop ??= this.#run().catch((e) =>
      this.#end(toError(e), null, () => this.#closeQuietly())
    );
    return this.#loop;
  }

  // ------------------------------------------------------------------------------------------
  // Opening channels

  /**
   * Opens a channel of any type (`extra` is the type-specific part of CHANNEL_OPEN). Rejects
   * with `session.channel-open-refused` (reason code and text in `details`) if refused.
   */
  openChannel(type: string, extra?: Uint8Array, options: ChannelOptions = {}): Promise<Channel> {
    return this.#open(type, extra, options, (channel) => channel);
  }

  /** Opens a session channel. */
  openSession(options: ChannelOptions = {}): Promise<Session> {
    return this.#open("session", undefined, options, (channel) => new Session(channel));
  }

  /** Opens a channel; `wrap` sees it before the open goes out (to answer requests at once). */
  async #open<T>(
    type: string,
    extra: Uint8Array | undefined,
    options: ChannelOptions,
    wrap: (channel: Channel) => T,
  ): Promise<T> {
    const windowSize = checkSize("windowSize", options.windowSize ?? this.#windowSize);
    const maxPacket = checkSize("maxPacket", options.maxPacket ?? this.#maxPacket);
    if (this.#ended) throw this.#endedError(`open a ${type} channel`);
    this.start();
    const channel = new Channel(this.#host, type, this.#nextId++, windowSize, maxPacket);
    this.#channels.set(channel.localId, channel);
    const wrapped = wrap(channel);
    this.#send(channel.openPayload(extra)).catch(noop);
    const ms = this.#host.replyTimeoutMs;
    await withReplyTimeout(channel.opened, ms, `the ${type} channel open`, this.#peer);
    return wrapped;
  }

  // ------------------------------------------------------------------------------------------
  // Global requests

  /**
   * Sends a global request. With `wantReply`: REQUEST_FAILURE gives false, REQUEST_SUCCESS gives
   * its response data if it has any, else true (replies are matched in order). Without: true
   * once sent.
   */
  async globalRequest(
    name: string,
    wantReply: boolean,
    data: Uint8Array = new Uint8Array(0),
  ): Promise<boolean | Uint8Array> {
    if (this.#ended) throw this.#endedError(`send the global request ${name}`);
    this.start();
    const payload = new SshWriter().byte(MSG.GLOBAL_REQUEST).string(name).bool(wantReply)
      .raw(data).bytes();
    if (!wantReply) {
      await this.#send(payload);
      return true;
    }
    const reply = deferred<boolean | Uint8Array>();
    this.#pendingGlobal.push(reply);
    this.#send(payload).catch(noop);
    return reply.promise;
  }

  // ------------------------------------------------------------------------------------------
  // Ending

  /**
   * Fails the connection with `error` (e.g. a keepalive timeout): every channel and pending
   * request gets the error, and the transport is closed without DISCONNECT.
   */
  fail(error: Error): void {
    if (this.#ended) return;
    traceError(this.tracer, error);
    this.#end(error, null, () => this.#closeQuietly());
  }

  /** Closes the connection cleanly: queued messages go out, then DISCONNECT (BY_APPLICATION). */
  async close(): Promise<void> {
    if (this.#ended) return;
    const queued = this.#sendChain;
    const us = this.#host.role;
    this.#end(null, connectionClosed(`the ${us} closed the connection`), noop);
    const drained = (async () => {
      await queued;
      await this.transport.disconnect().catch(noop);
    })().catch(noop);
    // A peer that stops reading (without closing) would hold our last writes for ever: give them
    // the reply timeout, then drop the connection.
    const ms = this.#host.replyTimeoutMs;
    if ((await orLate(drained, ms)) === LATE) {
      this.transport.tracer.emit({
        stage: "data",
        type: "info",
        message: `the ${this.#peer} took none of our last packets for ${ms / 1000} s (it stopped ` +
          "reading); connection dropped without waiting further",
      });
      this.#closeQuietly();
    }
  }

  #endedError(action: string): Error {
    return this.#error ?? connectionClosed(`cannot ${action}: the connection is closed`);
  }

  #closeQuietly(): void {
    try {
      this.transport.close();
    } catch {
      // already closed
    }
  }

  /**
   * Ends the connection once: `finishedWith` goes to `finished`; channels and pending requests
   * get `channelError` (default `finishedWith`), then `action` runs.
   */
  #end(finishedWith: Error | null, channelError: Error | null, action: () => void): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = finishedWith;
    const error = channelError ?? finishedWith ?? connectionClosed("the connection is closed");
    const channels = [...this.#channels.values()];
    this.#channels.clear();
    for (const channel of channels) channel.fail(error);
    for (const reply of this.#pendingGlobal.splice(0)) reply.reject(error);
    try {
      action();
    } finally {
      this.#resolveFinished(finishedWith);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Sending

  /** Queues a payload; sends go out strictly in call order. A send failure ends everything. */
  #send(payload: Uint8Array): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    this.#queued++;
    const p = this.#sendChain.then(() => {
      this.#queued--;
      if (this.#error) throw this.#error;
      return this.transport.send(payload, this.#stage());
    });
    this.#sendChain = p.catch((e) => {
      const error = toError(e);
      if (!this.#ended) this.#end(error, null, () => this.#closeQuietly());
    });
    return p;
  }

  /** Fire and forget (replies sent from the dispatch loop, which must never wait on sends). */
  #post(payload: Uint8Array): void {
    this.#send(payload).catch(noop);
  }

  // ------------------------------------------------------------------------------------------
  // Receiving

  async #run(): Promise<void> {
    while (!this.#ended) {
      let payload: Uint8Array | null;
      try {
        payload = await this.transport.receive(0, undefined, this.#stage());
      } catch (e) {
        this.#end(toError(e), null, () => this.#closeQuietly());
        return;
      }
      if (this.#ended) return;
      if (payload === null) {
        this.#transportEnded();
        return;
      }
      this.messagesIn++;
      try {
        const pending = this.#dispatch(payload);
        if (pending) await pending;
      } catch (e) {
        this.#protocolFailure(e);
        return;
      }
      if (this.#queued > MAX_QUEUED_MESSAGES) {
        this.#flooded();
        return;
      }
    }
  }

  #transportEnded(): void {
    const open = this.#channels.size;
    const waiting = this.#pendingGlobal.length;
    let error: SshError | null = null;
    if (open || waiting) {
      const what = open
        ? `${open} channel${open === 1 ? " was" : "s were"} open`
        : `${waiting} global request${waiting === 1 ? " was" : "s were"} unanswered`;
      const stage = this.#stage();
      error = new SshError(
        stage,
        stage === "session" ? "session.connection-closed" : "data.connection-closed",
        `the ${this.#peer} closed the connection while ${what}`,
        { openChannels: open, pendingRequests: waiting },
      );
    }
    this.#end(error, null, () => this.#closeQuietly());
  }

  /** The peer sends what needs answers and reads none of them: ends the connection. */
  #flooded(): void {
    const stage = this.#stage();
    const error = new SshError(
      stage,
      stage === "session" ? "session.reply-flood" : "data.reply-flood",
      `the ${this.#peer} sent more than ${MAX_QUEUED_MESSAGES} messages that need an answer ` +
        "(requests that want a reply, channel opens) without reading our answers",
      { queued: this.#queued, limit: MAX_QUEUED_MESSAGES },
    );
    traceError(this.tracer, error);
    this.#end(error, null, () => this.#closeQuietly());
  }

  #malformed(e: WireError, stage: ChannelStage): SshError {
    return new SshError(
      stage,
      stage === "session" ? "session.malformed-message" : "data.malformed-message",
      `the ${this.#peer} sent a malformed message: ${e.message}`,
      {},
      { cause: e },
    );
  }

  #protocolFailure(e: unknown): void {
    const error = e instanceof WireError ? this.#malformed(e, this.#stage()) : toError(e);
    traceError(this.tracer, error);
    this.#end(error, null, () => {
      this.transport.disconnect(DISCONNECT.PROTOCOL_ERROR, error.message).catch(noop);
    });
  }

  /**
   * The stage of a failure not tied to one channel, from the stages the channels state: `data`
   * once any channel runs (or none is open), `session` while every open channel is still being
   * set up (open, pty, exec).
   */
  #stage(): ChannelStage {
    if (this.#channels.size === 0) return "data";
    // Asked once per message received: the channel found running last time answers first.
    const last = this.#running;
    if (last?.stage === "data" && this.#channels.get(last.localId) === last) return "data";
    for (const channel of this.#channels.values()) {
      if (channel.stage === "data") {
        this.#running = channel;
        return "data";
      }
    }
    return "session";
  }

  #info(message: string): void {
    this.tracer.emit({ stage: "session", type: "info", message });
  }

  #dispatch(payload: Uint8Array): void | Promise<void> {
    const type = payload[0];
    if (type === undefined) {
      throw new SshError(
        "data",
        "data.malformed-message",
        `the ${this.#peer} sent an empty message`,
      );
    }
    const reader = new SshReader(payload.subarray(1), messageName(type));
    switch (type) {
      case MSG.GLOBAL_REQUEST: {
        reader.text("request name");
        const wantReply = reader.bool("want reply");
        // We offer no global services (hostkeys-00@openssh.com etc. ask for no reply).
        if (wantReply) this.#post(new Uint8Array([MSG.REQUEST_FAILURE]));
        return;
      }
      case MSG.REQUEST_SUCCESS:
      case MSG.REQUEST_FAILURE: {
        const reply = this.#pendingGlobal.shift();
        if (!reply) {
          this.#info(`ignored ${messageName(type)} that answers no global request`);
          return;
        }
        if (type === MSG.REQUEST_FAILURE) reply.resolve(false);
        else {
          const data = reader.rest();
          reply.resolve(data.length ? data.slice() : true);
        }
        return;
      }
      case MSG.CHANNEL_OPEN:
        return this.#onOpen(reader);
    }
    if (type < MSG.CHANNEL_OPEN_CONFIRMATION || type > MSG.CHANNEL_FAILURE) {
      this.#info(`ignored unexpected ${messageName(type)} in the connection layer`);
      return;
    }
    // CHANNEL_OPEN_CONFIRMATION (91) to CHANNEL_FAILURE (100): for one of our channels.
    const id = reader.uint32("recipient channel");
    const channel = this.#channels.get(id);
    if (!channel) {
      throw new SshError(
        "data",
        "data.unknown-channel",
        `the ${this.#peer} sent ${messageName(type)} for channel ${id}, which is not open`,
        { channel: id, message: messageName(type) },
      );
    }
    try {
      return channel.handleMessage(type, reader);
    } catch (e) {
      throw e instanceof WireError ? this.#malformed(e, channel.stage) : e;
    }
  }

  /** A CHANNEL_OPEN from the peer: `onChannelOpen` decides (by default, refused). */
  #onOpen(reader: SshReader): void | Promise<void> {
    const type = reader.text("channel type");
    const open: ChannelOpen = {
      type,
      remoteId: reader.uint32("sender channel"),
      remoteWindow: reader.uint32("initial window size"),
      remoteMaxPacket: reader.uint32("maximum packet size"),
      localId: this.#nextId++,
      data: reader.rest(),
    };
    if (!this.#onChannelOpen) {
      this.#info(`refused a ${type} channel the ${this.#peer} tried to open`);
      this.#answerOpen(open, {
        refuse: 1, // SSH_OPEN_ADMINISTRATIVELY_PROHIBITED
        description: `this ${this.#host.role} does not accept ${type} channels`,
      });
      return;
    }
    const answer = this.#onChannelOpen(open);
    if (answer instanceof Promise) return answer.then((a) => this.#answerOpen(open, a));
    this.#answerOpen(open, answer);
  }

  #answerOpen(open: ChannelOpen, answer: ChannelOpenAnswer): void {
    if (answer === null || this.#ended) return;
    if ("refuse" in answer) {
      this.#post(
        new SshWriter().byte(MSG.CHANNEL_OPEN_FAILURE).uint32(open.remoteId).uint32(answer.refuse)
          .string(answer.description).string("").bytes(),
      );
      return;
    }
    const channel = new Channel(
      this.#host,
      open.type,
      open.localId,
      this.#windowSize,
      this.#maxPacket,
    );
    this.#channels.set(channel.localId, channel);
    const confirmation = channel.accept(open.remoteId, open.remoteWindow, open.remoteMaxPacket);
    answer.accept(channel);
    this.#post(confirmation);
  }
}
