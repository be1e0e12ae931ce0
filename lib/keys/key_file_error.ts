/**
 * The error of an unusable key file, the options of the private key parsers, and the helper that
 * keeps file-supplied names printable in error messages.
 * @module
 */

/** Why a key file could not be used. */
export type KeyFileErrorReason =
  | "needs-passphrase"
  | "wrong-passphrase"
  | "unsupported"
  | "malformed"
  | "unreadable";

/** A key file could not be read, decrypted or understood. The message names the file only. */
export class KeyFileError extends Error {
  override name = "KeyFileError";
  readonly reason: KeyFileErrorReason;
  /** The file (or other origin) the key came from. */
  readonly source: string;

  constructor(
    reason: KeyFileErrorReason,
    source: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`key file ${source}: ${message}`, options);
    this.reason = reason;
    this.source = source;
  }
}

/** Options for {@link parsePrivateKey} and {@link loadPrivateKeyFile}. */
export interface PrivateKeyOptions {
  /** Where the text came from (a path), used in errors and as the signer's `source`. */
  source: string;
  /** Asked only when the key is encrypted; resolve null to decline. */
  passphrase?: () => Promise<string | null>;
}

/** File-supplied text made safe and short for an error message. */
export function printable(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, "?");
  return clean.length > 64 ? clean.slice(0, 64) + "..." : clean;
}
