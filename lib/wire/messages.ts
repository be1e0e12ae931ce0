/** SSH message numbers (RFC 4250 §4.1) and their names for traces. @module */

export const MSG = {
  DISCONNECT: 1,
  IGNORE: 2,
  UNIMPLEMENTED: 3,
  DEBUG: 4,
  SERVICE_REQUEST: 5,
  SERVICE_ACCEPT: 6,
  EXT_INFO: 7,
  KEXINIT: 20,
  NEWKEYS: 21,
  /** Key-exchange-method specific messages 30..49 (DH, ECDH, GEX share these numbers). */
  KEXDH_INIT: 30,
  KEXDH_REPLY: 31,
  KEX_DH_GEX_REQUEST_OLD: 30,
  KEX_DH_GEX_GROUP: 31,
  KEX_DH_GEX_INIT: 32,
  KEX_DH_GEX_REPLY: 33,
  KEX_DH_GEX_REQUEST: 34,
  USERAUTH_REQUEST: 50,
  USERAUTH_FAILURE: 51,
  USERAUTH_SUCCESS: 52,
  USERAUTH_BANNER: 53,
  /** 60: PK_OK, PASSWD_CHANGEREQ or INFO_REQUEST depending on the method. */
  USERAUTH_PK_OK: 60,
  USERAUTH_PASSWD_CHANGEREQ: 60,
  USERAUTH_INFO_REQUEST: 60,
  USERAUTH_INFO_RESPONSE: 61,
  GLOBAL_REQUEST: 80,
  REQUEST_SUCCESS: 81,
  REQUEST_FAILURE: 82,
  CHANNEL_OPEN: 90,
  CHANNEL_OPEN_CONFIRMATION: 91,
  CHANNEL_OPEN_FAILURE: 92,
  CHANNEL_WINDOW_ADJUST: 93,
  CHANNEL_DATA: 94,
  CHANNEL_EXTENDED_DATA: 95,
  CHANNEL_EOF: 96,
  CHANNEL_CLOSE: 97,
  CHANNEL_REQUEST: 98,
  CHANNEL_SUCCESS: 99,
  CHANNEL_FAILURE: 100,
} as const;

const NAMES: Record<number, string> = {
  1: "DISCONNECT",
  2: "IGNORE",
  3: "UNIMPLEMENTED",
  4: "DEBUG",
  5: "SERVICE_REQUEST",
  6: "SERVICE_ACCEPT",
  7: "EXT_INFO",
  20: "KEXINIT",
  21: "NEWKEYS",
  30: "KEX_30",
  31: "KEX_31",
  32: "KEX_32",
  33: "KEX_33",
  34: "KEX_34",
  50: "USERAUTH_REQUEST",
  51: "USERAUTH_FAILURE",
  52: "USERAUTH_SUCCESS",
  53: "USERAUTH_BANNER",
  60: "USERAUTH_60",
  61: "USERAUTH_INFO_RESPONSE",
  80: "GLOBAL_REQUEST",
  81: "REQUEST_SUCCESS",
  82: "REQUEST_FAILURE",
  90: "CHANNEL_OPEN",
  91: "CHANNEL_OPEN_CONFIRMATION",
  92: "CHANNEL_OPEN_FAILURE",
  93: "CHANNEL_WINDOW_ADJUST",
  94: "CHANNEL_DATA",
  95: "CHANNEL_EXTENDED_DATA",
  96: "CHANNEL_EOF",
  97: "CHANNEL_CLOSE",
  98: "CHANNEL_REQUEST",
  99: "CHANNEL_SUCCESS",
  100: "CHANNEL_FAILURE",
};

/** A message number's name alone, e.g. `KEXINIT` (`UNKNOWN` for a number not listed). */
export function messageShortName(type: number): string {
  return NAMES[type] ?? "UNKNOWN";
}

/** A readable name for a message number, e.g. `KEXINIT (20)`. */
export function messageName(type: number): string {
  return `${messageShortName(type)} (${type})`;
}

/** Disconnect reason codes by name (RFC 4250 §4.2.2). */
export const DISCONNECT = {
  HOST_NOT_ALLOWED_TO_CONNECT: 1,
  PROTOCOL_ERROR: 2,
  KEY_EXCHANGE_FAILED: 3,
  RESERVED: 4,
  MAC_ERROR: 5,
  COMPRESSION_ERROR: 6,
  SERVICE_NOT_AVAILABLE: 7,
  PROTOCOL_VERSION_NOT_SUPPORTED: 8,
  HOST_KEY_NOT_VERIFIABLE: 9,
  CONNECTION_LOST: 10,
  BY_APPLICATION: 11,
  TOO_MANY_CONNECTIONS: 12,
  AUTH_CANCELLED_BY_USER: 13,
  NO_MORE_AUTH_METHODS_AVAILABLE: 14,
  ILLEGAL_USER_NAME: 15,
} as const;

/** Disconnect reason names by code. */
export const DISCONNECT_REASONS: Record<number, string> = Object.fromEntries(
  Object.entries(DISCONNECT).map(([name, code]) => [code, name]),
);

/**
 * CHANNEL_DATA (or CHANNEL_EXTENDED_DATA of `type`, e.g. 1 for stderr) for `channel` carrying
 * `data`, built in one array (one copy of the data).
 */
export function encodeChannelData(
  channel: number,
  type: number | undefined,
  data: Uint8Array,
): Uint8Array {
  const head = type === undefined ? 9 : 13;
  const out = new Uint8Array(head + data.length);
  const view = new DataView(out.buffer);
  out[0] = type === undefined ? MSG.CHANNEL_DATA : MSG.CHANNEL_EXTENDED_DATA;
  view.setUint32(1, channel);
  if (type !== undefined) view.setUint32(5, type);
  view.setUint32(head - 4, data.length);
  out.set(data, head);
  return out;
}
