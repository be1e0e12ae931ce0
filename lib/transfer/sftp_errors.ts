/**
 * SFTP failures as `transfer` stage errors: a status code for an operation on a path (no such
 * file, permission denied, the rest with the server's words), a channel that closed under a
 * request, and a malformed packet.
 * @module
 */

import { SshError } from "../errors/mod.ts";
import { WireError } from "../wire/buffer.ts";
import { FX, type Reply, STATUS_NAMES } from "./sftp_codec.ts";

/** The server's error for an operation on a path, as a staged error. */
export function statusError(op: string, path: string, code: number, message: string) {
  const name = STATUS_NAMES[code] ?? `status ${code}`;
  const said = message && message.toLowerCase() !== name.toLowerCase().replaceAll("_", " ")
    ? ` (the server said: ${message})`
    : "";
  switch (code) {
    case FX.NO_SUCH_FILE:
      return new SshError(
        "transfer",
        "transfer.no-such-file",
        `${op} ${path}: no such file or directory${said}`,
        { path },
      );
    case FX.PERMISSION_DENIED:
      return new SshError(
        "transfer",
        "transfer.permission-denied",
        `${op} ${path}: permission denied${said}`,
        { path },
      );
    default:
      return new SshError(
        "transfer",
        "transfer.remote-error",
        `${op} ${path}: the server answered ${name}${said}`,
        { path, protocol: "sftp", status: code },
      );
  }
}

export function closedError(op: string, path: string, cause?: unknown): SshError {
  return new SshError(
    "transfer",
    "transfer.incomplete",
    `${op} ${path}: the SFTP channel closed before the server answered`,
    { path, bytes: 0, expected: null },
    cause === undefined ? undefined : { cause },
  );
}

export function unexpected(op: string, r: Reply): SshError {
  return malformed(new WireError(`SFTP: ${op}: unexpected ${r.type} reply`));
}

/** A malformed SFTP packet as a staged error (other errors pass through). */
export function malformed(e: unknown): SshError {
  if (e instanceof SshError) return e;
  if (e instanceof WireError) {
    return new SshError(
      "transfer",
      "transfer.bad-message",
      `malformed SFTP packet: ${e.message}`,
      {},
      {
        cause: e,
      },
    );
  }
  throw e;
}
