/** Encoding and decoding of SSH_MSG_KEXINIT (RFC 4253 §7.1). @module */

import { MSG } from "../wire/messages.ts";
import { SshReader, SshWriter } from "../wire/buffer.ts";
import type { AlgorithmLists } from "../types.ts";
import { CATEGORIES } from "./negotiate.ts";

export interface KexInit {
  cookie: Uint8Array;
  lists: AlgorithmLists;
  languagesC2S: string[];
  languagesS2C: string[];
  firstKexPacketFollows: boolean;
  reserved: number;
  /** Name-lists that held empty names (`a,,b`, `a,`): tolerated and dropped, as OpenSSH does. */
  emptyNamesIn: string[];
}

/**
 * Names a kex name-list carries as signals, never negotiated: extension negotiation (RFC 8308)
 * and OpenSSH's strict kex (Terrapin countermeasure), each from the client (`-c`) or server.
 */
export const EXT_INFO_C = "ext-info-c";
export const EXT_INFO_S = "ext-info-s";
export const STRICT_KEX_C = "kex-strict-c-v00@openssh.com";
export const STRICT_KEX_S = "kex-strict-s-v00@openssh.com";

/** dropbear's signal that it handles a wrong first-kex guess (never negotiated either). */
export const KEXGUESS2 = "kexguess2@matt.ucc.asn.au";

const KEX_MARKERS = new Set([EXT_INFO_C, EXT_INFO_S, STRICT_KEX_C, STRICT_KEX_S, KEXGUESS2]);

/** Whether a kex name is a signal (ext-info, strict kex, kexguess2), not a method. */
export function isKexMarker(name: string): boolean {
  return KEX_MARKERS.has(name);
}

/** The lists without the signal names of {@link EXT_INFO_C} and the like: what negotiation sees. */
export function withoutKexMarkers(lists: AlgorithmLists): AlgorithmLists {
  return { ...lists, kex: lists.kex.filter((n) => !KEX_MARKERS.has(n)) };
}

/** Limits for a peer's KEXINIT: absurd lists are refused, not stored. */
export const KEXINIT_LIMITS = { maxNames: 256, maxNameLength: 64 };

export function encodeKexInit(lists: AlgorithmLists, cookie?: Uint8Array): Uint8Array {
  const w = new SshWriter(1024);
  w.byte(MSG.KEXINIT);
  w.raw(cookie ?? crypto.getRandomValues(new Uint8Array(16)));
  for (const c of CATEGORIES) w.nameList(lists[c]);
  w.nameList([]).nameList([]);
  w.bool(false);
  w.uint32(0);
  return w.bytes();
}

export function decodeKexInit(payload: Uint8Array): KexInit {
  const r = new SshReader(payload, "KEXINIT");
  r.byte("message number");
  const cookie = r.raw(16, "cookie");
  const lists = {} as AlgorithmLists;
  const emptyNamesIn: string[] = [];
  for (const c of CATEGORIES) {
    const { names, empty } = r.lenientNameList(`${c} name-list`);
    if (empty) emptyNamesIn.push(c);
    if (names.length > KEXINIT_LIMITS.maxNames) {
      throw new RangeError(
        `KEXINIT: ${c} list has ${names.length} names (limit ${KEXINIT_LIMITS.maxNames})`,
      );
    }
    const long = names.find((n) => n.length > KEXINIT_LIMITS.maxNameLength);
    if (long) throw new RangeError(`KEXINIT: ${c} list has a name of ${long.length} characters`);
    lists[c] = names;
  }
  const languages = ["languages c2s", "languages s2c"].map((field) => {
    const { names, empty } = r.lenientNameList(field);
    if (empty) emptyNamesIn.push(field);
    return names;
  });
  const [languagesC2S, languagesS2C] = languages as [string[], string[]];
  const firstKexPacketFollows = r.bool("first_kex_packet_follows");
  const reserved = r.uint32("reserved");
  // Trailing bytes are tolerated (RFC 4253 allows future extension); nothing else is.
  return {
    cookie,
    lists,
    languagesC2S,
    languagesS2C,
    firstKexPacketFollows,
    reserved,
    emptyNamesIn,
  };
}
