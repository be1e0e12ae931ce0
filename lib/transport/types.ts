/** The transport as the layers above it (auth, connection) see it. @module */

import type { Tracer } from "../trace.ts";

/**
 * An established, encrypted SSH transport. Transport-level messages (IGNORE, DEBUG,
 * UNIMPLEMENTED, KEXINIT/rekeying, EXT_INFO) are handled inside; DISCONNECT from the peer becomes
 * an `SshTraceError` thrown from `receive()`.
 */
export interface MessageTransport {
  readonly tracer: Tracer;
  /** The session identifier (the first exchange hash). */
  readonly sessionId: Uint8Array;
  /** Algorithms the server accepts for user-auth signatures (EXT_INFO), or null if not sent. */
  readonly serverSigAlgs: string[] | null;
  /** Sends one message payload (starting with its message number). Waits during a rekey. */
  send(payload: Uint8Array): Promise<void>;
  /**
   * The next message for the layers above (number >= 50), or null once the peer has closed the
   * connection cleanly. Rejects with `SshTraceError` on timeout, protocol error or DISCONNECT.
   * `timeoutMs` overrides the transport's default wait; 0 waits forever.
   */
  receive(timeoutMs?: number): Promise<Uint8Array | null>;
  /** Sends DISCONNECT (BY_APPLICATION unless given) and closes the connection. */
  disconnect(reasonCode?: number, description?: string): Promise<void>;
  /** Closes the connection without a DISCONNECT message. */
  close(): void;
  /** Turns on delayed compression (zlib@openssh.com) after user authentication. */
  authenticated(): void;
}
