/**
 * Early release of per-packet memory. Every SSH packet of a bulk copy lives in arrays of its own
 * (decrypted payload, sealed packet, SFTP request or reply), which V8 frees only when a young
 * collection finds them dead; the young generation grows during a long copy, so the garbage
 * waiting for it (and the process's peak memory) grew with the size of the file.
 *
 * The code that allocates such an array and hands it along one path marks it
 * {@link releasable}; the last user on that path, once done with it, calls {@link release},
 * which frees the memory at once (`ArrayBuffer.prototype.transfer(0)` detaches it: every view
 * of it then has length 0). A user that passes a view on to code that may keep it calls
 * {@link keep}. Marks are only a permission: an array never marked is left to the collector.
 * @module
 */

/** Arrays smaller than this are left to the collector (not worth a mark). */
export const RELEASE_MIN = 8192;

const marked = new WeakSet<ArrayBufferLike>();
const canDetach = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === "function";

/**
 * Marks the memory behind `bytes` as used by the path it is handed along only, and returns
 * `bytes`. Only arrays at least {@link RELEASE_MIN} bytes long that fill (almost) all of their
 * buffer are marked, so a slice of a shared pool (Node's Buffer pool) never is.
 */
export function releasable<T extends Uint8Array>(bytes: T): T {
  const buffer = bytes.buffer;
  if (
    canDetach && bytes.length >= RELEASE_MIN && buffer.byteLength - bytes.length <= 1024 &&
    buffer instanceof ArrayBuffer
  ) marked.add(buffer);
  return bytes;
}

/** Withdraws the mark: a view of this memory now goes where it may be kept. */
export function keep(bytes: Uint8Array): void {
  marked.delete(bytes.buffer);
}

/** Frees the memory behind `bytes` now if it was marked {@link releasable}; else nothing. */
export function release(bytes: Uint8Array): void {
  const buffer = bytes.buffer;
  if (!marked.delete(buffer)) return;
  try {
    (buffer as ArrayBuffer & { transfer(length: number): ArrayBuffer }).transfer(0);
  } catch {
    // Not detachable (held by the runtime): the collector frees it later.
  }
}
