/**
 * What every key exchange method shares (internal to lib/algorithms): the exchange hash, the
 * reply check, K as an mpint.
 * @module
 */

import { digest } from "./hash.ts";
import { SshReader, SshWriter } from "../wire/buffer.ts";
import { messageName } from "../wire/messages.ts";
import { type HashName, type KexContext, KexFailure } from "./types.ts";

export const HASH_BITS: Record<HashName, number> = {
  sha1: 160,
  sha256: 256,
  sha384: 384,
  sha512: 512,
};

/** Copies into a fresh ArrayBuffer-backed array (Web Crypto and node want that). */
export function own(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

/**
 * The exchange hash H = HASH(string V_C ‖ string V_S ‖ string I_C ‖ string I_S ‖ string K_S ‖
 * middle ‖ K), where `middle` is the method-specific part and `sharedSecret` is K already
 * SSH-encoded (mpint or string).
 */
export function exchangeHash(
  hash: HashName,
  ctx: Pick<KexContext, "clientVersion" | "serverVersion" | "clientKexInit" | "serverKexInit">,
  hostKeyBlob: Uint8Array,
  middle: (w: SshWriter) => void,
  sharedSecret: Uint8Array,
): Uint8Array {
  const w = new SshWriter(2048);
  w.string(ctx.clientVersion).string(ctx.serverVersion);
  w.string(ctx.clientKexInit).string(ctx.serverKexInit);
  w.string(hostKeyBlob);
  middle(w);
  w.raw(sharedSecret);
  return digest(hash, w.bytes());
}

/** Reads a reply and checks its message number. */
export function expectMessage(payload: Uint8Array, type: number, name: string): SshReader {
  const r = new SshReader(payload, name);
  const got = r.byte("message number");
  if (got !== type) {
    throw new KexFailure(`expected ${name} (${type}) but the server sent ${messageName(got)}`);
  }
  return r;
}

/** K as an mpint from unsigned big-endian bytes. */
export function mpintSecret(unsigned: Uint8Array): Uint8Array {
  return new SshWriter(unsigned.length + 5).mpintBytes(unsigned).bytes();
}
