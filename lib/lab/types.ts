/**
 * Shapes shared by the lab server's layers: its configuration, users, events, and the hooks a
 * fault profile uses to misbehave at named points.
 * @module
 */

import type { AlgorithmLists } from "../types.ts";

/** A user the lab server accepts. */
export interface LabUser {
  name: string;
  /** Accepted by `password` and by the keyboard-interactive "Password: " prompt. */
  password?: string;
  /** Public key blobs accepted by `publickey`. */
  authorizedKeys?: Uint8Array[];
}

/**
 * Which built-in shell a session gets: `posix`, or a device imitation of lib/lab/devices/
 * (`comware` is the old-switch profile's Comware 5).
 */
export type ShellKind =
  | "posix"
  | "comware"
  | "comware7"
  | "huawei"
  | "cisco"
  | "asa"
  | "eos"
  | "os10"
  | "junos"
  | "routeros"
  | "fortios"
  | "exos"
  | "procurve";

/** Everything that decides how the lab server behaves on one connection. */
export interface LabConfig {
  /** Version line without CR LF (also V_S in the exchange hash). */
  versionLine: string;
  /** Lines sent before the version line. */
  preVersionLines: string[];
  /** Ending of those lines (old switches end them with a lone CR). @default "\r\n" */
  lineEnding?: string;
  /** Server-side KEXINIT lists (host key algorithms without a key are dropped). */
  lists: AlgorithmLists;
  /** Offer strict kex (`kex-strict-s-v00@openssh.com`). */
  strictKex: boolean;
  /** Send EXT_INFO with server-sig-algs when the client asks (`ext-info-c`). */
  extInfo: boolean;
  /** The server-sig-algs value. */
  serverSigAlgs: string[];
  /** Methods offered in USERAUTH_FAILURE, in order. */
  authMethods: string[];
  users: LabUser[];
  /** Sent as USERAUTH_BANNER before the first authentication reply. */
  banner: string | null;
  /** Failed attempts before the server disconnects. */
  maxAuthTries: number;
  /** Whether exec requests are run (old switches refuse them). */
  exec: boolean;
  shell: ShellKind;
  /** A device shell's enable / super secret (default: lib/lab/devices/mod.ts's). */
  enableSecret?: string;
  /** Shown in prompts and `uname -n`. */
  hostname: string;
  /** Our channel window and maximum packet. */
  windowSize: number;
  maxPacket: number;
  /**
   * Group exchange answers with the group of this size (1024, 2048, 4096 or 8192 bits) whatever
   * the client asked for, as old firmware with a single moduli entry does. Unset: a fitting one.
   */
  gexGroupBits?: number;
  /**
   * Connections served at once; one more is refused with OpenSSH's "Exceeded MaxStartups" line
   * and closed (a device out of vty lines). Unset: no limit.
   */
  maxStartups?: number;
  /** Limit for the handshake and authentication, like OpenSSH's LoginGraceTime (ms). */
  loginGraceMs: number;
  /**
   * The texts of the keyboard-interactive INFO_REQUEST (one hidden prompt, answered by the
   * user's password). @default { name: "", instruction: "", prompt: "Password: " }
   */
  kbdInteractive?: { name: string; instruction: string; prompt: string };
  /**
   * Sends program output after the channel's EOF (RFC 4254 §5.3 forbids it; some servers do
   * it): `after-eof` holds a program's output until it ends, then sends half of it, EOF, and
   * the other half; `eof-while-waiting` sends EOF as soon as a program ends, even while its
   * output still waits for window space, and the rest when the client opens the window.
   * Exit-status and CLOSE follow the last byte. Unset: EOF after all output.
   */
  lateData?: "after-eof" | "eof-while-waiting";
  /**
   * `emulated`: a pty is emulated from the client's terminal modes, as Apache MINA SSHD does:
   * Enter (CR) becomes a newline only with ICRNL, output LF becomes CR LF only with OPOST and
   * ONLCR, ECHO decides the echo. Unset: the shell ends lines at CR or LF whatever the modes.
   */
  terminal?: "emulated";
  /**
   * `direct-tcpip` channels (a jump host's tunnel, `-L`): opened to 127.0.0.1, ::1 or
   * localhost only (other hosts are refused as prohibited). `false` refuses them all, as
   * OpenSSH's AllowTcpForwarding no does. @default true
   */
  forwarding?: boolean;
}

/** Something the lab server reports about a connection (for `sshtrace lab` and tests). */
export interface LabEvent {
  /** Connection number, from 1. */
  connection: number;
  message: string;
}

/** Where a fault can act. */
export type LabPoint =
  /** Before the version line (silence or close here: stage version). */
  | "start"
  /** After the version exchange, before the server's KEXINIT. */
  | "before-kexinit"
  /** After the server's KEXINIT, before reading the client's. */
  | "after-kexinit"
  /** The kex reply (with the signature) is ready, not yet sent. */
  | "before-kex-reply"
  /** After the kex reply, before NEWKEYS. */
  | "before-newkeys"
  /** After NEWKEYS and EXT_INFO: the first encrypted packets. */
  | "after-newkeys"
  /** A SERVICE_REQUEST arrived; SERVICE_ACCEPT not yet sent. */
  | "service-request"
  /** After SERVICE_ACCEPT. */
  | "after-service"
  /** A USERAUTH_REQUEST arrived, not yet answered. */
  | "userauth-request"
  /** After USERAUTH_SUCCESS. */
  | "after-auth"
  /** A CHANNEL_OPEN arrived, not yet answered. */
  | "channel-open"
  /** A channel request (pty-req, shell, exec...) arrived, not yet answered. */
  | "channel-request"
  /** The client's KEXINIT of a rekey it started arrived, not yet answered. */
  | "client-rekey";

/** The client's channel as the server sees it. */
export interface ChannelInfo {
  /** The client's channel number (recipient of what the server sends). */
  clientId: number;
  /** The server's channel number. */
  serverId: number;
  /** Bytes the server may still send. */
  clientWindow: number;
  /** The largest data field the client accepts. */
  clientMaxPacket: number;
}

/** What a fault hook can do. */
export interface FaultIo {
  /** Sends a message payload, sealed with the current keys. */
  send(payload: Uint8Array): Promise<void>;
  /** Sends a message payload sealed with the current keys but not compressed. */
  sendUncompressed(payload: Uint8Array): Promise<void>;
  /** Writes bytes as they are (bypassing the packet layer). */
  raw(bytes: Uint8Array): Promise<void>;
  /** Seals a payload with the current keys (the next sequence number) without sending it. */
  sealed(payload: Uint8Array): Uint8Array;
  /** Sends nothing more: reads and drops whatever comes until the client closes. */
  silent(): Promise<never>;
  /** Closes the connection at once. */
  close(): Promise<never>;
  /** Waits `ms` milliseconds (ends early when the connection closes). */
  sleep(ms: number): Promise<void>;
  /** At `channel-open` and `channel-request`: the channel. */
  readonly channel?: ChannelInfo;
  /** At `channel-request`: the request type (`pty-req`, `shell`, `exec`, ...). */
  readonly request?: string;
  /** At `userauth-request`: the method the client asked for. */
  readonly method?: string;
}

/** A fault's hooks into the server. Each is optional; a hook returning true has handled it. */
export interface FaultHooks {
  /** Replaces the greeting (pre-version lines and version line). */
  greeting?(io: FaultIo): Promise<void>;
  /** Runs at a point; returning true skips the server's normal handling there. */
  at?: Partial<Record<LabPoint, (io: FaultIo) => Promise<boolean | void>>>;
  /** Replaces the first KEXINIT payload the server sends. */
  kexInit?(lists: AlgorithmLists, payload: Uint8Array): Uint8Array;
  /** A packet sent right after the first KEXINIT (with first_kex_packet_follows set). */
  guess?(): Uint8Array;
  /** Changes a kex message before the final reply (KEX_DH_GEX_GROUP). */
  kexGroup?(payload: Uint8Array): Uint8Array;
  /** Changes the final kex reply (KEXDH_REPLY, KEX_ECDH_REPLY, KEX_DH_GEX_REPLY). */
  kexReply?(payload: Uint8Array): Uint8Array;
  /** Changes the signature blob over H. */
  signature?(blob: Uint8Array): Uint8Array;
  /**
   * Changes a sealed packet after the first NEWKEYS; `index` counts them from 1, `payload` and
   * `seq` are the message and sequence number it carries.
   */
  seal?(wire: Uint8Array, index: number, payload: Uint8Array, seq: number): Uint8Array;
  /** Sees each message read after the first key exchange (transport messages too). */
  received?(payload: Uint8Array, seq: number): void;
}
