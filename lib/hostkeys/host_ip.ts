/**
 * CheckHostIP (ssh_config; OpenSSH's default is `no` since 8.5): the server's address is looked
 * up in known_hosts too, as ssh(1) does (sshconnect.c check_host_key). ssh(1) skips it for a
 * loopback address, when the name connected to is the address itself, over a proxy (ProxyCommand,
 * ProxyJump), and for a host certificate; {@link hostIpToCheck} applies the first rules, the
 * policy the last.
 * @module
 */

/** Whether an address is a loopback one (127.0.0.0/8, ::1, or IPv4-mapped 127/8). */
export function isLoopback(ip: string): boolean {
  const v4 = ip.replace(/^::ffff:/i, "");
  return /^127\./.test(v4) || ip === "::1" || ip === "0:0:0:0:0:0:0:1";
}

/**
 * The address CheckHostIP checks for a TCP connection to `host` that reached `remoteAddress`
 * (`ip:port`, or `[ip]:port` / `ip6:port`), or why it does not: a loopback address, or the host
 * named by its address.
 */
export function hostIpToCheck(
  host: string,
  remoteAddress: string,
): { ip: string } | { skipped: string } {
  const ip = remoteAddress.slice(0, remoteAddress.lastIndexOf(":")).replace(/^\[|\]$/g, "");
  if (isLoopback(ip)) return { skipped: `${ip} is a loopback address (as ssh(1) does)` };
  if (ip.toLowerCase() === host.toLowerCase().replace(/^\[|\]$/g, "")) {
    return { skipped: "the host is named by its address" };
  }
  return { ip };
}
