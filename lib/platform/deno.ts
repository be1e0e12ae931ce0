/**
 * The Deno implementation of the platform seam ({@link Platform} in mod.ts): the one file that
 * calls `Deno.*` for sockets, files, standard streams, the terminal, environment, signals,
 * permissions and FFI. Deno's own objects are handed out as they are (they satisfy the seam's
 * shapes), so the seam costs nothing per read or write. Permission checks never prompt.
 * @module
 */

import type * as NodeOs from "node:os";
import { denoFiles } from "./deno_files.ts";
import { NODE_ERROR_CODES } from "./error_codes.ts";
import type {
  Conn,
  ConnectOptions,
  ErrorKind,
  FileInfo,
  Permission,
  Platform,
  UnixListener,
  UnixListenOptions,
} from "./mod.ts";

function granted(permission: Permission): boolean {
  try {
    return Deno.permissions.querySync(permission).state === "granted";
  } catch {
    return false;
  }
}

/** Deno's Unix connect takes no signal: an abort rejects at once and closes a late connection. */
async function connectUnix(path: string, options?: ConnectOptions): Promise<Conn> {
  const signal = options?.signal;
  signal?.throwIfAborted();
  const pending = Deno.connect({ transport: "unix", path });
  if (!signal) return await pending;
  return await new Promise<Conn>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    pending.then((conn) => {
      signal.removeEventListener("abort", onAbort);
      if (signal.aborted) conn.close();
      else resolve(conn);
    }, (e) => {
      signal.removeEventListener("abort", onAbort);
      reject(e);
    });
  });
}

/** A Unix socket listener; a stale socket file removed first with `unlink` (sockets only). */
function listenUnix(path: string, options: UnixListenOptions = {}): UnixListener {
  if (options.unlink) {
    try {
      if (Deno.lstatSync(path).isSocket) Deno.removeSync(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  const listener = Deno.listen({ transport: "unix", path });
  if (options.mode !== undefined) {
    try {
      Deno.chmodSync(path, options.mode);
    } catch (e) {
      listener.close();
      throw e;
    }
  }
  return {
    path,
    accept: () => listener.accept(),
    close: () => listener.close(),
    [Symbol.asyncIterator]: () => listener[Symbol.asyncIterator](),
  };
}

const KINDS: [new (...args: never[]) => Error, ErrorKind][] = [
  [Deno.errors.NotFound, "not-found"],
  [Deno.errors.PermissionDenied, "permission-denied"],
  [Deno.errors.NotCapable, "not-capable"],
  [Deno.errors.IsADirectory, "is-a-directory"],
  [Deno.errors.AlreadyExists, "already-exists"],
  [Deno.errors.AddrInUse, "addr-in-use"],
  [Deno.errors.ConnectionRefused, "connection-refused"],
  [Deno.errors.ConnectionReset, "connection-reset"],
  [Deno.errors.ConnectionAborted, "connection-aborted"],
  [Deno.errors.NotConnected, "not-connected"],
  [Deno.errors.TimedOut, "timed-out"],
];

function readTextSync(path: string, maxBytes: number): string | undefined {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  try {
    if (!file.statSync().isFile) throw new Error("not a regular file");
    const buf = new Uint8Array(maxBytes);
    let n = 0;
    while (n < buf.length) {
      const r = file.readSync(buf.subarray(n));
      if (r === null || r === 0) break;
      n += r;
    }
    return new TextDecoder().decode(buf.subarray(0, n));
  } finally {
    file.close();
  }
}

/**
 * `node:os`, loaded at first use (importing it at start-up costs every run ~5 ms of CPU).
 */
function nodeOs(): typeof NodeOs {
  const process = (globalThis as { process?: { getBuiltinModule?(id: string): unknown } })
    .process;
  const os = process?.getBuiltinModule?.("node:os") as typeof NodeOs | undefined;
  if (!os) throw new Error("internal error: node:os is not available in this runtime");
  return os;
}

/**
 * This user's line of /etc/passwd (name and home by uid, as getpwuid() finds them in files),
 * when reading it is granted: a few hundred bytes read, where node:os costs ~14 ms to load.
 * Undefined when the uid is not there (an NSS user: node:os asks the system library).
 */
function passwdEntry(): { username: string; homedir: string } | undefined {
  try {
    const uid = granted({ name: "sys", kind: "uid" }) ? Deno.uid() : null;
    if (uid === null || !granted({ name: "read", path: "/etc/passwd" })) return undefined;
    for (const line of Deno.readTextFileSync("/etc/passwd").split("\n")) {
      const f = line.split(":");
      if (f.length >= 7 && f[2] === String(uid)) return { username: f[0]!, homedir: f[5]! };
    }
  } catch {
    // unreadable: ask node:os
  }
  return undefined;
}

/**
 * This user's id, name and home, each only when reading it is granted (never prompts: a login
 * with the narrowest permissions reads ssh_config too); unknown parts are undefined or -1.
 */
function user(): { uid: number; name: string | undefined; home: string | undefined } {
  let info: { username: string; homedir: string } | undefined = passwdEntry();
  if (info) return { uid: Deno.uid() ?? -1, name: info.username, home: info.homedir };
  try {
    // nodeOs().userInfo() reads uid, gid, user name and home directory.
    const kinds = ["uid", "gid", "username", "homedir"] as const;
    info = kinds.every((kind) => granted({ name: "sys", kind })) ? nodeOs().userInfo() : undefined;
  } catch {
    info = undefined;
  }
  let uid = -1;
  try {
    uid = granted({ name: "sys", kind: "uid" }) ? Deno.uid() ?? -1 : -1;
  } catch {
    uid = -1;
  }
  return { uid, name: info?.username, home: info?.homedir };
}

/** gethostname(), when reading it is granted (never prompts); else `localhost`. */
function hostname(): string {
  try {
    return granted({ name: "sys", kind: "hostname" }) ? nodeOs().hostname() : "localhost";
  } catch {
    return "localhost";
  }
}

function errorKind(error: unknown): ErrorKind {
  for (const [type, kind] of KINDS) if (error instanceof type) return kind;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && NODE_ERROR_CODES[code]) return NODE_ERROR_CODES[code];
  const name = (error as { name?: unknown } | null)?.name;
  if (name === "TimeoutError") return "timed-out";
  if (name === "AbortError") return "aborted";
  return "other";
}

/** sshtrace's platform on Deno. */
export const denoPlatform: Platform = {
  runtime: "deno",
  build: Deno.build,
  args: Deno.args,
  exit: (code) => Deno.exit(code),

  env(name) {
    try {
      return Deno.env.get(name);
    } catch {
      return undefined; // no --allow-env: treat as unset
    }
  },
  envNames() {
    try {
      return Object.keys(Deno.env.toObject());
    } catch {
      return []; // no --allow-env
    }
  },
  granted,
  grantedEnv: (name) => granted({ name: "env", variable: name }) ? Deno.env.get(name) : undefined,

  // Deno.connect cannot choose the local address: BindAddress goes through node:net.
  connectTcp: async (hostname, port, options) =>
    options?.localAddress
      ? (await import("./node_socket.ts")).connectNodeTcp(hostname, port, options)
      : Deno.connect({ hostname, port, transport: "tcp", signal: options?.signal }),
  connectUnix,
  async lookup(hostname, family) {
    const { lookup } = await import("node:dns/promises"); // only when a family is asked for
    return (await lookup(hostname, { family })).address;
  },
  listenTcp: (hostname, port) => Deno.listen({ hostname, port, transport: "tcp" }),
  listenUnix,
  spawn(command, args) {
    const child = new Deno.Command(command, {
      args: [...args],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return {
      stdin: child.stdin,
      stdout: child.stdout,
      stderr: child.stderr,
      status: child.status.then((s) => ({ code: s.code, signal: s.signal })),
      kill() {
        try {
          child.kill("SIGTERM");
        } catch {
          // already exited
        }
      },
    };
  },

  readFile: (path) => Deno.readFile(path),
  readTextFile: (path) => Deno.readTextFile(path),
  writeTextFile: (path, text, options) => Deno.writeTextFile(path, text, options),
  mkdir: (path, options) => Deno.mkdir(path, options),
  stat(path): FileInfo {
    const info = Deno.statSync(path);
    return { isFile: info.isFile, isDirectory: info.isDirectory, isCharDevice: info.isCharDevice };
  },
  readTextSync,
  appendTextSync: (path, text) => Deno.writeTextFileSync(path, text, { append: true, mode: 0o600 }),
  readDirSync(path) {
    try {
      return [...Deno.readDirSync(path)].map((e) => e.name);
    } catch {
      return undefined;
    }
  },
  files: denoFiles,
  user,
  hostname,

  stdin: Deno.stdin,
  stdout: Deno.stdout,
  stderr: Deno.stderr,
  consoleSize: () => Deno.consoleSize(),
  onSignal(signal, handler) {
    Deno.addSignalListener(signal, handler);
    return () => Deno.removeSignalListener(signal, handler);
  },

  errorKind,
  dlopen: (path, symbols) => Deno.dlopen(path, symbols),
};

/** The platform of this runtime, as mod.ts imports it (node.ts exports the same name). */
export { denoPlatform as runtimePlatform };
