/**
 * The OpenSSH private key format (PROTOCOL.key), plain or encrypted with a bcrypt-derived key.
 * Errors name the file and never the passphrase.
 * @module
 */

import type { Buffer } from "node:buffer";
import { nodeCrypto, preloadNodeCrypto } from "../algorithms/node_loader.ts";
import { bigintToBytes, bytesEqual, encodeText, SshReader, WireError } from "../wire/buffer.ts";
import type { Signer } from "../auth/types.ts";
import { KeyFileError, printable, type PrivateKeyOptions } from "./key_file_error.ts";
import { findKeyCipher, type KeyCipher } from "./key_ciphers.ts";
import {
  b64url,
  CURVES,
  dsaPkcs8,
  dsaSignerFromKey,
  ecdsaSigner,
  ed25519Signer,
  fixedWidth,
  type KeySigner,
  rsaSignerFromKey,
} from "./signer.ts";

/** Reads one key's private fields (PROTOCOL.key private section) and builds its signer. */
function readOpenSshKey(r: SshReader, source: string): { signer: KeySigner; type: string } {
  const type = r.text("key type");
  const build = (): (comment: string) => KeySigner => {
    switch (type) {
      case "ssh-ed25519": {
        const pub = r.string("Ed25519 public key").slice();
        const priv = r.string("Ed25519 private key");
        if (pub.length !== 32 || priv.length !== 64) {
          throw new WireError("Ed25519 key has the wrong length");
        }
        if (!bytesEqual(priv.subarray(32), pub)) {
          throw new WireError("Ed25519 private key does not contain its public key");
        }
        const seed = priv.slice(0, 32);
        return (comment) => ed25519Signer(pub, seed, { source, comment });
      }
      case "ecdsa-sha2-nistp256":
      case "ecdsa-sha2-nistp384":
      case "ecdsa-sha2-nistp521": {
        const curve = CURVES[type]!;
        const id = r.text("curve name");
        if (id !== curve.id) throw new WireError(`curve ${id} does not match key type ${type}`);
        const q = r.string("public point");
        if (q.length !== 1 + 2 * curve.size || q[0] !== 4) {
          throw new WireError("ECDSA public point is not an uncompressed point of the curve");
        }
        const x = q.slice(1, 1 + curve.size);
        const y = q.slice(1 + curve.size);
        const d = fixedWidth(r.string("private scalar"), curve.size);
        if (!d) throw new WireError("ECDSA private scalar is too long");
        return (comment) => ecdsaSigner(type, x, y, d, { source, comment });
      }
      case "ssh-rsa": {
        const n = r.mpint("n");
        const e = r.mpint("e");
        const d = r.mpint("d");
        const iqmp = r.mpint("iqmp");
        const p = r.mpint("p");
        const q = r.mpint("q");
        if (p < 2n || q < 2n || p * q !== n) throw new WireError("RSA primes do not match n");
        const jwk = {
          kty: "RSA",
          n: b64url(bigintToBytes(n)),
          e: b64url(bigintToBytes(e)),
          d: b64url(bigintToBytes(d)),
          p: b64url(bigintToBytes(p)),
          q: b64url(bigintToBytes(q)),
          dp: b64url(bigintToBytes(d % (p - 1n))),
          dq: b64url(bigintToBytes(d % (q - 1n))),
          qi: b64url(bigintToBytes(iqmp)),
        };
        return (comment) =>
          rsaSignerFromKey(nodeCrypto().createPrivateKey({ key: jwk, format: "jwk" }), n, e, {
            source,
            comment,
          });
      }
      case "ssh-dss": {
        const p = r.mpint("p");
        const q = r.mpint("q");
        const g = r.mpint("g");
        const y = r.mpint("y");
        const x = r.mpint("x");
        return (comment) => {
          const key = nodeCrypto().createPrivateKey({
            key: dsaPkcs8(p, q, g, x) as Buffer, // any Uint8Array works at run time
            format: "der",
            type: "pkcs8",
          });
          return dsaSignerFromKey(key, { p, q, g, y }, { source, comment });
        };
      }
      default:
        if (type.startsWith("sk-")) {
          throw new KeyFileError(
            "unsupported",
            source,
            `security key (FIDO) keys (${type}) are not supported`,
          );
        }
        if (type.includes("-cert-")) {
          throw new KeyFileError(
            "unsupported",
            source,
            `certificate keys (${type}) are not supported`,
          );
        }
        throw new KeyFileError("unsupported", source, `unsupported key type ${printable(type)}`);
    }
  };
  const finish = build();
  const comment = r.text("comment");
  return { signer: finish(comment), type };
}

const AUTH_MAGIC = encodeText("openssh-key-v1\0");

/** Parses the base64-decoded body of an OPENSSH PRIVATE KEY block into a signer. */
export async function parseOpenSsh(
  blob: Uint8Array,
  options: PrivateKeyOptions,
): Promise<Signer> {
  const { source } = options;
  const malformed = (why: string, cause?: unknown) =>
    new KeyFileError("malformed", source, why, { cause });
  if (
    blob.length < AUTH_MAGIC.length || !bytesEqual(blob.subarray(0, AUTH_MAGIC.length), AUTH_MAGIC)
  ) {
    throw malformed("not an OpenSSH private key (missing openssh-key-v1 header)");
  }
  const r = new SshReader(blob.subarray(AUTH_MAGIC.length), "OpenSSH private key");
  let cipherName: string, kdfName: string, kdfOptions: Uint8Array, publicBlob: Uint8Array;
  let encrypted: Uint8Array, tag: Uint8Array;
  let cipher: KeyCipher | null = null;
  try {
    cipherName = r.text("cipher name");
    kdfName = r.text("kdf name");
    kdfOptions = r.string("kdf options");
    const nkeys = r.uint32("number of keys");
    if (nkeys !== 1) throw malformed(`holds ${nkeys} keys; exactly one is supported`);
    publicBlob = r.string("public key").slice();
    const encLen = r.uint32("private section length");
    if (cipherName !== "none") {
      cipher = findKeyCipher(cipherName);
      if (!cipher) {
        throw new KeyFileError(
          "unsupported",
          source,
          `unsupported key cipher ${printable(cipherName)}`,
        );
      }
    }
    encrypted = r.raw(encLen, "private section");
    tag = r.raw(cipher?.tagLen ?? 0, "authentication tag");
    r.end();
  } catch (e) {
    if (e instanceof KeyFileError) throw e;
    throw malformed(`truncated or corrupt: ${(e as Error).message}`, e);
  }
  let plain = encrypted;
  if (cipher) {
    if (kdfName !== "bcrypt") {
      throw new KeyFileError(
        "unsupported",
        source,
        `unsupported key derivation ${printable(kdfName)}`,
      );
    }
    let salt: Uint8Array, rounds: number;
    try {
      const kr = new SshReader(kdfOptions, "bcrypt options");
      salt = kr.string("salt");
      rounds = kr.uint32("rounds");
      kr.end();
    } catch (e) {
      throw malformed(`bad bcrypt options: ${(e as Error).message}`, e);
    }
    if (salt.length === 0 || rounds < 1) {
      throw malformed("bad bcrypt options (empty salt or 0 rounds)");
    }
    if (encrypted.length % cipher.block !== 0) {
      throw malformed(`private section is not a multiple of the ${cipher.block}-byte cipher block`);
    }
    const passphrase = options.passphrase ? await options.passphrase() : null;
    if (passphrase === null || passphrase === undefined) {
      throw new KeyFileError(
        "needs-passphrase",
        source,
        "the key is encrypted and no passphrase was given",
      );
    }
    const pass = encodeText(passphrase);
    if (pass.length === 0) {
      throw new KeyFileError(
        "wrong-passphrase",
        source,
        "wrong passphrase (an empty passphrase was given)",
      );
    }
    const derived = new Uint8Array(cipher.keyLen + cipher.ivLen);
    // Loaded only for encrypted keys: most logins never pay for it.
    const { default: bcrypt } = await import("bcrypt-pbkdf");
    const rc = bcrypt.pbkdf(pass, pass.length, salt, salt.length, derived, derived.length, rounds);
    pass.fill(0);
    if (rc !== 0) throw malformed("bcrypt key derivation rejected the file's parameters");
    await preloadNodeCrypto(); // the key ciphers need it (and, on Bun, its ChaCha20 fallback)
    const decrypted = cipher.decrypt(
      derived.subarray(0, cipher.keyLen),
      derived.subarray(cipher.keyLen),
      encrypted,
      tag,
    );
    derived.fill(0);
    if (!decrypted) {
      throw new KeyFileError(
        "wrong-passphrase",
        source,
        "wrong passphrase (authentication tag mismatch)",
      );
    }
    plain = decrypted;
  } else if (kdfName !== "none") {
    throw malformed(`cipher is none but key derivation is ${printable(kdfName)}`);
  }

  const pr = new SshReader(plain, "private section");
  let signer: KeySigner;
  try {
    const check1 = pr.uint32("check value");
    const check2 = pr.uint32("check value");
    if (check1 !== check2) {
      if (cipher) {
        throw new KeyFileError(
          "wrong-passphrase",
          source,
          "wrong passphrase (check values do not match)",
        );
      }
      throw malformed("check values do not match");
    }
    signer = readOpenSshKey(pr, source).signer;
    const padding = pr.rest();
    const block = cipher?.block ?? 8;
    if (padding.length >= block || padding.some((b, i) => b !== i + 1)) {
      throw malformed("bad padding after the private key");
    }
  } catch (e) {
    if (e instanceof KeyFileError) throw e;
    throw malformed(`corrupt private section: ${(e as Error).message}`, e);
  } finally {
    if (plain !== encrypted) plain.fill(0);
  }
  if (!bytesEqual(signer.publicBlob, publicBlob)) {
    throw malformed("the public key does not match the private key");
  }
  return signer;
}
