/**
 * Client keepalive, as OpenSSH's ServerAliveInterval / ServerAliveCountMax: when nothing has
 * arrived from the server for an interval, send `keepalive@openssh.com` (want_reply); any answer,
 * success or failure, proves the server alive. Too many unanswered in a row fail the connection.
 * @module
 */

import { SshError } from "../errors/mod.ts";
import type { Connection } from "./mux.ts";

export interface KeepaliveOptions {
  /** Milliseconds without traffic from the server before a keepalive is sent. */
  intervalMs: number;
  /** Unanswered keepalives allowed; the next silent interval after that fails the connection. */
  countMax: number;
}

/** The keepalive request name OpenSSH uses (servers answer it, usually with a failure). */
export const KEEPALIVE_REQUEST = "keepalive@openssh.com";

/**
 * Starts keepalives on `connection`. Returns a function that stops them (idempotent); they also
 * stop by themselves when the connection ends. On timeout the connection fails with
 * `SshError("data", "data.keepalive-timeout")`.
 */
export function startKeepalive(connection: Connection, options: KeepaliveOptions): () => void {
  const { intervalMs, countMax } = options;
  if (!(intervalMs > 0) || !Number.isFinite(intervalMs)) {
    throw new SshError(
      "usage",
      "usage.invalid-keepalive",
      `the keepalive interval must be a positive number of milliseconds, not ${intervalMs}`,
      { intervalMs },
    );
  }
  if (!Number.isInteger(countMax) || countMax < 0) {
    throw new SshError(
      "usage",
      "usage.invalid-keepalive",
      `the keepalive count must be a whole number of 0 or more, not ${countMax}`,
      { countMax },
    );
  }

  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let unanswered = 0;
  let seen = connection.messagesIn;

  const stop = () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };

  const schedule = () => {
    if (!stopped) timer = setTimeout(tick, intervalMs);
  };

  const tick = () => {
    timer = undefined;
    if (stopped || connection.ended) return stop();
    if (connection.messagesIn !== seen) {
      // The server sent something during the interval: it is alive.
      seen = connection.messagesIn;
      unanswered = 0;
      return schedule();
    }
    if (unanswered >= countMax) {
      stop();
      connection.fail(
        new SshError(
          "data",
          "data.keepalive-timeout",
          `the server did not answer ${unanswered} keepalive request${
            unanswered === 1 ? "" : "s"
          } sent ${intervalMs} ms apart, and sent nothing else`,
          { intervalMs, countMax, unanswered },
        ),
      );
      return;
    }
    unanswered++;
    connection.globalRequest(KEEPALIVE_REQUEST, true).then(
      () => {
        unanswered = 0;
        // The reply itself is not traffic that should delay the next keepalive.
        seen = connection.messagesIn;
      },
      () => {},
    );
    schedule();
  };

  schedule();
  connection.finished.then(stop);
  return stop;
}
