/**
 * Network-path faults between a client and a server, as a TCP proxy on 127.0.0.1: a device that
 * drops what arrives before its greeting, and a path MTU black hole (full-size packets lost,
 * small ones pass, so the connection stalls at the first large key-exchange packet).
 */

/** What the proxy does to each connection. */
export type PathFault =
  /** Holds the server's greeting `holdMs`, dropping the client's bytes received meanwhile. */
  | { kind: "drop-before-greeting"; holdMs: number }
  /**
   * Forwards until a plaintext SSH packet (before NEWKEYS) longer than `maxPacket` bytes, in
   * either direction; from then on nothing more passes that way (a black hole), while the
   * connection stays open, as when ICMP "fragmentation needed" is filtered.
   */
  | { kind: "mtu"; maxPacket: number };

/** Splits the plaintext start of an SSH stream into its version line and packets. */
class PacketWatch {
  #buf = new Uint8Array(0);
  #versionSeen = false;
  /** Stops watching (encrypted from here on). */
  done = false;
  sizes: number[] = [];

  /** Feeds bytes; returns the size of the first packet over `max`, or null. */
  feed(chunk: Uint8Array, max: number): number | null {
    if (this.done) return null;
    const b = new Uint8Array(this.#buf.length + chunk.length);
    b.set(this.#buf);
    b.set(chunk, this.#buf.length);
    let at = 0;
    if (!this.#versionSeen) {
      // Lines up to and including the version line.
      for (;;) {
        const nl = b.indexOf(10, at);
        if (nl < 0) break;
        const line = new TextDecoder().decode(b.subarray(at, nl));
        at = nl + 1;
        if (line.startsWith("SSH-")) {
          this.#versionSeen = true;
          break;
        }
      }
    }
    while (this.#versionSeen && b.length - at >= 6) {
      const len = new DataView(b.buffer, b.byteOffset + at).getUint32(0);
      const total = 4 + len;
      this.sizes.push(total);
      if (total > max) return total;
      if (b.length - at < total) {
        this.sizes.pop();
        break;
      }
      const type = b[at + 5];
      at += total;
      if (type === 21) {
        this.done = true; // NEWKEYS: the rest is encrypted
        break;
      }
    }
    this.#buf = b.slice(at);
    return null;
  }
}

/** Starts the proxy in front of 127.0.0.1:`upstreamPort`. */
export function pathProxy(upstreamPort: number, fault: PathFault) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const log: string[] = [];
  const watches: [string, PacketWatch][] = [];
  const closeAll = (conns: Deno.Conn[]) => {
    for (const c of conns) {
      open.delete(c);
      try {
        c.close();
      } catch {
        // already closed
      }
    }
  };
  const serve = async (client: Deno.Conn) => {
    const server = await Deno.connect({ hostname: "127.0.0.1", port: upstreamPort });
    open.add(client);
    open.add(server);
    let greeted = fault.kind !== "drop-before-greeting";
    const pipe = async (from: Deno.Conn, to: Deno.Conn, toClient: boolean) => {
      const watch = new PacketWatch();
      watches.push([toClient ? "server" : "client", watch]);
      let first = true;
      let holed = false;
      for await (const chunk of from.readable.values({ preventCancel: true })) {
        if (fault.kind === "drop-before-greeting") {
          if (toClient && first) {
            first = false;
            await new Promise((r) => setTimeout(r, fault.holdMs));
            greeted = true;
          }
          if (!toClient && !greeted) continue; // before the greeting: dropped
        } else if (!holed) {
          const big = watch.feed(chunk, fault.maxPacket);
          if (big !== null) {
            holed = true;
            log.push(`${toClient ? "server" : "client"} packet of ${big} bytes lost`);
          }
        }
        if (holed) continue; // the black hole: nothing more passes this way
        await to.write(chunk);
      }
    };
    await Promise.race([pipe(client, server, false), pipe(server, client, true)]).catch(() => {});
    closeAll([client, server]);
  };
  (async () => {
    for await (const conn of listener) serve(conn).catch(() => {});
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    /** What the proxy did (`client packet of N bytes lost`). */
    log,
    /** The plaintext packet sizes seen, per direction and connection. */
    sizes: () => watches.map(([who, w]) => `${who}: ${w.sizes.join(", ")}`),
    close() {
      listener.close();
      closeAll([...open]);
    },
  };
}
