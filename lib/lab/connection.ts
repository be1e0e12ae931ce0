/**
 * The lab server's side of the connection protocol (RFC 4254): the shared connection layer
 * (lib/connection/, role server) carries the channels, windows, max packet, EOF and CLOSE; this
 * module decides what the lab accepts (session channels; pty-req, env, window-change, shell,
 * exec), runs its programs on them, sends exit-status, and keeps the fault points
 * `channel-open` and `channel-request` and the `lateData` misbehaviour.
 * @module
 */

import { SshReader, SshWriter } from "../wire/buffer.ts";
import { MSG } from "../wire/messages.ts";
import { decodeTerminalModes } from "../connection/terminal_modes.ts";
import type { Channel } from "../connection/channel.ts";
import { Connection } from "../connection/mux.ts";
import type { ChannelOpen, ChannelOpenAnswer, ChannelRequest } from "../connection/types.ts";
import {
  execProgram,
  lineDiscipline,
  type Program,
  type ProgramIo,
  type PtyInfo,
} from "./programs.ts";
import { shellProgram } from "./devices/mod.ts";
import { type ServerTransport, Stop } from "./transport.ts";
import { carry } from "../forward/pipe.ts";
import { type Conn, platform } from "../platform/mod.ts";
import type { ChannelInfo } from "./types.ts";

/** The targets a lab server's direct-tcpip channels may reach. */
const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/** Most channels one connection may have open at once. */
export const MAX_CHANNELS = 64;

/** Most program output queued per channel under `eof-while-waiting` before the program waits. */
const HELD_LIMIT = 4 * 1024 * 1024;

const encoder = new TextEncoder();

/** What a fault hook sees of a channel: from its CHANNEL_OPEN, or as it is at the hook. */
function channelInfo(
  c: Pick<ChannelOpen, "remoteId" | "localId" | "remoteWindow" | "remoteMaxPacket">,
): ChannelInfo {
  const { remoteId, localId, remoteWindow, remoteMaxPacket } = c;
  return {
    clientId: remoteId,
    serverId: localId,
    clientWindow: remoteWindow,
    clientMaxPacket: remoteMaxPacket,
  };
}

/** A session channel as the lab runs it: the shared channel plus the program's state. */
class LabChannel {
  readonly channel: Channel;
  pty: PtyInfo | null = null;
  started = false;
  /** EOF sent ahead of held output (config `lateData`), outside the channel's own EOF. */
  lateEofSent = false;
  timers = new Map<ReturnType<typeof setTimeout>, () => void>();
  /** Program output held back (config `lateData: after-eof`), in order. */
  held: { data: Uint8Array; extended: boolean }[] = [];
  /** Output queued on the channel and not yet sent (`eof-while-waiting`), and its last write. */
  queued = 0;
  lastWrite: Promise<void> = Promise.resolve();
  #input: ReadableStreamDefaultReader<Uint8Array>;

  constructor(channel: Channel) {
    this.channel = channel;
    this.#input = channel.readable.getReader();
    // The lab reads no stderr from the client: credit it at once.
    channel.stderr.cancel().catch(() => {});
    const end = () => this.end();
    channel.closed.then(end, end);
  }

  get gone(): boolean {
    return this.channel.closing;
  }

  /** The next chunk of input (crediting the client's window), or null at EOF or close. */
  async read(): Promise<Uint8Array | null> {
    try {
      const { done, value } = await this.#input.read();
      return done ? null : value;
    } catch {
      return null;
    }
  }

  /** Ends the program's waits once the channel is closed. */
  end(): void {
    for (const [t, resolve] of this.timers) {
      clearTimeout(t);
      resolve();
    }
    this.timers.clear();
  }
}

/** The connection layer of one authenticated lab connection. */
export class ServerConnection {
  #t: ServerTransport;
  #conn: Connection;
  #user: string;
  #log: (message: string) => void;
  #programs = new Set<Promise<void>>();

  constructor(t: ServerTransport, user: string, log: (message: string) => void) {
    this.#t = t;
    this.#user = user;
    this.#log = log;
    this.#conn = new Connection(t, {
      role: "server",
      windowSize: t.config.windowSize,
      maxPacket: t.config.maxPacket,
      onChannelOpen: (open) => this.#open(open),
    });
  }

  /** Serves until the client closes; then ends every channel and waits for the programs. */
  async run(): Promise<void> {
    await this.#conn.start();
    await Promise.allSettled([...this.#programs]);
    const error = this.#conn.error;
    if (error && !(error instanceof Stop)) this.#log(`connection ended: ${error.message}`);
  }

  async #open(open: ChannelOpen): Promise<ChannelOpenAnswer> {
    if (await this.#t.at("channel-open", { channel: channelInfo(open) })) return null;
    const refuse = (code: number, description: string) => ({ refuse: code, description });
    if (open.type === "direct-tcpip" && this.#conn.channelCount < MAX_CHANNELS) {
      return await this.#direct(open);
    }
    if (open.type !== "session") return refuse(3, `unknown channel type ${open.type}`);
    if (this.#conn.channelCount >= MAX_CHANNELS) return refuse(4, "too many channels");
    if (open.remoteMaxPacket === 0) return refuse(2, "maximum packet size of 0");
    return {
      accept: (channel) => {
        const ch = new LabChannel(channel);
        channel.onRequest = (request) => this.#request(ch, request);
      },
    };
  }

  /**
   * A `direct-tcpip` open: connects to the target (loopback only) before answering, then
   * carries the bytes both ways; refused when forwarding is off or the connect fails.
   */
  async #direct(open: ChannelOpen): Promise<ChannelOpenAnswer> {
    const r = new SshReader(open.data, "direct-tcpip");
    const host = r.text("host to connect");
    const port = r.uint32("port to connect");
    if (this.#t.config.forwarding === false) {
      this.#log(`refused direct-tcpip to ${host}:${port}: forwarding is off`);
      return { refuse: 1, description: "forwarding is disabled on this lab server" };
    }
    if (!LOOPBACK.has(host.toLowerCase())) {
      this.#log(`refused direct-tcpip to ${host}:${port}: not a loopback address`);
      return { refuse: 1, description: "the lab server forwards to 127.0.0.1 only" };
    }
    let conn: Conn;
    try {
      conn = await platform.connectTcp(host, port);
    } catch (e) {
      return { refuse: 2, description: `connect failed: ${(e as Error).message}` };
    }
    this.#log(`direct-tcpip to ${host}:${port}`);
    return {
      accept: (channel) => {
        const done = carry(conn, channel).then(() => {});
        this.#programs.add(done);
        done.finally(() => this.#programs.delete(done));
      },
    };
  }

  async #request(ch: LabChannel, request: ChannelRequest): Promise<boolean | null> {
    const { type } = request;
    const at = { channel: channelInfo(ch.channel), request: type };
    if (await this.#t.at("channel-request", at)) return null;
    const r = new SshReader(request.data, type);
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
          `channel ${ch.channel.localId}: pty-req ${JSON.stringify(term)} ${cols}x${rows}, ` +
            `${Object.keys(modes).length} terminal modes (${shown})` +
            (unknown.length ? `, unknown opcodes ${unknown.join(",")}` : ""),
        );
        return true;
      }
      case "env":
        return true;
      case "window-change":
        if (ch.pty) {
          ch.pty = { ...ch.pty, cols: r.uint32("columns"), rows: r.uint32("rows") };
        }
        return true;
      case "shell": {
        if (ch.started) return false;
        this.#log(`channel ${ch.channel.localId}: shell${ch.pty ? ` (pty ${ch.pty.term})` : ""}`);
        return this.#start(ch, request, shellProgram(config));
      }
      case "exec": {
        const command = r.text("command");
        if (ch.started || !config.exec) {
          this.#log(`channel ${ch.channel.localId}: exec refused`);
          return false;
        }
        this.#log(`channel ${ch.channel.localId}: exec ${JSON.stringify(command.slice(0, 80))}`);
        return this.#start(ch, request, execProgram(command));
      }
      default:
        return false;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Programs

  #write(ch: LabChannel, data: Uint8Array | string, extended: boolean): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    return ch.channel.write(bytes, extended ? 1 : undefined);
  }

  /**
   * Program output under config `lateData` (copied: programs reuse buffers). `after-eof` holds
   * it until the program ends; `eof-while-waiting` queues it on the channel at once (the
   * program waits only while more than {@link HELD_LIMIT} bytes are queued).
   */
  #late(ch: LabChannel, data: Uint8Array | string, extended: boolean): Promise<void> {
    if (ch.gone) return Promise.reject(new Error("channel closed"));
    const bytes = typeof data === "string" ? encoder.encode(data) : data.slice();
    if (this.#t.config.lateData === "after-eof") {
      ch.held.push({ data: bytes, extended });
      return Promise.resolve();
    }
    ch.queued += bytes.length;
    const sent = this.#write(ch, bytes, extended).finally(() => (ch.queued -= bytes.length));
    sent.catch(() => {}); // the program sees it at its next write or at the end
    ch.lastWrite = sent;
    return ch.queued > HELD_LIMIT ? sent : Promise.resolve();
  }

  /** After the program under config `lateData`: its output, with EOF before the end of it. */
  async #sendLate(ch: LabChannel): Promise<void> {
    if (this.#t.config.lateData === "eof-while-waiting") {
      if (ch.queued) await this.#sendEarlyEof(ch);
      await ch.lastWrite;
      return;
    }
    const items = ch.held.splice(0);
    let first = Math.floor(items.reduce((n, i) => n + i.data.length, 0) / 2);
    const rest: typeof items = [];
    for (const item of items) {
      const n = Math.min(first, item.data.length);
      if (n) await this.#write(ch, item.data.subarray(0, n), item.extended);
      if (n < item.data.length) rest.push({ ...item, data: item.data.subarray(n) });
      first -= n;
    }
    if (rest.length) await this.#sendEarlyEof(ch);
    for (const item of rest) await this.#write(ch, item.data, item.extended);
  }

  /**
   * The `lateData` fault: EOF sent past the channel (which refuses data after its own EOF), so
   * output still waiting for window follows it.
   */
  async #sendEarlyEof(ch: LabChannel): Promise<void> {
    if (ch.gone || ch.lateEofSent) return;
    ch.lateEofSent = true;
    this.#log(`channel ${ch.channel.localId}: EOF sent before the end of the output (lateData)`);
    await this.#t.send(new SshWriter(5).byte(MSG.CHANNEL_EOF).uint32(ch.channel.remoteId).bytes());
  }

  /** Answers the request (before the program's first byte), then runs the program. */
  #start(ch: LabChannel, request: ChannelRequest, program: Program): null {
    if (request.wantReply) ch.channel.reply(true);
    ch.started = true;
    ch.channel.stage = "data";
    const late = this.#t.config.lateData !== undefined;
    const base: ProgramIo = {
      write: (d) => late ? this.#late(ch, d, false) : this.#write(ch, d, false),
      writeErr: (d) => late ? this.#late(ch, d, true) : this.#write(ch, d, true),
      read: () => ch.read(),
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
        if (ch.gone || this.#t.closed || e instanceof Stop) return;
        this.#log(`channel ${ch.channel.localId}: program failed: ${(e as Error).message}`);
        status = 1;
      }
      await this.#finish(ch, status).catch(() => {});
    })();
    this.#programs.add(run);
    run.finally(() => this.#programs.delete(run));
    return null;
  }

  /** Sends exit-status (unless null), EOF and CLOSE. */
  async #finish(ch: LabChannel, status: number | null): Promise<void> {
    const channel = ch.channel;
    if (ch.gone) return;
    if (status !== null) {
      await channel.request("exit-status", false, new SshWriter(4).uint32(status).bytes());
    }
    if (!ch.lateEofSent) await channel.eof();
    if (ch.gone) return;
    channel.close().catch(() => {});
  }
}
