/**
 * An in-memory MessageTransport driven by the test as a scripted server: push messages for the
 * client to receive, inspect (and wait for) the messages the client sent.
 * @module
 */

import assert from "node:assert/strict";
import { SshReader, SshWriter } from "../../lib/wire/buffer.ts";
import { messageName, MSG } from "../../lib/wire/messages.ts";
import { Tracer } from "../../lib/trace.ts";
import type { MessageTransport } from "../../lib/transport/types.ts";

type Inbound = Uint8Array | null | Error;

export class FakeTransport implements MessageTransport {
  readonly tracer = new Tracer();
  readonly sessionId = new Uint8Array(32);
  readonly serverSigAlgs = null;
  /** Every payload the client sent, in order. */
  readonly sent: Uint8Array[] = [];
  closed = false;
  disconnected: { reasonCode: number; description: string } | null = null;
  /** Called for each sent payload (e.g. to answer keepalives automatically). */
  onSend: ((payload: Uint8Array) => void) | null = null;

  #inbox: Inbound[] = [];
  #receiver: ((value: Inbound) => void) | null = null;
  #cursor = 0;
  #sentWaiter: (() => void) | null = null;

  /** Queues a message for the client. */
  push(payload: Uint8Array): void {
    this.#deliver(payload);
  }

  /** The server closes the connection cleanly: receive() resolves null. */
  end(): void {
    this.#deliver(null);
  }

  /** The transport breaks: receive() rejects with `error`. */
  fail(error: Error): void {
    this.#deliver(error);
  }

  #deliver(item: Inbound): void {
    const receiver = this.#receiver;
    if (receiver) {
      this.#receiver = null;
      receiver(item);
    } else this.#inbox.push(item);
  }

  send(payload: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new Error("fake transport: send after close"));
    this.sent.push(payload.slice());
    this.onSend?.(payload);
    const wake = this.#sentWaiter;
    this.#sentWaiter = null;
    wake?.();
    return Promise.resolve();
  }

  async receive(): Promise<Uint8Array | null> {
    const item = this.#inbox.length
      ? this.#inbox.shift()!
      : await new Promise<Inbound>((resolve) => (this.#receiver = resolve));
    if (item instanceof Error) throw item;
    return item;
  }

  disconnect(reasonCode = 11, description = ""): Promise<void> {
    this.disconnected = { reasonCode, description };
    this.close();
    return Promise.resolve();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#deliver(null);
  }

  authenticated(): void {}

  /** The next sent payload not yet taken by nextSent()/expect(); waits up to `timeoutMs`. */
  async nextSent(timeoutMs = 1000): Promise<Uint8Array> {
    while (this.#cursor >= this.sent.length) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const arrived = await new Promise<boolean>((resolve) => {
        this.#sentWaiter = () => resolve(true);
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      clearTimeout(timer);
      this.#sentWaiter = null;
      if (!arrived) {
        throw new Error(`fake transport: the client sent nothing within ${timeoutMs} ms`);
      }
    }
    return this.sent[this.#cursor++]!;
  }

  /** Takes the next sent payload, asserts its message type, returns a reader after the type. */
  async expect(type: number): Promise<SshReader> {
    const payload = await this.nextSent();
    assert.equal(messageName(payload[0]!), messageName(type));
    return new SshReader(payload.subarray(1), messageName(type));
  }

  /** Sent payloads not yet taken by nextSent()/expect(). */
  get unread(): Uint8Array[] {
    return this.sent.slice(this.#cursor);
  }

  /** Message types of all sent payloads. */
  sentTypes(): number[] {
    return this.sent.map((p) => p[0]!);
  }
}

/** Lets queued promise callbacks and the dispatch loop run. */
export function settle(ms = 5): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const text = (s: string | Uint8Array) => (typeof s === "string" ? new TextEncoder().encode(s) : s);

/** Builders for messages the scripted server sends. */
export const server = {
  openConfirmation(recipient: number, sender: number, window: number, maxPacket: number) {
    return new SshWriter().byte(MSG.CHANNEL_OPEN_CONFIRMATION).uint32(recipient).uint32(sender)
      .uint32(window).uint32(maxPacket).bytes();
  },
  openFailure(recipient: number, reason: number, description: string) {
    return new SshWriter().byte(MSG.CHANNEL_OPEN_FAILURE).uint32(recipient).uint32(reason)
      .string(description).string("").bytes();
  },
  channelOpen(type: string, sender: number, window = 65536, maxPacket = 32768) {
    return new SshWriter().byte(MSG.CHANNEL_OPEN).string(type).uint32(sender).uint32(window)
      .uint32(maxPacket).bytes();
  },
  windowAdjust(recipient: number, bytes: number) {
    return new SshWriter().byte(MSG.CHANNEL_WINDOW_ADJUST).uint32(recipient).uint32(bytes).bytes();
  },
  data(recipient: number, data: string | Uint8Array) {
    return new SshWriter().byte(MSG.CHANNEL_DATA).uint32(recipient).string(text(data)).bytes();
  },
  extendedData(recipient: number, code: number, data: string | Uint8Array) {
    return new SshWriter().byte(MSG.CHANNEL_EXTENDED_DATA).uint32(recipient).uint32(code)
      .string(text(data)).bytes();
  },
  eof(recipient: number) {
    return new SshWriter().byte(MSG.CHANNEL_EOF).uint32(recipient).bytes();
  },
  close(recipient: number) {
    return new SshWriter().byte(MSG.CHANNEL_CLOSE).uint32(recipient).bytes();
  },
  request(
    recipient: number,
    type: string,
    wantReply: boolean,
    data: Uint8Array = new Uint8Array(0),
  ) {
    return new SshWriter().byte(MSG.CHANNEL_REQUEST).uint32(recipient).string(type)
      .bool(wantReply).raw(data).bytes();
  },
  exitStatus(recipient: number, status: number) {
    return server.request(recipient, "exit-status", false, new SshWriter().uint32(status).bytes());
  },
  exitSignal(recipient: number, name: string, coreDumped: boolean, message: string) {
    return server.request(
      recipient,
      "exit-signal",
      false,
      new SshWriter().string(name).bool(coreDumped).string(message).string("").bytes(),
    );
  },
  success(recipient: number) {
    return new SshWriter().byte(MSG.CHANNEL_SUCCESS).uint32(recipient).bytes();
  },
  failure(recipient: number) {
    return new SshWriter().byte(MSG.CHANNEL_FAILURE).uint32(recipient).bytes();
  },
  globalRequest(name: string, wantReply: boolean, data: Uint8Array = new Uint8Array(0)) {
    return new SshWriter().byte(MSG.GLOBAL_REQUEST).string(name).bool(wantReply).raw(data)
      .bytes();
  },
  requestSuccess(data: Uint8Array = new Uint8Array(0)) {
    return new SshWriter().byte(MSG.REQUEST_SUCCESS).raw(data).bytes();
  },
  requestFailure() {
    return new Uint8Array([MSG.REQUEST_FAILURE]);
  },
};

/** Reads a stream to the end and decodes it as UTF-8. */
export async function readText(stream: ReadableStream<Uint8Array>): Promise<string> {
  let out = "";
  const decoder = new TextDecoder();
  for await (const chunk of stream) out += decoder.decode(chunk, { stream: true });
  return out + decoder.decode();
}
