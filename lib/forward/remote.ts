/**
 * Remote port forwarding (`-R`, RemoteForward; RFC 4254 §7.1): ask the server to listen
 * (`tcpip-forward`), then carry each `forwarded-tcpip` channel it opens to a host and port as
 * seen from here — or to a Unix socket here (`-R port:/local.sock`). OpenSSH's Unix-socket
 * listeners on the server (`-R /remote.sock:…`, its PROTOCOL §2.4) are asked for with
 * `streamlocal-forward@openssh.com` and come as `forwarded-streamlocal@openssh.com` channels.
 * A channel for an address we did not ask for is refused; so are channels beyond the
 * concurrency bound. Each forwarded connection is traced as `data` info events.
 * @module
 */

import { SshReader, SshWriter } from "../wire/buffer.ts";
import type { Connection } from "../connection/mux.ts";
import type { ChannelOpen, ChannelOpenAnswer } from "../connection/types.ts";
import { SshError } from "../errors/mod.ts";
import { platform } from "../platform/mod.ts";
import type { Tracer } from "../trace.ts";
import { carry } from "./pipe.ts";
import { DEFAULT_MAX_FORWARDED } from "./local.ts";
import { type ForwardSpec, forwardText } from "./spec.ts";

/** SSH_OPEN_ADMINISTRATIVELY_PROHIBITED and SSH_OPEN_RESOURCE_SHORTAGE (RFC 4254 §5.1). */
const PROHIBITED = 1;
const RESOURCE_SHORTAGE = 4;

/** OpenSSH's names for a Unix-socket listener on the server and its channels. */
const STREAMLOCAL_FORWARD = "streamlocal-forward@openssh.com";
const CANCEL_STREAMLOCAL_FORWARD = "cancel-streamlocal-forward@openssh.com";
const FORWARDED_STREAMLOCAL = "forwarded-streamlocal@openssh.com";

/** A remote forward the server accepted. */
export interface RemoteForward {
  readonly spec: ForwardSpec;
  /** The port the server listens on (its choice when the spec asked for 0; 0 for a socket). */
  readonly port: number;
  /** Asks the server to stop listening (`cancel-tcpip-forward` or its streamlocal twin). */
  close(): Promise<void>;
}

/**
 * The remote forwards of one connection: `add` asks the server to listen; `onChannelOpen` (give
 * it to the connection) answers the server's `forwarded-tcpip` channel opens.
 */
export class RemoteForwards {
  #connection: Connection | null = null;
  #tracer: Tracer;
  #forwards = new Map<string, { spec: ForwardSpec; port: number }>();
  #open = 0;
  #total = 0;
  #max: number;

  constructor(tracer: Tracer, maxConnections = DEFAULT_MAX_FORWARDED) {
    this.#tracer = tracer;
    this.#max = maxConnections;
  }

  /** The connection forwards go over (set once it exists). */
  attach(connection: Connection): void {
    this.#connection = connection;
  }

  #info(name: string, message: string): void {
    this.#tracer.emit({ stage: "data", type: "info", message: `forward ${name}: ${message}` });
  }

  /**
   * Asks the server to listen on `spec.bindHost:spec.bindPort` and forward to
   * `spec.host:spec.port` here. Rejects with `session.forward-bind-failed` when it refuses.
   */
  async add(spec: ForwardSpec): Promise<RemoteForward> {
    const connection = this.#connection;
    if (!connection) throw new Error("RemoteForwards.add() before attach()");
    if (spec.bindPath !== undefined) return await this.#addSocket(connection, spec, spec.bindPath);
    // As OpenSSH's client: none given is "localhost" (the server's loopback), `*` or empty is
    // "" (every address, if the server's GatewayPorts allows), anything else as written.
    const written = spec.bindAddress;
    const bind = written === undefined
      ? spec.bindHost === "127.0.0.1" ? "localhost" : spec.bindHost
      : written === "*"
      ? ""
      : written;
    const request = new SshWriter().string(bind).uint32(spec.bindPort).bytes();
    const reply = await connection.globalRequest("tcpip-forward", true, request);
    if (reply === false) {
      throw new SshError(
        "session",
        "session.forward-bind-failed",
        `the server refused to listen on ${forwardText(spec)} (-R): it answered the ` +
          "tcpip-forward request with a failure (forwarding off, or the port in use there)",
        { ...spec, reason: "tcpip-forward refused", side: "remote" },
      );
    }
    const port = spec.bindPort === 0 && reply instanceof Uint8Array
      ? new SshReader(reply, "tcpip-forward reply").uint32("bound port")
      : spec.bindPort;
    const name = `remote ${forwardText({ ...spec, bindHost: bind }, port)}`;
    this.#forwards.set(`${bind}:${port}`, { spec, port });
    this.#info(name, "the server listens");
    return {
      spec,
      port,
      close: async () => {
        this.#forwards.delete(`${bind}:${port}`);
        const cancel = new SshWriter().string(bind).uint32(port).bytes();
        await connection.globalRequest("cancel-tcpip-forward", true, cancel).catch(() => false);
      },
    };
  }

  /** `-R /remote.sock:…`: asks the server to listen on a Unix socket of its own. */
  async #addSocket(connection: Connection, spec: ForwardSpec, path: string) {
    const request = new SshWriter().string(path).bytes();
    const reply = await connection.globalRequest(STREAMLOCAL_FORWARD, true, request);
    if (reply === false) {
      throw new SshError(
        "session",
        "session.forward-bind-failed",
        `the server refused to listen on ${forwardText(spec)} (-R): it answered the ` +
          `${STREAMLOCAL_FORWARD} request with a failure (forwarding off, the socket's file ` +
          "already there, or a server without OpenSSH's extension)",
        { ...spec, bindHost: path, reason: `${STREAMLOCAL_FORWARD} refused`, side: "remote" },
      );
    }
    const key = `unix:${path}`;
    this.#forwards.set(key, { spec, port: 0 });
    this.#info(`remote ${forwardText(spec)}`, "the server listens");
    return {
      spec,
      port: 0,
      close: async () => {
        this.#forwards.delete(key);
        const cancel = new SshWriter().string(path).bytes();
        await connection.globalRequest(CANCEL_STREAMLOCAL_FORWARD, true, cancel).catch(() => false);
      },
    };
  }

  /** Answers a `forwarded-tcpip` (or `forwarded-streamlocal@openssh.com`) open; others refused. */
  onChannelOpen(open: ChannelOpen): ChannelOpenAnswer {
    if (open.type === FORWARDED_STREAMLOCAL) return this.#onSocketOpen(open);
    if (open.type !== "forwarded-tcpip") {
      // As the connection layer does without a handler (lib/connection/mux.ts).
      this.#tracer.emit({
        stage: "session",
        type: "info",
        message: `refused a ${open.type} channel the server tried to open`,
      });
      return {
        refuse: PROHIBITED,
        description: `this client does not accept ${open.type} channels`,
      };
    }
    const r = new SshReader(open.data, "forwarded-tcpip");
    const address = r.text("address that was connected");
    const port = r.uint32("port that was connected");
    const origin = `${r.text("originator address")}:${r.uint32("originator port")}`;
    const forward = this.#forwards.get(`${address}:${port}`) ??
      // Servers differ in the address they echo back (the request's, or the bound one).
      [...this.#forwards.values()].find((f) => f.port === port && !f.spec.bindPath);
    if (!forward) {
      this.#info(`remote ${address}:${port}`, `refused a connection from ${origin}: not forwarded`);
      return { refuse: PROHIBITED, description: "no such forward" };
    }
    return this.#accept(forward, origin);
  }

  /** A `forwarded-streamlocal@openssh.com` open: string socket path, string reserved. */
  #onSocketOpen(open: ChannelOpen): ChannelOpenAnswer {
    const path = new SshReader(open.data, FORWARDED_STREAMLOCAL).text("socket path");
    const forward = this.#forwards.get(`unix:${path}`);
    if (!forward) {
      this.#info(`remote ${path}`, "refused a connection: not forwarded");
      return { refuse: PROHIBITED, description: "no such forward" };
    }
    return this.#accept(forward, path);
  }

  /**
   * Accepts a forwarded connection at once and connects here afterwards (a slow local connect
   * must not hold up the connection's other messages); a failed connect closes the channel.
   */
  #accept(forward: { spec: ForwardSpec; port: number }, origin: string): ChannelOpenAnswer {
    const name = `remote ${forwardText(forward.spec, forward.port)}`;
    const id = ++this.#total;
    if (this.#open >= this.#max) {
      this.#info(name, `connection #${id} from ${origin} refused: ${this.#max} already open`);
      return { refuse: RESOURCE_SHORTAGE, description: "too many forwarded connections" };
    }
    this.#open++;
    const { spec } = forward;
    return {
      accept: (channel) => {
        this.#info(name, `connection #${id} from ${origin} opened (channel ${channel.localId})`);
        (async () => {
          let conn;
          try {
            conn = spec.path !== undefined
              ? await platform.connectUnix(spec.path)
              : await platform.connectTcp(spec.host, spec.port);
          } catch (e) {
            this.#info(name, `connection #${id}: cannot connect here: ${(e as Error).message}`);
            await channel.close().catch(() => {});
            return;
          }
          const bytes = await carry(conn, channel);
          this.#info(
            name,
            `connection #${id} closed: ${bytes.in} bytes in, ${bytes.out} bytes out`,
          );
        })().catch(() => {}).finally(() => this.#open--);
      },
    };
  }
}
