/**
 * Opening a transport to a host: over TCP, a ProxyCommand, a jump host's channel or any byte
 * stream, through the version exchange, key exchange and host key check — what `probe()` and
 * `connect()` (lib/client.ts) begin with. Emits trace events; never prints.
 * @module
 */

import {
  AlgorithmListError,
  buildOffer,
  findHostKey,
  type ListCategory,
  type OfferLists,
} from "../algorithms/registry.ts";
import { defaultKnownHostsFiles, hostKeyPolicy, type StrictMode } from "../hostkeys/policy.ts";
import { knownForHost, orderHostKeyAlgorithms } from "../hostkeys/offer_order.ts";
import { hostIpToCheck } from "../hostkeys/host_ip.ts";
import { connectTcp, type TcpConnection, type TcpOptions } from "../net.ts";
import { platform } from "../platform/mod.ts";
import { defaultUser } from "./default_user.ts";
import { SshError } from "../errors/mod.ts";
import { failureOf, onAbort, whenAborted } from "../run.ts";
import { Tracer } from "../trace.ts";
import type { ByteStream } from "../transport/stream.ts";
import { startTransport, type Transport } from "../transport/transport.ts";

/** Options shared by every command. */
export interface ClientOptions {
  host: string;
  /** @default 22 */
  port?: number;
  /** @default $USER */
  user?: string;
  /** Limit for every network wait, in milliseconds. @default 10000 */
  timeoutMs?: number;
  /** Where events go; a new silent tracer when omitted. */
  tracer?: Tracer;
  /** OpenSSH-style list edits per category, applied in order (`+a`, `-a`, `^a`, `a,b`). */
  algorithms?: Partial<Record<ListCategory, string[]>>;
  /** Offer every legacy algorithm too (after the modern ones). @default false */
  legacy?: boolean;
  /** @default "yes" */
  strictHostKeyChecking?: StrictMode;
  /** known_hosts files; the first is where accepted keys are written. */
  knownHostsFiles?: string[];
  /** For `ask`: puts the question to the user. */
  ask?: (question: string) => Promise<boolean>;
  /** HashKnownHosts: accepted keys are written with the host name hashed. @default false */
  hashKnownHosts?: boolean;
  /** AddressFamily, ConnectionAttempts, TCPKeepAlive of the TCP connection. */
  tcp?: TcpOptions;
  /** HostKeyAlias: the name the host key is looked up and recorded under (no port). */
  hostKeyAlias?: string;
  /** Run over this stream instead of opening a TCP connection. */
  stream?: ByteStream;
  /**
   * CheckHostIP: look the server's address up in known_hosts too, and record it there, as
   * ssh(1) does (skipped for loopback addresses and over a proxy or jump host). @default false
   */
  checkHostIp?: boolean;
  /**
   * CASignatureAlgorithms: the algorithms a host certificate's CA may sign with.
   * @default OpenSSH's (no ssh-rsa, no DSA)
   */
  caSignatureAlgorithms?: string[];
  /**
   * A TCP connection already begun by `connectEarly()` (lib/client/early_connect.ts, which
   * traces stage `connect`): used instead of opening one; closed if the run stops before it.
   */
  connecting?: Promise<TcpConnection>;
  /**
   * Opens the stream to run over, timed and traced as stage `connect` (a jump host's
   * `direct-tcpip` channel); used instead of TCP when `stream` is not given.
   */
  tunnel?: (tracer: Tracer) => Promise<ByteStream>;
  /**
   * ProxyCommand: run this command (`%h %p %r %n %%` expanded) and speak SSH over its standard
   * input and output instead of opening a TCP connection. Ignored for a jump chain's target.
   */
  proxyCommand?: string;
  /** Rekey after this many bytes. @default 1 GiB */
  rekeyLimitBytes?: number;
  /** Rekey after this long (RekeyLimit's time part), in milliseconds. @default 1 hour */
  rekeyIntervalMs?: number;
  /** The smallest RSA host or user key accepted (OpenSSH's RequiredRSASize). @default 1024 */
  requiredRsaSize?: number;
  /** Send our version line only after the server's (devices that drop earlier data). */
  versionAfterGreeting?: boolean;
  /** The group sizes a group exchange asks for (bits), instead of the defaults (audits). */
  gexRequest?: { min: number; preferred: number; max: number };
  /** Offer strict kex (Terrapin countermeasure); off only for servers that break it. @default true */
  strictKex?: boolean;
  /**
   * Cancels the connection attempt and, once connected, the connection: the socket is closed,
   * every pending operation rejects with `<stage>.aborted` (the stage it was in) carrying
   * `signal.reason` as its cause.
   */
  signal?: AbortSignal;
}

export { defaultUser };

function home(): string | undefined {
  return platform.env("HOME");
}

/**
 * Connects and completes the version exchange, key exchange and host key check. The
 * connection is closed again if any of it fails.
 */
export async function openTransport(options: ClientOptions): Promise<Transport> {
  const tracer = options.tracer ?? new Tracer();
  const port = options.port ?? 22;
  const files = options.knownHostsFiles ?? defaultKnownHostsFiles(home());
  const { signal } = options;
  let offer;
  try {
    offer = await prepareOffer(options, files, port);
    if (signal?.aborted) throw failureOf(signal.reason, signal, "connect");
  } catch (e) {
    // A connection begun early is not needed any more.
    void options.connecting?.then((c) => c.stream.close(), () => {});
    throw e;
  }
  let stream = options.stream;
  let remoteAddress: string | undefined;
  if (!stream && options.connecting) {
    try {
      ({ stream, remoteAddress } = await options.connecting);
    } catch (e) {
      throw whenAborted(e, signal, "connect");
    }
  }
  if (!stream) {
    const span = tracer.span("connect");
    const tunnel = options.tunnel ??
      (options.proxyCommand
        ? await proxyCommand(options.proxyCommand, {
          host: options.host,
          port,
          user: options.user ?? defaultUser(),
        })
        : undefined);
    try {
      if (tunnel) stream = await tunnel(tracer);
      else {
        ({ stream, remoteAddress } = await connectTcp(
          options.host,
          port,
          options.timeoutMs ?? 10_000,
          tracer,
          signal,
          options.tcp,
        ));
      }
    } catch (e) {
      throw whenAborted(e, signal, "connect");
    }
    span.end();
  } else if (!options.connecting) {
    // A stream given: stage `connect` is there, and instant.
    tracer.span("connect").end();
  }
  const hostIp = hostIpOf(options, tracer, remoteAddress, port);
  return await handshake(stream, { ...options, tracer }, offer, files, port, hostIp);
}

/**
 * CheckHostIP's address to check beside the host name, or undefined when it is off or does not
 * apply (a proxy or jump host, a loopback address, a host named by its address): traced.
 */
function hostIpOf(
  options: ClientOptions,
  tracer: Tracer,
  remoteAddress: string | undefined,
  port: number,
): { ip: string; port: number } | undefined {
  if (!options.checkHostIp) return undefined;
  const skipped = (why: string) =>
    tracer.emit({ stage: "connect", type: "info", message: `CheckHostIP skipped: ${why}` });
  if (remoteAddress === undefined) {
    skipped("the connection goes through a proxy or jump host");
    return undefined;
  }
  const check = hostIpToCheck(options.host, remoteAddress);
  if ("ip" in check) return { ip: check.ip, port };
  skipped(check.skipped);
  return undefined;
}

/** ProxyCommand's tunnel, its module loaded only when one is configured. */
async function proxyCommand(
  command: string,
  target: { host: string; port: number; user: string },
): Promise<(tracer: Tracer) => Promise<ByteStream>> {
  const { proxyCommandTunnel } = await import("../jump/proxy_command.ts");
  return proxyCommandTunnel(command, target);
}

/**
 * The algorithm offer: the lists as edited, host key algorithms of the types already known for
 * this host first (like ssh(1), so a server with several keys is not reported as unknown or
 * changed; with HostKeyAlias, known_hosts names the key by the alias alone).
 */
async function prepareOffer(
  options: ClientOptions,
  files: string[],
  port: number,
): Promise<OfferLists> {
  const keyHost = options.hostKeyAlias ?? options.host;
  const keyPort = options.hostKeyAlias ? 22 : port;
  // Like ssh(1): offer host certificates first when an @cert-authority line matches the host,
  // and prefer the algorithms of the key types already known for it.
  const known = await knownForHost(files, keyHost, keyPort);
  let offer;
  try {
    offer = buildOffer(options.algorithms ?? {}, options.legacy ?? false, {
      hostCertificates: known.certAuthority,
    });
  } catch (e) {
    if (e instanceof AlgorithmListError) {
      throw new SshError("usage", "usage.invalid", e.message);
    }
    throw e;
  }
  offer.hostKey = orderHostKeyAlgorithms(offer.hostKey, known, (n) => findHostKey(n)?.keyType);
  return offer;
}

/** Version exchange, key exchange and host key check over the opened stream. */
async function handshake(
  opened: ByteStream,
  options: ClientOptions & { tracer: Tracer },
  offer: OfferLists,
  files: string[],
  port: number,
  hostIp: { ip: string; port: number } | undefined,
): Promise<Transport> {
  const { signal, tracer } = options;
  const keyHost = options.hostKeyAlias ?? options.host;
  const keyPort = options.hostKeyAlias ? 22 : port;
  // Cancelling closes the stream: the handshake's pending read or write wakes and rejects.
  const stopListening = onAbort(signal, () => opened.close());
  try {
    return await startTransport(opened, {
      tracer,
      timeoutMs: options.timeoutMs ?? 10_000,
      offer,
      legacy: options.legacy ?? false,
      rekeyLimitBytes: options.rekeyLimitBytes,
      rekeyIntervalMs: options.rekeyIntervalMs,
      requiredRsaSize: options.requiredRsaSize,
      versionAfterGreeting: options.versionAfterGreeting,
      gexRequest: options.gexRequest,
      strictKex: options.strictKex,
      checkHostKey: hostKeyPolicy({
        mode: options.strictHostKeyChecking ?? "yes",
        host: keyHost,
        port: keyPort,
        knownHostsFiles: files,
        tracer,
        ask: options.ask,
        hashKnownHosts: options.hashKnownHosts,
        principal: keyHost,
        hostIp,
        caSignatureAlgorithms: options.caSignatureAlgorithms,
        requiredRsaSize: options.requiredRsaSize,
      }),
    });
  } catch (e) {
    throw whenAborted(e, signal, "version");
  } finally {
    stopListening();
  }
}
