/**
 * Forwarding specifications as ssh(1) writes them: `-L [bind_address:]port:host:hostport` (and
 * LocalForward's `[bind_address:]port host:hostport`), with IPv6 addresses in brackets or `/`
 * as the separator. Bind addresses follow OpenSSH's client rules: none given is loopback, or
 * every address with GatewayPorts yes (`-g`); `*` or an empty one is every address; `localhost`
 * is loopback; any other address is used as given. Unix-socket forms are refused with a clear
 * message.
 * @module
 */

import { parsePort, usageError } from "../config/options.ts";

/** A TCP forward: listen on `bindHost:bindPort`, connect to `host:port` on the other side. */
export interface ForwardSpec {
  /** The local address a -L forward listens on (for -R: the server's, see `bindAddress`). */
  bindHost: string;
  /**
   * The bind address as written, absent when none was (`-R` sends it to the server as OpenSSH
   * does: none is `localhost`, `*` is every address).
   */
  bindAddress?: string;
  /** 0 asks the system for a free port (the listener reports the one it got). */
  bindPort: number;
  host: string;
  port: number;
}

/** Splits on `sep` outside `[...]`, dropping the brackets. */
function fields(text: string, sep: string): string[] | null {
  const out: string[] = [];
  let current = "";
  let bracket = false;
  let bracketed = false;
  for (const ch of text) {
    if (ch === "[" && !bracket && current === "") {
      bracket = true;
      bracketed = true;
    } else if (ch === "]" && bracket) bracket = false;
    else if (ch === sep && !bracket) {
      out.push(current);
      current = "";
      bracketed = false;
    } else {
      if (bracketed && !bracket) return null; // text after "]" inside one field
      current += ch;
    }
  }
  if (bracket) return null;
  out.push(current);
  return out;
}

/**
 * A LocalForward value as `ssh -G` prints it: `port [host]:hostport`, or `[bind]:port
 * [host]:hostport` when a bind address is given (as written, `localhost` kept).
 */
export function opensshForwardText(text: string): string {
  const spec = parseForwardSpec(text);
  const value = text.trim().replace(/\s+/, ":");
  const parts = fields(value, ":");
  const bind = parts && parts.length === 4 ? parts[0] : undefined;
  const listen = bind === undefined ? `${spec.bindPort}` : `[${bind || "*"}]:${spec.bindPort}`;
  return `${listen} [${spec.host}]:${spec.port}`;
}

/**
 * A `-L`/`-R` specification in ssh_config's two-argument form (`[bind:]port host:hostport`), as
 * `-G` shows a flag in terms of the option it stands for.
 */
export function configForwardText(text: string, option = "-L"): string {
  const spec = parseForwardSpec(text, option);
  const value = text.trim().replace(/\s+/, ":");
  const parts = fields(value, ":");
  const h = (host: string) => host.includes(":") ? `[${host}]` : host;
  const listen = parts && parts.length === 4
    ? `${h(parts[0] ?? "")}:${spec.bindPort}`
    : `${spec.bindPort}`;
  return `${listen} ${h(spec.host)}:${spec.port}`;
}

/** How a spec is read: GatewayPorts (`-g`) widens a local forward given no bind address. */
export interface ForwardSpecOptions {
  /** @default false */
  gatewayPorts?: boolean;
}

/**
 * The local address a bind field asks for, as OpenSSH's client decides it: none given is
 * loopback (every address with GatewayPorts yes), `*` or empty every address, `localhost`
 * loopback, anything else as written (GatewayPorts does not narrow an explicit address).
 */
function bindAddress(field: string | undefined, gatewayPorts = false): string {
  if (field === undefined) return gatewayPorts ? "0.0.0.0" : "127.0.0.1";
  if (field === "" || field === "*") return "0.0.0.0";
  if (field.toLowerCase() === "localhost") return "127.0.0.1";
  return field;
}

/**
 * Parses a `-L` (or `-R`) specification. `option` names the flag in errors.
 *
 * @example
 * ```ts
 * parseForwardSpec("8080:intranet:80");
 * // { bindHost: "127.0.0.1", bindPort: 8080, host: "intranet", port: 80 }
 * ```
 */
export function parseForwardSpec(
  text: string,
  option = "-L",
  options: ForwardSpecOptions = {},
): ForwardSpec {
  const expected = "[bind_address:]port:host:hostport";
  const value = text.trim().replace(/\s+/, ":");
  // ssh(1) also takes `/` as the separator (handy with IPv6): `port/host/hostport`.
  const bySlash = value.split("/");
  const numeric = (t: string | undefined) => /^\d+$/.test(t ?? "");
  const sep = (bySlash.length === 3 && numeric(bySlash[0]) && numeric(bySlash[2])) ||
      (bySlash.length === 4 && numeric(bySlash[1]) && numeric(bySlash[3]))
    ? "/"
    : ":";
  const parts = fields(value, sep);
  if (sep === ":" && parts?.some((p) => p.startsWith("/"))) {
    throw usageError(`${option} ${text}: Unix-socket forwarding is not supported by sshtrace`, {
      expected,
    });
  }
  if (!parts || parts.length < 3 || parts.length > 4) {
    throw usageError(`${option} ${text}: expected ${expected}`, { expected });
  }
  const [bind, port, host, hostPort] = parts.length === 4 ? parts : [undefined, ...parts];
  if (!host) throw usageError(`${option} ${text}: the host to connect to is empty`, { expected });
  return {
    bindHost: bindAddress(bind, option !== "-R" && options.gatewayPorts),
    ...(bind !== undefined ? { bindAddress: bind } : {}),
    bindPort: port === "0" ? 0 : parsePort(port!, `${option} listen port`),
    host,
    port: parsePort(hostPort!, `${option} port to connect to`),
  };
}

/** A forward as text for traces and errors: `bind:port → host:port`. */
export function forwardText(spec: ForwardSpec, boundPort = spec.bindPort): string {
  const h = (host: string) => host.includes(":") ? `[${host}]` : host;
  return `${h(spec.bindHost)}:${boundPort} → ${h(spec.host)}:${spec.port}`;
}

/** A DynamicForward value as `ssh -G` prints it: `port`, or `[bind]:port`. */
export function opensshDynamicText(text: string): string {
  const spec = parseDynamicSpec(text);
  const parts = fields(text.trim(), ":");
  return parts && parts.length === 2 ? `[${parts[0] || "*"}]:${spec.bindPort}` : `${spec.bindPort}`;
}

/** A `-D [bind_address:]port` (DynamicForward) specification: where the SOCKS proxy listens. */
export function parseDynamicSpec(
  text: string,
  option = "-D",
  options: ForwardSpecOptions = {},
): { bindHost: string; bindPort: number } {
  const expected = "[bind_address:]port";
  const parts = fields(text.trim(), ":");
  if (!parts || parts.length < 1 || parts.length > 2) {
    throw usageError(`${option} ${text}: expected ${expected}`, { expected });
  }
  const [bind, port] = parts.length === 2 ? parts : [undefined, parts[0]];
  return {
    bindHost: bindAddress(bind, options.gatewayPorts),
    bindPort: port === "0" ? 0 : parsePort(port!, `${option} listen port`),
  };
}
