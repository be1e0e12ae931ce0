/**
 * Local file steps of a transfer, with their failures as `transfer.local-error` naming the path:
 * the one wrapper around `platform.files` (lib/platform/files.ts) that the SFTP and SCP copies
 * share.
 * @module
 */

import { SshError } from "../errors/mod.ts";
import type { LocalFiles, LocalStat } from "../platform/files.ts";
import { firstLine, platform } from "../platform/mod.ts";
import { join } from "./paths.ts";

export type { LocalStat };

/** The local file system, through the platform seam. */
export const localFiles: LocalFiles = platform.files;

/** Runs a local file step; its failure becomes `transfer.local-error` naming what and where. */
export async function local<T>(what: string, path: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (e) {
    if (e instanceof SshError) throw e;
    const kind = platform.errorKind(e);
    throw new SshError(
      "transfer",
      "transfer.local-error",
      `${what} ${path} (local): ${firstLine(e)}`,
      { path, kind },
      { cause: e },
    );
  }
}

/** The local destination: `path` itself, or `path/name` when it is a directory. */
export async function localTarget(path: string, name: string): Promise<string> {
  const st = await localFiles.stat(path).catch(() => null);
  return st?.isDirectory ? join(path, name) : path;
}

/** Refuses to write through a local symlink (a copy must not land somewhere else). */
export async function noSymlink(path: string): Promise<void> {
  const st = await local("stat", path, () => localFiles.lstat(path));
  if (st?.isSymlink) {
    throw new SshError(
      "transfer",
      "transfer.local-error",
      `${path} (local) is a symbolic link: refused to write through it`,
      { path, kind: "symlink" },
    );
  }
}

/**
 * Makes a local directory to download into (mode 0700), or takes the existing one; anything else
 * under that name (a file, a symlink) is refused.
 */
export async function localDirectory(path: string): Promise<void> {
  const st = await local("stat", path, () => localFiles.lstat(path));
  if (st?.isSymlink || (st && !st.isDirectory)) {
    throw new SshError(
      "transfer",
      "transfer.local-error",
      `${path} (local) exists and is not a directory`,
      { path, kind: st.isSymlink ? "symlink" : "not-a-directory" },
    );
  }
  if (!st) await local("mkdir", path, () => localFiles.mkdir(path, { mode: 0o700 }));
}

/**
 * Puts a complete download in place: its permission bits and times set first when `keep` says
 * (`-p`; what the server did not send is left), then `part` renamed to `target`.
 */
export async function landPart(
  part: string,
  target: string,
  keep: { mode?: number; atime?: number; mtime?: number } | null,
): Promise<void> {
  const mode = keep?.mode;
  if (mode !== undefined) await local("chmod", part, () => localFiles.chmod(part, mode & 0o7777));
  const mtime = keep?.mtime;
  if (mtime !== undefined) {
    await local("set times of", part, () => localFiles.utime(part, keep?.atime ?? mtime, mtime));
  }
  await local("rename", target, () => localFiles.rename(part, target));
}

/**
 * Gathers small writes (one SSH packet each, ≤ 32 KiB) into blocks of `size` bytes, so the disk
 * sees one write per block instead of one per packet. Large writes (an SFTP reply of up to 255
 * KiB: half a block or more) go to the file as they are, without a copy into the block.
 * `flush()` writes what is left.
 */
export function blockWriter(
  path: string,
  writer: { write(bytes: Uint8Array): Promise<void> },
  size = 256 * 1024,
): { write(bytes: Uint8Array): Promise<void>; flush(): Promise<void> } {
  const block = new Uint8Array(size);
  let used = 0;
  const flush = async () => {
    if (used === 0) return;
    const n = used;
    used = 0;
    await local("write", path, () => writer.write(block.subarray(0, n)));
  };
  return {
    async write(bytes) {
      if (bytes.length >= size / 2) {
        await flush();
        await local("write", path, () => writer.write(bytes));
        return;
      }
      if (used + bytes.length > size) await flush();
      block.set(bytes, used);
      used += bytes.length;
    },
    flush,
  };
}

/**
 * Reads a local file in blocks of `size` bytes and hands them out as views of at most `chunk`
 * bytes (valid until the next call): one read per block instead of one per packet.
 */
export function chunkReader(
  path: string,
  reader: { read(buffer: Uint8Array): Promise<number | null> },
  chunk: number,
  size = 256 * 1024,
): () => Promise<Uint8Array | null> {
  // A whole number of chunks per block, so no chunk is cut short at a block's end.
  const block = new Uint8Array(Math.max(1, Math.floor(size / chunk)) * chunk);
  let start = 0;
  let end = 0;
  let eof = false;
  return async () => {
    if (start === end) {
      if (eof) return null;
      start = 0;
      end = 0;
      // Fill the block (a read may return less than asked).
      while (end < block.length) {
        const n = await local("read", path, () => reader.read(block.subarray(end)));
        if (n === null) {
          eof = true;
          break;
        }
        end += n;
      }
      if (end === 0) return null;
    }
    const out = block.subarray(start, Math.min(end, start + chunk));
    start += out.length;
    return out;
  };
}

/** What a local path to upload is; a missing one is `transfer.local-error` (not-found). */
export async function existingLocal(path: string): Promise<LocalStat> {
  const st = await local("stat", path, () => localFiles.stat(path));
  if (st) return st;
  throw new SshError(
    "transfer",
    "transfer.local-error",
    `${path} (local): no such file or directory`,
    { path, kind: "not-found" },
  );
}
