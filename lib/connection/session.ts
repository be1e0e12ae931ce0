/**
 * Interactive and exec sessions (RFC 4254 §6) on top of a session channel: pty, shell, exec,
 * subsystem, environment, window changes, signals, and the exit status or signal.
 * @module
 */

import { SshReader, SshWriter, WireError } from "../wire/buffer.ts";
import { SshTraceError } from "../trace.ts";
import type { Channel, ChannelRequest } from "./channel.ts";

/** Terminal mode opcodes (RFC 4254 §8, plus IUTF8 from RFC 8160). */
export const TERMINAL_MODES: Readonly<Record<string, number>> = {
  VINTR: 1,
  VQUIT: 2,
  VERASE: 3,
  VKILL: 4,
  VEOF: 5,
  VEOL: 6,
  VEOL2: 7,
  VSTART: 8,
  VSTOP: 9,
  VSUSP: 10,
  VDSUSP: 11,
  VREPRINT: 12,
  VWERASE: 13,
  VLNEXT: 14,
  VFLUSH: 15,
  VSWTCH: 16,
  VSTATUS: 17,
  VDISCARD: 18,
  IGNPAR: 30,
  PARMRK: 31,
  INPCK: 32,
  ISTRIP: 33,
  INLCR: 34,
  IGNCR: 35,
  ICRNL: 36,
  IUCLC: 37,
  IXON: 38,
  IXANY: 39,
  IXOFF: 40,
  IMAXBEL: 41,
  IUTF8: 42,
  ISIG: 50,
  ICANON: 51,
  XCASE: 52,
  ECHO: 53,
  ECHOE: 54,
  ECHOK: 55,
  ECHONL: 56,
  NOFLSH: 57,
  TOSTOP: 58,
  IEXTEN: 59,
  ECHOCTL: 60,
  ECHOKE: 61,
  PENDIN: 62,
  OPOST: 70,
  OLCUC: 71,
  ONLCR: 72,
  OCRNL: 73,
  ONOCR: 74,
  ONLRET: 75,
  CS7: 90,
  CS8: 91,
  PARENB: 92,
  PARODD: 93,
  TTY_OP_ISPEED: 128,
  TTY_OP_OSPEED: 129,
};

/** TTY_OP_END: terminates the encoded terminal modes. */
export const TTY_OP_END = 0;

/**
 * Encodes terminal modes for a pty-req (RFC 4254 §8): opcode byte + uint32 value per entry, in
 * the order given, then TTY_OP_END. Unknown names or values outside uint32 are usage errors.
 */
export function encodeTerminalModes(modes: Record<string, number>): Uint8Array {
  const w = new SshWriter(Object.keys(modes).length * 5 + 1);
  for (const [name, value] of Object.entries(modes)) {
    const opcode = TERMINAL_MODES[name.toUpperCase()];
    if (opcode === undefined) {
      throw new SshTraceError(
        "usage",
        "usage.unknown-terminal-mode",
        `unknown terminal mode "${name}" (expected a name such as ECHO, ICANON or TTY_OP_ISPEED)`,
        { mode: name },
      );
    }
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new SshTraceError(
        "usage",
        "usage.invalid-terminal-mode",
        `terminal mode ${name} needs a whole number from 0 to 4294967295, not ${value}`,
        { mode: name, value },
      );
    }
    w.byte(opcode).uint32(value);
  }
  return w.byte(TTY_OP_END).bytes();
}

/** A pseudo-terminal request. */
export interface PtyOptions {
  /** TERM value, e.g. `xterm-256color` or `vt100`. */
  term: string;
  cols: number;
  rows: number;
  widthPx?: number;
  heightPx?: number;
  /** Encoded terminal modes (see {@link encodeTerminalModes}); default: none (just TTY_OP_END). */
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
      this.#info(
        `channel ${channel.localId} closed: ${channel.bytesIn} bytes in, ${channel.bytesOut} bytes out`,
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

  #refused(code: string, message: string, details: Record<string, unknown>): SshTraceError {
    this.channel.tracer.emit({ stage: "session", type: "error", code, message });
    return new SshTraceError("session", code, message, {
      channel: this.channel.localId,
      ...details,
    });
  }

  /** Requests a pseudo-terminal; rejects with `session.pty-refused` if the server says no. */
  async requestPty(options: PtyOptions): Promise<void> {
    const data = new SshWriter()
      .string(options.term)
      .uint32(options.cols)
      .uint32(options.rows)
      .uint32(options.widthPx ?? 0)
      .uint32(options.heightPx ?? 0)
      .string(options.modes ?? new Uint8Array([TTY_OP_END]))
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
    this.#info("command started (exec)");
  }

  /** Starts a subsystem such as `sftp` or `netconf`; resolves false if refused. */
  async subsystem(name: string): Promise<boolean> {
    const ok = await this.channel.request("subsystem", true, new SshWriter().string(name).bytes());
    this.#info(`subsystem ${name} ${ok ? "started" : "refused"}`);
    return ok;
  }

  /** Sets an environment variable; resolves false if refused (servers often refuse). */
  setEnv(name: string, value: string): Promise<boolean> {
    return this.channel.request("env", true, new SshWriter().string(name).string(value).bytes());
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
