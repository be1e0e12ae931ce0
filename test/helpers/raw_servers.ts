/**
 * Servers that misbehave below SSH, for reproducing connect and version failures: a byte-level
 * TCP server whose behaviour per connection can be changed, and a small python3 tool for what Deno
 * sockets cannot do (a listener that drops SYNs, a reset with SO_LINGER 0, a proxy that resets).
 */

import assert from "node:assert/strict";
import { requireTool } from "./tools.ts";

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
export const encoder = new TextEncoder();

/** A byte-level TCP server on 127.0.0.1 whose behaviour per connection can be changed. */
export class RawServer {
  readonly port: number;
  behaviour: (conn: Deno.TcpConn) => Promise<void> = async () => {};
  #listener: Deno.TcpListener;
  #conns = new Set<Deno.TcpConn>();
  #handlers = new Set<Promise<void>>();
  #accepting: Promise<void>;

  constructor() {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#listener = listener;
    this.port = (listener.addr as Deno.NetAddr).port;
    this.#accepting = (async () => {
      for await (const conn of listener) {
        this.#conns.add(conn);
        const h = this.behaviour(conn).catch(() => {}).finally(() => {
          this.#close(conn);
        });
        this.#handlers.add(h);
        h.finally(() => this.#handlers.delete(h));
      }
    })().catch(() => {});
  }

  #close(conn: Deno.TcpConn): void {
    if (!this.#conns.delete(conn)) return;
    try {
      conn.close();
    } catch {
      // already closed
    }
  }

  async stop(): Promise<void> {
    this.#listener.close();
    await this.#accepting;
    for (const c of [...this.#conns]) this.#close(c);
    await Promise.allSettled([...this.#handlers]);
  }
}

/** Writes text, then waits until the peer closes (reading and dropping what it sends). */
export async function sendThenDrain(conn: Deno.TcpConn, text: string | Uint8Array): Promise<void> {
  await conn.write(typeof text === "string" ? encoder.encode(text) : text);
  await drain(conn);
}

export async function drain(conn: Deno.TcpConn): Promise<void> {
  const buf = new Uint8Array(4096);
  try {
    while ((await conn.read(buf)) !== null) { /* drop */ }
  } catch {
    // reset or closed
  }
}

/** A small python3 TCP tool (Deno sockets cannot set SO_LINGER or a listen backlog). */
export const NETEM_PY = `
import socket, struct, sys, threading, time
mode = sys.argv[1]
target = int(sys.argv[2]) if len(sys.argv) > 2 else 0
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(0 if mode == "blackhole" else 16)
print(srv.getsockname()[1], flush=True)
pairs = []
lock = threading.Lock()
def rst(s):
    # SO_LINGER 0 makes close() send RST; SHUT_RD first wakes a thread blocked in recv() on
    # the socket, which would otherwise keep it open (and the RST unsent).
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.shutdown(socket.SHUT_RD)
        time.sleep(0.05)
    except OSError:
        pass
    s.close()
resetting = False
def pump(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data or resetting:
                break
            b.sendall(data)
    except OSError:
        pass
    if resetting:
        return
    try:
        b.shutdown(socket.SHUT_WR)
    except OSError:
        pass
def serve():
    while True:
        try:
            c, _ = srv.accept()
        except OSError:
            return
        if mode == "reset":
            time.sleep(0.1)
            rst(c)
            continue
        u = socket.create_connection(("127.0.0.1", target))
        with lock:
            pairs.append((c, u))
        threading.Thread(target=pump, args=(c, u), daemon=True).start()
        threading.Thread(target=pump, args=(u, c), daemon=True).start()
if mode != "blackhole":
    threading.Thread(target=serve, daemon=True).start()
else:
    filler = socket.create_connection(("127.0.0.1", srv.getsockname()[1]))
for line in sys.stdin:
    if line.strip() == "reset":
        resetting = True
        with lock:
            for c, u in pairs:
                rst(c)
                u.close()
        print("done", flush=True)
`;

/**
 * Network faults on 127.0.0.1, by a python3 helper:
 * - `blackhole`: a listener with a backlog of 0 whose queue is full, so the kernel drops every
 *   SYN (what a firewall that drops packets does);
 * - `reset`: accepts, then resets each connection (SO_LINGER 0);
 * - `proxy`: forwards to `target` until {@link Netem.reset} resets every client connection.
 */
export interface Netem {
  port: number;
  /** Resets the connections the proxy holds (RST to the client). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startNetem(
  mode: "blackhole" | "reset" | "proxy",
  target = 0,
): Promise<Netem> {
  const python = requireTool("/usr/bin/python3");
  const child = new Deno.Command(python, {
    args: ["-c", NETEM_PY, mode, String(target)],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const nextLine = async () => {
    while (!text.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) throw new Error("the python3 network helper ended");
      text += value;
    }
    const line = text.slice(0, text.indexOf("\n"));
    text = text.slice(text.indexOf("\n") + 1);
    return line.trim();
  };
  const port = Number(await nextLine());
  assert.ok(port > 0, "the python3 network helper printed its port");
  const stdin = child.stdin.getWriter();
  return {
    port,
    async reset() {
      await stdin.write(encoder.encode("reset\n"));
      assert.equal(await nextLine(), "done");
    },
    async stop() {
      await stdin.close().catch(() => {});
      await lines.cancel().catch(() => {});
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      await child.status;
    },
  };
}
