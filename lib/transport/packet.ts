/**
 * The binary packet protocol (RFC 4253 §6), I/O-free: sealing payloads into wire packets and
 * opening wire packets incrementally, for plain, stream+MAC, EtM and AEAD protection.
 * @module
 */

import type {
  AeadTransform,
  CipherAlgorithm,
  MacAlgorithm,
  StreamTransform,
} from "../algorithms/types.ts";
import type { ReadAheadAead, ReadAheadStream } from "../algorithms/cipher.ts";
import { bytesEqual } from "../wire/buffer.ts";
import { releasable, release } from "../wire/release.ts";

/** packet_length values at or above this are refused (at least 35000 must be accepted). */
export const MAX_PACKET_LENGTH = 256 * 1024;

/** A framing problem: the caller turns it into a staged error. */
export class PacketError extends Error {
  override name = "PacketError";
  constructor(readonly kind: "mac" | "length" | "padding" | "decrypt", message: string) {
    super(message);
  }
}

/** The keys of one direction after NEWKEYS. */
export interface DirectionKeys {
  cipher: CipherAlgorithm;
  mac: MacAlgorithm | null;
  encKey: Uint8Array;
  iv: Uint8Array;
  macKey: Uint8Array;
}

interface State {
  stream: StreamTransform | null;
  aead: AeadTransform | null;
  mac: ((seq: number, data: Uint8Array, more?: Uint8Array) => Uint8Array) | null;
  macLength: number;
  etm: boolean;
  blockSize: number;
  tagLength: number;
  /** The asynchronous opener of a read-ahead capable AEAD (AES-GCM), else null. */
  aeadAsync: ReadAheadAead | null;
  /** The asynchronous transform of a read-ahead capable EtM stream cipher (AES-CTR), else null. */
  streamAsync: ReadAheadStream | null;
}

const PLAIN: State = {
  stream: null,
  aead: null,
  mac: null,
  macLength: 0,
  etm: false,
  blockSize: 8,
  tagLength: 0,
  aeadAsync: null,
  streamAsync: null,
};

function stateFor(keys: DirectionKeys, encrypt: boolean): State {
  const { cipher } = keys;
  const blockSize = Math.max(8, cipher.blockSize);
  if (cipher.createAead) {
    const aead = cipher.createAead(keys.encKey, keys.iv);
    const aeadAsync = "openAsync" in aead ? aead as ReadAheadAead : null;
    return { ...PLAIN, aead, blockSize, tagLength: cipher.tagLength, aeadAsync };
  }
  if (!cipher.createStream || !keys.mac) throw new Error(`cipher ${cipher.name} needs a MAC`);
  const stream = cipher.createStream(keys.encKey, keys.iv, encrypt);
  return {
    ...PLAIN,
    stream,
    mac: keys.mac.create(keys.macKey),
    macLength: keys.mac.macLength,
    etm: keys.mac.etm,
    blockSize,
    // Only EtM has the length in clear, so only EtM packets can be framed before decrypting.
    streamAsync: keys.mac.etm && "updateAsync" in stream ? stream as ReadAheadStream : null,
  };
}

/** Turns payloads into wire packets for one direction. */
export class PacketSealer {
  seq = 0;
  #s: State = PLAIN;
  /** Bytes sealed since the last key change (for rekey limits). */
  bytesSinceKex = 0;
  compress: ((payload: Uint8Array) => Uint8Array) | null = null;

  setKeys(keys: DirectionKeys): void {
    this.#s = stateFor(keys, true);
    this.bytesSinceKex = 0;
  }

  get encrypted(): boolean {
    return this.#s !== PLAIN;
  }

  seal(input: Uint8Array): Uint8Array {
    const payload = this.compress ? this.compress(input) : input;
    const s = this.#s;
    const bs = s.blockSize;
    // AEAD and EtM leave the 4-byte length out of the padded part.
    const lengthOutside = s.aead !== null || s.etm;
    const unpadded = (lengthOutside ? 1 : 5) + payload.length;
    let padding = bs - (unpadded % bs);
    if (padding < 4) padding += bs;
    const packetLength = 1 + payload.length + padding;
    const packet = releasable(new Uint8Array(4 + packetLength));
    const view = new DataView(packet.buffer);
    view.setUint32(0, packetLength);
    packet[4] = padding;
    packet.set(payload, 5);
    crypto.getRandomValues(packet.subarray(5 + payload.length));
    const seq = this.seq;
    this.seq = (this.seq + 1) >>> 0;
    let out: Uint8Array;
    if (s.aead) {
      out = s.aead.seal(seq, packet);
    } else if (s.stream && s.mac) {
      if (s.etm) {
        const enc = s.stream.update(packet.subarray(4));
        const body = new Uint8Array(4 + enc.length + s.macLength);
        body.set(packet.subarray(0, 4), 0);
        body.set(enc, 4);
        body.set(s.mac(seq, body.subarray(0, 4 + enc.length)), 4 + enc.length);
        out = body;
      } else {
        const mac = s.mac(seq, packet);
        const enc = s.stream.update(packet);
        out = new Uint8Array(enc.length + s.macLength);
        out.set(enc, 0);
        out.set(mac, enc.length);
      }
    } else {
      out = packet;
    }
    if (out !== packet) release(packet);
    this.bytesSinceKex += out.length;
    return out;
  }
}

/** Opens wire packets for one direction, incrementally. */
export class PacketOpener {
  seq = 0;
  #s: State = PLAIN;
  bytesSinceKex = 0;
  decompress: ((data: Uint8Array) => Uint8Array) | null = null;
  /** Decrypted first block of a stream-cipher packet awaiting its remainder. */
  #first: Uint8Array | null = null;
  /** The length field kept by {@link begin} for AEAD and EtM (reused: one packet at a time). */
  #header = new Uint8Array(4);
  #length = -1;

  setKeys(keys: DirectionKeys): void {
    this.#s = stateFor(keys, false);
    this.bytesSinceKex = 0;
  }

  /** Bytes needed before the packet length can be known. */
  get headerSize(): number {
    const s = this.#s;
    return s.aead || s.etm ? 4 : s.blockSize;
  }

  /**
   * Given the first `headerSize` bytes, returns the number of further wire bytes the packet
   * needs (the header is kept internally). Throws `PacketError` for an impossible length.
   */
  begin(header: Uint8Array): number {
    const s = this.#s;
    let length: number;
    if (s.aead || s.etm) {
      // The 4 bytes are copied: the caller's view may be reused before the packet is finished.
      const kept = this.#header;
      kept.set(header);
      this.#first = kept;
      length = s.aead
        ? s.aead.packetLength(this.seq, kept)
        : ((kept[0]! << 24) | (kept[1]! << 16) | (kept[2]! << 8) | kept[3]!) >>> 0;
    } else {
      const plain = s.stream ? s.stream.update(header) : header.slice();
      length = new DataView(plain.buffer, plain.byteOffset, 4).getUint32(0);
      this.#first = plain;
    }
    if (length >= MAX_PACKET_LENGTH) {
      throw new PacketError(
        "length",
        `packet length ${length} is over the limit (${MAX_PACKET_LENGTH})`,
      );
    }
    if (length < 5) throw new PacketError("length", `packet length ${length} is too small`);
    const lengthOutside = s.aead !== null || s.etm;
    const padded = lengthOutside ? length : length + 4;
    if (padded % s.blockSize !== 0) {
      throw new PacketError(
        "length",
        `packet length ${length} is not a multiple of the cipher block size ${s.blockSize}`,
      );
    }
    this.#length = length;
    const total = 4 + length + s.macLength + s.tagLength;
    return total - header.length;
  }

  /**
   * True when packets can be opened with {@link finishAsync} through Web Crypto (AES-GCM, or
   * AES-CTR with an EtM MAC, and no compression).
   */
  get canReadAhead(): boolean {
    const s = this.#s;
    return (s.aeadAsync !== null || s.streamAsync !== null) && this.decompress === null;
  }

  /**
   * Completes the packet begun by {@link begin} and returns its payload. `whole` (header and
   * rest in one array, when the caller has them so) spares AEAD ciphers a copy.
   */
  finish(rest: Uint8Array, whole?: Uint8Array): Uint8Array {
    const { s, first, length, seq } = this.#next();
    let plain: Uint8Array; // padding_length ‖ payload ‖ padding, from `at` on
    let at = 0;
    if (s.aead) {
      let wire = whole;
      if (!wire) {
        wire = new Uint8Array(first.length + rest.length);
        wire.set(first, 0);
        wire.set(rest, first.length);
      }
      let opened: Uint8Array;
      try {
        opened = s.aead.open(seq, wire);
      } catch {
        throw new PacketError("mac", "message authentication failed (bad AEAD tag)");
      }
      plain = opened;
      at = 4;
    } else if (s.etm && s.stream && s.mac) {
      const enc = rest.subarray(0, length);
      const mac = rest.subarray(length);
      if (!bytesEqual(s.mac(seq, first, enc), mac)) {
        throw new PacketError("mac", "message authentication failed (bad MAC)");
      }
      plain = s.stream.update(enc);
    } else {
      const restEnc = rest.subarray(0, rest.length - s.macLength);
      const restPlain = s.stream ? s.stream.update(restEnc) : restEnc;
      if (s.mac) {
        const mac = rest.subarray(rest.length - s.macLength);
        if (!bytesEqual(s.mac(seq, first, restPlain), mac)) {
          throw new PacketError("mac", "message authentication failed (bad MAC)");
        }
      }
      const whole = new Uint8Array(first.length + restPlain.length);
      whole.set(first, 0);
      whole.set(restPlain, first.length);
      plain = whole;
      at = 4;
    }
    // `plain` is fresh memory (decrypted or assembled here), so a view is safe to hand out.
    const payload = payloadOf(releasable(plain), at, length);
    return this.decompress ? this.decompress(payload) : payload;
  }

  /** Ends the packet begun: its header and length, and its sequence number (now advanced). */
  #next(): { s: State; first: Uint8Array; length: number; seq: number } {
    const s = this.#s;
    const first = this.#first!;
    const length = this.#length;
    this.#first = null;
    const seq = this.seq;
    this.seq = (seq + 1) >>> 0;
    this.bytesSinceKex += 4 + length + s.macLength + s.tagLength;
    return { s, first, length, seq };
  }

  /**
   * Like {@link finish}, but decrypts through Web Crypto when {@link canReadAhead}: all
   * state (sequence number, cipher counters, EtM MAC check) advances now, in packet order, and
   * the promise settles with the payload later. Call it for consecutive packets without waiting
   * for earlier promises; a promise rejects with `PacketError` exactly where `finish` would
   * throw. `whole` (header and rest in one array) must not change until the promise settles.
   * Without read-ahead support this is `finish` wrapped in a promise.
   */
  finishAsync(rest: Uint8Array, whole: Uint8Array): Promise<Uint8Array> {
    if (!this.canReadAhead) {
      try {
        return Promise.resolve(this.finish(rest, whole));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    const { s, first, length, seq } = this.#next();
    let body: Promise<Uint8Array>;
    if (s.aeadAsync) {
      body = s.aeadAsync.openAsync(seq, whole).then(
        (b) => b,
        () => {
          throw new PacketError("mac", "message authentication failed (bad AEAD tag)");
        },
      );
    } else {
      const enc = rest.subarray(0, length);
      if (!bytesEqual(s.mac!(seq, first, enc), rest.subarray(length))) {
        return Promise.reject(new PacketError("mac", "message authentication failed (bad MAC)"));
      }
      body = s.streamAsync!.updateAsync(enc);
    }
    return body.then((plain) => payloadOf(releasable(plain), 0, length));
  }
}

/**
 * The payload of the `length` bytes `padding_length ‖ payload ‖ padding` at `at` in `plain`,
 * after the padding checks.
 */
function payloadOf(plain: Uint8Array, at: number, length: number): Uint8Array {
  const paddingLength = plain[at]!;
  if (paddingLength < 4) {
    throw new PacketError(
      "padding",
      `padding of ${paddingLength} bytes is under the minimum of 4`,
    );
  }
  if (paddingLength + 1 > length) {
    throw new PacketError("padding", `padding of ${paddingLength} bytes exceeds the packet`);
  }
  return plain.subarray(at + 1, at + length - paddingLength);
}
