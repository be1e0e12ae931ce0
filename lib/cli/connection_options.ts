/**
 * The connection options ssh_config gives a host, in one place for every command that connects
 * (connect and send through `prepareRun`, and `check` for each inventory entry): the algorithm
 * lists, known_hosts files and how keys are recorded, host certificates' policy, HostKeyAlias,
 * the TCP options, rekeying, keepalives and ProxyCommand.
 * @module
 */

import type { ConnectOptions } from "../client.ts";
import type { Settings } from "../config/options.ts";
import type { TcpOptions } from "../net.ts";

/** What {@link connectionOptions} fills in. */
export type ConnectionOptions = Pick<
  ConnectOptions,
  | "algorithms"
  | "knownHostsFiles"
  | "hashKnownHosts"
  | "tcp"
  | "hostKeyAlias"
  | "rekeyLimitBytes"
  | "rekeyIntervalMs"
  | "requiredRsaSize"
  | "caSignatureAlgorithms"
  | "keepalive"
  | "proxyCommand"
  | "checkHostIp"
>;

/**
 * The TCP options of the settings (AddressFamily, ConnectionAttempts, TCPKeepAlive,
 * BindAddress).
 */
export function tcpOptions(settings: Settings): TcpOptions {
  return {
    ...(settings.addressFamily ? { family: settings.addressFamily } : {}),
    ...(settings.connectionAttempts ? { attempts: settings.connectionAttempts } : {}),
    ...(settings.tcpKeepAlive !== undefined ? { keepAlive: settings.tcpKeepAlive } : {}),
    ...(settings.bindAddress ? { localAddress: settings.bindAddress } : {}),
  };
}

/** The known_hosts files of the settings: UserKnownHostsFile (`~` expanded), then the global ones. */
export function knownHostsFilesOf(settings: Settings, home: string): string[] {
  return [
    (settings.userKnownHostsFile ?? `${home}/.ssh/known_hosts`).replace(/^~(?=\/|$)/, home),
    ...(settings.globalKnownHostsFiles ?? ["/etc/ssh/ssh_known_hosts"]),
  ];
}

/** The connection options of the settings (see the module). `home` expands `~`. */
export function connectionOptions(settings: Settings, home: string): ConnectionOptions {
  return {
    algorithms: settings.algorithms,
    knownHostsFiles: knownHostsFilesOf(settings, home),
    hashKnownHosts: settings.hashKnownHosts,
    tcp: tcpOptions(settings),
    hostKeyAlias: settings.hostKeyAlias,
    checkHostIp: settings.checkHostIp,
    rekeyLimitBytes: settings.rekeyLimit,
    ...(settings.rekeySeconds ? { rekeyIntervalMs: settings.rekeySeconds * 1000 } : {}),
    requiredRsaSize: settings.requiredRsaSize,
    caSignatureAlgorithms: settings.caSignatureAlgorithms,
    keepalive: settings.serverAliveInterval
      ? {
        intervalMs: settings.serverAliveInterval * 1000,
        countMax: settings.serverAliveCountMax ?? 3,
      }
      : undefined,
    ...(settings.proxyCommand && !settings.proxyJump
      ? { proxyCommand: settings.proxyCommand }
      : {}),
  };
}
