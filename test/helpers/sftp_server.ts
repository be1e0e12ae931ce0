/**
 * An in-process, scripted SFTP v3 server over in-memory streams, for fault injection: files
 * live in a map (or are virtual: a size and a byte function, so a 4 GiB file costs nothing),
 * and faults make it hostile: directory listings with names like `../x` or `/etc/x`, reads cut
 * short, the channel closed after some bytes, a status code forced on an operation. It speaks to
 * the real `SftpClient` through its `channel`.
 */

import { SshReader, SshWriter } from "../../lib/wire/buffer.ts";
import {
  type Attrs,
  encodeAttrs,
  Framer,
  FX,
  FXP,
  S_IFDIR,
  S_IFREG,
} from "../../lib/transfer/sftp_codec.ts";
import type { SftpChannel } from "../../lib/transfer/sftp_client.ts";

/** A file: bytes, or virtual (size and content by position). */
export type VirtualEntry =
  | { kind: "file"; data: Uint8Array; mode?: number }
  | { kind: "virtual"; size: number; byteAt: (pos: number) => number }
  | { kind: "dir"; mode?: number };

export interface SftpFaults {
  /** Listing of these directories: these names instead of the real ones (all as files). */
  names?: Record<string, string[]>;
  /** Serve at most this many bytes per READ. */
  shortReads?: number;
  /** Close the channel once this many file bytes were served. */
  closeAfterBytes?: number;
  /** Answer this status to every request of this packet type. */
  statusFor?: Partial<Record<number, number>>;
  /** Advertise `limits@openssh.com` with these read and write limits. */
  limits?: { read: number; write: number };
}

export interface SftpServer {
  channel: SftpChannel;
  files: Map<string, VirtualEntry>;
  /** Every READ seen: offset and length. */
  reads: { offset: number; length: number }[];
  /** The most READs in flight at once (requests not yet answered when a new one arrived). */
  done: Promise<void>;
}

function frame(w: SshWriter): Uint8Array {
  const body = w.bytes();
  const out = new Uint8Array(body.length + 4);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

function attrsOf(e: VirtualEntry): Attrs {
  if (e.kind === "dir") return { permissions: S_IFDIR | (e.mode ?? 0o755), size: 0 };
  const size = e.kind === "file" ? e.data.length : e.size;
  return {
    permissions: S_IFREG | (e.kind === "file" ? e.mode ?? 0o644 : 0o644),
    size,
    atime: 1_700_000_000,
    mtime: 1_700_000_000,
  };
}

/** Starts a server over in-memory streams. */
export function startSftpServer(
  files: Map<string, VirtualEntry>,
  faults: SftpFaults = {},
): SftpServer {
  const toServer = new TransformStream<Uint8Array, Uint8Array>();
  const toClient = new TransformStream<Uint8Array, Uint8Array>();
  const input = toServer.writable.getWriter();
  const out = toClient.writable.getWriter();
  const reads: { offset: number; length: number }[] = [];
  const handles = new Map<string, { path: string; dir: boolean; listed: boolean }>();
  let nextHandle = 1;
  let served = 0;
  let closed = false;

  const send = (w: SshWriter) => {
    if (!closed) out.write(frame(w)).catch(() => {});
  };
  const status = (id: number, code: number, message = "") =>
    send(new SshWriter().byte(FXP.STATUS).uint32(id).uint32(code).string(message).string(""));
  const newHandle = (path: string, dir: boolean) => {
    const h = String(nextHandle++);
    handles.set(h, { path, dir, listed: false });
    return h;
  };

  function handle(body: Uint8Array): void {
    const r = new SshReader(body, "sftp request");
    const type = r.byte();
    if (type === FXP.INIT) {
      const w = new SshWriter().byte(FXP.VERSION).uint32(3).string("posix-rename@openssh.com")
        .string("1");
      if (faults.limits) w.string("limits@openssh.com").string("1");
      send(w);
      return;
    }
    const id = r.uint32();
    const forced = faults.statusFor?.[type];
    if (forced !== undefined) return status(id, forced, "forced by the test");
    switch (type) {
      case FXP.STAT:
      case FXP.LSTAT: {
        const e = files.get(r.text());
        if (!e) return status(id, FX.NO_SUCH_FILE, "No such file");
        return send(encodeAttrs(new SshWriter().byte(FXP.ATTRS).uint32(id), attrsOf(e)));
      }
      case FXP.OPEN: {
        const path = r.text();
        const pflags = r.uint32();
        let e = files.get(path);
        if (pflags & 0x02) {
          if (!e || pflags & 0x10) files.set(path, e = { kind: "file", data: new Uint8Array(0) });
        } else if (!e) return status(id, FX.NO_SUCH_FILE, "No such file");
        return send(new SshWriter().byte(FXP.HANDLE).uint32(id).string(newHandle(path, false)));
      }
      case FXP.OPENDIR: {
        const path = r.text();
        const e = files.get(path);
        if (!e) return status(id, FX.NO_SUCH_FILE, "No such file");
        return send(new SshWriter().byte(FXP.HANDLE).uint32(id).string(newHandle(path, true)));
      }
      case FXP.READDIR: {
        const h = handles.get(r.text())!;
        if (h.listed) return status(id, FX.EOF, "End of file");
        h.listed = true;
        const prefix = h.path.endsWith("/") ? h.path : `${h.path}/`;
        const names = faults.names?.[h.path] ??
          [...files.keys()].filter((p) =>
            p.startsWith(prefix) && !p.slice(prefix.length).includes("/")
          )
            .map((p) => p.slice(prefix.length));
        const w = new SshWriter().byte(FXP.NAME).uint32(id).uint32(names.length);
        for (const name of names) {
          const e = files.get(prefix + name) ?? { kind: "file", data: new Uint8Array(1) };
          encodeAttrs(w.string(name).string(name), attrsOf(e));
        }
        return send(w);
      }
      case FXP.READ: {
        const h = handles.get(r.text())!;
        const offset = Number(r.uint64());
        let length = r.uint32();
        reads.push({ offset, length });
        const e = files.get(h.path)!;
        if (e.kind === "dir") return status(id, FX.FAILURE, "Is a directory");
        const size = e.kind === "file" ? e.data.length : e.size;
        if (offset >= size) return status(id, FX.EOF, "End of file");
        if (faults.shortReads) length = Math.min(length, faults.shortReads);
        length = Math.min(length, size - offset);
        const data = e.kind === "file"
          ? e.data.subarray(offset, offset + length)
          : Uint8Array.from({ length }, (_, i) => e.byteAt(offset + i));
        served += data.length;
        if (faults.closeAfterBytes !== undefined && served > faults.closeAfterBytes) {
          closed = true;
          out.close().catch(() => {});
          return;
        }
        return send(new SshWriter().byte(FXP.DATA).uint32(id).string(data));
      }
      case FXP.WRITE: {
        const h = handles.get(r.text())!;
        const offset = Number(r.uint64());
        const data = r.string();
        const e = files.get(h.path)!;
        if (e.kind !== "file") return status(id, FX.FAILURE, "not a file");
        if (offset + data.length > e.data.length) {
          const grown = new Uint8Array(offset + data.length);
          grown.set(e.data);
          e.data = grown;
        }
        e.data.set(data, offset);
        return status(id, FX.OK, "Success");
      }
      case FXP.CLOSE:
        handles.delete(r.text());
        return status(id, FX.OK, "Success");
      case FXP.REMOVE:
        files.delete(r.text());
        return status(id, FX.OK, "Success");
      case FXP.MKDIR:
        files.set(r.text(), { kind: "dir" });
        return status(id, FX.OK, "Success");
      case FXP.RENAME: {
        const from = r.text();
        const to = r.text();
        const e = files.get(from);
        if (!e) return status(id, FX.NO_SUCH_FILE, "No such file");
        if (files.has(to)) return status(id, FX.FAILURE, "Failure");
        files.delete(from);
        files.set(to, e);
        return status(id, FX.OK, "Success");
      }
      case FXP.EXTENDED: {
        const name = r.text();
        if (name === "limits@openssh.com" && faults.limits) {
          return send(
            new SshWriter().byte(FXP.EXTENDED_REPLY).uint32(id).uint64(262144n)
              .uint64(BigInt(faults.limits.read)).uint64(BigInt(faults.limits.write)).uint64(0n),
          );
        }
        if (name !== "posix-rename@openssh.com") return status(id, FX.OP_UNSUPPORTED);
        const from = r.text();
        const to = r.text();
        const e = files.get(from);
        if (!e) return status(id, FX.NO_SUCH_FILE, "No such file");
        files.delete(from);
        files.set(to, e);
        return status(id, FX.OK, "Success");
      }
      case FXP.SETSTAT:
      case FXP.FSETSTAT:
        return status(id, FX.OK, "Success");
      case FXP.REALPATH:
        return send(
          new SshWriter().byte(FXP.NAME).uint32(id).uint32(1).string("/home").string("/home")
            .uint32(0),
        );
      default:
        return status(id, FX.OP_UNSUPPORTED, "Operation unsupported");
    }
  }

  const done = (async () => {
    const framer = new Framer();
    for await (const chunk of toServer.readable) {
      if (closed) break;
      for (const body of framer.push(chunk)) handle(body);
    }
    if (!closed) out.close().catch(() => {});
  })().catch(() => {});

  return {
    channel: {
      readable: toClient.readable,
      write: (bytes) => input.write(bytes.slice()),
      close: () => input.close().catch(() => {}),
    },
    files,
    reads,
    done,
  };
}
