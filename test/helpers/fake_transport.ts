/**
 * An in-memory `MessageTransport` standing in for the transport under the auth and connection
 * layers, driven by the test as the server. Two ways to answer, freely mixed: a `server` script
 * sees each message the client sends and returns the replies (a `receive()` with nothing queued
 * then fails at once: the script has no answer), or the test pushes messages as it goes (a
 * `receive()` then waits for one). Every sent message is kept, can be awaited in order
 * (`nextSent()`, `expect()`) and parsed.
 * @module
 */

import assert from "node:assert/strict";
import { Tracer } from "../../lib/trace.ts";
import type { MessageTransport } from "../../lib/transport/message_transport.ts";
import { SshReader } from "../../lib/wire/buffer.ts";
import { messageName } from "../../lib/wire/messages.ts";
import { untypedError } from "./errors.ts";

/** A reply: a message, an error `receive()` rejects with, or null (connection closed). */
export type Scripted = Uint8Array | Error | null;

/** Sees each message the client sends; returns what the server sends back. */
export type ServerScript = (payload: Uint8Array, fake: FakeTransport) => Scripted[] | void;

export interface FakeTransportOptions {
  /** Answers each sent message; without it, the test answers with push(), end(), fail(). */
  server?: ServerScript;
  /** @default bytes 1..32 */
  sessionId?: Uint8Array;
  /** @default null */
  serverSigAlgs?: string[] | null;
  /** Messages waiting before the client sends anything. */
  initial?: Scripted[];
}

export class FakeTransport implements MessageTransport {
  readonly tracer = new Tracer({ clock: () => 0 });
  readonly sessionId: Uint8Array;
  readonly serverSigAlgs: string[] | null;
  /** Every payload the client sent, in order. */
  readonly sent: Uint8Array[] = [];
  /** The `timeoutMs` argument of every `receive()` call. */
  readonly receiveTimeouts: (number | undefined)[] = [];
  authenticatedCalls = 0;
  closed = false;
  disconnected: { reasonCode: number; description: string } | null = null;
  /** Called for each sent payload (e.g. to answer keepalives automatically). */
  onSend: ((payload: Uint8Array) => void) | null = null;

  #server: ServerScript | null;
  #inbox: Scripted[] = [];
  #receiver: ((value: Scripted) => void) | null = null;
  #cursor = 0;
  #sentWaiter: (() => void) | null = null;

  constructor(options: FakeTransportOptions = {}) {
    this.#server = options.server ?? null;
    this.sessionId = options.sessionId ?? new Uint8Array(32).map((_, i) => i + 1);
    this.serverSigAlgs = options.serverSigAlgs ?? null;
    this.#inbox.push(...(options.initial ?? []));
  }

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

  #deliver(item: Scripted): void {
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
    const replies = this.#server?.(payload.slice(), this);
    if (replies) this.#inbox.push(...replies);
    const wake = this.#sentWaiter;
    this.#sentWaiter = null;
    wake?.();
    return Promise.resolve();
  }

  async receive(timeoutMs?: number): Promise<Uint8Array | null> {
    this.receiveTimeouts.push(timeoutMs);
    if (this.#inbox.length === 0 && this.#server) {
      throw untypedError("auth", "test.no-reply", "fake transport: the script has no reply");
    }
    const item = this.#inbox.length
      ? this.#inbox.shift()!
      : await new Promise<Scripted>((resolve) => (this.#receiver = resolve));
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

  authenticated(): void {
    this.authenticatedCalls++;
  }

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
