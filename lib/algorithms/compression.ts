/**
 * Payload compression (RFC 4253 §6.2): `none`, and zlib as SSH uses it — one deflate stream per
 * direction kept for the whole connection, every packet ended with a partial flush so the peer
 * can inflate it at once. `zlib@openssh.com` starts only after user authentication.
 *
 * The zlib engine is pako's low-level port (`npm:pako@2.1.0`), because it is synchronous and
 * keeps its dictionary across packets; `node:zlib` offers that only asynchronously.
 * @module
 */

import { policyOf } from "./policy.ts";
import type { CompressionAlgorithm } from "./types.ts";
import { concatBytes } from "../wire/buffer.ts";

/** Every compression method, in preference order. Only `none` is offered by default. */
export const COMPRESSION_ALGORITHMS: readonly CompressionAlgorithm[] = [
  { ...policyOf("compression", "none"), spec: "RFC 4253", delayed: false },
  {
    ...policyOf("compression", "zlib@openssh.com"),
    spec: "OpenSSH PROTOCOL",
    delayed: true,
  },
  {
    ...policyOf("compression", "zlib"),
    spec: "RFC 4253",
    delayed: false,
  },
];

/** Looks up a compression method by its SSH name. */
export function findCompression(name: string): CompressionAlgorithm | undefined {
  return COMPRESSION_ALGORITHMS.find((c) => c.name === name);
}

// ---------------------------------------------------------------------------------------------
// zlib stream

/** The fields of pako's z_stream that are used here. */
interface ZStream {
  input: Uint8Array;
  next_in: number;
  avail_in: number;
  output: Uint8Array;
  next_out: number;
  avail_out: number;
  msg: string;
}

interface DeflateApi {
  deflateInit2(
    strm: ZStream,
    level: number,
    method: number,
    windowBits: number,
    memLevel: number,
    strategy: number,
  ): number;
  deflate(strm: ZStream, flush: number): number;
}

interface InflateApi {
  inflateInit2(strm: ZStream, windowBits: number): number;
  inflate(strm: ZStream, flush: number): number;
}

let zlib: { deflate: DeflateApi; inflate: InflateApi; ZStream: new () => ZStream } | null = null;

/**
 * Loads the zlib engine (pako). Call once before {@link createZlibStream}; connections that
 * never negotiate compression never load it.
 */
export async function loadZlib(): Promise<void> {
  if (zlib) return;
  const [deflate, inflate, zstream] = await Promise.all([
    import("pako/lib/zlib/deflate.js"),
    import("pako/lib/zlib/inflate.js"),
    import("pako/lib/zlib/zstream.js"),
  ]);
  zlib = {
    deflate: deflate.default as DeflateApi,
    inflate: inflate.default as InflateApi,
    ZStream: zstream.default as new () => ZStream,
  };
}

function engine() {
  if (!zlib) throw new Error("zlib is not loaded: await loadZlib() first");
  return zlib;
}

// zlib.h constants
const Z_PARTIAL_FLUSH = 1;
const Z_SYNC_FLUSH = 2;
const Z_OK = 0;
const Z_BUF_ERROR = -5;
const Z_DEFLATED = 8;
const Z_DEFAULT_STRATEGY = 0;

const CHUNK = 16384;

/** Largest decompressed payload accepted from one packet (OpenSSH's packet size limit). */
export const MAX_DECOMPRESSED_PAYLOAD = 256 * 1024;

/** The peer's compressed data could not be inflated. */
export class CompressionError extends Error {
  override name = "CompressionError";
}

/** SSH zlib compression for one connection: an outgoing and an incoming stream. */
export interface ZlibStream {
  /** Compresses one packet payload, flushed so the peer can decompress it alone. */
  compress(payload: Uint8Array): Uint8Array;
  /** Decompresses one received packet payload. Throws `CompressionError` on bad data. */
  decompress(data: Uint8Array): Uint8Array;
}

function joinChunks(chunks: Uint8Array[]): Uint8Array {
  return chunks.length === 1 ? chunks[0]! : concatBytes(...chunks);
}

function createDeflater(level: number): (payload: Uint8Array) => Uint8Array {
  const { deflate: deflateApi, ZStream: ZStreamCtor } = engine();
  const strm = new ZStreamCtor();
  const status = deflateApi.deflateInit2(strm, level, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY);
  if (status !== Z_OK) throw new CompressionError(`zlib deflate could not start (${status})`);
  const buffer = new Uint8Array(CHUNK);
  return (payload) => {
    strm.input = payload;
    strm.next_in = 0;
    strm.avail_in = payload.length;
    const chunks: Uint8Array[] = [];
    // As OpenSSH's compress_buffer(): deflate with Z_PARTIAL_FLUSH until the output buffer is
    // left with room, which means all pending output has been written.
    do {
      strm.output = buffer;
      strm.next_out = 0;
      strm.avail_out = CHUNK;
      const rc = deflateApi.deflate(strm, Z_PARTIAL_FLUSH);
      if (rc !== Z_OK && rc !== Z_BUF_ERROR) {
        throw new CompressionError(`zlib deflate failed (${rc})`);
      }
      chunks.push(buffer.slice(0, strm.next_out));
    } while (strm.avail_out === 0);
    strm.input = new Uint8Array(0);
    return joinChunks(chunks);
  };
}

function createInflater(maxOutput: number): (data: Uint8Array) => Uint8Array {
  const { inflate: inflateApi, ZStream: ZStreamCtor } = engine();
  const strm = new ZStreamCtor();
  const status = inflateApi.inflateInit2(strm, 15);
  if (status !== Z_OK) throw new CompressionError(`zlib inflate could not start (${status})`);
  const buffer = new Uint8Array(CHUNK);
  return (data) => {
    strm.input = data;
    strm.next_in = 0;
    strm.avail_in = data.length;
    const chunks: Uint8Array[] = [];
    let length = 0;
    // As OpenSSH's uncompress_buffer(): inflate until zlib reports it can make no progress.
    for (;;) {
      strm.output = buffer;
      strm.next_out = 0;
      strm.avail_out = CHUNK;
      const rc = inflateApi.inflate(strm, Z_SYNC_FLUSH);
      if (strm.next_out > 0) {
        length += strm.next_out;
        if (length > maxOutput) {
          throw new CompressionError(
            `decompressed payload exceeds ${maxOutput} bytes; refusing to inflate further`,
          );
        }
        chunks.push(buffer.slice(0, strm.next_out));
      }
      if (rc === Z_OK) {
        if (strm.avail_in === 0 && strm.avail_out > 0) break;
        continue;
      }
      if (rc === Z_BUF_ERROR) break;
      const reason = strm.msg ? `: ${strm.msg}` : "";
      throw new CompressionError(`zlib inflate of a received payload failed (${rc})${reason}`);
    }
    strm.input = new Uint8Array(0);
    if (strm.avail_in !== 0) throw new CompressionError("zlib inflate left input unread");
    return joinChunks(chunks);
  };
}

/**
 * Creates the zlib state for one connection: one deflate stream for what we send and one
 * inflate stream for what we receive, each created on first use.
 */
export function createZlibStream(
  options: { level?: number; maxDecompressed?: number } = {},
): ZlibStream {
  let deflater: ((payload: Uint8Array) => Uint8Array) | undefined;
  let inflater: ((data: Uint8Array) => Uint8Array) | undefined;
  return {
    compress(payload) {
      deflater ??= createDeflater(options.level ?? 6);
      return deflater(payload);
    },
    decompress(data) {
      inflater ??= createInflater(options.maxDecompressed ?? MAX_DECOMPRESSED_PAYLOAD);
      return inflater(data);
    },
  };
}
