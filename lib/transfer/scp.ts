/**
 * SCP, the `scp -t` / `scp -f` protocol over exec, for servers without SFTP (switches: Cisco
 * `ip scp server enable`, Comware `scp server enable`). Downloads are written under a temporary
 * name and renamed when complete; every name the server sends is checked (CVE-2019-6111 class);
 * the remote side's error lines (`\x01`/`\x02`, or bare text from switches) and its stderr
 * become `transfer` stage errors. SCP cannot rename remotely: uploads write in place.
 * @module
 */

import { LATE, orLate } from "../async.ts";
import type { Client } from "../client.ts";
import type { Session } from "../connection/session.ts";
import { SshError } from "../errors/mod.ts";
import { ByteReader } from "./byte_reader.ts";
import {
  blockWriter,
  existingLocal,
  landPart,
  local,
  localDirectory,
  localFiles,
  type LocalStat,
  localTarget,
  noSymlink,
} from "./local.ts";
import { interrupted } from "./pipeline.ts";
import { basename, checkServerName, join, localNameFor, partName } from "./paths.ts";
import type { CopyOptions, FileResult, TreeResult } from "./sftp_files.ts";

/** What SCP needs of a session: its streams, input, EOF, exit and close. */
export type ScpSession = Pick<Session, "stdout" | "stderr" | "write" | "eof" | "exit" | "close">;

/** Where SCP runs its remote command (a logged-in client, or a scripted peer in tests). */
export interface ScpHost {
  /** Starts `command` over exec (a session of its own). */
  exec(command: string): Promise<ScpSession>;
  /** Traces a step (stage `transfer`). */
  info(message: string): void;
}

/**
 * The SCP host of a client: exec on a new session (after `environment`'s `env` requests),
 * without changing the trace's stage.
 */
export function scpHost(
  client: Client,
  environment: readonly (readonly [name: string, value: string])[] = [],
): ScpHost {
  return {
    async exec(command) {
      const session = await client.connection.openSession();
      const sent = session.setEnvironment(environment); // with the exec, as a login does
      sent.catch(() => {}); // a failed channel fails the exec as well
      await session.exec(command);
      await sent;
      return session;
    },
    info: (message) => client.tracer.emit({ stage: "transfer", type: "info", message }),
  };
}

/** SCP options: the SFTP ones, plus directories. */
export interface ScpOptions extends CopyOptions {
  recursive?: boolean;
}

const CHUNK = 256 * 1024;
const encoder = new TextEncoder();
const ZERO = new Uint8Array([0]);

/** Quotes a remote path only when a shell would change it (switch CLIs take it verbatim). */
export function remoteArg(path: string): string {
  const arg = /^[A-Za-z0-9_./:@%+=,~-]+$/.test(path) ? path : `'${path.replaceAll("'", `'\\''`)}'`;
  return path.startsWith("-") ? `-- ${arg}` : arg;
}

/** The error for a message from the remote scp (an error line, or its stderr). */
export function scpError(path: string, message: string): SshError {
  const text = message.trim() || "the remote scp failed without a message";
  const said = `${path}: the server said: ${text}`;
  // "sh: 1: scp: not found": the server has no scp program (not a missing file).
  if (/\bscp: (command )?not found|command not found/i.test(text)) {
    return new SshError("transfer", "transfer.remote-error", said, {
      path,
      protocol: "scp",
      noScp: true,
    });
  }
  if (/no such file|not found|does not exist|invalid path|cannot find/i.test(text)) {
    return new SshError("transfer", "transfer.no-such-file", said, { path });
  }
  if (/permission denied|access denied|not permitted|privilege/i.test(text)) {
    return new SshError("transfer", "transfer.permission-denied", said, { path });
  }
  if (/not a regular file|is a directory/i.test(text)) {
    return new SshError("transfer", "transfer.not-a-file", said, { path, kind: "directory" });
  }
  return new SshError("transfer", "transfer.remote-error", said, { path, protocol: "scp" });
}

/** A violation of the SCP protocol by the server (our words, not the server's). */
function protocolError(path: string, what: string): SshError {
  return new SshError(
    "transfer",
    "transfer.remote-error",
    `${path}: SCP protocol error: ${what}`,
    { path, protocol: "scp" },
  );
}

function closed(path: string, bytes: number, expected: number | null): SshError {
  return new SshError(
    "transfer",
    "transfer.incomplete",
    `${path}: the SCP channel closed after ${bytes}` +
      (expected === null ? " bytes" : ` of ${expected} bytes`),
    { path, bytes, expected },
  );
}

/** One SCP run: the exec session, its reader, and its stderr text (kept for messages). */
class ScpRun {
  readonly session: ScpSession;
  readonly rd: ByteReader;
  readonly path: string;
  #stderr = "";

  constructor(session: ScpSession, path: string) {
    this.session = session;
    this.path = path;
    this.rd = new ByteReader(session.stdout);
    session.stderr.pipeTo(
      new WritableStream({
        write: (chunk) => {
          if (this.#stderr.length < 4096) this.#stderr += new TextDecoder().decode(chunk);
        },
      }),
    ).catch(() => {});
  }

  static async start(host: ScpHost, command: string, path: string): Promise<ScpRun> {
    host.info(`SCP: exec ${command}`);
    return new ScpRun(await host.exec(command), path);
  }

  send(bytes: Uint8Array | string): Promise<void> {
    return this.session.write(typeof bytes === "string" ? encoder.encode(bytes) : bytes);
  }

  /** The peer's words when it stops: an error line, else its stderr. */
  async failure(message: string | null): Promise<SshError> {
    if (message !== null) return scpError(this.path, message);
    // The channel ended: wait a moment for stderr and the exit status.
    const status = await this.#exitStatus(2000);
    const text = this.#stderr.trim();
    if (text) return scpError(this.path, text);
    if (status !== null && status !== 0) {
      return scpError(this.path, `the remote scp exited with status ${status}`);
    }
    return closed(this.path, 0, null);
  }

  /** Waits for the peer's acknowledgement (a zero byte); its error line becomes the error. */
  async ack(): Promise<void> {
    const b = await this.rd.byte();
    if (b === 0) return;
    if (b === null) throw await this.failure(null);
    const line = await this.rd.line();
    if (b === 1 || b === 2) throw await this.failure(line?.text ?? "");
    // A switch may answer with bare text (e.g. "% Invalid input"): that is its error.
    throw await this.failure(String.fromCharCode(b) + (line?.text ?? ""));
  }

  /** Ends the run: EOF, then the exit status (non-zero with nothing else said is an error). */
  async finish(): Promise<void> {
    await this.session.eof().catch(() => {});
    // Every byte is acknowledged by now: a server that never closes must not hang the copy.
    const status = await this.#exitStatus(10_000);
    if (status !== null && status !== 0) {
      throw await this.failure(
        this.#stderr.trim() || `the remote scp exited with status ${status}`,
      );
    }
  }

  /** The remote command's exit status; null without one (a signal, the channel gone, `ms` out). */
  async #exitStatus(ms: number): Promise<number | null> {
    const exit = await orLate(this.session.exit.catch(() => null), ms);
    return exit === LATE ? null : exit?.status ?? null;
  }

  close(): void {
    this.rd.cancel();
    this.session.close().catch(() => {});
  }
}

/** Parses `C0644 1234 name` / `D0755 0 name`. */
function parseEntry(line: string): { mode: number; size: number; name: string } | null {
  const m = /^[CD]([0-7]{3,4}) (\d{1,16}) (.*)$/.exec(line);
  if (!m) return null;
  const size = Number(m[2]);
  if (!Number.isSafeInteger(size)) return null;
  return { mode: parseInt(m[1]!, 8), size, name: m[3]! };
}

/** Parses `T<mtime> 0 <atime> 0`. */
function parseTimes(line: string): { mtime: number; atime: number } | null {
  const m = /^T(\d{1,12}) \d{1,9} (\d{1,12}) \d{1,9}$/.exec(line);
  return m ? { mtime: Number(m[1]), atime: Number(m[2]) } : null;
}

/**
 * Downloads with `scp -f` (`-r` for a directory): each file through a temporary name, renamed
 * when complete; names from the server checked before use.
 */
export async function scpDownload(
  host: ScpHost,
  remote: string,
  localPath: string,
  options: ScpOptions = {},
): Promise<TreeResult> {
  const flags = [options.recursive ? "-r" : "", options.preserve ? "-p" : ""].filter(Boolean);
  const run = await ScpRun.start(
    host,
    ["scp", ...flags, "-f", remoteArg(remote)].join(" "),
    remote,
  );
  const result: TreeResult = { files: [], directories: 0, skipped: [] };
  const dirs: string[] = []; // local directories open (D ... E)
  let times: { mtime: number; atime: number } | null = null;
  try {
    await run.send(ZERO);
    for (;;) {
      if (options.signal?.aborted) throw interrupted(remote);
      const first = await run.rd.byte();
      if (first === null) break;
      const line = await run.rd.line();
      const text = line?.text ?? "";
      if (line?.long) throw scpError(remote, `${String.fromCharCode(first)}${text}…`);
      if (first === 1 || first === 2) throw scpError(remote, text);
      const kind = String.fromCharCode(first);
      if (kind === "T") {
        times = parseTimes(kind + text);
        if (!times) throw protocolError(remote, `bad time line "T${text}"`);
        await run.send(ZERO);
        continue;
      }
      if (kind === "E") {
        const dir = dirs.pop();
        if (dir === undefined) throw protocolError(remote, "E without a directory");
        await run.send(ZERO);
        continue;
      }
      const entry = kind === "C" || kind === "D" ? parseEntry(kind + text) : null;
      if (!entry) throw scpError(remote, `${kind}${text}`);
      const parent = dirs.at(-1);
      // The server's name must be one plain component; at the top it is ignored (ours wins).
      checkServerName(entry.name, parent ?? remote);
      if (kind === "D") {
        if (!options.recursive) {
          throw protocolError(remote, "a directory was sent without -r");
        }
        if (dirs.length >= 64) {
          throw protocolError(remote, "directories nested deeper than 64 levels");
        }
        const target = parent !== undefined
          ? join(parent, entry.name)
          : await localTarget(localPath, entry.name);
        await localDirectory(target);
        if (options.preserve) {
          await local("chmod", target, () => localFiles.chmod(target, entry.mode & 0o7777));
        }
        dirs.push(target);
        result.directories++;
        times = null;
        await run.send(ZERO);
        continue;
      }
      if (parent === undefined && result.files.length > 0) {
        throw protocolError(remote, "the server sent more files than were asked for");
      }
      const target = parent !== undefined
        ? join(parent, entry.name)
        : await localTarget(localPath, localNameFor(remote));
      const file = await receiveFile(run, remote, target, entry, times, options);
      result.files.push({
        ...file,
        remote: parent !== undefined ? `${remote}/…/${entry.name}` : remote,
      });
      times = null;
    }
    if (dirs.length) throw closed(remote, 0, null);
    if (result.files.length === 0 && result.directories === 0) throw await run.failure(null);
    await run.finish();
    return result;
  } finally {
    run.close();
  }
}

async function receiveFile(
  run: ScpRun,
  remote: string,
  target: string,
  entry: { mode: number; size: number },
  times: { mtime: number; atime: number } | null,
  options: ScpOptions,
): Promise<FileResult> {
  const part = partName(target);
  await noSymlink(target);
  await noSymlink(part);
  const writer = await local("create", part, () => localFiles.openWrite(part, { mode: 0o600 }));
  const blocks = blockWriter(part, writer);
  let ok = false;
  let got = 0;
  try {
    await run.send(ZERO);
    while (got < entry.size) {
      if (options.signal?.aborted) throw interrupted(remote);
      const chunk = await run.rd.chunk(Math.min(CHUNK, entry.size - got));
      if (chunk === null) throw closed(remote, got, entry.size);
      await blocks.write(chunk);
      got += chunk.length;
      options.onProgress?.(got, entry.size, remote);
    }
    await run.ack(); // the sender's status byte after the data
    await blocks.flush();
    if (options.fsync) await local("sync", part, () => writer.sync());
    ok = true;
  } finally {
    writer.close();
    if (!ok) await localFiles.remove(part).catch(() => {});
  }
  await landPart(part, target, options.preserve ? { mode: entry.mode, ...times } : null);
  await run.send(ZERO);
  return { local: target, remote, bytes: got, size: got, resumedFrom: 0 };
}

/** Uploads with `scp -t` (`-r` for a directory). The remote file is written in place. */
export async function scpUpload(
  host: ScpHost,
  localPath: string,
  remote: string,
  options: ScpOptions = {},
): Promise<TreeResult> {
  const st = await existingLocal(localPath);
  if (st.isDirectory && !options.recursive) {
    throw new SshError(
      "transfer",
      "transfer.not-a-file",
      `${localPath} is a directory, not a regular file`,
      { path: localPath, kind: "directory" },
    );
  }
  const flags = [options.recursive ? "-r" : "", options.preserve ? "-p" : ""].filter(Boolean);
  const run = await ScpRun.start(
    host,
    ["scp", ...flags, "-t", remoteArg(remote || ".")].join(" "),
    remote,
  );
  const result: TreeResult = { files: [], directories: 0, skipped: [] };
  try {
    await run.ack();
    if (st.isDirectory) await sendDir(run, localPath, st, remote, options, result, 0);
    else result.files.push(await sendFile(run, localPath, st, remote, options));
    await run.finish();
    return result;
  } finally {
    run.close();
  }
}

function timesLine(st: LocalStat): string | null {
  return st.mtime === null ? null : `T${st.mtime} 0 ${st.atime ?? st.mtime} 0\n`;
}

async function sendFile(
  run: ScpRun,
  path: string,
  st: LocalStat,
  remote: string,
  options: ScpOptions,
): Promise<FileResult> {
  if (options.preserve) {
    const t = timesLine(st);
    if (t) {
      await run.send(t);
      await run.ack();
    }
  }
  const mode = (st.mode ?? 0o644) & 0o7777;
  await run.send(`C${mode.toString(8).padStart(4, "0")} ${st.size} ${basename(path)}\n`);
  await run.ack();
  const reader = await local("open", path, () => localFiles.openRead(path));
  let sent = 0;
  try {
    const buffer = new Uint8Array(CHUNK);
    while (sent < st.size) {
      if (options.signal?.aborted) throw interrupted(path);
      const n = await local(
        "read",
        path,
        () => reader.read(buffer.subarray(0, Math.min(CHUNK, st.size - sent))),
      );
      if (n === null) {
        throw new SshError(
          "transfer",
          "transfer.local-error",
          `${path} (local) shrank while it was read`,
          { path, kind: "changed" },
        );
      }
      // Awaited: the channel has copied the bytes into packets before the buffer is reused.
      await run.send(buffer.subarray(0, n));
      sent += n;
      options.onProgress?.(sent, st.size, path);
    }
  } finally {
    reader.close();
  }
  await run.send(ZERO);
  await run.ack();
  return { local: path, remote, bytes: sent, size: sent, resumedFrom: 0 };
}

async function sendDir(
  run: ScpRun,
  dir: string,
  st: LocalStat,
  remote: string,
  options: ScpOptions,
  result: TreeResult,
  depth: number,
): Promise<void> {
  if (depth > 64) {
    result.skipped.push({ path: dir, why: "deeper than 64 levels" });
    return;
  }
  if (options.preserve) {
    const t = timesLine(st);
    if (t) {
      await run.send(t);
      await run.ack();
    }
  }
  await run.send(
    `D${((st.mode ?? 0o755) & 0o7777).toString(8).padStart(4, "0")} 0 ${basename(dir)}\n`,
  );
  await run.ack();
  result.directories++;
  for (const name of await local("list", dir, () => localFiles.readDir(dir))) {
    const path = join(dir, name);
    const entry = await local("stat", path, () => localFiles.lstat(path));
    if (!entry) continue;
    if (entry.isDirectory) {
      await sendDir(run, path, entry, join(remote, name), options, result, depth + 1);
    } else if (entry.isFile) {
      result.files.push(await sendFile(run, path, entry, join(remote, name), options));
    } else result.skipped.push({ path, why: entry.isSymlink ? "symlink" : "special file" });
  }
  await run.send("E\n");
  await run.ack();
}
