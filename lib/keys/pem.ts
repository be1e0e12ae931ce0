/**
 * The PEM private key formats (PKCS#1, SEC1, PKCS#8, plain or encrypted) through node:crypto.
 * Errors name the file and never the passphrase.
 * @module
 */

import type { KeyObject } from "node:crypto";
import { nodeCrypto } from "../algorithms/node_loader.ts";
import { bytesToBigint } from "../wire/buffer.ts";
import type { Signer } from "../auth/types.ts";
import { KeyFileError, type PrivateKeyOptions } from "./key_file_error.ts";
import {
  CURVES,
  dsaFromSpki,
  dsaSignerFromKey,
  ecdsaSigner,
  ed25519Signer,
  fixedWidth,
  fromB64url,
  rsaSignerFromKey,
} from "./signer.ts";

function signerFromKeyObject(key: KeyObject, source: string): Signer {
  const parts = { source, comment: "" };
  switch (key.asymmetricKeyType) {
    case "ed25519": {
      const jwk = key.export({ format: "jwk" });
      return ed25519Signer(fromB64url(jwk.x!), fromB64url(jwk.d!), parts);
    }
    case "ec": {
      const jwk = key.export({ format: "jwk" });
      const type = Object.keys(CURVES).find((t) => CURVES[t]!.webCrypto === jwk.crv);
      if (!type) throw new KeyFileError("unsupported", source, `unsupported curve ${jwk.crv}`);
      const size = CURVES[type]!.size;
      const coord = (v: string) => fixedWidth(fromB64url(v), size)!;
      return ecdsaSigner(type, coord(jwk.x!), coord(jwk.y!), coord(jwk.d!), parts);
    }
    case "rsa": {
      const jwk = key.export({ format: "jwk" });
      const n = bytesToBigint(fromB64url(jwk.n!));
      const e = bytesToBigint(fromB64url(jwk.e!));
      return rsaSignerFromKey(key, n, e, parts);
    }
    case "dsa": {
      const spki = new Uint8Array(
        nodeCrypto().createPublicKey(key).export({ type: "spki", format: "der" }),
      );
      return dsaSignerFromKey(key, dsaFromSpki(spki), parts);
    }
    default:
      throw new KeyFileError(
        "unsupported",
        source,
        `unsupported key algorithm ${key.asymmetricKeyType ?? "unknown"}`,
      );
  }
}

/** Parses one PEM block (`label` is its BEGIN label) into a signer. */
export async function parsePem(
  text: string,
  label: string,
  options: PrivateKeyOptions,
): Promise<Signer> {
  const { source } = options;
  const encrypted = label === "ENCRYPTED PRIVATE KEY" || /^Proc-Type:\s*4,\s*ENCRYPTED/m.test(text);
  let passphrase: string | undefined;
  if (encrypted) {
    const given = options.passphrase ? await options.passphrase() : null;
    if (given === null || given === undefined) {
      throw new KeyFileError(
        "needs-passphrase",
        source,
        "the key is encrypted and no passphrase was given",
      );
    }
    passphrase = given;
  }
  let key: KeyObject;
  try {
    key = passphrase === undefined
      ? nodeCrypto().createPrivateKey({ key: text, format: "pem" })
      : nodeCrypto().createPrivateKey({ key: text, format: "pem", passphrase });
  } catch (e) {
    // The cause is dropped on purpose: node's error text is generic but is not ours to vouch for.
    if (encrypted) {
      throw new KeyFileError(
        "wrong-passphrase",
        source,
        "wrong passphrase (the PEM key did not decrypt to a valid key)",
      );
    }
    throw new KeyFileError(
      "malformed",
      source,
      `the ${label} block is not a valid key (${plainNodeMessage(e)})`,
    );
  }
  try {
    return signerFromKeyObject(key, source);
  } catch (e) {
    if (e instanceof KeyFileError) throw e;
    throw new KeyFileError("malformed", source, `cannot use the key: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

function plainNodeMessage(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.replace(/^error:[0-9A-F]+:[^:]*:+/, "").slice(0, 120);
}
