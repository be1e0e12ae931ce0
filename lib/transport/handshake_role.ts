/**
 * What a role plugs into the shared `Handshake` (handshake.ts): its KEXINIT lists and markers, its half of
 * the kex method (run through {@link KexRun}), and the fault hooks of the first exchange.
 * @module
 */

import type { HashName, KexExchange } from "../algorithms/types.ts";
import type { Tracer } from "../trace.ts";
import type { AlgorithmLists, Decision } from "../types.ts";
import type { CATEGORIES } from "./negotiate.ts";
import type { PacketConn } from "./packet_conn.ts";

export type Role = "client" | "server";

/** The chosen algorithm of each KEXINIT category. */
export type Chosen = Record<(typeof CATEGORIES)[number], string>;

/** Negotiated algorithms of the current keys. */
export interface Negotiated {
  decisions: Decision[];
  kex: string;
  hostKey: string;
  strict: boolean;
}

/**
 * What the role's kex method gets: the exchange's inputs and its message I/O (kex messages, not
 * held by the kex gate; a wrong guess is skipped on receive).
 */
export interface KexRun extends KexExchange {
  readonly first: boolean;
  readonly chosen: Chosen;
}

/** What the kex method produced: K (SSH-encoded), H and the hash both derive keys with. */
export interface KexKeys {
  hash: HashName;
  k: Uint8Array;
  h: Uint8Array;
}

/** Named points of the first exchange where a fault can act (the lab's `LabPoint`s). */
export type HandshakePoint = "before-newkeys" | "after-newkeys";

export interface HandshakeOptions {
  role: Role;
  conn: PacketConn;
  tracer: Tracer | null;
  /** Our KEXINIT lists, without the markers. */
  lists(first: boolean): AlgorithmLists;
  /** Names added to our first KEXINIT's kex list (ext-info-c/s, kex-strict-*). */
  markers: string[];
  /** Runs the role's half of the negotiated kex method. */
  exchange(run: KexRun): Promise<KexKeys>;
  /** Called once our NEWKEYS is out, before the keys change (e.g. to trace the backend). */
  newKeysSent?(first: boolean): void;
  /** Fault hooks of the first exchange (the lab's). */
  hooks?: {
    /** Replaces our first KEXINIT payload. */
    kexInit?(lists: AlgorithmLists, payload: Uint8Array): Uint8Array;
    /** A packet sent right after our first KEXINIT, with first_kex_packet_follows set. */
    guess?(): Uint8Array;
    at?(point: HandshakePoint): Promise<void>;
  };
  /** Server role: the server-sig-algs sent in EXT_INFO when the client asks (null: none). */
  serverSigAlgs?: string[] | null;
  /** The budget (ms) of each key exchange as a whole (0: none). */
  timeoutMs: number;
  /** Rekey after this many bytes in either direction. @default 1 GiB */
  rekeyLimitBytes?: number;
  /** Rekey after this long (ms). @default 1 hour */
  rekeyIntervalMs?: number;
}
