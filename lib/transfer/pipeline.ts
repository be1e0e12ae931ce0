/**
 * Pipelined SFTP reads and writes: like OpenSSH's sftp, many requests of 32 KiB are in flight at
 * once (64 by default), so throughput does not wait on round trips; data is handed on in file
 * order as it arrives, so memory stays at requests × chunk size whatever the file size.
 * @module
 */

import { noop } from "../async.ts";
import { SshError } from "../errors/mod.ts";
import { release } from "../wire/release.ts";
import type { SftpClient } from "./sftp_client.ts";

/** Options of {@link pipelinedRead} and {@link pipelinedWrite}. */
export interface PipelineOptions {
  /** Bytes asked for (or sent) per request. @default 32768 */
  chunkSize?: number;
  /** Requests in flight at once. @default 64 */
  requests?: number;
  /** Where in the file to start (for --resume). @default 0 */
  offset?: number;
  /** Called with the bytes done so far (from `offset`), after each chunk. */
  onProgress?: (bytes: number) => void;
  /** Stops the copy with `transfer.interrupted`. */
  signal?: AbortSignal;
}

export const DEFAULT_CHUNK = 32 * 1024;
export const DEFAULT_REQUESTS = 64;
/** The largest request we make: a reply must fit the 256 KiB packet limit with its header. */
export const MAX_CHUNK = 255 * 1024;
/** Bytes in flight we aim for: beyond the 2 MiB channel window the server only waits anyway. */
const IN_FLIGHT = 4 * 1024 * 1024;

/**
 * Request size and count for a copy: what the caller asked, else as OpenSSH's sftp does since
 * 8.9: the server's own limit (`limits@openssh.com`, 255 KiB for OpenSSH) when it says one,
 * else 32 KiB; as many requests as keep about 4 MiB in flight (at most 64).
 */
export async function sizesFor(
  sftp: SftpClient,
  direction: "read" | "write",
  options: { chunkSize?: number; requests?: number },
): Promise<{ chunkSize: number; requests: number }> {
  let chunkSize = options.chunkSize;
  if (chunkSize === undefined) {
    const limits = await sftp.limits();
    const limit = direction === "read" ? limits.maxRead : limits.maxWrite;
    chunkSize = limit > 0 ? Math.min(limit, MAX_CHUNK) : DEFAULT_CHUNK;
  }
  const requests = options.requests ??
    Math.max(2, Math.min(DEFAULT_REQUESTS, Math.floor(IN_FLIGHT / chunkSize)));
  return { chunkSize, requests };
}

/** The error of a copy stopped by its signal. */
export function interrupted(path: string): SshError {
  return new SshError("transfer", "transfer.interrupted", `copy of ${path} interrupted`, {
    path,
  });
}

/**
 * Reads an open remote file from `offset` to its end, handing each chunk to `sink` in order.
 * Short reads are asked again for the rest. Returns the bytes read. A chunk's memory may be
 * released once the sink's promise settles: the sink copies or writes it, never keeps it.
 */
export async function pipelinedRead(
  sftp: SftpClient,
  handle: Uint8Array,
  path: string,
  sink: (bytes: Uint8Array) => Promise<void>,
  options: PipelineOptions = {},
): Promise<number> {
  const chunk = options.chunkSize ?? DEFAULT_CHUNK;
  const max = options.requests ?? DEFAULT_REQUESTS;
  const start = options.offset ?? 0;
  type Req = { offset: number; length: number; reply: Promise<Uint8Array | null> };
  const issue = (offset: number, length: number): Req => {
    const reply = sftp.read(handle, offset, length, path);
    reply.catch(noop); // awaited in order below; later ones may be abandoned on failure
    return { offset, length, reply };
  };
  const queue: Req[] = [];
  let next = start;
  let eof = false;
  let done = 0;
  const fill = () => {
    while (!eof && queue.length < max) {
      queue.push(issue(next, chunk));
      next += chunk;
    }
  };
  fill();
  while (queue.length) {
    if (options.signal?.aborted) throw interrupted(path);
    const head = queue.shift()!;
    const data = await head.reply;
    if (data === null) {
      eof = true;
      continue;
    }
    if (data.length === 0) {
      throw new SshError(
        "transfer",
        "transfer.bad-message",
        `read ${path}: the server sent 0 bytes without end of file`,
      );
    }
    if (eof) continue; // data past an end of file already seen: the file grew; stop at the EOF
    const length = data.length;
    await sink(data);
    release(data); // the sink has copied or written it (lib/wire/release.ts)
    done += length;
    options.onProgress?.(done);
    if (length < head.length) {
      queue.unshift(issue(head.offset + length, head.length - length));
    }
    fill();
  }
  return done;
}

/**
 * Writes the chunks `source` hands out (views, each used before the next call; null at the end)
 * to an open remote file from `offset`, with up to `requests` writes in flight. Returns the bytes
 * written.
 */
export async function pipelinedWrite(
  sftp: SftpClient,
  handle: Uint8Array,
  path: string,
  source: () => Promise<Uint8Array | null>,
  options: PipelineOptions = {},
): Promise<number> {
  const max = options.requests ?? DEFAULT_REQUESTS;
  const start = options.offset ?? 0;
  let offset = start;
  const queue: { end: number; ack: Promise<void> }[] = [];
  const settle = async () => {
    const head = queue.shift()!;
    await head.ack;
    options.onProgress?.(head.end - start);
  };
  try {
    for (;;) {
      if (options.signal?.aborted) throw interrupted(path);
      const data = await source();
      if (data === null || data.length === 0) break;
      // The request is encoded (the data copied) at once, so the view may be reused after.
      const ack = sftp.write(handle, offset, data, path);
      ack.catch(noop);
      offset += data.length;
      queue.push({ end: offset, ack });
      if (queue.length >= max) await settle();
    }
    while (queue.length) await settle();
  } catch (e) {
    // Let the writes in flight finish or fail before the caller closes the handle.
    await Promise.allSettled(queue.map((q) => q.ack));
    throw e;
  }
  return offset - start;
}
