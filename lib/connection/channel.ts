/**
 * One channel of the connection protocol (RFC 4254 §5): flow-control windows in both directions,
 * data and extended data, EOF and CLOSE, and channel requests with their in-order replies.
 * Channels are created by {@link Connection}; this module holds the per-channel state machine.
 * @module
 */

import { type SshReader, SshWriter } from "../wire/buffer.ts";
import { messageName, MSG } from "../wire/messages.ts";
import { type DetailsOf, SshTraceError } from "../errors/mod.ts";
import type { Tracer } from "../trace.ts";

/** Our default initial window: 2 MiB. */
export const DEFAULT_WINDOW_SIZE = 2 * 1024 * 1024;
/** Our default maximum packet (data length per message): 32 KiB. Old devices may want 16 KiB. */
export const DEFAULT_MAX_PACKET = 32 * 1024;

const MAX_UINT32 = 0xffffffff;

/**
 * How many consumed bytes we let the server's window shrink by before we top it up: an eighth
 * of the window, at least three packets (OpenSSH's rule), at most half the window. With the
 * defaults (2 MiB, 32 KiB) that is 256 KiB: one WINDOW_ADJUST per eight full packets, and the
 * server always sees at least 1.75 MiB of window while we keep up.
 */
export function creditStep(windowSize: number, maxPacket: number): number {
  return Math.min(Math.floor(windowSize / 2), Math.max(3 * maxPacket, Math.floor(windowSize / 8)));
}

/** Channel open failure reason codes (RFC 4254 §5.1). */
export const OPEN_FAILURE_REASONS: Record<number, string> = {
  1: "administratively prohibited",
  2: "connect failed",
  3: "unknown channel type",
  4: "resource shortage",
};

/** Sizes we advertise for a channel. */
export interface ChannelOptions {
  /** Our initial receive window in bytes (default 2 MiB). */
  windowSize?: number;
  /** The largest data field we accept in one message (default 32 KiB). */
  maxPacket?: number;
}

/** What a channel needs from its connection. Not for use outside the connection layer. */
export interface ChannelHost {
  readonly tracer: Tracer;
  /** How long to wait for a reply to a request (ms); 0 waits forever. */
  readonly replyTimeoutMs: number;
  /** Queues one payload on the connection's ordered send queue. */
  send(payload: Uint8Array): Promise<void>;
  /** Forgets a channel once both sides have sent CLOSE (or it failed to open). */
  release(channel: Channel): void;
}

/** A CHANNEL_REQUEST received from the server. */
export interface ChannelRequest {
  type: string;
  wantReply: boolean;
  /** The type-specific data after the want_reply flag. */
  data: Uint8Array;
}

/** Decides a server's channel request: true answers CHANNEL_SUCCESS, false CHANNEL_FAILURE. */
export type ChannelRequestHandler = (request: ChannelRequest) => boolean;

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
}

const noop = () => {};

/** A promise with its settle functions; marked handled so an unawaited rejection is harmless. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(noop);
  return { promise, resolve, reject };
}

/** Turns anything thrown into an Error. */
/**
 * Bounds a wait for the server's answer. A late answer still settles its (already rejected)
 * deferred in order, so replies stay matched to requests.
 */
export function withReplyTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  if (ms <= 0) return promise;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new SshTraceError(
          "session",
          "session.timeout",
          `no answer from the server to ${what} within ${ms / 1000} s`,
          { timeoutMs: ms },
        ),
      );
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** The codes of a server's violation of the channel protocol. */
type ChannelViolation =
  | "data.message-before-open"
  | "data.unexpected-message"
  | "data.invalid-max-packet"
  | "data.window-overflow"
  | "data.packet-too-large"
  | "data.window-exceeded";

function protocolError(
  code: ChannelViolation,
  message: string,
  details: DetailsOf<ChannelViolation>,
) {
  return new SshTraceError("data", code, message, details);
}

/**
 * One direction of received bytes as a pull-based ReadableStream. Bytes count as consumed (and
 * may be credited back to the server) only when a reader actually takes them.
 */
class Inbound {
  readonly stream: ReadableStream<Uint8Array>;
  #chunks: Uint8Array[] = [];
  #wake: (() => void) | null = null;
  #ended = false;
  #error: Error | null = null;
  #cancelled = false;
  #onConsumed: (n: number) => void;

  constructor(onConsumed: (n: number) => void) {
    this.#onConsumed = onConsumed;
    this.stream = new ReadableStream<Uint8Array>(
      {
        pull: (controller) => this.#pull(controller),
        cancel: () => this.#cancel(),
      },
      { highWaterMark: 0 },
    );
  }

  /** Bytes received but not yet taken by a reader. */
  get buffered(): number {
    let n = 0;
    for (const c of this.#chunks) n += c.length;
    return n;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.#cancelled || this.#ended || this.#error) {
      // Nobody will read these: credit them at once so the other stream is not starved.
      this.#onConsumed(bytes.length);
      return;
    }
    this.#chunks.push(bytes);
    this.#notify();
  }

  end(): void {
    this.#ended = true;
    this.#notify();
  }

  fail(error: Error): void {
    if (this.#ended) return;
    this.#error = error;
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  async #pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    for (;;) {
      const chunk = this.#chunks.shift();
      if (chunk) {
        controller.enqueue(chunk);
        this.#onConsumed(chunk.length);
        return;
      }
      if (this.#error) {
        controller.error(this.#error);
        return;
      }
      if (this.#ended) {
        controller.close();
        return;
      }
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  #cancel(): void {
    this.#cancelled = true;
    const n = this.buffered;
    this.#chunks = [];
    if (n) this.#onConsumed(n);
  }
}

type State = "opening" | "open" | "closed";

/**
 * A channel. Obtain one from `Connection.openChannel()` or `Connection.openSession()`.
 *
 * Received data is offered as two pull-based streams, `readable` (CHANNEL_DATA) and `stderr`
 * (extended data type 1). Both share one receive window, which is re-opened only for bytes a
 * reader has taken: read (or cancel) both streams, or the server will stop sending. The streams
 * end when the channel closes (CLOSE), not at the server's EOF: data a server sends after its
 * EOF is still delivered, as a traced quirk, and the window is credited until CLOSE.
 */
export class Channel {
  readonly type: string;
  /** Our channel number. */
  readonly localId: number;
  /** Our initial (and full) receive window. */
  readonly localWindowSize: number;
  /** The largest data field we accept. */
  readonly localMaxPacket: number;
  /** Resolves once the server confirms the open; rejects if it refuses or the connection ends. */
  readonly opened: Promise<void>;
  /** Resolves once both sides have sent CLOSE; rejects if the connection fails first. */
  readonly closed: Promise<void>;
  /** Data (CHANNEL_DATA) from the server; ends when the channel closes. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Extended data type 1 (stderr) from the server; ends when the channel closes. */
  readonly stderr: ReadableStream<Uint8Array>;
  /** Data to the server; closing it sends EOF. */
  readonly writable: WritableStream<Uint8Array>;
  /** Answers the server's channel requests; the default refuses everything. */
  onRequest: ChannelRequestHandler = () => false;
  /** Data bytes received (both streams). */
  bytesIn = 0;
  /** Data bytes sent. */
  bytesOut = 0;
  /** Of `bytesIn`, those that came after the server's EOF (a quirk; still delivered). */
  bytesAfterEof = 0;
  /** Of `bytesIn`, those deliberately not delivered: extended data of types other than stderr. */
  bytesDiscarded = 0;
  /** Channel-type-specific data from the open confirmation. */
  confirmationData: Uint8Array = new Uint8Array(0);

  #host: ChannelHost;
  #state: State = "opening";
  #remoteId = 0;
  #remoteWindow = 0;
  #remoteMaxPacket = 0;
  #localWindowLeft: number;
  #unacked = 0;
  #eofSent = false;
  #eofReceived = false;
  #closeSent = false;
  #closeReceived = false;
  #error: Error | null = null;
  #opened = deferred<void>();
  #closed = deferred<void>();
  #pending: Deferred<boolean>[] = [];
  #windowWaiters: Deferred<void>[] = [];
  #writeChain: Promise<void> = Promise.resolve();
  #stdout: Inbound;
  #stderr: Inbound;

  constructor(
    host: ChannelHost,
    type: string,
    localId: number,
    windowSize = DEFAULT_WINDOW_SIZE,
    maxPacket = DEFAULT_MAX_PACKET,
  ) {
    this.#host = host;
    this.type = type;
    this.localId = localId;
    this.localWindowSize = windowSize;
    this.localMaxPacket = maxPacket;
    this.#localWindowLeft = windowSize;
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

  /** The server's channel number (valid once open). */
  get remoteId(): number {
    return this.#remoteId;
  }

  /** Bytes we may still send before the server adjusts its window. */
  get remoteWindow(): number {
    return this.#remoteWindow;
  }

  /** The largest data field the server accepts. */
  get remoteMaxPacket(): number {
    return this.#remoteMaxPacket;
  }

  /** Bytes the server may still send us before we adjust our window. */
  get localWindowLeft(): number {
    return this.#localWindowLeft;
  }

  get state(): State {
    return this.#state;
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
    return new SshWriter()
      .byte(MSG.CHANNEL_OPEN)
      .string(this.type)
      .uint32(this.localId)
      .uint32(this.localWindowSize)
      .uint32(this.localMaxPacket)
      .raw(extra)
      .bytes();
  }

  // ------------------------------------------------------------------------------------------
  // Sending

  #closedError(action: string): SshTraceError {
    return new SshTraceError(
      "data",
      "data.channel-closed",
      `cannot ${action} on channel ${this.localId}: the channel is closed`,
      { channel: this.localId },
    );
  }

  #checkWritable(): void {
    if (this.#error) throw this.#error;
    if (this.#state !== "open" || this.#closeSent || this.#closeReceived) {
      throw this.#closedError("send data");
    }
    if (this.#eofSent) {
      throw new SshTraceError(
        "data",
        "data.write-after-eof",
        `cannot send data on channel ${this.localId}: end of input was already sent`,
        { channel: this.localId },
      );
    }
  }

  /**
   * Sends bytes, split to the server's max packet and never beyond its window (waiting for
   * WINDOW_ADJUST). Writes are queued in call order; resolves once the last byte is handed on.
   */
  write(bytes: Uint8Array): Promise<void> {
    const p = this.#writeChain.then(() => this.#writeNow(bytes));
    this.#writeChain = p.catch(noop);
    return p;
  }

  async #writeNow(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    this.#checkWritable();
    while (offset < bytes.length) {
      this.#checkWritable();
      if (this.#remoteWindow === 0) {
        const waiter = deferred<void>();
        this.#windowWaiters.push(waiter);
        await waiter.promise;
        continue;
      }
      const n = Math.min(bytes.length - offset, this.#remoteWindow, this.#remoteMaxPacket);
      this.#remoteWindow -= n;
      const payload = new SshWriter(n + 9)
        .byte(MSG.CHANNEL_DATA)
        .uint32(this.#remoteId)
        .string(bytes.subarray(offset, offset + n))
        .bytes();
      offset += n;
      this.bytesOut += n;
      await this.#host.send(payload);
    }
  }

  /** Sends EOF once, after queued writes. Does nothing if the channel is already closing. */
  eof(): Promise<void> {
    const p = this.#writeChain.then(() => {
      if (this.#error) throw this.#error;
      if (this.#eofSent || this.#closeSent || this.#closeReceived) return;
      this.#eofSent = true;
      return this.#host.send(
        new SshWriter(5).byte(MSG.CHANNEL_EOF).uint32(this.#remoteId).bytes(),
      );
    });
    this.#writeChain = p.catch(noop);
    return p;
  }

  /**
   * Sends CLOSE (once; pending writes are abandoned) and resolves when the server's CLOSE has
   * arrived too.
   */
  close(): Promise<void> {
    if (this.#state === "open" && !this.#closeSent) {
      this.#closeSent = true;
      this.#rejectWindowWaiters(this.#closedError("send data"));
      this.#sendClose();
    }
    return this.closed;
  }

  #sendClose(): void {
    this.#host
      .send(new SshWriter(5).byte(MSG.CHANNEL_CLOSE).uint32(this.#remoteId).bytes())
      .catch(noop);
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
    if (this.#state !== "open" || this.#closeSent || this.#closeReceived) {
      return Promise.reject(this.#closedError(`send the ${type} request`));
    }
    const payload = new SshWriter()
      .byte(MSG.CHANNEL_REQUEST)
      .uint32(this.#remoteId)
      .string(type)
      .bool(wantReply)
      .raw(data)
      .bytes();
    if (!wantReply) return this.#host.send(payload).then(() => true);
    const reply = deferred<boolean>();
    this.#pending.push(reply);
    // A send failure fails the whole connection, which rejects `reply`.
    this.#host.send(payload).catch(noop);
    return withReplyTimeout(reply.promise, this.#host.replyTimeoutMs, `the ${type} request`);
  }

  // ------------------------------------------------------------------------------------------
  // Receiving (called by the connection's dispatch loop)

  #info(message: string): void {
    this.#host.tracer.emit({ stage: "session", type: "info", message });
  }

  /**
   * Handles one message addressed to this channel; `reader` is positioned after the recipient
   * channel field. Throws `SshTraceError` (stage data) on a protocol violation.
   */
  handleMessage(type: number, reader: SshReader): void {
    if (this.#state === "closed") return;
    if (this.#state === "opening") {
      if (type === MSG.CHANNEL_OPEN_CONFIRMATION) return this.#onConfirmation(reader);
      if (type === MSG.CHANNEL_OPEN_FAILURE) return this.#onOpenFailure(reader);
      throw protocolError(
        "data.message-before-open",
        `the server sent ${messageName(type)} for channel ${this.localId} before confirming it`,
        { channel: this.localId },
      );
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
        // The streams end at CLOSE, not here: some servers send data after their EOF (data
        // that was waiting for window space), and it is delivered, not dropped.
        this.#eofReceived = true;
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
        throw protocolError(
          "data.unexpected-message",
          `the server sent ${messageName(type)} for channel ${this.localId}, which is already open`,
          { channel: this.localId },
        );
    }
  }

  #onConfirmation(reader: SshReader): void {
    this.#remoteId = reader.uint32("sender channel");
    this.#remoteWindow = reader.uint32("initial window size");
    this.#remoteMaxPacket = reader.uint32("maximum packet size");
    this.confirmationData = reader.rest().slice();
    if (this.#remoteMaxPacket === 0) {
      throw protocolError(
        "data.invalid-max-packet",
        `the server confirmed channel ${this.localId} with a maximum packet size of 0 bytes`,
        { channel: this.localId },
      );
    }
    this.#state = "open";
    this.#info(
      `channel ${this.localId} (${this.type}) opened: server channel ${this.#remoteId}, ` +
        `server window ${this.#remoteWindow} bytes, server max packet ${this.#remoteMaxPacket} ` +
        `bytes; our window ${this.localWindowSize} bytes, our max packet ${this.localMaxPacket} bytes`,
    );
    this.#opened.resolve();
  }

  #onOpenFailure(reader: SshReader): void {
    const reasonCode = reader.uint32("reason code");
    const description = reader.text("description");
    const reason = OPEN_FAILURE_REASONS[reasonCode] ?? "unknown reason";
    const text = description ? `: ${description}` : "";
    const error = new SshTraceError(
      "session",
      "session.channel-open-refused",
      `the server refused to open a ${this.type} channel: ${reason} (code ${reasonCode})${text}`,
      { channelType: this.type, reasonCode, reason, description },
    );
    this.#host.tracer.emit({
      stage: "session",
      type: "error",
      code: error.code,
      message: error.message,
    });
    this.#state = "closed";
    this.#error = error;
    this.#host.release(this);
    this.#stdout.fail(error);
    this.#stderr.fail(error);
    this.#opened.reject(error);
    this.#closed.reject(error);
  }

  #onWindowAdjust(bytes: number): void {
    if (this.#remoteWindow + bytes > MAX_UINT32) {
      throw protocolError(
        "data.window-overflow",
        `the server grew the window of channel ${this.localId} beyond 2^32-1 bytes`,
        { channel: this.localId, window: this.#remoteWindow, adjust: bytes },
      );
    }
    this.#remoteWindow += bytes;
    const waiters = this.#windowWaiters;
    this.#windowWaiters = [];
    for (const w of waiters) w.resolve();
  }

  #onData(data: Uint8Array, extendedType: number | null): void {
    if (data.length > this.localMaxPacket) {
      throw protocolError(
        "data.packet-too-large",
        `the server sent ${data.length} bytes in one message on channel ${this.localId}, ` +
          `more than our maximum packet size of ${this.localMaxPacket} bytes`,
        { channel: this.localId, length: data.length, maxPacket: this.localMaxPacket },
      );
    }
    if (data.length > this.#localWindowLeft) {
      throw protocolError(
        "data.window-exceeded",
        `the server sent ${data.length} bytes on channel ${this.localId} with only ` +
          `${this.#localWindowLeft} bytes left in our window`,
        { channel: this.localId, length: data.length, window: this.#localWindowLeft },
      );
    }
    this.#localWindowLeft -= data.length;
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

  /** Data after the server's EOF (RFC 4254 §5.3 forbids it): accepted, traced once, counted. */
  #afterEof(n: number): void {
    if (this.bytesAfterEof === 0) {
      this.#host.tracer.emit({
        stage: "data",
        type: "quirk",
        id: "data-after-eof",
        description: `the server sent data on channel ${this.localId} after its EOF; accepted ` +
          "and delivered (counted in bytesAfterEof; the session's close line gives the total)",
      });
    }
    this.bytesAfterEof += n;
  }

  /**
   * Credits bytes a reader has taken, until either side sends CLOSE (also after the server's
   * EOF, which some servers follow with more data). Like OpenSSH's `channel_check_window`, the
   * window is topped up long before it runs low: once more than {@link creditStep} bytes are
   * owed, or once a packet's worth is owed while less than half the window is left (the reader
   * lags behind).
   */
  #consumed(n: number): void {
    this.#unacked += n;
    if (this.#state !== "open" || this.#closeSent || this.#closeReceived) return;
    if (this.#unacked === 0) return;
    const step = creditStep(this.localWindowSize, this.localMaxPacket);
    const low = this.#localWindowLeft * 2 < this.localWindowSize &&
      this.#unacked >= Math.min(step, this.localMaxPacket);
    if (this.#unacked <= step && !low) return;
    const add = this.#unacked;
    this.#unacked = 0;
    this.#localWindowLeft += add;
    this.#host
      .send(
        new SshWriter(9).byte(MSG.CHANNEL_WINDOW_ADJUST).uint32(this.#remoteId).uint32(add).bytes(),
      )
      .catch(noop);
  }

  #onRequest(reader: SshReader): void {
    const type = reader.text("request type");
    const wantReply = reader.bool("want reply");
    const data = reader.rest();
    let ok = false;
    try {
      ok = this.onRequest({ type, wantReply, data });
    } catch {
      ok = false;
    }
    if (!wantReply || this.#closeSent) return;
    this.#host
      .send(
        new SshWriter(5)
          .byte(ok ? MSG.CHANNEL_SUCCESS : MSG.CHANNEL_FAILURE)
          .uint32(this.#remoteId)
          .bytes(),
      )
      .catch(noop);
  }

  #onClose(): void {
    this.#closeReceived = true;
    this.#stdout.end();
    this.#stderr.end();
    const error = new SshTraceError(
      "session",
      "session.channel-closed",
      `the server closed channel ${this.localId} before answering the request`,
      { channel: this.localId },
    );
    for (const reply of this.#pending.splice(0)) reply.reject(error);
    this.#rejectWindowWaiters(this.#closedError("send data"));
    if (!this.#closeSent) {
      this.#closeSent = true;
      this.#sendClose();
    }
    this.#state = "closed";
    this.#host.release(this);
    this.#closed.resolve();
  }

  #rejectWindowWaiters(error: Error): void {
    const waiters = this.#windowWaiters;
    this.#windowWaiters = [];
    for (const w of waiters) w.reject(error);
  }

  /** Fails the channel (the connection ended or broke): every waiter gets `error`. */
  fail(error: Error): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#error = error;
    this.#stdout.fail(error);
    this.#stderr.fail(error);
    for (const reply of this.#pending.splice(0)) reply.reject(error);
    this.#rejectWindowWaiters(error);
    this.#opened.reject(error);
    this.#closed.reject(error);
  }
}
