/**
 * Two connection layers talking to each other in memory, like Go's `muxPair` in x/crypto/ssh:
 * a pair of `MessageTransport`s joined by payload queues (no packets, no crypto), a client
 * `Connection` on one end and a server `Connection` on the other. Every payload that crosses is
 * recorded per direction, so tests can count messages (e.g. split CHANNEL_DATA).
 * @module
 */

import { Tracer } from "../../lib/trace.ts";
import { SshError } from "../../lib/errors/mod.ts";
import type { MessageTransport } from "../../lib/transport/message_transport.ts";
import { Connection, type ConnectionOptions } from "../../lib/connection/mux.ts";

/** One end of an in-memory pipe of message payloads. */
export class PipeEnd implements MessageTransport {
  readonly tracer = new Tracer({ clock: () => 0 });
  readonly sessionId = new Uint8Array(32);
  readonly serverSigAlgs: string[] | null = null;
  /** Every payload this end sent, in order. */
  readonly sent: Uint8Array[] = [];
  peer!: PipeEnd;
  #inbox: Uint8Array[] = [];
  #waiter: (() => void) | null = null;
  /** Set once no more will arrive: null for a clean end, else the error `receive()` throws. */
  #end: Error | null | undefined = undefined;
  #closed = false;

  get closed(): boolean {
    return this.#closed;
  }

  send(payload: Uint8Array): Promise<void> {
    if (this.#closed) {
      return Promise.reject(
        new SshError("data", "data.connection-reset", "the pipe is closed"),
      );
    }
    // A copy, as a real transport's sealing makes one: the sender may release its payload
    // once the send resolves (lib/wire/release.ts).
    const copy = payload.slice();
    this.sent.push(copy);
    this.peer.#deliver(copy);
    return Promise.resolve();
  }

  async receive(): Promise<Uint8Array | null> {
    for (;;) {
      const next = this.#inbox.shift();
      if (next) return next;
      if (this.#end !== undefined) {
        if (this.#end) throw this.#end;
        return null;
      }
      await new Promise<void>((resolve) => (this.#waiter = resolve));
    }
  }

  disconnect(): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /** Closes this end; the peer sees a clean end after what was already sent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#finish(null);
    this.peer.#finish(null);
  }

  authenticated(): void {}

  /** The connection breaks under this end: `receive()` rejects with `error`, sends fail. */
  breakWith(error: Error): void {
    this.#closed = true;
    this.#inbox = [];
    this.#finish(error);
  }

  #deliver(payload: Uint8Array): void {
    if (this.#end !== undefined) return;
    this.#inbox.push(payload);
    this.#wake();
  }

  #finish(error: Error | null): void {
    if (this.#end === undefined) this.#end = error;
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }
}

/** Two joined pipe ends. */
export function pipePair(): [PipeEnd, PipeEnd] {
  const a = new PipeEnd();
  const b = new PipeEnd();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

export interface MuxPair {
  client: Connection;
  server: Connection;
  /** The client's end of the pipe (`sent`: client to server). */
  clientEnd: PipeEnd;
  /** The server's end of the pipe (`sent`: server to client). */
  serverEnd: PipeEnd;
}

/** A client and a server connection joined in memory, both started. */
export function muxPair(
  server: ConnectionOptions = {},
  client: ConnectionOptions = {},
): MuxPair {
  const [clientEnd, serverEnd] = pipePair();
  const pair = {
    client: new Connection(clientEnd, { ...client, role: "client" }),
    server: new Connection(serverEnd, { ...server, role: "server" }),
    clientEnd,
    serverEnd,
  };
  pair.client.start();
  pair.server.start();
  return pair;
}
