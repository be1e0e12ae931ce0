/**
 * Local files on the Node API (Bun's standalone executable): {@link LocalFiles}, as node.ts hands
 * it out as `platform.files`.
 * @module
 */

import type fs from "node:fs";
import fsp from "node:fs/promises";
import type { LocalFiles, LocalStat } from "./files.ts";

function toStat(s: fs.Stats): LocalStat {
  return {
    isFile: s.isFile(),
    isDirectory: s.isDirectory(),
    isSymlink: s.isSymbolicLink(),
    size: s.size,
    mode: s.mode & 0o7777,
    mtime: Math.floor(s.mtimeMs / 1000),
    atime: Math.floor(s.atimeMs / 1000),
  };
}

const missing = (e: unknown) => (e as { code?: unknown } | null)?.code === "ENOENT";

async function statOrNull(fn: () => Promise<fs.Stats>): Promise<LocalStat | null> {
  try {
    return toStat(await fn());
  } catch (e) {
    if (missing(e)) return null;
    throw e;
  }
}

/** Local files on the Node API. */
export const nodeFiles: LocalFiles = {
  lstat: (path) => statOrNull(() => fsp.lstat(path)),
  stat: (path) => statOrNull(() => fsp.stat(path)),
  async openRead(path, offset = 0) {
    const file = await fsp.open(path, "r");
    let position = offset;
    return {
      async read(buffer) {
        const { bytesRead } = await file.read(buffer, 0, buffer.length, position);
        if (bytesRead === 0) return buffer.length === 0 ? 0 : null;
        position += bytesRead;
        return bytesRead;
      },
      close: () => void file.close().catch(() => {}),
    };
  },
  async openWrite(path, { offset = 0, exclusive = false, mode }) {
    const flags = exclusive ? "wx" : offset === 0 ? "w" : "r+";
    const file = await fsp.open(path, flags, mode);
    if (offset > 0) await file.truncate(offset);
    let position = offset;
    return {
      async write(bytes) {
        let done = 0;
        while (done < bytes.length) {
          const { bytesWritten } = await file.write(bytes, done, bytes.length - done, position);
          done += bytesWritten;
          position += bytesWritten;
        }
      },
      sync: () => file.sync(),
      close: () => void file.close().catch(() => {}),
    };
  },
  rename: (from, to) => fsp.rename(from, to),
  async remove(path) {
    try {
      await fsp.unlink(path);
    } catch (e) {
      if (!missing(e)) throw e;
    }
  },
  async mkdir(path, options = {}) {
    await fsp.mkdir(path, options);
  },
  async readDir(path) {
    return (await fsp.readdir(path)).sort();
  },
  chmod: (path, mode) => fsp.chmod(path, mode),
  utime: (path, atime, mtime) => fsp.utimes(path, atime, mtime),
};
