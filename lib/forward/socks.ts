/**
 * The server side of a SOCKS handshake (`-D`, DynamicForward): SOCKS4 and 4a (RFC-less, the
 * NEC paper) and SOCKS5 (RFC 1928) with CONNECT and no authentication; domain names are passed
 * on unresolved, so the SSH server resolves them (as with OpenSSH). Bounded: the handshake reads
 * at most {@link MAX_HANDSHAKE} bytes, and anything that is not one of these protocols is a
 * {@link SocksError} naming what was wrong (the client gets the protocol's failure reply when
 * one exists). Pure: it reads and writes through the functions it is given.
 * @module
 */

/** The most bytes a handshake may take (SOCKS5 greeting ≤ 257, request ≤ 262; 4a ≤ 520). */
export const MAX_HANDSHAKE = 1024;
/** The longest SOCKS4 user id or 4a host name accepted. */
const MAX_FIELD = 255;

/** Where the client asks to connect. */
export interface SocksTarget {
  version: 4 | 5;
  host: string;
  port: number;
}

/** A handshake that cannot go on: the client spoke something else, or asked for what we lack. */
export class SocksError extends Error {
  override name = "SocksError";
}

/** What the handshake reads from and writes to. */
export interface SocksIo {
  /** The next bytes from the client, or null at its end. */
  read(): Promise<Uint8Array | null>;
  write(bytes: Uint8Array): Promise<void>;
}

/** SOCKS5 reply codes (RFC 1928 §6). */
export const SOCKS5_REPLY = {
  succeeded: 0,
  failure: 1,
  notAllowed: 2,
  hostUnreachable: 4,
  refused: 5,
  commandNotSupported: 7,
  addressNotSupported: 8,
} as const;

/** The reply that ends a handshake: success, or the failure for `version`. */
export function socksReply(version: 4 | 5, code: number): Uint8Array {
  if (version === 4) return new Uint8Array([0, code === 0 ? 0x5a : 0x5b, 0, 0, 0, 0, 0, 0]);
  return new Uint8Array([5, code, 0, 1, 0, 0, 0, 0, 0, 0]);
}

/** Bytes from the client, taken as they are needed, never more than the bound in all. */
class Input {
  #buf = new Uint8Array(0);
  #pos = 0;
  #total = 0;
  constructor(readonly io: SocksIo) {}

  async #fill(): Promise<void> {
    const chunk = await this.io.read();
    if (chunk === null) throw new SocksError("the client closed the connection mid-handshake");
    this.#total += chunk.length;
    if (this.#total > MAX_HANDSHAKE) {
      throw new SocksError(`the handshake went past ${MAX_HANDSHAKE} bytes`);
    }
    const rest = this.#buf.subarray(this.#pos);
    const joined = new Uint8Array(rest.length + chunk.length);
    joined.set(rest);
    joined.set(chunk, rest.length);
    this.#buf = joined;
    this.#pos = 0;
  }

  async take(n: number): Promise<Uint8Array> {
    while (this.#buf.length - this.#pos < n) await this.#fill();
    const out = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  async byte(): Promise<number> {
    return (await this.take(1))[0]!;
  }

  /** A NUL-terminated field of at most {@link MAX_FIELD} bytes. */
  async untilNul(what: string): Promise<string> {
    const bytes: number[] = [];
    for (;;) {
      const b = await this.byte();
      if (b === 0) return new TextDecoder().decode(new Uint8Array(bytes));
      if (bytes.length >= MAX_FIELD) {
        throw new SocksError(`the ${what} is longer than ${MAX_FIELD}`);
      }
      bytes.push(b);
    }
  }

  /** What the client sent after the handshake (data it did not wait to send). */
  rest(): Uint8Array {
    return this.#buf.slice(this.#pos);
  }
}

const port16 = (b: Uint8Array) => (b[0]! << 8) | b[1]!;

async function socks4(input: Input): Promise<SocksTarget> {
  const command = await input.byte();
  const port = port16(await input.take(2));
  const ip = await input.take(4);
  await input.untilNul("SOCKS4 user id");
  if (command !== 1) {
    await input.io.write(socksReply(4, 1));
    throw new SocksError(`SOCKS4 command ${command} is not supported (only CONNECT)`);
  }
  // SOCKS4a: 0.0.0.x (x ≠ 0) means a host name follows.
  const host = ip[0] === 0 && ip[1] === 0 && ip[2] === 0 && ip[3] !== 0
    ? await input.untilNul("SOCKS4a host name")
    : ip.join(".");
  if (!host) throw new SocksError("the SOCKS4a host name is empty");
  return { version: 4, host, port };
}

function ipv6(b: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return groups.join(":");
}

async function socks5(input: Input): Promise<SocksTarget> {
  const methods = await input.take(await input.byte());
  if (!methods.includes(0)) {
    await input.io.write(new Uint8Array([5, 0xff]));
    throw new SocksError("the SOCKS5 client offers no method without authentication");
  }
  await input.io.write(new Uint8Array([5, 0]));
  const [version, command, , type] = await input.take(4);
  if (version !== 5) throw new SocksError(`SOCKS5 request with version ${version}`);
  let host: string;
  if (type === 1) host = (await input.take(4)).join(".");
  else if (type === 3) {
    const length = await input.byte();
    if (length === 0) throw new SocksError("the SOCKS5 host name is empty");
    host = new TextDecoder().decode(await input.take(length));
  } else if (type === 4) host = ipv6(await input.take(16));
  else {
    await input.io.write(socksReply(5, SOCKS5_REPLY.addressNotSupported));
    throw new SocksError(`SOCKS5 address type ${type} is not supported`);
  }
  const port = port16(await input.take(2));
  if (command !== 1) {
    await input.io.write(socksReply(5, SOCKS5_REPLY.commandNotSupported));
    throw new SocksError(`SOCKS5 command ${command} is not supported (only CONNECT)`);
  }
  return { version: 5, host, port };
}

/**
 * Reads a SOCKS4/4a/5 CONNECT request (answering SOCKS5's method negotiation on the way).
 * The caller connects and sends {@link socksReply}. `early` holds bytes the client sent after
 * its request without waiting for the reply (to be forwarded first).
 */
export async function socksHandshake(io: SocksIo): Promise<SocksTarget & { early: Uint8Array }> {
  const input = new Input(io);
  const version = await input.byte();
  const target = version === 4
    ? await socks4(input)
    : version === 5
    ? await socks5(input)
    : (() => {
      throw new SocksError(
        `not a SOCKS request (first byte 0x${version.toString(16).padStart(2, "0")})`,
      );
    })();
  return { ...target, early: input.rest() };
}
