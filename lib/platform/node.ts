/**
 * The Node-API implementation of the platform seam ({@link Platform} in mod.ts), for the
 * standalone executable: Bun (`bun build --compile`) runs it, and so would Node. Only `node:*`
 * modules are used, never `Deno` (but its FFI types). `deno task binary` swaps it in for
 * `./deno.ts` (an import map entry that scripts/binary.sh gives `deno bundle`); nothing else
 * changes.
 *
 * What differs from Deno: there is no permission sandbox (every {@link Platform.granted} is
 * true). {@link Platform.dlopen} translates Deno's FFI symbol table to Bun's (`bun:ffi`), so
 * OpenSSL and libc load as under Deno; on Node it throws, and sshtrace then uses `node:crypto`
 * for packets and default terminal modes.
 * @module
 */

import { spawn as spawnChild } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import process from "node:process";
import { Readable, Writable } from "node:stream";
import { nodeFiles } from "./node_files.ts";
import { NODE_ERROR_CODES } from "./error_codes.ts";
import { connectNodeTcp, connectSocket, plain, PullReader, wrapSocket } from "./node_socket.ts";
import type {
  ChildProcess,
  Conn,
  ErrorKind,
  FileInfo,
  NetAddr,
  Platform,
  Signal,
  Stdin,
  Stdout,
  TcpConn,
  TcpListener,
  UnixListener,
  UnixListenOptions,
} from "./mod.ts";

/** The accept queue of a listening server: connections wait for `accept()`, or it for them. */
function acceptQueue(server: net.Server) {
  const waiting: { resolve: (c: TcpConn) => void; reject: (e: unknown) => void }[] = [];
  const ready: TcpConn[] = [];
  let failure: unknown = null;
  server.on("connection", (socket: net.Socket) => {
    const conn = wrapSocket(socket);
    const w = waiting.shift();
    if (w) w.resolve(conn);
    else ready.push(conn);
  });
  server.on("error", (e) => {
    failure = e;
    for (const w of waiting.splice(0)) w.reject(e);
  });
  server.on("close", () => {
    failure ??= Object.assign(new Error("the listener is closed"), { code: "EBADF" });
    for (const w of waiting.splice(0)) w.reject(failure);
  });
  const accept = (): Promise<TcpConn> => {
    const conn = ready.shift();
    if (conn) return Promise.resolve(conn);
    if (failure !== null) return Promise.reject(failure);
    return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  };
  return {
    accept,
    close: () => void server.close(),
    async *[Symbol.asyncIterator]() {
      while (true) {
        try {
          yield await accept();
        } catch {
          return;
        }
      }
    },
  };
}

function listenTcp(hostname: string, port: number): TcpListener {
  const server = net.createServer({ noDelay: true });
  const queue = acceptQueue(server);
  server.listen(port, hostname);
  return {
    ...queue,
    get addr(): NetAddr {
      const a = server.address();
      return typeof a === "object" && a !== null
        ? { hostname: a.address, port: a.port }
        : { hostname, port };
    },
  };
}

/** A Unix socket listener; a stale socket file removed first with `unlink` (sockets only). */
function listenUnix(path: string, options: UnixListenOptions = {}): UnixListener {
  if (options.unlink) {
    try {
      if (fs.lstatSync(path).isSocket()) fs.unlinkSync(path);
    } catch (e) {
      if ((e as { code?: string }).code !== "ENOENT") throw e;
    }
  }
  const server = net.createServer();
  const queue = acceptQueue(server);
  if (options.mode !== undefined) {
    const mode = options.mode;
    server.once("listening", () => {
      try {
        fs.chmodSync(path, mode);
      } catch (e) {
        server.emit("error", e);
        server.close();
      }
    });
  }
  server.listen(path);
  return { ...queue, path };
}

/** A child process with piped standard streams (ProxyCommand), as web streams. */
function spawn(command: string, args: readonly string[]): ChildProcess {
  const child = spawnChild(command, [...args], { stdio: ["pipe", "pipe", "pipe"] });
  const status = new Promise<{ code: number; signal: string | null }>((resolve) => {
    child.once("error", () => resolve({ code: 127, signal: null })); // could not start
    child.once("close", (code, signal) => {
      const number = signal ? os.constants.signals[signal] : undefined;
      resolve({ code: code ?? (number ? 128 + number : 1), signal: signal ?? null });
    });
  });
  return {
    stdin: Writable.toWeb(child.stdin) as WritableStream<Uint8Array>,
    stdout: Readable.toWeb(child.stdout) as unknown as ReadableStream<Uint8Array>,
    stderr: Readable.toWeb(child.stderr) as unknown as ReadableStream<Uint8Array>,
    status,
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    },
  };
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Standard output or error by descriptor: synchronous writes, so output keeps its order. */
function output(fd: number, isTTY: () => boolean): Stdout {
  const writeSync = (p: Uint8Array): number => {
    while (true) {
      try {
        return fs.writeSync(fd, p);
      } catch (e) {
        if ((e as { code?: string }).code !== "EAGAIN") throw e;
        sleepSync(1); // a non-blocking pipe that is full: wait for the reader
      }
    }
  };
  return {
    writeSync,
    write: (p) => {
      try {
        return Promise.resolve(writeSync(p));
      } catch (e) {
        return Promise.reject(e);
      }
    },
    isTerminal: isTTY,
  };
}

function stdin(): Stdin {
  let reader: PullReader | null = null;
  let readable: ReadableStream<Uint8Array> | null = null;
  return {
    read: (p) => (reader ??= new PullReader(process.stdin)).read(p),
    get readable(): ReadableStream<Uint8Array> {
      return readable ??= Readable.toWeb(process.stdin) as unknown as ReadableStream<Uint8Array>;
    },
    isTerminal: () => process.stdin.isTTY === true,
    setRaw(mode) {
      if (!process.stdin.isTTY) {
        throw Object.assign(new Error("stdin is not a terminal"), { code: "ENOTTY" });
      }
      process.stdin.setRawMode(mode);
    },
  };
}

function errorKind(error: unknown): ErrorKind {
  const e = error as { code?: unknown; name?: unknown } | null;
  const code = typeof e?.code === "string" ? NODE_ERROR_CODES[e.code] : undefined;
  if (code) return code;
  if (e?.name === "TimeoutError") return "timed-out";
  if (e?.name === "AbortError") return "aborted";
  return "other";
}

function readTextSync(path: string, maxBytes: number): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(path, "r");
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return undefined;
    throw e;
  }
  try {
    if (!fs.fstatSync(fd).isFile()) throw new Error("not a regular file");
    const buf = new Uint8Array(maxBytes);
    let n = 0;
    while (n < buf.length) {
      const r = fs.readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
    }
    return new TextDecoder().decode(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
}

function consoleSize(): { columns: number; rows: number } {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.isTTY) {
      const [columns, rows] = stream.getWindowSize();
      return { columns, rows };
    }
  }
  throw Object.assign(new Error("no terminal on stdout or stderr"), { code: "ENOTTY" });
}

/** The part of `bun:ffi` used here. */
interface BunFfi {
  dlopen(
    path: string,
    symbols: Record<string, { args: string[]; returns: string }>,
  ): { symbols: Record<string, unknown>; close(): void };
}

/** Deno's FFI type names as Bun's: a "buffer" (a typed array, or null) is a pointer argument. */
const FFI_TYPES: Record<string, string> = {
  pointer: "ptr",
  buffer: "ptr",
  i32: "i32",
  u32: "u32",
  u64: "u64",
  usize: "usize",
  void: "void",
};

/**
 * Deno's `dlopen` on Bun's FFI (`bun:ffi`): the symbol table is translated, and the library's
 * functions take what Deno's take (typed arrays, null, pointers the library returned). Throws
 * on Node, which has no FFI.
 */
function dlopen<S extends Deno.ForeignLibraryInterface>(
  path: string,
  symbols: S,
): Deno.DynamicLibrary<S> {
  const require = (import.meta as unknown as { require?: (id: string) => unknown }).require;
  if (!("Bun" in globalThis) || !require) {
    throw new Error(`the ${nodePlatform.runtime} executable has no FFI`);
  }
  const ffi = require("bun:ffi") as BunFfi;
  const table: Record<string, { args: string[]; returns: string }> = {};
  const type = (t: unknown): string => {
    const bun = FFI_TYPES[String(t)];
    if (!bun) throw new Error(`FFI type ${String(t)} has no Bun equivalent`);
    return bun;
  };
  for (const [name, def] of Object.entries(symbols)) {
    const d = def as { parameters: readonly unknown[]; result: unknown };
    table[name] = { args: d.parameters.map(type), returns: type(d.result) };
  }
  return ffi.dlopen(path, table) as unknown as Deno.DynamicLibrary<S>;
}

const OS_NAMES: Record<string, string> = { win32: "windows" };
const ARCH_NAMES: Record<string, string> = { x64: "x86_64", arm64: "aarch64" };

/** sshtrace's platform on a runtime with the Node API (Bun, Node). */
export const nodePlatform: Platform = {
  runtime: "Bun" in globalThis ? "bun" : "node",
  build: {
    os: OS_NAMES[process.platform] ?? process.platform,
    arch: ARCH_NAMES[process.arch] ?? process.arch,
  },
  args: process.argv.slice(2),
  exit: (code) => process.exit(code),

  env: (name) => process.env[name],
  envNames: () => Object.keys(process.env),
  granted: () => true, // no sandbox
  grantedEnv: (name) => process.env[name],

  connectTcp: (hostname, port, options) => connectNodeTcp(hostname, port, options),
  async lookup(hostname, family) {
    const { lookup } = await import("node:dns/promises");
    return (await lookup(hostname, { family })).address;
  },
  connectUnix: (path, options): Promise<Conn> => connectSocket(() => net.connect(path), options),
  listenTcp,
  listenUnix,
  spawn,

  readFile: async (path) => plain(await fs.promises.readFile(path)),
  readTextFile: (path) => fs.promises.readFile(path, "utf8"),
  writeTextFile: (path, text, options) =>
    fs.promises.writeFile(path, text, {
      flag: options?.append ? "a" : "w",
      ...(options?.mode === undefined ? {} : { mode: options.mode }),
    }),
  mkdir: async (path, options) => {
    await fs.promises.mkdir(path, options);
  },
  stat(path): FileInfo {
    const info = fs.statSync(path);
    return {
      isFile: info.isFile(),
      isDirectory: info.isDirectory(),
      isCharDevice: info.isCharacterDevice(),
    };
  },
  readTextSync,
  files: nodeFiles,
  appendTextSync: (path, text) => fs.appendFileSync(path, text, { mode: 0o600 }),
  readDirSync(path) {
    try {
      return fs.readdirSync(path);
    } catch {
      return undefined;
    }
  },
  user() {
    let info: { username: string; homedir: string } | undefined;
    try {
      info = os.userInfo();
    } catch {
      info = undefined;
    }
    return { uid: process.getuid?.() ?? 0, name: info?.username, home: info?.homedir };
  },
  hostname: () => os.hostname(),

  stdin: stdin(),
  stdout: output(1, () => process.stdout.isTTY === true),
  stderr: output(2, () => process.stderr.isTTY === true),
  consoleSize,
  onSignal(signal: Signal, handler) {
    process.on(signal, handler);
    return () => void process.off(signal, handler);
  },

  errorKind,
  dlopen,
};

/** The platform of this runtime, as mod.ts imports it (in place of deno.ts's). */
export { nodePlatform as runtimePlatform };
