/**
 * The transport as the layers above it (auth, connection) see it, and ONE implementation of it
 * for both roles over the shared {@link Handshake}: the send queue held during a key exchange,
 * the receive loop that consumes the transport-level messages and answers rekeys, DISCONNECT
 * and close. A role supplies its KEXINIT lists and its half of the kex method; the client adds
 * the version exchange and the host key check (transport.ts), the lab its faults
 * (lib/lab/transport.ts). Emits events; never prints.
 * @module
 */

import { orLate } from "../async.ts";
import type { Tracer } from "../trace.ts";
import type { AlgorithmLists, Stage } from "../types.ts";
import { DISCONNECT, DISCONNECT_REASONS } from "../wire/messages.ts";
import {
  Handshake,
  type HandshakeOptions,
  type KexKeys,
  type KexRun,
  type Negotiated,
} from "./handshake.ts";
import { StreamPacketConn, type StreamPacketConnOptions } from "./packet_conn.ts";
import { Deadline } from "./reader.ts";
import type { ByteStream } from "./stream.ts";
import { disconnectMessage } from "./transport_messages.ts";

/**
 * An established, encrypted SSH transport. Transport-level messages (IGNORE, DEBUG,
 * UNIMPLEMENTED, KEXINIT/rekeying, EXT_INFO) are handled inside; DISCONNECT from the peer becomes
 * an `SshError` thrown from `receive()`.
 */
export interface MessageTransport {
  readonly tracer: Tracer;
  /** The session identifier (the first exchange hash). */
  readonly sessionId: Uint8Array;
  /** Algorithms the server accepts for user-auth signatures (EXT_INFO), or null if not sent. */
  readonly serverSigAlgs: string[] | null;
  /**
   * Sends one message payload (starting with its message number). Waits during a rekey.
   * `stage`: the caller's stage, blamed by errors (each layer states its own).
   */
  send(payload: Uint8Array, stage?: Stage): Promise<void>;
  /**
   * The next message for the layers above (number >= 50), or null once the peer has closed the
   * connection cleanly. Rejects with `SshError` on timeout, protocol error or DISCONNECT.
   * The whole wait is bounded by `timeoutMs` (default: the transport's; 0 waits forever), or
   * counts against `budget` (a stage's time budget) when given. `stage`: the caller's stage,
   * blamed by errors.
   */
  receive(timeoutMs?: number, budget?: Deadline, stage?: Stage): Promise<Uint8Array | null>;
  /** Sends DISCONNECT (BY_APPLICATION unless given) and closes the connection. */
  disconnect(reasonCode?: number, description?: string): Promise<void>;
  /** Closes the connection without a DISCONNECT message. */
  close(): void;
  /** Turns on delayed compression (zlib@openssh.com) after user authentication. */
  authenticated(): void;
}

/**
 * What a role sets up: its packet connection and the handshake options that are its own. The
 * handshake traces to `conn.tracer` when given (the lab's does not trace).
 */
export interface RoleSetup {
  tracer: Tracer;
  conn: StreamPacketConnOptions;
  handshake: Omit<HandshakeOptions, "conn" | "lists" | "exchange" | "tracer">;
}

/** The {@link MessageTransport} of either role; a role implements `lists` and `exchange`. */
export abstract class RoleTransport implements MessageTransport {
  readonly tracer: Tracer;
  /**
   * The stage the layers above work in (auth, session, data), blamed by errors of `send` and
   * `receive` calls that state none.
   */
  stage: Stage | null = null;
  protected readonly conn: StreamPacketConn;
  protected readonly hs: Handshake;
  #timeoutMs: number;

  constructor(stream: ByteStream, setup: RoleSetup) {
    this.tracer = setup.tracer;
    this.#timeoutMs = setup.conn.timeoutMs;
    this.conn = new StreamPacketConn(stream, setup.conn);
    this.hs = new Handshake({
      ...setup.handshake,
      conn: this.conn,
      tracer: setup.conn.tracer ?? null,
      lists: (first) => this.lists(first),
      exchange: (run) => this.exchange(run),
    });
  }

  /** Our KEXINIT lists, without the markers. */
  protected abstract lists(first: boolean): AlgorithmLists;
  /** Runs the role's half of the negotiated kex method. */
  protected abstract exchange(run: KexRun): Promise<KexKeys>;

  get sessionId(): Uint8Array {
    return this.hs.sessionId;
  }
  get serverSigAlgs(): string[] | null {
    return this.hs.serverSigAlgs;
  }
  get negotiated(): Negotiated | null {
    return this.hs.negotiated;
  }
  get closed(): boolean {
    return this.conn.closed;
  }
  /** Completed key exchanges. */
  get kexCount(): number {
    return this.hs.kexCount;
  }

  /** The stage errors are blamed on: the one the layer at work states (data when none does). */
  protected workStage(stage?: Stage): Stage {
    return stage ?? this.stage ?? "data";
  }

  send(payload: Uint8Array, stage?: Stage): Promise<void> {
    if (!this.hs.inKex) this.conn.stage = this.workStage(stage);
    return this.hs.send(payload);
  }

  /**
   * The next message for the layers above. The whole wait (IGNORE, DEBUG and the like included)
   * is bounded by `timeoutMs` (default: the transport's; 0: no bound), or counts against
   * `budget` when given (a stage's budget, whose clock runs only while waiting here). `stage`
   * is the caller's stage, blamed by errors.
   */
  async receive(timeoutMs?: number, budget?: Deadline, stage?: Stage): Promise<Uint8Array | null> {
    const ms = timeoutMs ?? this.#timeoutMs;
    const work = this.workStage(stage);
    const loop = async () => {
      for (;;) {
        if (!this.hs.inKex) this.conn.stage = work;
        const p = await this.conn.readPacket(ms);
        if (p === null) {
          this.close();
          return null;
        }
        if (await this.peek(p)) continue;
        if (!(await this.hs.handleTransportMessage(p))) {
          await this.hs.rekeyIfDue();
          return p;
        }
      }
    };
    if (budget) return await this.conn.within(budget, loop);
    if (ms <= 0) return await loop();
    const what = `answer from the ${this.hs.peer}`;
    return await this.conn.within(new Deadline(work, what, ms), loop);
  }

  /** Sees each packet the receive loop reads first (the lab's fault hooks): true drops it. */
  protected peek(_p: Uint8Array): Promise<boolean> {
    return Promise.resolve(false);
  }

  authenticated(): void {
    this.hs.authenticated();
  }

  /** Sends DISCONNECT (waiting at most 1 s: the peer may be gone or stalled) and closes. */
  async disconnect(
    reasonCode: number = DISCONNECT.BY_APPLICATION,
    description = "disconnected by user",
  ): Promise<void> {
    if (this.conn.closed) return;
    this.hs.tracer?.emit({
      stage: this.conn.stage === "kex" ? "kex" : this.workStage(),
      type: "disconnect",
      from: this.hs.role,
      reasonCode,
      reason: DISCONNECT_REASONS[reasonCode] ?? "UNKNOWN",
      description,
    });
    try {
      await orLate(this.hs.sendNow(disconnectMessage(reasonCode, description)), 1000);
    } catch {
      // The peer may already be gone; closing is all that is left.
    }
    this.close();
  }

  /** Closes the connection; every sender waiting for new keys is let go (and fails). */
  close(): void {
    this.hs.close();
  }
}
