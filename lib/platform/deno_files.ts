/** Local files on Deno ({@link LocalFiles}); deno.ts hands it out as `platform.files`. @module */

import type { LocalFiles, LocalStat } from "./files.ts";

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
export const denoFiles: LocalFiles = {
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
