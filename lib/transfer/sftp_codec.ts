/**
 * The SFTP version 3 wire format (draft-ietf-secsh-filexfer-02, as OpenSSH implements it):
 * packet types, status codes, file attributes, request encoding, reply decoding and the framer
 * that cuts a byte stream into packets. I/O-free; 64-bit sizes and offsets are checked to fit a
 * safe integer (up to 8 PiB), so a 4 GiB file is plain number math.
 * @module
 */

import { SshReader, SshWriter, WireError } from "../wire/buffer.ts";
import { keep, releasable, release } from "../wire/release.ts";

/** Packet types (draft-02 §3). */
export const FXP = {
  INIT: 1,
  VERSION: 2,
  OPEN: 3,
  CLOSE: 4,
  READ: 5,
  WRITE: 6,
  LSTAT: 7,
  FSTAT: 8,
  SETSTAT: 9,
  FSETSTAT: 10,
  OPENDIR: 11,
  READDIR: 12,
  REMOVE: 13,
  MKDIR: 14,
  RMDIR: 15,
  REALPATH: 16,
  STAT: 17,
  RENAME: 18,
  READLINK: 19,
  SYMLINK: 20,
  STATUS: 101,
  HANDLE: 102,
  DATA: 103,
  NAME: 104,
  ATTRS: 105,
  EXTENDED: 200,
  EXTENDED_REPLY: 201,
} as const;

/** Status codes (draft-02 §7). */
export const FX = {
  OK: 0,
  EOF: 1,
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  BAD_MESSAGE: 5,
  NO_CONNECTION: 6,
  CONNECTION_LOST: 7,
  OP_UNSUPPORTED: 8,
} as const;

/** Status code → name, for traces and messages. */
export const STATUS_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(FX).map(([name, code]) => [code, name]),
);

/** Open flags (pflags). */
export const OPEN = {
  READ: 0x01,
  WRITE: 0x02,
  APPEND: 0x04,
  CREAT: 0x08,
  TRUNC: 0x10,
  EXCL: 0x20,
} as const;

const ATTR = { SIZE: 0x1, UIDGID: 0x2, PERMISSIONS: 0x4, ACMODTIME: 0x8, EXTENDED: 0x80000000 };

/** File type bits of `permissions` (POSIX st_mode). */
export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;

/** The largest SFTP packet accepted (OpenSSH's SFTP_MAX_MSG_LENGTH: 256 KiB). */
export const MAX_PACKET = 256 * 1024;

/** File attributes; absent fields were not sent. */
export interface Attrs {
  size?: number;
  uid?: number;
  gid?: number;
  /** st_mode: type bits and permission bits. */
  permissions?: number;
  /** Seconds since the epoch. */
  atime?: number;
  mtime?: number;
}

/** One entry of a NAME reply. */
export interface NameEntry {
  filename: string;
  longname: string;
  attrs: Attrs;
}

/** A decoded reply (everything but VERSION carries the request id). */
export type Reply =
  | { type: "status"; id: number; code: number; message: string }
  | { type: "handle"; id: number; handle: Uint8Array }
  | { type: "data"; id: number; data: Uint8Array }
  | { type: "name"; id: number; names: NameEntry[] }
  | { type: "attrs"; id: number; attrs: Attrs }
  | { type: "extended-reply"; id: number; data: Uint8Array };

/** The server's VERSION packet. */
export interface Version {
  version: number;
  extensions: Map<string, string>;
}

/** A 64-bit value as a safe number; larger values are refused (no file is that big). */
export function safeUint64(value: bigint, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new WireError(`SFTP: ${field} ${value} is larger than 2^53`);
  }
  return Number(value);
}

/** Encodes attributes (only the fields that are set). */
export function encodeAttrs(w: SshWriter, attrs: Attrs): SshWriter {
  let flags = 0;
  if (attrs.size !== undefined) flags |= ATTR.SIZE;
  if (attrs.uid !== undefined && attrs.gid !== undefined) flags |= ATTR.UIDGID;
  if (attrs.permissions !== undefined) flags |= ATTR.PERMISSIONS;
  if (attrs.atime !== undefined && attrs.mtime !== undefined) flags |= ATTR.ACMODTIME;
  w.uint32(flags);
  if (flags & ATTR.SIZE) w.uint64(BigInt(attrs.size!));
  if (flags & ATTR.UIDGID) w.uint32(attrs.uid!).uint32(attrs.gid!);
  if (flags & ATTR.PERMISSIONS) w.uint32(attrs.permissions!);
  if (flags & ATTR.ACMODTIME) w.uint32(attrs.atime!).uint32(attrs.mtime!);
  return w;
}

/** Decodes attributes (extended pairs are read and dropped). */
export function decodeAttrs(r: SshReader): Attrs {
  const flags = r.uint32("attribute flags");
  const attrs: Attrs = {};
  if (flags & ATTR.SIZE) attrs.size = safeUint64(r.uint64("size"), "size");
  if (flags & ATTR.UIDGID) {
    attrs.uid = r.uint32("uid");
    attrs.gid = r.uint32("gid");
  }
  if (flags & ATTR.PERMISSIONS) attrs.permissions = r.uint32("permissions");
  if (flags & ATTR.ACMODTIME) {
    attrs.atime = r.uint32("atime");
    attrs.mtime = r.uint32("mtime");
  }
  if (flags & ATTR.EXTENDED) {
    const n = r.uint32("extended count");
    for (let i = 0; i < n; i++) {
      r.string("extended type");
      r.string("extended data");
    }
  }
  return attrs;
}

/** What kind of file attributes describe: `file`, `directory`, `symlink`, `other`, `unknown`. */
export function kindOf(attrs: Attrs): "file" | "directory" | "symlink" | "other" | "unknown" {
  if (attrs.permissions === undefined) return "unknown";
  switch (attrs.permissions & S_IFMT) {
    case S_IFREG:
      return "file";
    case S_IFDIR:
      return "directory";
    case S_IFLNK:
      return "symlink";
    default:
      return "other";
  }
}

/** Frames a packet: uint32 length, then the body. */
function frame(w: SshWriter): Uint8Array {
  const body = w.bytes();
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

/** The INIT packet (version 3). */
export function encodeInit(): Uint8Array {
  return frame(new SshWriter(16).byte(FXP.INIT).uint32(3));
}

/** A request: type, id, then its fields written by `fields`. */
export function encodeRequest(
  type: number,
  id: number,
  fields: (w: SshWriter) => void,
  sizeHint = 64,
): Uint8Array {
  const w = new SshWriter(sizeHint).byte(type).uint32(id);
  fields(w);
  return frame(w);
}

/** A READ request. */
export function encodeRead(id: number, handle: Uint8Array, offset: number, length: number) {
  return encodeRequest(
    FXP.READ,
    id,
    (w) => w.string(handle).uint64(BigInt(offset)).uint32(length),
  );
}

/** A WRITE request, built in one allocation (the data is copied once). */
export function encodeWrite(id: number, handle: Uint8Array, offset: number, data: Uint8Array) {
  const length = 1 + 4 + 4 + handle.length + 8 + 4 + data.length;
  // Released by the client once the channel has sent it (lib/wire/release.ts).
  const out = releasable(new Uint8Array(4 + length));
  const v = new DataView(out.buffer);
  v.setUint32(0, length);
  out[4] = FXP.WRITE;
  v.setUint32(5, id);
  v.setUint32(9, handle.length);
  out.set(handle, 13);
  let p = 13 + handle.length;
  v.setBigUint64(p, BigInt(offset));
  v.setUint32(p + 8, data.length);
  p += 12;
  out.set(data, p);
  return out;
}

/** Decodes the VERSION packet (the body after the length). */
export function decodeVersion(body: Uint8Array): Version {
  const r = new SshReader(body, "SFTP VERSION");
  const type = r.byte("type");
  if (type !== FXP.VERSION) throw new WireError(`SFTP: expected VERSION, got packet type ${type}`);
  const version = r.uint32("version");
  const extensions = new Map<string, string>();
  while (r.remaining) extensions.set(r.text("extension name"), r.text("extension data"));
  return { version, extensions };
}

/** Decodes a reply (the body after the length). */
export function decodeReply(body: Uint8Array): Reply {
  const r = new SshReader(body, "SFTP reply");
  const type = r.byte("type");
  const id = r.uint32("request id");
  let reply: Reply;
  switch (type) {
    case FXP.STATUS: {
      const code = r.uint32("status code");
      // Version 3 servers add a message and language tag; very old ones omit them.
      const message = r.remaining ? r.text("status message") : "";
      if (r.remaining) r.string("language tag");
      reply = { type: "status", id, code, message };
      break;
    }
    case FXP.HANDLE: {
      const handle = r.string("handle").slice();
      // draft-02 §6.2: handles are at most 256 bytes (we send them back with every request).
      if (handle.length > 256) throw new WireError(`SFTP: a ${handle.length}-byte handle`);
      reply = { type: "handle", id, handle };
      break;
    }
    case FXP.DATA:
      reply = { type: "data", id, data: r.string("data") };
      break;
    case FXP.NAME: {
      const count = r.uint32("name count");
      const names: NameEntry[] = [];
      for (let i = 0; i < count; i++) {
        names.push({
          filename: r.text("filename"),
          longname: r.text("longname"),
          attrs: decodeAttrs(r),
        });
      }
      reply = { type: "name", id, names };
      break;
    }
    case FXP.ATTRS:
      reply = { type: "attrs", id, attrs: decodeAttrs(r) };
      break;
    case FXP.EXTENDED_REPLY:
      reply = { type: "extended-reply", id, data: r.rest() };
      break;
    default:
      throw new WireError(`SFTP: unexpected packet type ${type}`);
  }
  r.end();
  return reply;
}

/**
 * Cuts a byte stream into SFTP packets (bodies without the length). Refuses a length over
 * {@link MAX_PACKET}, so a hostile server cannot make us buffer without bound. A packet that
 * spans received chunks is copied into memory of its own, marked releasable (the caller may
 * {@link release} it when done); a received chunk whose bytes were all copied out is released
 * at once; a packet handed out as a view of a chunk withdraws that chunk's mark ({@link keep}).
 */
export class Framer {
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  /** A view of `#chunks[0]` was handed out: its memory must not be released here. */
  #headViewed = false;

  /** Bytes received but not yet part of a whole packet. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Adds received bytes; returns the packets now complete. */
  push(bytes: Uint8Array): Uint8Array[] {
    if (bytes.length) {
      this.#chunks.push(bytes);
      this.#buffered += bytes.length;
    }
    const out: Uint8Array[] = [];
    while (this.#buffered >= 4) {
      const head = this.#peek(4);
      const length = new DataView(head.buffer, head.byteOffset, 4).getUint32(0);
      if (length > MAX_PACKET) {
        throw new WireError(`SFTP: packet length ${length} exceeds the limit of ${MAX_PACKET}`);
      }
      if (length === 0) throw new WireError("SFTP: empty packet");
      if (this.#buffered < 4 + length) break;
      this.#skip(4);
      out.push(this.#take(length));
    }
    return out;
  }

  #peek(n: number): Uint8Array {
    const first = this.#chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    const out = new Uint8Array(n);
    let off = 0;
    for (const c of this.#chunks) {
      const k = Math.min(c.length, n - off);
      out.set(c.subarray(0, k), off);
      off += k;
      if (off === n) break;
    }
    return out;
  }

  #take(n: number): Uint8Array {
    this.#buffered -= n;
    const first = this.#chunks[0]!;
    if (first.length >= n) {
      // A view: its memory now goes to the caller, who may keep it.
      keep(first);
      if (first.length > n) {
        this.#chunks[0] = first.subarray(n);
        this.#headViewed = true;
      } else this.#shift();
      return first.subarray(0, n);
    }
    const out = releasable(new Uint8Array(n));
    let off = 0;
    while (off < n) {
      const c = this.#chunks[0]!;
      const k = Math.min(c.length, n - off);
      out.set(c.subarray(0, k), off);
      off += k;
      if (k === c.length) this.#shift();
      else this.#chunks[0] = c.subarray(k);
    }
    return out;
  }

  /** Consumes `n` buffered bytes without handing them out. */
  #skip(n: number): void {
    this.#buffered -= n;
    for (let left = n; left > 0;) {
      const c = this.#chunks[0]!;
      const k = Math.min(c.length, left);
      left -= k;
      if (k === c.length) this.#shift();
      else this.#chunks[0] = c.subarray(k);
    }
  }

  /** Drops the first chunk, all of it used; its memory is released unless a view of it left. */
  #shift(): void {
    const chunk = this.#chunks.shift()!;
    if (!this.#headViewed) release(chunk);
    this.#headViewed = false;
  }
}
