/**
 * Forwarding specifications as ssh(1) writes them: `-L [bind_address:]port:host:hostport` (and
 * LocalForward's `[bind_address:]port host:hostport`), with IPv6 addresses in brackets or `/`
 * as the separator. Bind addresses follow OpenSSH's client rules: none given is loopback, or
 * every address with GatewayPorts yes (`-g`); `*` or an empty one is every address; `localhost`
 * is loopback; any other address is used as given. A field with a `/` is a Unix socket's
 * path, as OpenSSH reads it: `/listen.sock:host:hostport`, `[bind:]port:/connect.sock`,
 * `/listen.sock:/connect.sock`.
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
  /**
   * Listen on this Unix socket instead (`-L /local.sock:…`: here; `-R /remote.sock:…`: on the
   * server, `streamlocal-forward@openssh.com`); bindHost and bindPort are then unused.
   */
  bindPath?: string;
  /**
   * Connect to this Unix socket instead of host:port (`-L …:/remote.sock`: on the server,
   * `direct-streamlocal@openssh.com`; `-R …:/local.sock`: here).
   */
  path?: string;
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
  const bind = spec.bindAddress;
  const listen = spec.bindPath ??
    (bind === undefined ? `${spec.bindPort}` : `[${bind || "*"}]:${spec.bindPort}`);
  return `${listen} ${spec.path ?? `[${spec.host}]:${spec.port}`}`;
}

/**
 * A `-L`/`-R` specification in ssh_config's two-argument form (`[bind:]port host:hostport`), as
 * `-G` shows a flag in terms of the option it stands for.
 */
export function configForwardText(text: string, option = "-L"): string {
  const spec = parseForwardSpec(text, option);
  const h = (host: string) => host.includes(":") ? `[${host}]` : host;
  const listen = spec.bindPath ??
    (spec.bindAddress !== undefined
      ? `${h(spec.bindAddress)}:${spec.bindPort}`
      : `${spec.bindPort}`);
  return `${listen} ${spec.path ?? `${h(spec.host)}:${spec.port}`}`;
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
  // As OpenSSH: a field with a `/` is a Unix socket's path (forms listed in UNIX_FORMS).
  if (sep === ":" && parts?.some(isPath)) return unixForwardSpec(text, option, parts, options);
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

/** The Unix-socket forms of -L and -R, as ssh(1) has them. */
const UNIX_FORMS = "/listen.sock:host:hostport, [bind_address:]port:/connect.sock or " +
  "/listen.sock:/connect.sock";

const isPath = (field: string) => field.includes("/");

/** The longest Unix socket path (sockaddr_un's sun_path holds 108 bytes with the NUL). */
export const MAX_SOCKET_PATH = 107;

/** A -L/-R specification with a Unix socket on one side or both (OpenSSH's parse_forward). */
function unixForwardSpec(
  text: string,
  option: string,
  parts: string[],
  options: ForwardSpecOptions,
): ForwardSpec {
  const bad = () =>
    usageError(`${option} ${text}: expected ${UNIX_FORMS}`, { expected: UNIX_FORMS });
  const path = (p: string, what: string) => {
    if (new TextEncoder().encode(p).length > MAX_SOCKET_PATH) {
      throw usageError(
        `${option} ${text}: the ${what} socket path is longer than ${MAX_SOCKET_PATH} bytes`,
        { expected: UNIX_FORMS },
      );
    }
    return p;
  };
  const port = (p: string | undefined, what: string) =>
    p === "0" ? 0 : parsePort(p ?? "", `${option} ${what}`);
  const [a, b, c] = parts as [string, string, string | undefined];
  if (parts.length === 2 && isPath(a) && isPath(b)) {
    return {
      bindHost: "",
      bindPort: 0,
      bindPath: path(a, "listening"),
      host: "",
      port: 0,
      path: path(b, "connecting"),
    };
  }
  if (parts.length === 2 && !isPath(a) && isPath(b)) {
    return {
      bindHost: bindAddress(undefined, option !== "-R" && options.gatewayPorts),
      bindPort: port(a, "listen port"),
      host: "",
      port: 0,
      path: path(b, "connecting"),
    };
  }
  if (parts.length === 3 && isPath(a) && !isPath(b) && !isPath(c!)) {
    if (!b) throw usageError(`${option} ${text}: the host to connect to is empty`);
    return {
      bindHost: "",
      bindPort: 0,
      bindPath: path(a, "listening"),
      host: b,
      port: parsePort(c!, `${option} port to connect to`),
    };
  }
  if (parts.length === 3 && !isPath(a) && !isPath(b) && isPath(c!)) {
    return {
      bindHost: bindAddress(a, option !== "-R" && options.gatewayPorts),
      bindAddress: a,
      bindPort: port(b, "listen port"),
      host: "",
      port: 0,
      path: path(c!, "connecting"),
    };
  }
  throw bad();
}

/** A forward as text for traces and errors: `bind:port → host:port` (or a socket's path). */
export function forwardText(spec: ForwardSpec, boundPort = spec.bindPort): string {
  const h = (host: string) => host.includes(":") ? `[${host}]` : host;
  const listen = spec.bindPath ?? `${h(spec.bindHost)}:${boundPort}`;
  return `${listen} → ${spec.path ?? `${h(spec.host)}:${spec.port}`}`;
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
