/**
 * One channel of the connection protocol (RFC 4254 §5), the same for both roles: flow-control
 * windows in both directions, data and extended data, EOF and CLOSE, and channel requests with
 * their in-order replies. Channels are created by {@link Connection} (opened by us, or accepted
 * from the peer); this module holds the per-channel state machine.
 * @module
 */

import { type SshReader, SshWriter } from "../wire/buffer.ts";
import { encodeChannelData, messageName, MSG } from "../wire/messages.ts";
import type { Tracer } from "../trace.ts";
import { releasable, release } from "../wire/release.ts";
import { type Deferred, deferred, noop } from "../async.ts";
import { withReplyTimeout } from "./wait.ts";
import { Inbound, LocalWindow, RemoteWindow } from "./window.ts";
import type { ChannelHost, ChannelRequestHandler, ChannelStage } from "./types.ts";
import {
  channelClosed,
  channelViolation,
  closedBeforeReply,
  openRefused,
  traceError,
  writeAfterEof,
} from "./channel_errors.ts";

type State = "opening" | "open" | "closed";

/**
 * A channel. Obtain one from `Connection.openChannel()` or `Connection.openSession()` (or, on
 * the server, from the connection's `onChannelOpen`).
 *
 * Received data is offered as two pull-based streams, `readable` (CHANNEL_DATA) and `stderr`
 * (extended data type 1). Both share one receive window, which is re-opened only for bytes a
 * reader has taken: read (or cancel) both streams, or the peer will stop sending. On the client
 * the streams end when the channel closes (CLOSE), not at the server's EOF: data a server sends
 * after its EOF is still delivered, as a traced quirk, and the window is credited until CLOSE.
 * On the server they end at the client's EOF (a program's input ends there).
 */
export class Channel {
  readonly type: string;
  /** Our channel number. */
  readonly localId: number;
  /** Our initial (and full) receive window. */
  readonly localWindowSize: number;
  /** The largest data field we accept. */
  readonly localMaxPacket: number;
  /** Resolves once the peer confirms the open; rejects if it refuses or the connection ends. */
  readonly opened: Promise<void>;
  /** Resolves once both sides have sent CLOSE; rejects if the connection fails first. */
  readonly closed: Promise<void>;
  /** Data (CHANNEL_DATA) from the peer. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Extended data type 1 (stderr) from the peer. */
  readonly stderr: ReadableStream<Uint8Array>;
  /** Data to the peer; closing it sends EOF. */
  readonly writable: WritableStream<Uint8Array>;
  /** Answers the peer's channel requests; the default refuses everything. */
  onRequest: ChannelRequestHandler = () => false;
  /** `session` while opening and being set up (pty, exec...), `data` once the command runs. */
  stage: ChannelStage = "session";
  /** Data bytes received (both streams). */
  bytesIn = 0;
  /** Data bytes sent. */
  bytesOut = 0;
  /** Of `bytesIn`, those that came after the peer's EOF (a quirk; still delivered). */
  bytesAfterEof = 0;
  /** Of `bytesIn`, those deliberately not delivered: extended data of types other than stderr. */
  bytesDiscarded = 0;
  /** Channel-type-specific data from the open confirmation. */
  confirmationData: Uint8Array = new Uint8Array(0);
  /**
   * Whether `readable` and `stderr` end at the peer's EOF (true on the server) rather than at
   * CLOSE. A TCP tunnel (direct-tcpip, forwarded-tcpip) sets it on the client too: its EOF is
   * the far socket's end, and no late data follows.
   */
  endStreamsAtEof: boolean;

  #host: ChannelHost;
  #peer: string;
  #state: State = "opening";
  #remoteId = 0;
  #local: LocalWindow;
  #remote = new RemoteWindow();
  #eofSent = false;
  #eofReceived = false;
  #closeSent = false;
  #closeReceived = false;
  #error: Error | null = null;
  #opened = deferred<void>();
  #closed = deferred<void>();
  #pending: Deferred<boolean>[] = [];
  #writeChain: Promise<void> = Promise.resolve();
  #stdout: Inbound;
  #stderr: Inbound;

  constructor(
    host: ChannelHost,
    type: string,
    localId: number,
    windowSize: number,
    maxPacket: number,
  ) {
    this.#host = host;
    this.#peer = host.role === "client" ? "server" : "client";
    this.endStreamsAtEof = host.role === "server";
    this.type = type;
    this.localId = localId;
    this.localWindowSize = windowSize;
    this.localMaxPacket = maxPacket;
    this.#local = new LocalWindow(windowSize, maxPacket);
    this.opened = this.#opened.promise;
    this.closed = this.#closed.promise;
    this.#stdout = new Inbound((n) => this.#consumed(n));
    this.#stderr = new Inbound((n) => this.#consumed(n));
    this.readable = this.#stdout.stream;
    this.stderr = this.#stderr.stream;
    this.writable = new WritableStream<Uint8Array>({
      write: (chunk) => this.write(chunk),
      close: () => this.eof(),
      abort: () => this.eof(),
    });
  }

  get tracer(): Tracer {
    return this.#host.tracer;
  }

  /** The peer's channel number (valid once open). */
  get remoteId(): number {
    return this.#remoteId;
  }

  /** Bytes we may still send before the peer adjusts its window. */
  get remoteWindow(): number {
    return this.#remote.left;
  }

  /** The largest data field the peer accepts. */
  get remoteMaxPacket(): number {
    return this.#remote.maxPacket;
  }

  /** Bytes the peer may still send us before we adjust our window. */
  get localWindowLeft(): number {
    return this.#local.left;
  }

  get state(): State {
    return this.#state;
  }

  /** True once either side has sent CLOSE or the channel failed: nothing more can be sent. */
  get closing(): boolean {
    return this.#state === "closed" || this.#closeSent || this.#closeReceived;
  }

  get eofReceived(): boolean {
    return this.#eofReceived;
  }

  get eofSent(): boolean {
    return this.#eofSent;
  }

  /** The error that ended this channel, if it failed. */
  get error(): Error | null {
    return this.#error;
  }

  /** The CHANNEL_OPEN payload for this channel. */
  openPayload(extra: Uint8Array = new Uint8Array(0)): Uint8Array {
    return new SshWriter().byte(MSG.CHANNEL_OPEN).string(this.type).uint32(this.localId)
      .uint32(this.localWindowSize).uint32(this.localMaxPacket).raw(extra).bytes();
  }

  /**
   * Accepts a channel the peer opened (its number, window and max packet from CHANNEL_OPEN)
   * and returns the CHANNEL_OPEN_CONFIRMATION payload; the channel is open from here.
   */
  accept(remoteId: number, remoteWindow: number, remoteMaxPacket: number): Uint8Array {
    this.#remoteId = remoteId;
    this.#remote.adjust(remoteWindow);
    this.#remote.maxPacket = remoteMaxPacket;
    this.#state = "open";
    this.#opened.resolve();
    return new SshWriter(17).byte(MSG.CHANNEL_OPEN_CONFIRMATION).uint32(remoteId)
      .uint32(this.localId).uint32(this.localWindowSize).uint32(this.localMaxPacket).bytes();
  }

  // ------------------------------------------------------------------------------------------
  // Sending

  /** Open, and neither side has sent CLOSE. */
  get #sendable(): boolean {
    return this.#state === "open" && !this.#closeSent && !this.#closeReceived;
  }

  #checkWritable(): void {
    if (this.#error) throw this.#error;
    if (!this.#sendable) throw channelClosed(this.localId, "send data");
    if (this.#eofSent) {
      throw writeAfterEof(this.localId);
    }
  }

  /**
   * Sends bytes (as extended data of `extendedType` if given, e.g. 1 for stderr), split to the
   * peer's max packet and never beyond its window (waiting for WINDOW_ADJUST). Writes are
   * queued in call order; resolves once the last byte is handed on.
   */
  write(bytes: Uint8Array, extendedType?: number): Promise<void> {
    const p = this.#writeChain.then(() => this.#writeNow(bytes, extendedType));
    this.#writeChain = p.catch(noop);
    return p;
  }

  async #writeNow(bytes: Uint8Array, extendedType: number | undefined): Promise<void> {
    let offset = 0;
    this.#checkWritable();
    while (offset < bytes.length) {
      this.#checkWritable();
      const n = this.#remote.take(bytes.length - offset);
      if (n === 0) {
        await this.#remote.wait();
        continue;
      }
      const data = bytes.subarray(offset, offset + n);
      const payload = releasable(encodeChannelData(this.#remoteId, extendedType, data));
      offset += n;
      this.bytesOut += n;
      await this.#host.send(payload);
      release(payload); // sealed and sent: its memory is free (lib/wire/release.ts)
    }
  }

  /** Sends EOF once, after queued writes. Does nothing if the channel is already closing. */
  eof(): Promise<void> {
    const p = this.#writeChain.then(() => {
      if (this.#error) throw this.#error;
      if (this.#eofSent || this.#closeSent || this.#closeReceived) return;
      this.#eofSent = true;
      return this.#message(MSG.CHANNEL_EOF);
    });
    this.#writeChain = p.catch(noop);
    return p;
  }

  /**
   * Sends CLOSE (once; pending writes are abandoned) and resolves when the peer's CLOSE has
   * arrived too.
   */
  close(): Promise<void> {
    if (this.#state === "open" && !this.#closeSent) {
      this.#closeSent = true;
      this.#remote.fail(channelClosed(this.localId, "send data"));
      this.#message(MSG.CHANNEL_CLOSE).catch(noop);
    }
    return this.closed;
  }

  /** Queues a message of `type` for the peer's end of the channel, with one uint32 if given. */
  #message(type: number, value?: number): Promise<void> {
    const w = new SshWriter(9).byte(type).uint32(this.#remoteId);
    return this.#host.send((value === undefined ? w : w.uint32(value)).bytes());
  }

  /**
   * Sends a channel request. With `wantReply` resolves true on CHANNEL_SUCCESS and false on
   * CHANNEL_FAILURE (replies are matched in order); without, resolves true once sent.
   */
  request(
    type: string,
    wantReply: boolean,
    data: Uint8Array = new Uint8Array(0),
  ): Promise<boolean> {
    if (this.#error) return Promise.reject(this.#error);
    if (!this.#sendable) {
      return Promise.reject(channelClosed(this.localId, `send the ${type} request`));
    }
    const payload = new SshWriter().byte(MSG.CHANNEL_REQUEST).uint32(this.#remoteId)
      .string(type).bool(wantReply).raw(data).bytes();
    if (!wantReply) return this.#host.send(payload).then(() => true);
    const reply = deferred<boolean>();
    this.#pending.push(reply);
    // A send failure fails the whole connection, which rejects `reply`.
    this.#host.send(payload).catch(noop);
    const what = `the ${type} request`;
    return withReplyTimeout(reply.promise, this.#host.replyTimeoutMs, what, this.#peer);
  }

  // ------------------------------------------------------------------------------------------
  // Receiving (called by the connection's dispatch loop)

  #info(message: string): void {
    this.#host.tracer.emit({ stage: this.stage, type: "info", message });
  }

  #violation(code: Parameters<typeof channelViolation>[0], details: Record<string, unknown> = {}) {
    return channelViolation(code, this.#peer, this.localId, details);
  }

  /**
   * Handles one message addressed to this channel; `reader` is positioned after the recipient
   * channel field. Throws `SshError` (stage data) on a protocol violation. Returns a
   * promise only while an asynchronous request handler decides.
   */
  handleMessage(type: number, reader: SshReader): void | Promise<void> {
    if (this.#state === "closed") return;
    if (this.#state === "opening") {
      if (type === MSG.CHANNEL_OPEN_CONFIRMATION) return this.#onConfirmation(reader);
      if (type === MSG.CHANNEL_OPEN_FAILURE) return this.#onOpenFailure(reader);
      throw this.#violation("data.message-before-open", { message: messageName(type) });
    }
    switch (type) {
      case MSG.CHANNEL_WINDOW_ADJUST:
        return this.#onWindowAdjust(reader.uint32("bytes to add"));
      case MSG.CHANNEL_DATA:
        return this.#onData(reader.string("data"), null);
      case MSG.CHANNEL_EXTENDED_DATA: {
        const code = reader.uint32("data type code");
        return this.#onData(reader.string("data"), code);
      }
      case MSG.CHANNEL_EOF:
        // On the client the streams end at CLOSE, not here: some servers send data after
        // their EOF (data that was waiting for window space), and it is delivered, not dropped.
        this.#eofReceived = true;
        if (this.endStreamsAtEof) {
          this.#stdout.end();
          this.#stderr.end();
        }
        return;
      case MSG.CHANNEL_CLOSE:
        return this.#onClose();
      case MSG.CHANNEL_REQUEST:
        return this.#onRequest(reader);
      case MSG.CHANNEL_SUCCESS:
      case MSG.CHANNEL_FAILURE: {
        const reply = this.#pending.shift();
        if (!reply) {
          this.#info(
            `channel ${this.localId}: ignored ${messageName(type)} that answers no request`,
          );
          return;
        }
        reply.resolve(type === MSG.CHANNEL_SUCCESS);
        return;
      }
      default:
        throw this.#violation("data.unexpected-message", { message: messageName(type) });
    }
  }

  #onConfirmation(reader: SshReader): void {
    this.#remoteId = reader.uint32("sender channel");
    const window = reader.uint32("initial window size");
    this.#remote.adjust(window);
    this.#remote.maxPacket = reader.uint32("maximum packet size");
    this.confirmationData = reader.rest().slice();
    if (this.#remote.maxPacket === 0) {
      throw this.#violation("data.invalid-max-packet");
    }
    this.#state = "open";
    const peer = this.#peer;
    this.#info(
      `channel ${this.localId} (${this.type}) opened: ${peer} channel ${this.#remoteId}, ` +
        `${peer} window ${window} bytes, ${peer} max packet ${this.#remote.maxPacket} ` +
        `bytes; our window ${this.localWindowSize} bytes, our max packet ${this.localMaxPacket} bytes`,
    );
    this.#opened.resolve();
  }

  #onOpenFailure(reader: SshReader): void {
    const reasonCode = reader.uint32("reason code");
    const description = reader.text("description");
    const error = openRefused(this.#peer, this.type, reasonCode, description);
    traceError(this.#host.tracer, error);
    this.#host.release(this);
    this.fail(error);
  }

  #onWindowAdjust(bytes: number): void {
    const window = this.#remote.left;
    if (!this.#remote.adjust(bytes)) {
      throw this.#violation("data.window-overflow", { window, adjust: bytes });
    }
  }

  #onData(data: Uint8Array, extendedType: number | null): void {
    const broken = this.#local.take(data.length);
    if (broken === "packet") {
      throw this.#violation("data.packet-too-large", {
        length: data.length,
        maxPacket: this.localMaxPacket,
      });
    }
    if (broken === "window") {
      throw this.#violation("data.window-exceeded", {
        length: data.length,
        window: this.#local.left,
      });
    }
    this.bytesIn += data.length;
    if (this.#eofReceived) this.#afterEof(data.length);
    if (this.#closeSent) return; // we are closing: nobody reads any more
    // A view, not a copy: the transport hands over each payload in memory of its own (decrypted
    // or assembled per packet) that nothing writes to again.
    if (extendedType === null) this.#stdout.push(data);
    else if (extendedType === 1) this.#stderr.push(data);
    else {
      this.#info(
        `channel ${this.localId}: discarded ${data.length} bytes of extended data type ${extendedType}`,
      );
      this.bytesDiscarded += data.length;
      this.#consumed(data.length);
    }
  }

  /** Data after the peer's EOF (RFC 4254 §5.3 forbids it): accepted, traced once, counted. */
  #afterEof(n: number): void {
    if (this.bytesAfterEof === 0) {
      const delivered = this.#host.role === "client"
        ? "accepted and delivered (counted in bytesAfterEof; the session's close line gives the total)"
        : "counted in bytesAfterEof and dropped (the program's input has ended)";
      this.#host.tracer.emit({
        stage: "data",
        type: "quirk",
        id: "data-after-eof",
        description: `the ${this.#peer} sent data on channel ${this.localId} after its EOF; ` +
          delivered,
      });
    }
    this.bytesAfterEof += n;
  }

  /** Credits bytes a reader has taken, until either side sends CLOSE (see LocalWindow). */
  #consumed(n: number): void {
    const add = this.#local.consumed(n, this.#sendable);
    if (add === 0) return;
    this.#message(MSG.CHANNEL_WINDOW_ADJUST, add).catch(noop);
  }

  #onRequest(reader: SshReader): void | Promise<void> {
    const type = reader.text("request type");
    const wantReply = reader.bool("want reply");
    const data = reader.rest();
    let ok: ReturnType<ChannelRequestHandler> = false;
    try {
      ok = this.onRequest({ type, wantReply, data });
    } catch {
      ok = false;
    }
    if (ok instanceof Promise) {
      const answer = (v: boolean | null) => {
        if (v !== null && wantReply) this.reply(v);
      };
      return ok.then(answer, () => answer(false));
    }
    if (ok !== null && wantReply) this.reply(ok);
  }

  /**
   * Answers the peer's oldest unanswered request that wants a reply: CHANNEL_SUCCESS or
   * CHANNEL_FAILURE. For a request handler that returned null (e.g. to answer before it starts
   * a program on the channel). Nothing is sent once the channel is closing.
   */
  reply(ok: boolean): void {
    if (this.#closeSent || this.#state === "closed") return;
    this.#message(ok ? MSG.CHANNEL_SUCCESS : MSG.CHANNEL_FAILURE).catch(noop);
  }

  #onClose(): void {
    this.#closeReceived = true;
    this.#stdout.end();
    this.#stderr.end();
    const error = closedBeforeReply(this.#peer, this.localId);
    for (const reply of this.#pending.splice(0)) reply.reject(error);
    this.#remote.fail(channelClosed(this.localId, "send data"));
    if (!this.#closeSent) {
      this.#closeSent = true;
      this.#message(MSG.CHANNEL_CLOSE).catch(noop);
    }
    this.#state = "closed";
    this.#host.release(this);
    this.#closed.resolve();
  }

  /** Fails the channel (the connection ended or broke): every waiter gets `error`. */
  fail(error: Error): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#error = error;
    this.#stdout.fail(error);
    this.#stderr.fail(error);
    for (const reply of this.#pending.splice(0)) reply.reject(error);
    this.#remote.fail(error);
    this.#opened.reject(error);
    this.#closed.reject(error);
  }
}
