/** Shapes shared by the authentication layer and the key sources (files, agent). @module */

/** A private key that can sign, from a key file or from ssh-agent. Never exposes key bytes. */
export interface Signer {
  /** Key type of the public blob: `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`, ... */
  readonly type: string;
  /** The SSH public key blob. */
  readonly publicBlob: Uint8Array;
  /** Key size in bits. */
  readonly bits: number;
  /** The key's comment, if any. */
  readonly comment: string;
  /** Where it came from, for traces: e.g. `/root/.ssh/id_ed25519` or `agent`. */
  readonly source: string;
  /**
   * Signature algorithms this key can produce, best first (for RSA: `rsa-sha2-512`,
   * `rsa-sha2-256`, `ssh-rsa`; for others: just the key type).
   */
  readonly algorithms: readonly string[];
  /** Signs `data` with `algorithm` and returns the SSH signature blob (string name, string sig). */
  sign(data: Uint8Array, algorithm: string): Promise<Uint8Array>;
}
