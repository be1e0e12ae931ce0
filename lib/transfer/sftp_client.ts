/**
 * The SFTP v3 client: one request table keyed by request id, so any number of requests may be
 * in flight (pipelining); every operation the transfers need (open, read, write, close, stat,
 * lstat, fstat, setstat, opendir/readdir, mkdir, rmdir, remove, realpath, rename); status codes
 * turned into `transfer` stage errors that name the operation and the path. Runs over any byte
 * channel (an SSH session's `sftp` subsystem, or an in-memory pipe in tests). Never prints.
 * @module
 */

import { noop, orLate } from "../async.ts";
import { SshError } from "../errors/mod.ts";
import type { Tracer } from "../trace.ts";
import { SshReader, type SshWriter, WireError } from "../wire/buffer.ts";
import { release } from "../wire/release.ts";
import { closedError, malformed, statusError, unexpected } from "./sftp_errors.ts";
import {
  type Attrs,
  decodeReply,
  decodeVersion,
  encodeAttrs,
  encodeInit,
  encodeRead,
  encodeRequest,
  encodeWrite,
  Framer,
  FX,
  FXP,
  type NameEntry,
  OPEN,
  type Reply,
  safeUint64,
} from "./sftp_codec.ts";

export { type Attrs, kindOf, type NameEntry, OPEN } from "./sftp_codec.ts";
export { statusError } from "./sftp_errors.ts";

/** The byte channel SFTP runs over. */
export interface SftpChannel {
  readonly readable: ReadableStream<Uint8Array>;
  write(bytes: Uint8Array): Promise<void>;
  /** Ends the channel (closing the subsystem). */
  close(): Promise<void>;
}

/** What the server accepts (`limits@openssh.com`); 0: not said. */
export interface SftpLimits {
  maxPacket: number;
  maxRead: number;
  maxWrite: number;
  maxHandles: number;
}

/** Options of {@link SftpClient.start}. */
export interface SftpOptions {
  tracer?: Tracer;
  /** Limit for each reply, in milliseconds. @default 30000 */
  timeoutMs?: number;
}

interface Pending {
  resolve(reply: Reply): void;
  reject(error: Error): void;
  op: string;
  path: string;
}

/** A connected SFTP session. */
export class SftpClient {
  readonly #channel: SftpChannel;
  readonly #tracer: Tracer | undefined;
  readonly #timeoutMs: number;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #failure: SshError | null = null;
  #lastAnswer = 0;
  #watchdog: ReturnType<typeof setInterval> | undefined;
  /** Server extensions from VERSION (e.g. `posix-rename@openssh.com`). */
  readonly extensions: Map<string, string>;
  /** The protocol version the server speaks (3 for every server we support). */
  readonly version: number;
  /** Resolves when the reader stops (the channel ended or failed). */
  readonly done: Promise<void>;

  private constructor(
    channel: SftpChannel,
    reader: ReadableStreamDefaultReader<Uint8Array>,
    framer: Framer,
    version: { version: number; extensions: Map<string, string> },
    options: SftpOptions,
  ) {
    this.#channel = channel;
    this.#tracer = options.tracer;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.version = version.version;
    this.extensions = version.extensions;
    this.done = this.#readLoop(reader, framer);
  }

  /** Sends INIT, waits for VERSION, and starts dispatching replies. */
  static async start(channel: SftpChannel, options: SftpOptions = {}): Promise<SftpClient> {
    const reader = channel.readable.getReader();
    const framer = new Framer();
    await channel.write(encodeInit());
    const timeoutMs = options.timeoutMs ?? 30_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(
          new SshError("transfer", "transfer.timeout", "no SFTP VERSION from the server", {
            timeoutMs,
          }),
        );
        reader.cancel().catch(() => {});
      }, timeoutMs);
    });
    try {
      const first = await Promise.race([SftpClient.#firstPacket(reader, framer), timeout]);
      const version = decodeVersion(first);
      if (version.version < 3) {
        throw new SshError(
          "transfer",
          "transfer.remote-error",
          `the server speaks SFTP version ${version.version}; version 3 is needed`,
          { path: "", protocol: "sftp" },
        );
      }
      options.tracer?.emit({
        stage: "transfer",
        type: "info",
        message: `SFTP version ${version.version}` +
          (version.extensions.size
            ? `, extensions ${[...version.extensions.keys()].join(", ")}`
            : ""),
      });
      return new SftpClient(channel, reader, framer, version, options);
    } catch (e) {
      throw malformed(e);
    } finally {
      clearTimeout(timer);
    }
  }

  static async #firstPacket(
    reader: ReadableStreamDefaultReader<Uint8Array>,
    framer: Framer,
  ): Promise<Uint8Array> {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw closedError("SFTP start", "");
      const packets = framer.push(value);
      if (packets.length > 1) throw new WireError("SFTP: data after VERSION before any request");
      if (packets.length === 1) return packets[0]!;
    }
  }

  async #readLoop(reader: ReadableStreamDefaultReader<Uint8Array>, framer: Framer) {
    let error: SshError | null = null;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const body of framer.push(value)) this.#dispatch(decodeReply(body));
      }
    } catch (e) {
      error = e instanceof WireError ? malformed(e) : null;
      if (!error) this.#failWith(e);
    }
    this.#failWith(error);
  }

  /** Rejects every pending request (the channel ended), once. */
  #failWith(cause: unknown): void {
    clearInterval(this.#watchdog);
    this.#watchdog = undefined;
    if (cause instanceof SshError && cause.stage === "transfer") this.#failure ??= cause;
    for (const [id, p] of this.#pending) {
      this.#pending.delete(id);
      p.reject(this.#failure ?? closedError(p.op, p.path, cause ?? undefined));
    }
    this.#failure ??= closedError("SFTP", "", cause ?? undefined);
  }

  #dispatch(reply: Reply): void {
    const p = this.#pending.get(reply.id);
    if (!p) throw new WireError(`SFTP: reply for unknown request id ${reply.id}`);
    this.#pending.delete(reply.id);
    this.#lastAnswer = performance.now();
    p.resolve(reply);
  }

  /** Requests in flight. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** Sends a framed request and resolves with its reply. */
  #send(op: string, path: string, build: (id: number) => Uint8Array): Promise<Reply> {
    if (this.#failure) return Promise.reject(closedError(op, path, this.#failure));
    const id = this.#nextId;
    this.#nextId = (this.#nextId + 1) >>> 0 || 1;
    if (this.#pending.size === 0) this.#lastAnswer = performance.now();
    this.#armWatchdog();
    return new Promise<Reply>((resolve, reject) => {
      this.#pending.set(id, { op, path, resolve, reject });
      const request = build(id);
      // Sent (copied into packets): a WRITE's memory is free at once (lib/wire/release.ts).
      this.#channel.write(request).then(() => release(request), (e) => {
        const p = this.#pending.get(id);
        if (p) {
          this.#pending.delete(id);
          p.reject(closedError(op, path, e));
        }
      });
    });
  }

  /**
   * One timer for every request in flight (not one each: a copy sends thousands): when requests
   * are pending and no answer came for `timeoutMs`, they all fail with `transfer.timeout`.
   */
  #armWatchdog(): void {
    if (this.#watchdog !== undefined) return;
    this.#watchdog = setInterval(() => {
      if (this.#pending.size === 0) {
        clearInterval(this.#watchdog);
        this.#watchdog = undefined;
        return;
      }
      if (performance.now() - this.#lastAnswer < this.#timeoutMs) return;
      clearInterval(this.#watchdog);
      this.#watchdog = undefined;
      for (const [id, p] of this.#pending) {
        this.#pending.delete(id);
        p.reject(
          new SshError(
            "transfer",
            "transfer.timeout",
            `${p.op} ${p.path}: no answer from the SFTP server in ${this.#timeoutMs / 1000} s`,
            { timeoutMs: this.#timeoutMs },
          ),
        );
      }
    }, Math.min(1000, Math.max(10, this.#timeoutMs / 4)));
  }

  #request(op: string, path: string, type: number, fields: (w: SshWriter) => void) {
    return this.#send(op, path, (id) => encodeRequest(type, id, fields));
  }

  /** Expects a STATUS OK. */
  async #ok(op: string, path: string, reply: Promise<Reply>): Promise<void> {
    const r = await reply;
    if (r.type !== "status") throw unexpected(op, r);
    if (r.code !== FX.OK) throw statusError(op, path, r.code, r.message);
  }

  async #expect<T extends Reply["type"]>(
    op: string,
    path: string,
    type: T,
    reply: Promise<Reply>,
  ): Promise<Extract<Reply, { type: T }>> {
    const r = await reply;
    if (r.type === type) return r as Extract<Reply, { type: T }>;
    if (r.type === "status") throw statusError(op, path, r.code, r.message);
    throw unexpected(op, r);
  }

  /** Opens a file; `flags` from {@link OPEN}. Returns its handle. */
  async open(path: string, flags: number, attrs: Attrs = {}): Promise<Uint8Array> {
    const op = flags & OPEN.WRITE ? "open for writing" : "open";
    const r = this.#request(
      op,
      path,
      FXP.OPEN,
      (w) => encodeAttrs(w.string(path).uint32(flags), attrs),
    );
    return (await this.#expect(op, path, "handle", r)).handle;
  }

  /** Closes a file or directory handle. */
  close(handle: Uint8Array, path = ""): Promise<void> {
    return this.#ok(
      "close",
      path,
      this.#request("close", path, FXP.CLOSE, (w) => w.string(handle)),
    );
  }

  /**
   * Reads up to `length` bytes at `offset`; null at the end of the file. The server may return
   * fewer bytes than asked (callers ask again for the rest).
   */
  async read(
    handle: Uint8Array,
    offset: number,
    length: number,
    path = "",
  ): Promise<Uint8Array | null> {
    const r = await this.#send("read", path, (id) => encodeRead(id, handle, offset, length));
    if (r.type === "data") {
      if (r.data.length > length) {
        throw malformed(new WireError(`SFTP: ${r.data.length} bytes sent for a read of ${length}`));
      }
      return r.data;
    }
    if (r.type === "status") {
      if (r.code === FX.EOF) return null;
      throw statusError("read", path, r.code, r.message);
    }
    throw unexpected("read", r);
  }

  /** Writes `data` at `offset`. */
  write(handle: Uint8Array, offset: number, data: Uint8Array, path = ""): Promise<void> {
    return this.#ok(
      "write",
      path,
      this.#send("write", path, (id) => encodeWrite(id, handle, offset, data)),
    );
  }

  /** Attributes of a path, following symlinks. */
  async stat(path: string): Promise<Attrs> {
    return (await this.#expect(
      "stat",
      path,
      "attrs",
      this.#request("stat", path, FXP.STAT, (w) => w.string(path)),
    )).attrs;
  }

  /** Attributes of a path, not following a final symlink. */
  async lstat(path: string): Promise<Attrs> {
    return (await this.#expect(
      "lstat",
      path,
      "attrs",
      this.#request("lstat", path, FXP.LSTAT, (w) => w.string(path)),
    )).attrs;
  }

  /** Attributes of an open file. */
  async fstat(handle: Uint8Array, path = ""): Promise<Attrs> {
    return (await this.#expect(
      "fstat",
      path,
      "attrs",
      this.#request("fstat", path, FXP.FSTAT, (w) => w.string(handle)),
    )).attrs;
  }

  /** Sets attributes of a path (mode, times). */
  setstat(path: string, attrs: Attrs): Promise<void> {
    return this.#ok(
      "setstat",
      path,
      this.#request("setstat", path, FXP.SETSTAT, (w) => encodeAttrs(w.string(path), attrs)),
    );
  }

  /** Sets attributes of an open file. */
  fsetstat(handle: Uint8Array, attrs: Attrs, path = ""): Promise<void> {
    return this.#ok(
      "fsetstat",
      path,
      this.#request("fsetstat", path, FXP.FSETSTAT, (w) => encodeAttrs(w.string(handle), attrs)),
    );
  }

  /** Opens a directory for listing. */
  async opendir(path: string): Promise<Uint8Array> {
    return (await this.#expect(
      "opendir",
      path,
      "handle",
      this.#request("opendir", path, FXP.OPENDIR, (w) => w.string(path)),
    )).handle;
  }

  /** The next batch of entries; null when the listing is complete. */
  async readdir(handle: Uint8Array, path = ""): Promise<NameEntry[] | null> {
    const r = await this.#request("readdir", path, FXP.READDIR, (w) => w.string(handle));
    if (r.type === "name") return r.names;
    if (r.type === "status") {
      if (r.code === FX.EOF) return null;
      throw statusError("readdir", path, r.code, r.message);
    }
    throw unexpected("readdir", r);
  }

  /**
   * Every entry of a directory except `.` and `..` (names exactly as the server sent them:
   * callers that write them locally must check them). At most `limit` entries.
   */
  async list(path: string, limit = 1_000_000): Promise<NameEntry[]> {
    const handle = await this.opendir(path);
    const out: NameEntry[] = [];
    try {
      for (;;) {
        const batch = await this.readdir(handle, path);
        if (!batch) break;
        for (const e of batch) if (e.filename !== "." && e.filename !== "..") out.push(e);
        if (out.length > limit) {
          throw new SshError(
            "transfer",
            "transfer.remote-error",
            `readdir ${path}: more than ${limit} entries`,
            { path, protocol: "sftp" },
          );
        }
      }
    } finally {
      await this.close(handle, path).catch(() => {});
    }
    return out;
  }

  mkdir(path: string, attrs: Attrs = {}): Promise<void> {
    return this.#ok(
      "mkdir",
      path,
      this.#request("mkdir", path, FXP.MKDIR, (w) => encodeAttrs(w.string(path), attrs)),
    );
  }

  rmdir(path: string): Promise<void> {
    return this.#ok("rmdir", path, this.#request("rmdir", path, FXP.RMDIR, (w) => w.string(path)));
  }

  remove(path: string): Promise<void> {
    return this.#ok(
      "remove",
      path,
      this.#request("remove", path, FXP.REMOVE, (w) => w.string(path)),
    );
  }

  /** The server's canonical absolute form of a path (`.` gives the login directory). */
  async realpath(path: string): Promise<string> {
    const r = await this.#expect(
      "realpath",
      path,
      "name",
      this.#request("realpath", path, FXP.REALPATH, (w) => w.string(path)),
    );
    if (r.names.length !== 1) {
      throw malformed(new WireError(`SFTP: realpath answered ${r.names.length} names`));
    }
    return r.names[0]!.filename;
  }

  #limits: Promise<SftpLimits> | null = null;

  /**
   * The server's limits (`limits@openssh.com`, OpenSSH 8.9+: largest packet, read and write),
   * asked once; without the extension, the draft's safe 32 KiB. Zero means "no limit given".
   */
  limits(): Promise<SftpLimits> {
    this.#limits ??= (async () => {
      const fallback = { maxPacket: 34000, maxRead: 32768, maxWrite: 32768, maxHandles: 0 };
      if (!this.extensions.has("limits@openssh.com")) return fallback;
      const r = await this.#request(
        "limits",
        "",
        FXP.EXTENDED,
        (w) => w.string("limits@openssh.com"),
      ).catch(() => null);
      if (r?.type !== "extended-reply") return fallback;
      try {
        const rd = new SshReader(r.data, "SFTP limits");
        const read = () => safeUint64(rd.uint64(), "limit");
        return { maxPacket: read(), maxRead: read(), maxWrite: read(), maxHandles: read() };
      } catch {
        return fallback;
      }
    })();
    return this.#limits;
  }

  /** True when the server renames over an existing file (`posix-rename@openssh.com`). */
  get canReplace(): boolean {
    return this.extensions.has("posix-rename@openssh.com");
  }

  /**
   * Renames `from` to `to`. With `replace`, an existing `to` is replaced atomically where the
   * server has `posix-rename@openssh.com`, else removed first (not atomic).
   */
  async rename(from: string, to: string, replace = false): Promise<void> {
    if (replace && this.canReplace) {
      return this.#ok(
        "rename",
        to,
        this.#request(
          "rename",
          to,
          FXP.EXTENDED,
          (w) => w.string("posix-rename@openssh.com").string(from).string(to),
        ),
      );
    }
    if (replace) await this.remove(to).catch(() => {});
    return this.#ok(
      "rename",
      to,
      this.#request("rename", to, FXP.RENAME, (w) => w.string(from).string(to)),
    );
  }

  /**
   * Ends the session: the channel closes; pending requests fail. Waits at most 5 s for the
   * server's side of the close (a server that never answers does not hang the caller).
   */
  async end(): Promise<void> {
    await orLate(this.#channel.close().catch(noop).then(() => this.done), 5000);
  }

  /** @internal for traces */
  info(message: string): void {
    this.#tracer?.emit({ stage: "transfer", type: "info", message });
  }
}
