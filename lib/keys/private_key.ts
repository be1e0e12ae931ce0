/**
 * User private keys: the entry points that read a key file (OpenSSH or PEM format) into a
 * {@link Signer}, and the default identity files. HOME is read when asked, never at import.
 * @module
 */

import { decodeBase64 } from "../algorithms/pubkey.ts";
import type { Signer } from "../auth/types.ts";
import { KeyFileError, printable, type PrivateKeyOptions } from "./key_file_error.ts";
import { parseOpenSsh } from "./openssh.ts";
import { parsePem } from "./pem.ts";
import { platform } from "../platform/mod.ts";

export { KeyFileError, type KeyFileErrorReason, type PrivateKeyOptions } from "./key_file_error.ts";
export { algorithmsForKeyType, RSA_ALGORITHMS, signatureNameOf } from "./signer.ts";
export { KEY_FILE_CIPHERS } from "./key_ciphers.ts";

const PEM_LABELS = [
  "RSA PRIVATE KEY",
  "EC PRIVATE KEY",
  "DSA PRIVATE KEY",
  "PRIVATE KEY",
  "ENCRYPTED PRIVATE KEY",
];

/**
 * Parses a private key file's text into a signer. Asks `options.passphrase` only for an
 * encrypted key. Throws {@link KeyFileError} (never naming the passphrase).
 */
export async function parsePrivateKey(text: string, options: PrivateKeyOptions): Promise<Signer> {
  const { source } = options;
  const begin = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text);
  if (!begin) {
    const first = text.trimStart();
    if (first.startsWith("PuTTY-User-Key-File")) {
      throw new KeyFileError("unsupported", source, "PuTTY .ppk keys are not supported");
    }
    if (/^(ssh-|ecdsa-sha2-|sk-)\S+ AAAA/.test(first)) {
      throw new KeyFileError("malformed", source, "this is a public key, not a private key");
    }
    throw new KeyFileError("malformed", source, "not a private key file (no -----BEGIN line)");
  }
  const label = begin[1]!;
  const endMarker = `-----END ${label}-----`;
  const endAt = text.indexOf(endMarker, begin.index);
  if (endAt < 0) {
    throw new KeyFileError("malformed", source, `truncated: no ${endMarker} line`);
  }
  if (label === "OPENSSH PRIVATE KEY") {
    let blob: Uint8Array;
    try {
      blob = decodeBase64(text.slice(begin.index + begin[0].length, endAt).replace(/\s+/g, ""));
    } catch {
      throw new KeyFileError("malformed", source, "the key body is not valid base64");
    }
    return await parseOpenSsh(blob, options);
  }
  if (PEM_LABELS.includes(label)) {
    return await parsePem(text.slice(begin.index, endAt + endMarker.length), label, options);
  }
  if (label === "SSH2 ENCRYPTED PRIVATE KEY") {
    throw new KeyFileError("unsupported", source, "ssh.com (SECSH) private keys are not supported");
  }
  throw new KeyFileError("unsupported", source, `unsupported PEM block ${printable(label)}`);
}

/** Reads a private key file and parses it; the path is the signer's `source`. */
export async function loadPrivateKeyFile(
  path: string,
  options: Omit<PrivateKeyOptions, "source"> & { source?: string } = {},
): Promise<Signer> {
  const source = options.source ?? path;
  let text: string;
  try {
    text = await platform.readTextFile(path);
  } catch (e) {
    const kind = platform.errorKind(e);
    const why = kind === "not-found"
      ? "no such file"
      : kind === "permission-denied"
      ? "permission denied"
      : kind === "is-a-directory"
      ? "is a directory"
      : (e as Error).message;
    throw new KeyFileError("unreadable", source, `cannot read: ${why}`, { cause: e });
  }
  return await parsePrivateKey(text, { ...options, source });
}

export { defaultIdentityFiles } from "./default_files.ts";
