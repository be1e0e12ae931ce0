/**
 * File and directory copies over SFTP: download and upload with pipelining, written under a
 * temporary name and renamed when complete (locally, and remotely), resumable, keeping times and
 * modes with `preserve`, and recursive copies whose server-sent names are checked before they
 * become local paths.
 * @module
 */

import { SshError } from "../errors/mod.ts";
import { interrupted, pipelinedRead, pipelinedWrite, sizesFor } from "./pipeline.ts";
import { type Attrs, kindOf, OPEN, type SftpClient } from "./sftp_client.ts";
import {
  blockWriter,
  chunkReader,
  existingLocal,
  landPart,
  local,
  localDirectory,
  localFiles,
  type LocalStat,
  localTarget,
  noSymlink,
} from "./local.ts";
import { basename, checkServerName, join, localNameFor, partName } from "./paths.ts";

/** Options of every SFTP copy. */
export interface CopyOptions {
  /** Keep modification times and permission bits (like `scp -p`). @default false */
  preserve?: boolean;
  /** Continue from a partial copy left under the temporary name. @default false */
  resume?: boolean;
  /**
   * Downloads: flush the file to disk (fsync) before it is renamed to its final name, for a copy
   * that must survive a power loss, at the cost of waiting for the disk (as `sftp -f`; OpenSSH's
   * sftp and scp do not by default). The rename itself keeps an interrupted copy from showing
   * under the final name either way. @default false
   */
  fsync?: boolean;
  /** Stops the copy with `transfer.interrupted`; nothing is left under the final name. */
  signal?: AbortSignal;
  /** Called as data moves: bytes done in this file, its size when known, and its path. */
  onProgress?: (done: number, total: number | null, path: string) => void;
  /** Requests in flight. @default 64 */
  requests?: number;
  /** Bytes per request. @default 32768 */
  chunkSize?: number;
}

/** What one file copy did. */
export interface FileResult {
  /** The local file (written by a download, read by an upload). */
  local: string;
  /** The remote file (read by a download, written by an upload). */
  remote: string;
  /** Bytes moved in this run. */
  bytes: number;
  /** The file's size at the end. */
  size: number;
  /** Where the copy started (above 0 when resumed). */
  resumedFrom: number;
}

function notAFile(path: string, kind: string): SshError {
  return new SshError(
    "transfer",
    "transfer.not-a-file",
    `${path} is a ${kind}, not a regular file`,
    { path, kind },
  );
}

function shortCopy(path: string, bytes: number, expected: number): SshError {
  return new SshError(
    "transfer",
    "transfer.incomplete",
    `${path}: ${bytes} of ${expected} bytes arrived before the end of the file`,
    { path, bytes, expected },
  );
}

/**
 * Downloads one remote file to `localPath` (a file name, or an existing directory to copy into).
 * The data goes to `.<name>.sshtrace-part` and is renamed when complete.
 */
export async function downloadFile(
  sftp: SftpClient,
  remotePath: string,
  localPath: string,
  options: CopyOptions = {},
  known?: Attrs,
): Promise<FileResult> {
  const attrs = known ?? await sftp.stat(remotePath);
  const kind = kindOf(attrs);
  if (kind !== "file" && kind !== "unknown") throw notAFile(remotePath, kind);
  const target = await localTarget(localPath, localNameFor(remotePath));
  const part = partName(target);
  await noSymlink(target);
  await noSymlink(part);
  let offset = 0;
  if (options.resume) {
    const st = await local("stat", part, () => localFiles.stat(part));
    if (st?.isFile && (attrs.size === undefined || st.size <= attrs.size)) offset = st.size;
  }
  if (offset > 0) sftp.info(`resuming ${remotePath} at byte ${offset} from ${part}`);
  const sizes = await sizesFor(sftp, "read", options);
  const handle = await sftp.open(remotePath, OPEN.READ);
  let writer;
  try {
    writer = await local(
      "create",
      part,
      () => localFiles.openWrite(part, { offset, mode: 0o600 }),
    );
  } catch (e) {
    await sftp.close(handle, remotePath).catch(() => {});
    throw e;
  }
  let bytes = 0;
  let ok = false;
  const w = writer;
  const blocks = blockWriter(part, w);
  try {
    bytes = await pipelinedRead(
      sftp,
      handle,
      remotePath,
      (data) => blocks.write(data),
      {
        offset,
        ...sizes,
        signal: options.signal,
        onProgress: (done) => options.onProgress?.(offset + done, attrs.size ?? null, remotePath),
      },
    );
    if (attrs.size !== undefined && offset + bytes < attrs.size) {
      throw shortCopy(remotePath, offset + bytes, attrs.size);
    }
    if (options.signal?.aborted) throw interrupted(remotePath);
    await blocks.flush();
    if (options.fsync) await local("sync", part, () => w.sync());
    ok = true;
  } finally {
    // With --resume, what arrived in order is kept for the next run.
    if (!ok && options.resume) await blocks.flush().catch(() => {});
    writer.close();
    await sftp.close(handle, remotePath).catch(() => {});
    if (!ok && !options.resume) await localFiles.remove(part).catch(() => {});
  }
  await landPart(
    part,
    target,
    options.preserve ? { mode: attrs.permissions, atime: attrs.atime, mtime: attrs.mtime } : null,
  );
  return { local: target, remote: remotePath, bytes, size: offset + bytes, resumedFrom: offset };
}

/** The remote destination: `remote` itself, or inside it when it is a directory. */
async function remoteTarget(sftp: SftpClient, remote: string, name: string): Promise<string> {
  if (remote === "" || remote.endsWith("/")) return join(remote || ".", name);
  try {
    return kindOf(await sftp.stat(remote)) === "directory" ? join(remote, name) : remote;
  } catch (e) {
    if (e instanceof SshError && e.code === "transfer.no-such-file") return remote;
    throw e;
  }
}

/**
 * Uploads one local file to `remotePath` (a file name, or an existing directory to copy into),
 * through `.<name>.sshtrace-part` renamed when complete.
 */
export async function uploadFile(
  sftp: SftpClient,
  localPath: string,
  remotePath: string,
  options: CopyOptions = {},
): Promise<FileResult> {
  const st = await existingLocal(localPath);
  if (!st.isFile) throw notAFile(localPath, st.isDirectory ? "directory" : "special file");
  const target = await remoteTarget(sftp, remotePath, basename(localPath));
  const part = partName(target);
  let offset = 0;
  if (options.resume) {
    const partAttrs = await sftp.stat(part).catch(() => null);
    if (partAttrs?.size !== undefined && partAttrs.size <= st.size) offset = partAttrs.size;
    if (offset > 0) sftp.info(`resuming ${target} at byte ${offset} from ${part}`);
  }
  const mode = options.preserve && st.mode !== null ? st.mode & 0o777 : 0o644;
  const flags = OPEN.WRITE | OPEN.CREAT | (offset > 0 ? 0 : OPEN.TRUNC);
  const sizes = await sizesFor(sftp, "write", options);
  const handle = await sftp.open(part, flags, { permissions: mode });
  let reader;
  try {
    reader = await local("open", localPath, () => localFiles.openRead(localPath, offset));
  } catch (e) {
    await sftp.close(handle, part).catch(() => {});
    if (!options.resume) await sftp.remove(part).catch(() => {});
    throw e;
  }
  let bytes = 0;
  let ok = false;
  try {
    bytes = await pipelinedWrite(
      sftp,
      handle,
      part,
      chunkReader(localPath, reader, sizes.chunkSize),
      {
        offset,
        ...sizes,
        signal: options.signal,
        onProgress: (done) => options.onProgress?.(offset + done, st.size, localPath),
      },
    );
    if (options.preserve && st.mtime !== null) {
      await sftp.fsetstat(handle, { atime: st.atime ?? st.mtime, mtime: st.mtime }, part);
    }
    ok = true;
  } finally {
    reader.close();
    const closed = sftp.close(handle, part);
    if (ok) await closed;
    else await closed.catch(() => {});
    if (!ok && !options.resume) await sftp.remove(part).catch(() => {});
  }
  await sftp.rename(part, target, true);
  return { local: localPath, remote: target, bytes, size: offset + bytes, resumedFrom: offset };
}

/** What a recursive copy did. */
export interface TreeResult {
  files: FileResult[];
  directories: number;
  /** Entries left out (symlinks, special files), with why. */
  skipped: { path: string; why: string }[];
}

const MAX_DEPTH = 64;

/**
 * Downloads a remote directory into `localPath` (created if missing; an existing directory gets
 * a subdirectory named after the remote one). Every name the server lists is checked first
 * (`transfer.unsafe-name`); symlinks and special files are skipped and reported.
 */
export async function downloadTree(
  sftp: SftpClient,
  remoteDir: string,
  localPath: string,
  options: CopyOptions = {},
): Promise<TreeResult> {
  const attrs = await sftp.stat(remoteDir);
  if (kindOf(attrs) !== "directory") {
    return singleDownload(sftp, remoteDir, localPath, options, attrs);
  }
  const existing = await localFiles.stat(localPath).catch(() => null);
  const root = existing?.isDirectory ? join(localPath, basename(remoteDir) || "root") : localPath;
  const result: TreeResult = { files: [], directories: 0, skipped: [] };
  await walkDown(sftp, remoteDir, root, options, result, 0, attrs);
  return result;
}

async function singleDownload(
  sftp: SftpClient,
  remote: string,
  localPath: string,
  options: CopyOptions,
  attrs: Attrs,
): Promise<TreeResult> {
  const file = await downloadFile(sftp, remote, localPath, options, attrs);
  return { files: [file], directories: 0, skipped: [] };
}

async function walkDown(
  sftp: SftpClient,
  remoteDir: string,
  localDir: string,
  options: CopyOptions,
  result: TreeResult,
  depth: number,
  attrs: Attrs,
): Promise<void> {
  if (depth > MAX_DEPTH) {
    result.skipped.push({ path: remoteDir, why: `deeper than ${MAX_DEPTH} levels` });
    return;
  }
  if (options.signal?.aborted) throw interrupted(remoteDir);
  const entries = await sftp.list(remoteDir);
  // Every name is checked before anything is written for this directory.
  for (const e of entries) checkServerName(e.filename, remoteDir);
  await localDirectory(localDir);
  result.directories++;
  for (const e of entries) {
    const remote = join(remoteDir, e.filename);
    const target = join(localDir, e.filename);
    const kind = kindOf(e.attrs);
    if (kind === "directory") {
      await walkDown(sftp, remote, target, options, result, depth + 1, e.attrs);
    } else if (kind === "file" || kind === "unknown") {
      result.files.push(await downloadFile(sftp, remote, target, options, e.attrs));
    } else {
      result.skipped.push({ path: remote, why: kind });
      sftp.info(
        `skipped ${remote}: ${kind === "symlink" ? "a symbolic link" : "not a regular file"}`,
      );
    }
  }
  if (options.preserve && attrs.permissions !== undefined) {
    await local("chmod", localDir, () => localFiles.chmod(localDir, attrs.permissions! & 0o7777));
  }
}

/**
 * Uploads a local directory to `remotePath` (created if missing; an existing directory gets a
 * subdirectory named after the local one). Local symlinks and special files are skipped.
 */
export async function uploadTree(
  sftp: SftpClient,
  localDir: string,
  remotePath: string,
  options: CopyOptions = {},
): Promise<TreeResult> {
  const st = await local("stat", localDir, () => localFiles.stat(localDir));
  if (!st?.isDirectory) {
    const file = await uploadFile(sftp, localDir, remotePath, options);
    return { files: [file], directories: 0, skipped: [] };
  }
  const root = await remoteTarget(sftp, remotePath, basename(localDir));
  const result: TreeResult = { files: [], directories: 0, skipped: [] };
  await walkUp(sftp, localDir, root, options, result, 0, st);
  return result;
}

async function walkUp(
  sftp: SftpClient,
  localDir: string,
  remoteDir: string,
  options: CopyOptions,
  result: TreeResult,
  depth: number,
  st: LocalStat,
): Promise<void> {
  if (depth > MAX_DEPTH) {
    result.skipped.push({ path: localDir, why: `deeper than ${MAX_DEPTH} levels` });
    return;
  }
  if (options.signal?.aborted) throw interrupted(localDir);
  const existing = await sftp.stat(remoteDir).catch(() => null);
  if (!existing) {
    await sftp.mkdir(
      remoteDir,
      options.preserve && st.mode !== null ? { permissions: st.mode } : {},
    );
  } else if (kindOf(existing) !== "directory") {
    throw notAFile(remoteDir, kindOf(existing));
  }
  result.directories++;
  const names = await local("list", localDir, () => localFiles.readDir(localDir));
  for (const name of names) {
    const path = join(localDir, name);
    const entry = await local("stat", path, () => localFiles.lstat(path));
    if (!entry) continue;
    if (entry.isDirectory) {
      await walkUp(sftp, path, join(remoteDir, name), options, result, depth + 1, entry);
    } else if (entry.isFile) {
      result.files.push(await uploadFile(sftp, path, join(remoteDir, name), options));
    } else {
      result.skipped.push({ path, why: entry.isSymlink ? "symlink" : "special file" });
      sftp.info(`skipped ${path}: ${entry.isSymlink ? "a symbolic link" : "not a regular file"}`);
    }
  }
}
