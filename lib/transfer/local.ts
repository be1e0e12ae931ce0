/**
 * Local file steps of a transfer, with their failures as `transfer.local-error` naming the path:
 * the one wrapper around lib/platform/files.ts that the SFTP and SCP copies share.
 * @module
 */

import { SshTraceError } from "../errors/mod.ts";
import { localFiles, type LocalStat } from "../platform/files.ts";
import { firstLine, platform } from "../platform/mod.ts";
import { join } from "./paths.ts";

export { localFiles, type LocalStat };

/** Runs a local file step; its failure becomes `transfer.local-error` naming what and where. */
export async function local<T>(what: string, path: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (e) {
    if (e instanceof SshTraceError) throw e;
    const kind = platform.errorKind(e);
    throw new SshTraceError(
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
    throw new SshTraceError(
      "transfer",
      "transfer.local-error",
      `${path} (local) is a symbolic link: refused to write through it`,
      { path, kind: "symlink" },
    );
  }
}
