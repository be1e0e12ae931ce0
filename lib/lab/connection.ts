/**
 * The server side of the connection protocol (RFC 4254) for the lab server: session channels
 * with window and maximum-packet flow control in both directions, pty-req, env, shell, exec,
 * window-change, exit-status, EOF and CLOSE; global requests are refused.
 * @module
 */

import { SshReader, SshWriter, WireError } from "../wire/buffer.ts";
import { MSG } from "../wire/messages.ts";
import { decodeTerminalModes } from "../connection/terminal_modes.ts";
import { execProgram, type Program, type ProgramIo, type PtyInfo } from "./programs.ts";
import { comwareShell, posixShell } from "./programs.ts";
import { REASON, type ServerTransport, Stop } from "./transport.ts";
import type { ChannelInfo } from "./types.ts";

/** Most channels one connection may have open at once. */
export const MAX_CHANNELS = 64;

/** Most program output held back per channel under `eof-while-waiting` before the program waits. */
const HELD_LIMIT = 4 * 1024 * 1024;

const encoder = new TextEncoder();

/** A channel ended under a program that was still using it. */
class ChannelGone extends Error {
  override name = "ChannelGone";
}

interface Waiter {
  resolve(): void;
  reject(e: Error): void;
}

class ServerChannel implements ChannelInfo {
  readonly serverId: number;
  readonly clientId: number;
  clientWindow: number;
  readonly clientMaxPacket: number;
  /** Bytes the client may still send. */
  windowLeft: number;
  unacked = 0;
  pty: PtyInfo | null = null;
  started = false;
  eofReceived = false;
  eofSent = false;
  closeSent = false;
  closeReceived = false;
  input: Uint8Array[] = [];
  inputWaiter: (() => void) | null = null;
  windowWaiters: Waiter[] = [];
  timers = new Map<ReturnType<typeof setTimeout>, () => void>();
  /** Program output held back (config `lateData`), in order. */
  held: { data: Uint8Array; extended: boolean }[] = [];
  heldBytes = 0;
  /** The sender of held output while it runs (`eof-while-waiting`). */
  flushing: Promise<void> | null = null;

  constructor(serverId: number, clientId: number, window: number, maxPacket: number, ours: number) {
    this.serverId = serverId;
    this.clientId = clientId;
    this.clientWindow = window;
    this.clientMaxPacket = maxPacket;
    this.windowLeft = ours;
  }

  get gone(): boolean {
    return this.closeSent || this.closeReceived;
  }

  wakeInput(): void {
    const w = this.inputWaiter;
    this.inputWaiter = null;
    w?.();
  }

  wakeWriters(error?: Error): void {
    for (const w of this.windowWaiters.splice(0)) error ? w.reject(error) : w.resolve();
  }

  /** Ends everything waiting on this channel. */
  end(): void {
    this.eofReceived = true;
    this.wakeInput();
    this.wakeWriters(new ChannelGone("channel closed"));
    for (const [t, resolve] of this.timers) {
      clearTimeout(t);
      resolve();
    }
    this.timers.clear();
  }
}

/**
 * A pty emulated from the client's terminal modes (config `terminal: "emulated"`), as MINA
 * SSHD does: input CR becomes LF only with ICRNL (IGNCR drops it, INLCR turns LF into CR);
 * output LF becomes CR LF only with OPOST and ONLCR. Echo is the program's (on a pty).
 */
function lineDiscipline(io: ProgramIo): ProgramIo {
  const m = io.pty?.modes ?? {};
  const mapOut = (d: Uint8Array | string): Uint8Array | string => {
    if (!(m.OPOST && m.ONLCR)) return d;
    const bytes = typeof d === "string" ? encoder.encode(d) : d;
    const out: number[] = [];
    for (const b of bytes) b === 0x0a ? out.push(0x0d, 0x0a) : out.push(b);
    return new Uint8Array(out);
  };
  return {
    ...io,
    get pty() {
      return io.pty;
    },
    write: (d) => io.write(mapOut(d)),
    writeErr: (d) => io.writeErr(mapOut(d)),
    read: async () => {
      const chunk = await io.read();
      if (chunk === null) return null;
      const out: number[] = [];
      for (const b of chunk) {
        if (b === 0x0d) {
          if (m.IGNCR) continue;
          out.push(m.ICRNL ? 0x0a : 0x0d);
        } else if (b === 0x0a && m.INLCR) out.push(0x0d);
        else out.push(b);
      }
      return new Uint8Array(out);
    },
  };
}

/** The connection layer of one authenticated lab connection. */
export class ServerConnection {
  #t: ServerTransport;
  #user: string;
  #log: (message: string) => void;
  #channels = new Map<number, ServerChannel>();
  #nextId = 0;
  #programs = new Set<Promise<void>>();

  constructor(t: ServerTransport, user: string, log: (message: string) => void) {
    this.#t = t;
    this.#user = user;
    this.#log = log;
  }

  /** Serves until the client closes; then ends every channel and waits for the programs. */
  async run(): Promise<void> {
    try {
      for (;;) {
        const p = await this.#t.receive(0);
        if (p === null) break;
        try {
          await this.#dispatch(p);
        } catch (e) {
          if (!(e instanceof WireError)) throw e;
          await this.#t.disconnect(REASON.PROTOCOL_ERROR, `malformed message: ${e.message}`);
          break;
        }
      }
    } finally {
      for (const ch of this.#channels.values()) ch.end();
      this.#channels.clear();
      await Promise.allSettled([...this.#programs]);
    }
  }

  async #dispatch(p: Uint8Array): Promise<void> {
    const r = new SshReader(p, "client message");
    const type = r.byte();
    switch (type) {
      case MSG.GLOBAL_REQUEST: {
        r.text("request name");
        if (r.bool("want reply")) await this.#t.send(new Uint8Array([MSG.REQUEST_FAILURE]));
        return;
      }
      case MSG.CHANNEL_OPEN:
        return await this.#open(r);
      case MSG.USERAUTH_REQUEST:
      case MSG.REQUEST_SUCCESS:
      case MSG.REQUEST_FAILURE:
        return; // late or unsolicited: ignored
    }
    if (type < MSG.CHANNEL_OPEN || type > MSG.CHANNEL_FAILURE) return;
    const id = r.uint32("recipient channel");
    const ch = this.#channels.get(id);
    if (!ch) {
      await this.#t.disconnect(
        REASON.PROTOCOL_ERROR,
        `message ${type} for channel ${id}, which is not open`,
      );
      throw new Stop("message for an unknown channel");
    }
    switch (type) {
      case MSG.CHANNEL_WINDOW_ADJUST:
        ch.clientWindow = Math.min(ch.clientWindow + r.uint32("bytes to add"), 0xffffffff);
        ch.wakeWriters();
        return;
      case MSG.CHANNEL_DATA:
      case MSG.CHANNEL_EXTENDED_DATA: {
        if (type === MSG.CHANNEL_EXTENDED_DATA) r.uint32("data type");
        const data = r.string("data");
        if (data.length > ch.windowLeft || data.length > this.#t.config.maxPacket) {
          await this.#t.disconnect(
            REASON.PROTOCOL_ERROR,
            `channel ${id}: ${data.length} bytes exceed the window or maximum packet`,
          );
          throw new Stop("client exceeded the window");
        }
        ch.windowLeft -= data.length;
        if (type === MSG.CHANNEL_DATA && !ch.eofReceived) {
          ch.input.push(data.slice());
          ch.wakeInput();
        } else this.#credit(ch, data.length);
        return;
      }
      case MSG.CHANNEL_EOF:
        ch.eofReceived = true;
        ch.wakeInput();
        return;
      case MSG.CHANNEL_CLOSE:
        ch.closeReceived = true;
        if (!ch.closeSent) {
          ch.closeSent = true;
          await this.#t.send(new SshWriter().byte(MSG.CHANNEL_CLOSE).uint32(ch.clientId).bytes());
        }
        ch.end();
        this.#channels.delete(id);
        return;
      case MSG.CHANNEL_REQUEST:
        return await this.#request(ch, r);
      default:
        return; // CHANNEL_SUCCESS / FAILURE: we ask nothing that needs them
    }
  }

  async #open(r: SshReader): Promise<void> {
    const type = r.text("channel type");
    const clientId = r.uint32("sender channel");
    const window = r.uint32("initial window");
    const maxPacket = r.uint32("maximum packet");
    const config = this.#t.config;
    const ch = new ServerChannel(this.#nextId++, clientId, window, maxPacket, config.windowSize);
    if (await this.#t.at("channel-open", { channel: ch })) return;
    const refuse = (code: number, why: string) =>
      this.#t.send(
        new SshWriter().byte(MSG.CHANNEL_OPEN_FAILURE).uint32(clientId).uint32(code).string(why)
          .string("").bytes(),
      );
    if (type !== "session") return await refuse(3, `unknown channel type ${type}`);
    if (this.#channels.size >= MAX_CHANNELS) return await refuse(4, "too many channels");
    if (maxPacket === 0) return await refuse(2, "maximum packet size of 0");
    this.#channels.set(ch.serverId, ch);
    await this.#t.send(
      new SshWriter().byte(MSG.CHANNEL_OPEN_CONFIRMATION).uint32(clientId).uint32(ch.serverId)
        .uint32(config.windowSize).uint32(config.maxPacket).bytes(),
    );
  }

  async #request(ch: ServerChannel, r: SshReader): Promise<void> {
    const type = r.text("request type");
    const wantReply = r.bool("want reply");
    if (await this.#t.at("channel-request", { channel: ch, request: type })) return;
    const reply = async (ok: boolean) => {
      if (wantReply && !ch.gone) {
        await this.#t.send(
          new SshWriter().byte(ok ? MSG.CHANNEL_SUCCESS : MSG.CHANNEL_FAILURE).uint32(ch.clientId)
            .bytes(),
        );
      }
    };
    const config = this.#t.config;
    switch (type) {
      case "pty-req": {
        const term = r.text("TERM");
        const cols = r.uint32("columns");
        const rows = r.uint32("rows");
        r.uint32("width in pixels");
        r.uint32("height in pixels");
        const { modes, unknown } = decodeTerminalModes(r.string("terminal modes"));
        const emulated = config.terminal === "emulated";
        ch.pty = { term, cols, rows, modes, emulated };
        const shown = ["ICRNL", "ONLCR", "OPOST", "ECHO", "ICANON", "VINTR"]
          .map((n) => `${n}=${modes[n] ?? "unset"}`).join(" ");
        this.#log(
          `channel ${ch.serverId}: pty-req ${JSON.stringify(term)} ${cols}x${rows}, ` +
            `${Object.keys(modes).length} terminal modes (${shown})` +
            (unknown.length ? `, unknown opcodes ${unknown.join(",")}` : ""),
        );
        return await reply(true);
      }
      case "env":
        return await reply(true);
      case "window-change":
        if (ch.pty) {
          ch.pty = { ...ch.pty, cols: r.uint32("columns"), rows: r.uint32("rows") };
        }
        return await reply(true);
      case "shell": {
        if (ch.started) return await reply(false);
        await reply(true);
        this.#log(`channel ${ch.serverId}: shell${ch.pty ? ` (pty ${ch.pty.term})` : ""}`);
        return this.#start(ch, config.shell === "comware" ? comwareShell : posixShell);
      }
      case "exec": {
        const command = r.text("command");
        if (ch.started || !config.exec) {
          this.#log(`channel ${ch.serverId}: exec refused`);
          return await reply(false);
        }
        await reply(true);
        this.#log(`channel ${ch.serverId}: exec ${JSON.stringify(command.slice(0, 80))}`);
        return this.#start(ch, execProgram(command));
      }
      default:
        return await reply(false);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Programs

  #credit(ch: ServerChannel, n: number): void {
    ch.unacked += n;
    if (ch.gone || ch.eofReceived || ch.unacked * 2 <= this.#t.config.windowSize) return;
    const add = ch.unacked;
    ch.unacked = 0;
    ch.windowLeft += add;
    this.#t.send(
      new SshWriter().byte(MSG.CHANNEL_WINDOW_ADJUST).uint32(ch.clientId).uint32(add).bytes(),
    ).catch(() => {});
  }

  async #write(ch: ServerChannel, data: Uint8Array | string, extended: boolean): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    let offset = 0;
    while (offset < bytes.length) {
      if (ch.gone || this.#t.closed) throw new ChannelGone("channel closed");
      if (ch.clientWindow === 0) {
        await new Promise<void>((resolve, reject) => ch.windowWaiters.push({ resolve, reject }));
        continue;
      }
      const n = Math.min(bytes.length - offset, ch.clientWindow, ch.clientMaxPacket);
      ch.clientWindow -= n;
      const w = new SshWriter(n + 16).byte(extended ? MSG.CHANNEL_EXTENDED_DATA : MSG.CHANNEL_DATA)
        .uint32(ch.clientId);
      if (extended) w.uint32(1);
      await this.#t.send(w.string(bytes.subarray(offset, offset + n)).bytes());
      offset += n;
    }
  }

  /**
   * Program output under config `lateData`: held in order (copied: programs reuse buffers).
   * `eof-while-waiting` sends it on at once as the window allows, and makes the program wait
   * while more than {@link HELD_LIMIT} bytes are held; `after-eof` keeps it until the end.
   */
  async #hold(ch: ServerChannel, data: Uint8Array | string, extended: boolean): Promise<void> {
    if (ch.gone || this.#t.closed) throw new ChannelGone("channel closed");
    const bytes = typeof data === "string" ? encoder.encode(data) : data.slice();
    if (!bytes.length) return;
    ch.held.push({ data: bytes, extended });
    ch.heldBytes += bytes.length;
    if (this.#t.config.lateData !== "eof-while-waiting") return;
    const flushing = this.#flush(ch);
    if (ch.heldBytes > HELD_LIMIT) await flushing;
  }

  /** Sends held output as the window allows; one sender at a time. */
  #flush(ch: ServerChannel): Promise<void> {
    if (ch.flushing) return ch.flushing;
    const run = async () => {
      try {
        for (let item = ch.held.shift(); item; item = ch.held.shift()) {
          ch.heldBytes -= item.data.length;
          await this.#write(ch, item.data, item.extended);
        }
      } finally {
        ch.flushing = null;
      }
    };
    const p = run();
    p.catch(() => {}); // whoever waits sees the error; the channel is gone
    ch.flushing = p;
    return p;
  }

  /** After the program under config `lateData`: its held output, with EOF before the end. */
  async #sendLate(ch: ServerChannel): Promise<void> {
    const mode = this.#t.config.lateData;
    if (mode === "eof-while-waiting") {
      if (ch.held.length || ch.flushing) await this.#sendEof(ch);
      await this.#flush(ch);
      return;
    }
    const items = ch.held.splice(0);
    ch.heldBytes = 0;
    let first = Math.floor(items.reduce((n, i) => n + i.data.length, 0) / 2);
    const rest: typeof items = [];
    for (const item of items) {
      const n = Math.min(first, item.data.length);
      if (n) await this.#write(ch, item.data.subarray(0, n), item.extended);
      if (n < item.data.length) rest.push({ ...item, data: item.data.subarray(n) });
      first -= n;
    }
    if (rest.length) await this.#sendEof(ch);
    for (const item of rest) await this.#write(ch, item.data, item.extended);
  }

  async #sendEof(ch: ServerChannel): Promise<void> {
    if (ch.gone || ch.eofSent) return;
    ch.eofSent = true;
    this.#log(`channel ${ch.serverId}: EOF sent before the end of the output (lateData)`);
    await this.#t.send(new SshWriter().byte(MSG.CHANNEL_EOF).uint32(ch.clientId).bytes());
  }

  async #read(ch: ServerChannel): Promise<Uint8Array | null> {
    for (;;) {
      const chunk = ch.input.shift();
      if (chunk) {
        this.#credit(ch, chunk.length);
        return chunk;
      }
      if (ch.eofReceived || ch.gone) return null;
      await new Promise<void>((resolve) => (ch.inputWaiter = resolve));
    }
  }

  #start(ch: ServerChannel, program: Program): void {
    ch.started = true;
    const late = this.#t.config.lateData !== undefined;
    const base: ProgramIo = {
      write: (d) => late ? this.#hold(ch, d, false) : this.#write(ch, d, false),
      writeErr: (d) => late ? this.#hold(ch, d, true) : this.#write(ch, d, true),
      read: () => this.#read(ch),
      get pty() {
        return ch.pty;
      },
      user: this.#user,
      hostname: this.#t.config.hostname,
      sleep: (ms) =>
        new Promise<void>((resolve) => {
          if (ch.gone) return resolve();
          const timer = setTimeout(() => {
            ch.timers.delete(timer);
            resolve();
          }, ms);
          ch.timers.set(timer, resolve);
        }),
    };
    const io = ch.pty?.emulated ? lineDiscipline(base) : base;
    const run = (async () => {
      let status: number | null;
      try {
        status = await program(io);
        if (late) await this.#sendLate(ch);
      } catch (e) {
        if (e instanceof ChannelGone || e instanceof Stop) return;
        this.#log(`channel ${ch.serverId}: program failed: ${(e as Error).message}`);
        status = 1;
      }
      await this.finish(ch, status).catch(() => {});
    })();
    this.#programs.add(run);
    run.finally(() => this.#programs.delete(run));
  }

  /** Sends exit-status (unless null), EOF and CLOSE. */
  async finish(ch: ServerChannel, status: number | null): Promise<void> {
    if (ch.gone) return;
    if (status !== null) {
      await this.#t.send(
        new SshWriter().byte(MSG.CHANNEL_REQUEST).uint32(ch.clientId).string("exit-status")
          .bool(false).uint32(status).bytes(),
      );
    }
    if (ch.gone) return;
    if (!ch.eofSent) {
      ch.eofSent = true;
      await this.#t.send(new SshWriter().byte(MSG.CHANNEL_EOF).uint32(ch.clientId).bytes());
    }
    if (ch.gone) return;
    ch.closeSent = true;
    await this.#t.send(new SshWriter().byte(MSG.CHANNEL_CLOSE).uint32(ch.clientId).bytes());
  }
}
