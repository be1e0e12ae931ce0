/**
 * Shapes shared by the algorithm registries. Each category has one table whose order is the
 * preference order; the default offer is every entry whose status is not `legacy`.
 * @module
 */

export type AlgorithmStatus = "recommended" | "supported" | "legacy";

/** What every registry entry has. */
export interface AlgorithmInfo {
  /** The SSH name, e.g. `curve25519-sha256`. */
  readonly name: string;
  readonly status: AlgorithmStatus;
  /** Where it is specified, e.g. `RFC 8731`. */
  readonly spec: string;
  /** For legacy entries: the risk in one line, shown in traces and reports. */
  readonly risk?: string;
  /**
   * True when the algorithm always runs on `node:crypto` (finite-field DH, RSA and DSA, the CBC
   * ciphers), so the transport starts loading that module as soon as it is negotiated.
   */
  readonly usesNodeCrypto?: boolean;
  /**
   * False when this runtime cannot run the algorithm (sntrup761 without WebAssembly): it is then
   * left out of the default offer, and only an explicit request reaches it (and fails clearly).
   */
  readonly available?: () => boolean;
}

export type HashName = "sha1" | "sha256" | "sha384" | "sha512";

// ---------------------------------------------------------------------------------------------
// Key exchange

/** The inputs of an exchange and its message I/O, the same for both roles. */
export type KexExchange = Pick<
  KexContext,
  "clientVersion" | "serverVersion" | "clientKexInit" | "serverKexInit" | "send" | "receive"
>;

/** What a key exchange method needs from the transport. */
export interface KexContext {
  /** Version lines without CR LF, exactly as sent and received (V_C, V_S: bytes, not text). */
  readonly clientVersion: Uint8Array;
  readonly serverVersion: Uint8Array;
  /** The whole KEXINIT payloads (starting with the message number byte 20). */
  readonly clientKexInit: Uint8Array;
  readonly serverKexInit: Uint8Array;
  /** Sends one message payload (starting with its message number). */
  send(payload: Uint8Array): Promise<void>;
  /**
   * Receives the next key-exchange message (number 30..49). The transport has already handled
   * IGNORE/DEBUG and turned DISCONNECT or any other message into an error.
   */
  receive(): Promise<Uint8Array>;
  /** Adds a line to the trace (`kex` stage, type `exchange`), e.g. "group of 2048 bits". */
  note(detail: string): void;
  /** Group-exchange sizes to request (bits). `min` is 2048 unless legacy algorithms are on. */
  readonly gex: { min: number; preferred: number; max: number };
}

/** The outcome of a key exchange, before the host key signature is checked. */
export interface KexResult {
  /** The shared secret K exactly as it enters the exchange hash and key derivation (SSH-encoded,
   * with its length prefix: an mpint for classic methods, a string for hybrid PQ methods). */
  readonly sharedSecret: Uint8Array;
  /** The exchange hash H. */
  readonly exchangeHash: Uint8Array;
  /** K_S: the server's public host key blob. */
  readonly hostKeyBlob: Uint8Array;
  /** The signature blob over H (string format-name, string signature). */
  readonly signatureBlob: Uint8Array;
  /** For the post-quantum hybrids: which implementation computed the KEM. */
  readonly kemBackend?: KemBackendInfo;
}

/** Which implementation computed a post-quantum KEM, for the trace (`kem-backend`). */
export interface KemBackendInfo {
  /** `ML-KEM-768` or `sntrup761`. */
  readonly algorithm: string;
  /** `wasm`: liboqs in WebAssembly; `js`: the JavaScript fallback. */
  readonly name: "wasm" | "js";
  readonly detail: string;
}

/** A key exchange method. A method throws `KexFailure` for a bad peer value. */
export interface KexAlgorithm extends AlgorithmInfo {
  /** The hash used for the exchange hash and key derivation. */
  readonly hash: HashName;
  exchange(ctx: KexContext): Promise<KexResult>;
}

/** The peer sent a value that must be refused (out of range, off the curve, all zero, ...). */
export class KexFailure extends Error {
  override name = "KexFailure";
}

/** Group exchange: the server answered with a group smaller than the minimum asked for. */
export class DhGroupTooSmall extends KexFailure {
  override name = "DhGroupTooSmall";
  constructor(readonly bits: number, readonly min: number) {
    super(`server's DH group of ${bits} bits is smaller than the minimum of ${min} bits`);
  }
}

// ---------------------------------------------------------------------------------------------
// Host keys and signatures

/** A public key parsed from its SSH blob. */
export interface PublicKeyInfo {
  /** The blob's key type, e.g. `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`, `ssh-dss`. */
  readonly type: string;
  /** Key size in bits (RSA modulus, DSA p, EC curve size, 256 for Ed25519). */
  readonly bits: number;
  readonly blob: Uint8Array;
}

/** A host key (signature) algorithm such as `rsa-sha2-512`. */
export interface HostKeyAlgorithm extends AlgorithmInfo {
  /** The key type its public key blobs carry (`ssh-rsa` for `rsa-sha2-512`). */
  readonly keyType: string;
  /**
   * Verifies `signatureBlob` (string name, string signature) by the key `keyBlob` over `data`.
   * Returns false for a wrong signature; throws `WireError` for a malformed blob.
   */
  verify(keyBlob: Uint8Array, signatureBlob: Uint8Array, data: Uint8Array): Promise<boolean>;
}

// ---------------------------------------------------------------------------------------------
// Packet ciphers and MACs

/** Streaming transform (CTR or CBC): each call continues where the last one ended. */
export interface StreamTransform {
  /** Transforms `data` (a multiple of the block size) and returns the result. */
  update(data: Uint8Array): Uint8Array;
}

/** AEAD packet protection (aes-gcm@openssh.com, chacha20-poly1305@openssh.com). */
export interface AeadTransform {
  /**
   * Encrypts a whole plain packet `uint32 packet_length ‖ padding_length ‖ payload ‖ padding`
   * for sequence number `seq` and returns the wire bytes including the tag.
   */
  seal(seq: number, packet: Uint8Array): Uint8Array;
  /** Returns packet_length from the first 4 wire bytes (chacha encrypts it; GCM does not). */
  packetLength(seq: number, first4: Uint8Array): number;
  /**
   * Checks the tag of a whole wire packet (4 + packet_length + tag bytes) and returns the
   * plain packet without the tag. Throws on a bad tag (caller reports a MAC error).
   */
  open(seq: number, wire: Uint8Array): Uint8Array;
}

/** An AEAD packet failed its authentication check: it was altered or the keys disagree. */
export class CipherIntegrityError extends Error {
  override name = "CipherIntegrityError";
}

/**
 * An AEAD whose packets can also be opened asynchronously. Calls to `open` and `openAsync` must be
 * made in packet order (each takes the next invocation counter at call time); the promises may
 * settle in any order.
 */
export interface ReadAheadAead extends AeadTransform {
  /**
   * Like `open`, but resolves with the plain packet body only (`padding_length ‖ payload ‖
   * padding`, without the 4-byte length). Rejects with {@link CipherIntegrityError} on a bad tag.
   * `wire` must not change until the promise settles.
   */
  openAsync(seq: number, wire: Uint8Array): Promise<Uint8Array>;
}

/** A stream transform that can also transform asynchronously (stateless per call: AES-CTR). */
export interface ReadAheadStream extends StreamTransform {
  /**
   * Like `update` (calls to both must be made in stream order: each takes its counter position
   * at call time), but through Web Crypto. `data` must not change until the promise settles.
   */
  updateAsync(data: Uint8Array): Promise<Uint8Array>;
}

export interface CipherAlgorithm extends AlgorithmInfo {
  readonly keyLength: number;
  readonly ivLength: number;
  /** Cipher block size; packets are padded to a multiple of max(8, blockSize). */
  readonly blockSize: number;
  /** Length of the AEAD tag, 0 for stream ciphers. */
  readonly tagLength: number;
  /** Exactly one of the two factories is present. */
  readonly createStream?: (key: Uint8Array, iv: Uint8Array, encrypt: boolean) => StreamTransform;
  readonly createAead?: (key: Uint8Array, iv: Uint8Array) => AeadTransform;
}

export interface MacAlgorithm extends AlgorithmInfo {
  readonly keyLength: number;
  /** Bytes of MAC on the wire (truncated for `-96` variants). */
  readonly macLength: number;
  /** Encrypt-then-MAC (`-etm@openssh.com`): the length is sent in clear and MACed. */
  readonly etm: boolean;
  /**
   * Returns a function computing MAC(key, uint32 seq ‖ data ‖ more): `more` lets a caller MAC a
   * packet held in two pieces without joining them.
   */
  create(key: Uint8Array): (seq: number, data: Uint8Array, more?: Uint8Array) => Uint8Array;
}

export interface CompressionAlgorithm extends AlgorithmInfo {
  /** True for `zlib@openssh.com`: starts only after user authentication succeeds. */
  readonly delayed: boolean;
}
