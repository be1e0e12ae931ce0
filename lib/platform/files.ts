/**
 * Local files for transfers, as the platform seam offers them (`platform.files`): streaming
 * reads and writes, rename, remove, directory listing and metadata. The implementations are
 * deno_files.ts and node_files.ts. Errors keep the runtime's classes; ask their meaning with
 * `platform.errorKind()`.
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
