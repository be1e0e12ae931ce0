/**
 * The platform seam: everything sshtrace needs from its runtime (sockets, files, standard
 * streams, the terminal, environment, signals, permissions, process exit, FFI) as one small
 * typed object, {@link platform}. Only `lib/platform/` touches `Deno`; the protocol core and the
 * CLI go through this object, so another runtime (a standalone binary) provides its own
 * implementation of {@link Platform} and changes the one line that picks it, at the end of
 * this file. The shapes follow Deno's own (a Deno object satisfies them as it is, no wrapper on
 * the hot path), minus everything sshtrace does not use.
 * @module
 */

// `deno task binary` remaps this import to ./node.ts (an import map entry): see scripts/binary.sh.
import { runtimePlatform } from "./deno.ts";
import type { LocalFiles } from "./files.ts";

/** A byte connection (TCP or Unix socket): reads into the caller's buffer, partial writes. */
export interface Conn {
  /** Reads into `p`; resolves with the count, or null at end of stream. */
  read(p: Uint8Array): Promise<number | null>;
  /** Writes some of `p` (maybe not all); resolves with the count written. */
  write(p: Uint8Array): Promise<number>;
  /** Closes; a pending read then rejects or ends. */
  close(): void;
}

/** A host and port. */
export interface NetAddr {
  readonly hostname: string;
  readonly port: number;
}

/** A TCP connection. */
export interface TcpConn extends Conn {
  readonly remoteAddr: NetAddr;
  /** `TCP_NODELAY` on (true, the default) or off. */
  setNoDelay(noDelay?: boolean): void;
  /** `SO_KEEPALIVE` on (true, the default) or off. */
  setKeepAlive(keepAlive?: boolean): void;
}

/** A TCP listener. */
export interface TcpListener extends AsyncIterable<TcpConn> {
  readonly addr: NetAddr;
  accept(): Promise<TcpConn>;
  close(): void;
}

/** A Unix socket listener; its file is removed when it closes. */
export interface UnixListener extends AsyncIterable<Conn> {
  readonly path: string;
  accept(): Promise<Conn>;
  close(): void;
}

/** Options of {@link Platform.listenUnix}, as OpenSSH's StreamLocalBind* options. */
export interface UnixListenOptions {
  /** The socket file's mode once bound (StreamLocalBindMask 0177 gives 0600). */
  mode?: number;
  /** Remove a socket file already at the path first (StreamLocalBindUnlink). @default false */
  unlink?: boolean;
}

/**
 * Options of a connect: an optional signal that abandons it (its reason is the error), and the
 * local address to bind (TCP only).
 */
export interface ConnectOptions {
  signal?: AbortSignal;
  /** The local address to connect from (ssh's BindAddress, `-b`). @default any */
  localAddress?: string;
}

/** The standard input. */
export interface Stdin {
  read(p: Uint8Array): Promise<number | null>;
  readonly readable: ReadableStream<Uint8Array>;
  isTerminal(): boolean;
  /** Raw mode of the terminal on stdin (throws when stdin is no terminal). */
  setRaw(mode: boolean): void;
}

/** Standard output or standard error. */
export interface Stdout {
  write(p: Uint8Array): Promise<number>;
  writeSync(p: Uint8Array): number;
  isTerminal(): boolean;
}

/** What {@link Platform.stat} tells about a path. */
export interface FileInfo {
  isFile: boolean;
  isDirectory: boolean;
  /** Null where the runtime cannot tell. */
  isCharDevice: boolean | null;
}

/**
 * What kind of failure a platform call reported, named by its meaning (the runtime's own error
 * classes stay in the implementation); `other` for the rest. Ask with {@link Platform.errorKind}.
 */
export type ErrorKind =
  | "not-found"
  /** The operating system refused (EACCES, EPERM). */
  | "permission-denied"
  /** The runtime's sandbox refused: a permission was not granted. */
  | "not-capable"
  | "is-a-directory"
  | "already-exists"
  | "addr-in-use"
  | "connection-refused"
  | "connection-reset"
  | "connection-aborted"
  | "not-connected"
  | "timed-out"
  | "aborted"
  | "other";

/** A permission sshtrace may check (never asks for it). */
export type Permission =
  | { name: "ffi"; path?: string }
  | { name: "read"; path?: string }
  | { name: "write"; path?: string }
  | { name: "env"; variable?: string }
  | { name: "net"; host?: string }
  | { name: "sys"; kind?: "hostname" | "uid" | "gid" | "username" | "homedir" };

/** A child process with its three standard streams piped (a ProxyCommand). */
export interface ChildProcess {
  readonly stdin: WritableStream<Uint8Array>;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  /** Resolves when it exits: its exit code, or the signal that ended it. */
  readonly status: Promise<{ code: number; signal: string | null }>;
  /** Ends it (SIGTERM); nothing happens if it has exited. */
  kill(): void;
}

/** The signals sshtrace handles. */
export type Signal = "SIGINT" | "SIGTERM" | "SIGWINCH";

/** Everything sshtrace needs from its runtime. */
export interface Platform {
  /** The runtime's name, e.g. `deno`. */
  readonly runtime: string;
  /** Operating system and CPU, as Deno names them (`linux`, `darwin`, `windows`; `x86_64`, `aarch64`). */
  readonly build: { readonly os: string; readonly arch: string };
  /** The command line arguments (without the program). */
  readonly args: readonly string[];
  /** Ends the process with `code`. */
  exit(code: number): never;

  /** An environment variable, or undefined when unset or not readable (no permission). */
  env(name: string): string | undefined;
  /** The names of every environment variable (empty when not readable). */
  envNames(): string[];
  /** Whether `permission` is granted now (never prompts; false when it cannot be asked). */
  granted(permission: Permission): boolean;
  /** The environment variable when reading it is granted, else undefined (never prompts). */
  grantedEnv(name: string): string | undefined;

  /** Opens a TCP connection (host names are resolved). */
  connectTcp(hostname: string, port: number, options?: ConnectOptions): Promise<TcpConn>;
  /**
   * The first address of `hostname` of one family, as getaddrinfo(3) gives it (/etc/hosts
   * included); rejects when it has none.
   */
  lookup(hostname: string, family: 4 | 6): Promise<string>;
  /** Opens a Unix socket connection. */
  connectUnix(path: string, options?: ConnectOptions): Promise<Conn>;
  /** Listens on a TCP port (0: any free port). */
  listenTcp(hostname: string, port: number): TcpListener;
  /**
   * Listens on a Unix socket at `path` (throws when it cannot: a file already there without
   * `unlink`, a missing directory, no permission).
   */
  listenUnix(path: string, options?: UnixListenOptions): UnixListener;
  /** Starts a program with piped standard streams (throws when it cannot be started). */
  spawn(command: string, args: readonly string[]): ChildProcess;

  readFile(path: string): Promise<Uint8Array>;
  readTextFile(path: string): Promise<string>;
  /** Writes (or with `append`, appends) text, creating the file (with `mode`) when missing. */
  writeTextFile(
    path: string,
    text: string,
    options?: { append?: boolean; mode?: number },
  ): Promise<void>;
  /** Creates a directory (with `recursive`, its parents too, and no error if it exists). */
  mkdir(path: string, options?: { recursive?: boolean; mode?: number }): Promise<void>;
  /** What the path is (follows links); throws when it cannot be read. */
  stat(path: string): FileInfo;
  /**
   * At most `maxBytes` bytes of a regular file as text, read synchronously (configuration files);
   * undefined when it does not exist; throws for other failures and for what is not a file.
   */
  readTextSync(path: string, maxBytes: number): string | undefined;
  /** Appends text to a file at once, creating it (mode 0600) when missing. */
  appendTextSync(path: string, text: string): void;
  /** The names in a directory, or undefined when it cannot be listed. */
  readDirSync(path: string): string[] | undefined;
  /** Local files for transfers: streaming reads and writes, metadata, rename (files.ts). */
  readonly files: LocalFiles;

  /**
   * Who runs sshtrace and where: the user's id, name and home, and this machine's host name;
   * each read only when granted (never prompts): else -1, undefined, `localhost`.
   */
  user(): { uid: number; name: string | undefined; home: string | undefined };
  hostname(): string;

  readonly stdin: Stdin;
  readonly stdout: Stdout;
  readonly stderr: Stdout;
  /** The terminal's size (throws when there is none). */
  consoleSize(): { columns: number; rows: number };
  /** Calls `handler` on `signal` until the returned function is called (throws if unsupported). */
  onSignal(signal: Signal, handler: () => void): () => void;

  /** What kind of failure `error` (thrown by a call above) is. */
  errorKind(error: unknown): ErrorKind;

  /**
   * Loads a native library (Deno's FFI: its symbol and pointer types are runtime-specific, so
   * the few callers, `lib/platform/termios.ts` and `lib/algorithms/_openssl.ts`, are too).
   */
  dlopen<S extends Deno.ForeignLibraryInterface>(path: string, symbols: S): Deno.DynamicLibrary<S>;
}

/**
 * The platform sshtrace runs on: Deno, or the Node API in the standalone executable (the import
 * of `./deno.ts` above is the one line another runtime changes).
 */
export const platform: Platform = runtimePlatform;

/** The first line of an error's message (for a one-line reason in a trace). */
export function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0]!;
}
