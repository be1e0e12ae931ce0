/**
 * The failure catalogue's entries for TCP connection failures (stage `connect`).
 * @module
 */

import { libraryOptions, libraryTimeout, raw } from "../audiences.ts";
import { CHECK_PORT } from "./_helpers.ts";
import type { StageEntries } from "./types.ts";

/** Catalogue entries of this stage, keyed by error code. */
export const CONNECT = {
  "connect.dns": {
    stage: "connect",
    title: "the host name does not resolve to an address",
    explanation: "DNS has no address for this name: a typo, a name that only exists inside a VPN " +
      "or another DNS view, or no DNS server reachable from here. Nothing was sent to the device.",
    fix: "use the device's IP address instead of its name",
    opensshFix: "-o HostName=ADDRESS",
    libraryFix: libraryOptions({ host: raw("ADDRESS") }),
  },
  "connect.refused": {
    stage: "connect",
    title: "connection refused: nothing listens on that port",
    explanation: "The host answered, but actively refused the TCP connection (a reset). The SSH " +
      "service is off, listens on another port, or an ACL rejects the connection. On network " +
      "devices SSH often needs enabling first (e.g. a host key generated and SSH allowed on the " +
      "vty lines).",
    fix: CHECK_PORT,
    opensshFix: "-p PORT (-o Port=PORT)",
    libraryFix: libraryOptions({ port: raw("PORT") }),
  },
  "connect.timeout": {
    stage: "connect",
    title: "no answer to the TCP connection request",
    explanation: "The connection request got no answer at all: a firewall or ACL drops it " +
      "silently, the address is wrong, or the host is down. A slow but working path only needs " +
      "a longer limit.",
    fix: "check the address and firewalls/ACLs on the path; for a slow path: --timeout 30",
    opensshFix: "-o ConnectTimeout=30",
    libraryFix: libraryTimeout(30),
  },
  "connect.unreachable": {
    stage: "connect",
    title: "the host is unreachable: no route to it",
    explanation: "The local system or a router on the way reported that the address cannot be " +
      "reached (no route, or an ICMP unreachable). Check the address, the routing table and the " +
      "VPN.",
    fix: "check the address and routing (ping, traceroute), then retry",
    opensshFix: null,
  },
  "connect.reset": {
    stage: "connect",
    title: "the connection was reset while connecting",
    explanation: "The TCP connection was torn down during setup: a firewall or the device " +
      "resets it, often because of a connection limit or an ACL.",
    fix: "check ACLs and connection limits on the device, then retry",
    opensshFix: null,
  },
  "connect.failed": {
    stage: "connect",
    title: "the TCP connection failed",
    explanation: "The operating system could not open the connection; its error is quoted above.",
    fix: "check the address and port",
    opensshFix: null,
  },
  "connect.proxy-command-failed": {
    stage: "connect",
    title: "the ProxyCommand failed before the SSH connection started",
    explanation: "sshtrace runs the ProxyCommand and speaks SSH over its standard input and " +
      "output; this command ended (or could not start) before sending anything. Its exit " +
      "status and the end of its standard error are quoted above: usually a typo in the " +
      "command, a program that is not installed, or a proxy that could not reach the host.",
    fix: "run the command by hand (with %h and %p replaced) and fix what it reports; or use " +
      "-J for an SSH jump host instead",
    opensshFix: "-o ProxyCommand='…' (the same command)",
  },
  "connect.jump-refused": {
    stage: "connect",
    title: "a jump host refused to open the tunnel to the next hop",
    explanation: "The jump host logged us in, but refused the direct-tcpip channel that carries " +
      'the connection to the next hop. "administratively prohibited" means forwarding is off ' +
      "there (OpenSSH: AllowTcpForwarding no, DisableForwarding yes, a PermitOpen list, or a " +
      'restrict/no-port-forwarding key option); "connect failed" means the jump host itself ' +
      "could not reach the next hop (wrong address or port as seen from the jump host, or a " +
      "firewall between them).",
    fix: "on the jump host allow forwarding (sshd_config: AllowTcpForwarding yes, and PermitOpen " +
      "listing the next hop), or check that the next hop's address and port are right as seen " +
      "from the jump host",
    opensshFix: "sshd_config on the jump host: AllowTcpForwarding yes",
    refine({ details: d }) {
      const jump = `${d.jumpHost}:${d.jumpPort}`;
      if (d.reasonCode === 2) {
        return {
          title: `jump host ${jump} could not reach the next hop ${d.host}:${d.port}`,
          fix: `check that ${d.host}:${d.port} is the next hop's address as seen from ${jump} ` +
            `(try: sshtrace ${jump} nc -vz ${d.host} ${d.port})`,
          opensshFix: null,
        };
      }
      if (d.reasonCode === 1) {
        return {
          title: `jump host ${jump} does not allow forwarding to ${d.host}:${d.port}`,
          fix: `on ${jump} set AllowTcpForwarding yes in sshd_config (and PermitOpen, if set, ` +
            `must list ${d.host}:${d.port}); or jump through another host`,
        };
      }
      return {};
    },
  },
} satisfies StageEntries<"connect">;
