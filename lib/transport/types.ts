/** The transport as the layers above it (auth, connection) see it. @module */

import type { Tracer } from "../trace.ts";
import type { Stage } from "../types.ts";
import type { Deadline } from "./reader.ts";

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
