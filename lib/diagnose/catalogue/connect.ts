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
} satisfies StageEntries<"connect">;
