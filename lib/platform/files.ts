/**
 * Local files for transfers: streaming reads and writes, rename, remove, directory listing and
 * metadata. The only place the transfer code touches the runtime's file system (Deno here).
 * Errors keep the runtime's classes; ask their meaning with `platform.errorKind()`.
 * @module
 */

/** What a transfer needs to know about a local path. */
export interface LocalStat {
  isFile: boolean;
  isDirectory: boolean;
  isSymlink: boolean;
  size: number;
  /** Permission bits (mode & 0o7777), or null where the runtime cannot tell. */
  mode: number | null;
  /** Seconds since the epoch, or null. */
  mtime: number | null;
  atime: number | null;
}

/** A file opened for reading: sequential reads from an offset. */
export interface LocalReader {
  /** Reads up to `buffer.length` bytes; null at the end of the file. */
  read(buffer: Uint8Array): Promise<number | null>;
  close(): void;
}

/** A file opened for writing: sequential writes from an offset. */
export interface LocalWriter {
  /** Writes every byte of `bytes`. */
  write(bytes: Uint8Array): Promise<void>;
  /** Flushes to disk (fsync) before a rename makes the file final. */
  sync(): Promise<void>;
  close(): void;
}

/** The local file system, as transfers use it. */
export interface LocalFiles {
  /** Stats without following a final symlink; null when nothing is there. */
  lstat(path: string): Promise<LocalStat | null>;
  /** Stats following symlinks; null when nothing is there. */
  stat(path: string): Promise<LocalStat | null>;
  openRead(path: string, offset?: number): Promise<LocalReader>;
  /**
   * Opens for writing: `create` makes a new file (failing if one exists when `exclusive`),
   * `offset` continues a partial one (for --resume). `mode` applies to a new file.
   */
  openWrite(
    path: string,
    options: { offset?: number; exclusive?: boolean; mode?: number },
  ): Promise<LocalWriter>;
  rename(from: string, to: string): Promise<void>;
  /** Removes a file; a missing file is not an error. */
  remove(path: string): Promise<void>;
  /** Makes a directory (with `recursive`, its parents too, and no error if it exists). */
  mkdir(path: string, options?: { mode?: number; recursive?: boolean }): Promise<void>;
  /** Entry names of a directory (no `.`/`..`). */
  readDir(path: string): Promise<string[]>;
  chmod(path: string, mode: number): Promise<void>;
  /** Sets access and modification times (seconds since the epoch). */
  utime(path: string, atime: number, mtime: number): Promise<void>;
}

function toStat(info: Deno.FileInfo): LocalStat {
  const secs = (d: Date | null) => (d ? Math.floor(d.getTime() / 1000) : null);
  return {
    isFile: info.isFile,
    isDirectory: info.isDirectory,
    isSymlink: info.isSymlink,
    size: info.size,
    mode: info.mode === null ? null : info.mode & 0o7777,
    mtime: secs(info.mtime),
    atime: secs(info.atime),
  };
}

async function statOrNull(fn: () => Promise<Deno.FileInfo>): Promise<LocalStat | null> {
  try {
    return toStat(await fn());
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** Local files on Deno. */
export const localFiles: LocalFiles = {
  lstat: (path) => statOrNull(() => Deno.lstat(path)),
  stat: (path) => statOrNull(() => Deno.stat(path)),
  async openRead(path, offset = 0) {
    const file = await Deno.open(path, { read: true });
    if (offset > 0) await file.seek(offset, Deno.SeekMode.Start);
    return {
      read: (buffer) => file.read(buffer),
      close: () => file.close(),
    };
  },
  async openWrite(path, { offset = 0, exclusive = false, mode }) {
    const file = await Deno.open(path, {
      write: true,
      create: !exclusive && offset === 0 ? true : undefined,
      createNew: exclusive || undefined,
      truncate: offset === 0 && !exclusive ? true : undefined,
      mode,
    });
    if (offset > 0) {
      await file.truncate(offset);
      await file.seek(offset, Deno.SeekMode.Start);
    }
    return {
      async write(bytes) {
        let done = 0;
        while (done < bytes.length) done += await file.write(bytes.subarray(done));
      },
      sync: () => file.sync(),
      close: () => file.close(),
    };
  },
  rename: (from, to) => Deno.rename(from, to),
  async remove(path) {
    try {
      await Deno.remove(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  },
  mkdir: (path, options = {}) => Deno.mkdir(path, options),
  async readDir(path) {
    const names: string[] = [];
    for await (const entry of Deno.readDir(path)) names.push(entry.name);
    return names.sort();
  },
  chmod: (path, mode) => Deno.chmod(path, mode),
  utime: (path, atime, mtime) => Deno.utime(path, atime, mtime),
};
