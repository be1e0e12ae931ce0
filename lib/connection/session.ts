/**
 * Interactive and exec sessions (RFC 4254 §6) on top of a session channel: pty, shell, exec,
 * subsystem, environment, window changes, signals, and the exit status or signal.
 * @module
 */

import { SshReader, SshWriter, WireError } from "../wire/buffer.ts";
import { SshError } from "../errors/mod.ts";
import type { Channel } from "./channel.ts";
import type { ChannelRequest } from "./types.ts";
import { traceError } from "./channel_errors.ts";
import { DEFAULT_TERMINAL_SETTINGS, encodeTerminalSettings } from "./terminal_modes.ts";

export { encodeTerminalModes, TERMINAL_MODES, TTY_OP_END } from "./terminal_modes.ts";

/** A pseudo-terminal request. */
export interface PtyOptions {
  /** TERM value, e.g. `xterm-256color` or `vt100`. */
  term: string;
  cols: number;
  rows: number;
  widthPx?: number;
  heightPx?: number;
  /**
   * Encoded terminal modes (see `encodeTerminalSettings` in terminal_modes.ts); default: those
   * of a sane Linux terminal ({@link DEFAULT_TERMINAL_SETTINGS}), so a server that emulates the
   * terminal from them turns Enter into a newline.
   */
  modes?: Uint8Array;
}

/** How the remote process was killed. */
export interface ExitSignal {
  /** Signal name without the `SIG` prefix, e.g. `TERM`. */
  name: string;
  coreDumped: boolean;
  message: string;
}

/** How the remote command ended; both null when the server closed without saying. */
export interface ExitInfo {
  status: number | null;
  signal: ExitSignal | null;
}

/** A session channel: run a shell, a command or a subsystem, and talk to it. */
export class Session {
  readonly channel: Channel;
  /**
   * Resolves when the channel closes, with the exit status / signal the server reported.
   * Rejects if the connection fails first.
   */
  readonly exit: Promise<ExitInfo>;
  #status: number | null = null;
  #signal: ExitSignal | null = null;

  /** Wraps a session channel; installs its request handler at once (before it opens). */
  constructor(channel: Channel) {
    this.channel = channel;
    channel.onRequest = (request) => this.#onRequest(request);
    this.exit = channel.closed.then(() => {
      const late = channel.bytesAfterEof
        ? ` (${channel.bytesAfterEof} of them after the server's EOF)`
        : "";
      this.#info(
        `channel ${channel.localId} closed: ${channel.bytesIn} bytes in${late}, ` +
          `${channel.bytesOut} bytes out`,
      );
      return { status: this.#status, signal: this.#signal };
    });
    this.exit.catch(() => {});
  }

  /** Output of the remote process. */
  get stdout(): ReadableStream<Uint8Array> {
    return this.channel.readable;
  }

  /** Error output of the remote process (extended data type 1). */
  get stderr(): ReadableStream<Uint8Array> {
    return this.channel.stderr;
  }

  /** Input of the remote process; closing it sends EOF. */
  get stdin(): WritableStream<Uint8Array> {
    return this.channel.writable;
  }

  get bytesIn(): number {
    return this.channel.bytesIn;
  }

  get bytesOut(): number {
    return this.channel.bytesOut;
  }

  #info(message: string): void {
    this.channel.tracer.emit({ stage: "session", type: "info", message });
  }

  #refused(
    code: "session.pty-refused" | "session.shell-refused" | "session.exec-refused",
    message: string,
    details: { term: string; cols: number; rows: number } | Record<never, never>,
  ): SshError {
    const error = new SshError("session", code, message, {
      channel: this.channel.localId,
      ...details,
    });
    traceError(this.channel.tracer, error);
    return error;
  }

  /** Requests a pseudo-terminal; rejects with `session.pty-refused` if the server says no. */
  async requestPty(options: PtyOptions): Promise<void> {
    const data = new SshWriter()
      .string(options.term)
      .uint32(options.cols)
      .uint32(options.rows)
      .uint32(options.widthPx ?? 0)
      .uint32(options.heightPx ?? 0)
      .string(options.modes ?? encodeTerminalSettings(DEFAULT_TERMINAL_SETTINGS))
      .bytes();
    const size = `${options.term} ${options.cols}x${options.rows}`;
    if (!(await this.channel.request("pty-req", true, data))) {
      throw this.#refused(
        "session.pty-refused",
        `the server refused to allocate a pseudo-terminal (${size})`,
        { term: options.term, cols: options.cols, rows: options.rows },
      );
    }
    this.#info(`pty granted (${size})`);
  }

  /** Starts the user's shell; rejects with `session.shell-refused` if the server says no. */
  async shell(): Promise<void> {
    if (!(await this.channel.request("shell", true))) {
      throw this.#refused("session.shell-refused", "the server refused to start a shell", {});
    }
    this.channel.stage = "data";
    this.#info("shell started");
  }

  /** Runs a command; rejects with `session.exec-refused` if the server says no. */
  async exec(command: string): Promise<void> {
    const data = new SshWriter().string(command).bytes();
    if (!(await this.channel.request("exec", true, data))) {
      // The command itself is left out: it may hold something private.
      throw this.#refused(
        "session.exec-refused",
        "the server refused to run the command (exec request)",
        {},
      );
    }
    this.channel.stage = "data";
    this.#info("command started (exec)");
  }

  /** Starts a subsystem such as `sftp` or `netconf`; resolves false if refused. */
  async subsystem(name: string): Promise<boolean> {
    const ok = await this.channel.request("subsystem", true, new SshWriter().string(name).bytes());
    if (ok) this.channel.stage = "data";
    this.#info(`subsystem ${name} ${ok ? "started" : "refused"}`);
    return ok;
  }

  /** Sets an environment variable; resolves false if refused (servers often refuse). */
  setEnv(name: string, value: string): Promise<boolean> {
    return this.channel.request("env", true, new SshWriter().string(name).string(value).bytes());
  }

  /**
   * SendEnv / SetEnv before the session starts: one `env` request per pair, each answer traced
   * by name (never the value); a refusal (the server's AcceptEnv) is no failure. All requests
   * go out at once, so they cost one round trip whatever their number, and none when the caller
   * sends its exec, shell or subsystem request before awaiting this (answers come in order).
   */
  async setEnvironment(env: readonly (readonly [name: string, value: string])[]): Promise<void> {
    await Promise.all(env.map(async ([name, value]) => {
      const accepted = await this.setEnv(name, value);
      this.#info(`environment ${name}: ${accepted ? "accepted" : "refused by the server"}`);
    }));
  }

  /** Tells the server the terminal size changed (no reply). */
  async windowChange(cols: number, rows: number, widthPx = 0, heightPx = 0): Promise<void> {
    const data = new SshWriter().uint32(cols).uint32(rows).uint32(widthPx).uint32(heightPx)
      .bytes();
    await this.channel.request("window-change", false, data);
  }

  /** Sends a signal by name without `SIG`, e.g. `INT` (no reply). */
  async signal(name: string): Promise<void> {
    await this.channel.request("signal", false, new SshWriter().string(name).bytes());
  }

  /** Sends bytes (text is UTF-8 encoded) to the remote process. */
  write(bytes: Uint8Array | string): Promise<void> {
    return this.channel.write(typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes);
  }

  /** Sends EOF: the remote process sees end of input. */
  eof(): Promise<void> {
    return this.channel.eof();
  }

  /** Closes the channel and waits for the server's CLOSE. */
  close(): Promise<void> {
    return this.channel.close();
  }

  #onRequest(request: ChannelRequest): boolean {
    const id = this.channel.localId;
    try {
      switch (request.type) {
        case "exit-status": {
          const status = new SshReader(request.data, "exit-status").uint32("exit status");
          if (this.#status !== null) {
            this.#info(
              `channel ${id}: ignored a second exit-status ${status} (first was ${this.#status})`,
            );
            return false;
          }
          this.#status = status;
          this.#info(`channel ${id}: exit status ${status}`);
          return true;
        }
        case "exit-signal": {
          const r = new SshReader(request.data, "exit-signal");
          const name = r.text("signal name");
          const coreDumped = r.bool("core dumped");
          const message = r.remaining ? r.text("error message") : "";
          if (this.#signal !== null) {
            this.#info(`channel ${id}: ignored a second exit-signal ${name}`);
            return false;
          }
          this.#signal = { name, coreDumped, message };
          this.#info(
            `channel ${id}: killed by signal ${name}${coreDumped ? " (core dumped)" : ""}`,
          );
          return true;
        }
        case "eow@openssh.com":
          return true;
        default:
          return false;
      }
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      this.#info(`channel ${id}: ignored a malformed ${request.type} request: ${e.message}`);
      return false;
    }
  }
}
