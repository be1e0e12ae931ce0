/**
 * Node-style error codes (`ECONNREFUSED`...) as the platform's error kinds: what node:* modules
 * throw, under Node and under Deno's node: compatibility alike.
 * @module
 */

import type { ErrorKind } from "./mod.ts";

export const NODE_ERROR_CODES: Readonly<Record<string, ErrorKind>> = {
  ENOENT: "not-found",
  EACCES: "permission-denied",
  EPERM: "permission-denied",
  EISDIR: "is-a-directory",
  EEXIST: "already-exists",
  EADDRINUSE: "addr-in-use",
  ECONNREFUSED: "connection-refused",
  ECONNRESET: "connection-reset",
  EPIPE: "connection-reset",
  ECONNABORTED: "connection-aborted",
  ENOTCONN: "not-connected",
  ETIMEDOUT: "timed-out",
};
