/**
 * The `publickey` method (RFC 4252 §7) with RSA signature algorithm choice from the server's
 * `server-sig-algs` (RFC 8308, RFC 8332). Each key is first offered without a signature; only a
 * key the server answers with PK_OK is used to sign. Traces name keys by type, SHA256
 * fingerprint and source, never by key material.
 * @module
 */

import { bytesEqual, SshWriter } from "../wire/buffer.ts";
import { MSG } from "../wire/messages.ts";
import type { Signer } from "./types.ts";
import { fingerprintSha256 } from "../algorithms/pubkey.ts";
import type { AuthMethod, AuthSession, MethodOutcome } from "./userauth.ts";

export { fingerprintSha256 };

/** RSA key types and their signature algorithms: SHA-512, SHA-256, SHA-1. */
const RSA_FAMILIES: Record<string, readonly [string, string, string]> = {
  "ssh-rsa": ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
  "ssh-rsa-cert-v01@openssh.com": [
    "rsa-sha2-512-cert-v01@openssh.com",
    "rsa-sha2-256-cert-v01@openssh.com",
    "ssh-rsa-cert-v01@openssh.com",
  ],
};
/** The names server-sig-algs uses for them (it lists plain names for certificates too). */
const RSA_BASE = ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] as const;

export interface AlgorithmChoice {
  /** The signature algorithm to use, or null when none is acceptable to both sides. */
  algorithm: string | null;
  /** Why, in words, for the trace. */
  reason: string;
}

/**
 * Picks the signature algorithm for a key. RSA keys: the first of rsa-sha2-512, rsa-sha2-256
 * that server-sig-algs lists and the signer can make; ssh-rsa (SHA-1) only when `legacy`. With no
 * server-sig-algs (no EXT_INFO), ssh-rsa if legacy, otherwise rsa-sha2-256. Other keys: the
 * signer's first algorithm.
 */
export function chooseSignatureAlgorithm(
  signer: Pick<Signer, "type" | "algorithms">,
  serverSigAlgs: readonly string[] | null,
  legacy: boolean,
): AlgorithmChoice {
  const family = RSA_FAMILIES[signer.type];
  if (!family) {
    const algorithm = signer.algorithms[0] ?? signer.type;
    return { algorithm, reason: `the ${signer.type} key's algorithm` };
  }
  const can = (i: number) => signer.algorithms.includes(family[i]!);
  if (serverSigAlgs !== null) {
    for (const i of [0, 1]) {
      if (serverSigAlgs.includes(RSA_BASE[i]!) && can(i)) {
        return { algorithm: family[i]!, reason: `server-sig-algs lists ${RSA_BASE[i]}` };
      }
    }
    const sha2 = RSA_BASE.slice(0, 2).filter((a) => serverSigAlgs.includes(a));
    if (sha2.length) {
      return {
        algorithm: null,
        reason: `server-sig-algs lists ${sha2.join(", ")}, which the key's source cannot sign with`,
      };
    }
    if (legacy && can(2)) {
      return {
        algorithm: family[2],
        reason: "server-sig-algs lists neither rsa-sha2-512 nor rsa-sha2-256; legacy allows " +
          "ssh-rsa (SHA-1)",
      };
    }
    return {
      algorithm: null,
      reason: `server-sig-algs (${serverSigAlgs.join(", ") || "empty"}) lists ` +
        (serverSigAlgs.includes("ssh-rsa")
          ? "only ssh-rsa (SHA-1) for RSA, which needs legacy"
          : "no RSA signature algorithm"),
    };
  }
  if (legacy && can(2)) {
    return {
      algorithm: family[2],
      reason: "the server sent no server-sig-algs; legacy allows ssh-rsa (SHA-1), as OpenSSH does",
    };
  }
  if (can(1)) {
    return {
      algorithm: family[1],
      reason:
        "the server sent no server-sig-algs; trying rsa-sha2-256 (ssh-rsa SHA-1 needs legacy)",
    };
  }
  return { algorithm: null, reason: "the key's source cannot make rsa-sha2 signatures" };
}

/**
 * The data a publickey signature covers (RFC 4252 §7): string session id, byte 50, string user,
 * string "ssh-connection", string "publickey", TRUE, string algorithm, string public key blob.
 */
export function publickeySignedData(
  sessionId: Uint8Array,
  user: string,
  algorithm: string,
  blob: Uint8Array,
): Uint8Array {
  return new SshWriter().string(sessionId).byte(MSG.USERAUTH_REQUEST).string(user)
    .string("ssh-connection").string("publickey").bool(true).string(algorithm).string(blob)
    .bytes();
}

export class PublicKeyMethod implements AuthMethod {
  readonly name = "publickey";
  exhausted = false;
  readonly #load: () => Promise<Signer[]>;
  readonly #legacy: boolean;
  #signers: Signer[] | null = null;
  #index = 0;
  readonly #offered = new Set<string>();

  constructor(load: () => Promise<Signer[]>, legacy: boolean) {
    this.#load = load;
    this.#legacy = legacy;
  }

  /** True until the keys are loaded and turn out to be none. */
  get capable(): boolean {
    return this.#signers === null || this.#signers.length > 0;
  }

  async next(session: AuthSession): Promise<MethodOutcome> {
    if (this.#signers === null) {
      this.#signers = await this.#load();
      if (this.#signers.length === 0) {
        session.skip(this.name, "no keys (none given with -i, none found, no agent keys)");
      }
    }
    while (this.#index < this.#signers.length) {
      const signer = this.#signers[this.#index++]!;
      const fingerprint = fingerprintSha256(signer.publicBlob);
      const label = `${signer.type} ${fingerprint} from ${signer.source}`;
      if (this.#offered.has(fingerprint)) continue; // the same key from a file and the agent
      this.#offered.add(fingerprint);
      const choice = chooseSignatureAlgorithm(
        signer,
        session.transport.serverSigAlgs,
        this.#legacy,
      );
      if (choice.algorithm === null) {
        session.noSignatureAlgorithm = true;
        session.skip(this.name, `${label}: ${choice.reason}`);
        continue;
      }
      const outcome = await this.#offer(session, signer, choice.algorithm, label, choice.reason);
      if (outcome !== null) return outcome;
    }
    this.exhausted = true;
    return "exhausted";
  }

  /** Offers one key; null when it could not be used locally (signing failed). */
  async #offer(
    session: AuthSession,
    signer: Signer,
    algorithm: string,
    label: string,
    reason: string,
  ): Promise<MethodOutcome | null> {
    const blob = signer.publicBlob;
    const index = session.attempt(this.name, `${label}, ${algorithm} (${reason})`);
    await session.send(
      session.request(this.name).bool(false).string(algorithm).string(blob).bytes(),
    );
    let reply = await session.reply(this.name, true);
    if (reply.kind === "method") {
      const [okAlg, okBlob] = session.parse(reply.payload, "USERAUTH_PK_OK", (r) => {
        return [r.text("algorithm"), r.string("public key blob")] as const;
      });
      if (okAlg !== algorithm || !bytesEqual(okBlob, blob)) {
        throw session.protocolError(
          `USERAUTH_PK_OK names ${okAlg} and a different key than the ${algorithm} key offered`,
        );
      }
      session.info(`the server accepts key ${label.split(" from ")[0]}; signing with ${algorithm}`);
      const data = publickeySignedData(session.transport.sessionId, session.user, algorithm, blob);
      let signature: Uint8Array;
      try {
        signature = await signer.sign(data, algorithm);
      } catch (e) {
        session.settle(index, "skipped");
        session.info(
          `could not sign with ${label}: ${e instanceof Error ? e.message : String(e)}`,
        );
        return null;
      }
      await session.send(
        session.request(this.name).bool(true).string(algorithm).string(blob).string(signature)
          .bytes(),
      );
      reply = await session.reply(this.name, false);
      if (reply.kind === "failure" && !reply.partial) {
        session.info(`the server accepted key ${fingerprintSha256(blob)} but not its signature`);
      }
    }
    session.settle(index, reply);
    if (reply.kind === "success") return "success";
    if (reply.kind === "failure") return reply.partial ? "partial" : "failure";
    throw session.protocolError("unexpected message after a signed publickey request");
  }
}
