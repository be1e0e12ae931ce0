/**
 * For auth tests (over the FakeTransport of test/helpers/fake_transport.ts): the server's
 * messages, parsers of the client's, and small test Signers over real node:crypto keys.
 * @module
 */

import {
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
} from "node:crypto";
import type { Signer } from "../../lib/auth/types.ts";
import type { FakeTransport } from "./fake_transport.ts";
import { SshReader, SshWriter } from "../../lib/wire/buffer.ts";
import { MSG } from "../../lib/wire/messages.ts";

// --- Server messages ---

export function failure(methods: string[], partial = false): Uint8Array {
  return new SshWriter().byte(MSG.USERAUTH_FAILURE).nameList(methods).bool(partial).bytes();
}

export function success(): Uint8Array {
  return new Uint8Array([MSG.USERAUTH_SUCCESS]);
}

export function banner(text: string): Uint8Array {
  return new SshWriter().byte(MSG.USERAUTH_BANNER).string(text).string("").bytes();
}

export function pkOk(algorithm: string, blob: Uint8Array): Uint8Array {
  return new SshWriter().byte(MSG.USERAUTH_PK_OK).string(algorithm).string(blob).bytes();
}

export function passwdChangeReq(prompt: string): Uint8Array {
  return new SshWriter().byte(MSG.USERAUTH_PASSWD_CHANGEREQ).string(prompt).string("").bytes();
}

export function infoRequest(
  name: string,
  instruction: string,
  prompts: { prompt: string; echo: boolean }[],
): Uint8Array {
  const w = new SshWriter().byte(MSG.USERAUTH_INFO_REQUEST).string(name).string(instruction)
    .string("").uint32(prompts.length);
  for (const p of prompts) w.string(p.prompt).bool(p.echo);
  return w.bytes();
}

export function serviceAccept(service: string): Uint8Array {
  return new SshWriter().byte(MSG.SERVICE_ACCEPT).string(service).bytes();
}

// --- Client messages ---

/** The USERAUTH_REQUESTs sent, parsed. */
export function userauthRequests(fake: FakeTransport): UserauthRequest[] {
  return fake.sent.filter((p) => p[0] === MSG.USERAUTH_REQUEST).map(parseUserauthRequest);
}

export interface UserauthRequest {
  user: string;
  service: string;
  method: string;
  /** publickey */
  hasSignature?: boolean;
  algorithm?: string;
  blob?: Uint8Array;
  signature?: Uint8Array;
  /** password */
  password?: string;
  /** keyboard-interactive */
  submethods?: string;
}

export function parseUserauthRequest(payload: Uint8Array): UserauthRequest {
  const r = new SshReader(payload, "USERAUTH_REQUEST");
  if (r.byte() !== MSG.USERAUTH_REQUEST) throw new Error("not a USERAUTH_REQUEST");
  const req: UserauthRequest = { user: r.text(), service: r.text(), method: r.text() };
  if (req.method === "publickey") {
    req.hasSignature = r.bool();
    req.algorithm = r.text();
    req.blob = r.string().slice();
    if (req.hasSignature) req.signature = r.string().slice();
  } else if (req.method === "password") {
    if (r.bool()) throw new Error("password change requests are not expected");
    req.password = r.text();
  } else if (req.method === "keyboard-interactive") {
    r.text("language");
    req.submethods = r.text();
  }
  r.end();
  return req;
}

export function parseInfoResponse(payload: Uint8Array): string[] {
  const r = new SshReader(payload, "USERAUTH_INFO_RESPONSE");
  if (r.byte() !== MSG.USERAUTH_INFO_RESPONSE) throw new Error("not an INFO_RESPONSE");
  const n = r.uint32();
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(r.text());
  r.end();
  return out;
}

// --- Test signers over node:crypto keys ---

const b64url = (s: string) =>
  Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));

export interface TestSigner extends Signer {
  readonly publicKey: KeyObject;
  /** Algorithms `sign()` was called with. */
  readonly signedWith: string[];
}

export function ed25519Signer(source = "test-ed25519"): TestSigner {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const raw = b64url(publicKey.export({ format: "jwk" }).x!);
  const signedWith: string[] = [];
  return {
    type: "ssh-ed25519",
    publicBlob: new SshWriter().string("ssh-ed25519").string(raw).bytes(),
    bits: 256,
    comment: "",
    source,
    algorithms: ["ssh-ed25519"],
    publicKey,
    signedWith,
    sign(data, algorithm) {
      signedWith.push(algorithm);
      const sig = nodeSign(null, data, privateKey);
      return Promise.resolve(new SshWriter().string(algorithm).string(sig).bytes());
    },
  };
}

const RSA_HASH: Record<string, string> = {
  "rsa-sha2-512": "sha512",
  "rsa-sha2-256": "sha256",
  "ssh-rsa": "sha1",
};

export function rsaSigner(source = "test-rsa"): TestSigner {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = publicKey.export({ format: "jwk" });
  const signedWith: string[] = [];
  return {
    type: "ssh-rsa",
    publicBlob: new SshWriter().string("ssh-rsa").mpintBytes(b64url(jwk.e!))
      .mpintBytes(b64url(jwk.n!)).bytes(),
    bits: 2048,
    comment: "",
    source,
    algorithms: ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
    publicKey,
    signedWith,
    sign(data, algorithm) {
      signedWith.push(algorithm);
      const sig = nodeSign(RSA_HASH[algorithm]!, data, privateKey);
      return Promise.resolve(new SshWriter().string(algorithm).string(sig).bytes());
    },
  };
}

/** Verifies an SSH signature blob over `data` with a test signer's public key. */
export function verifySignature(
  signer: TestSigner,
  data: Uint8Array,
  signatureBlob: Uint8Array,
): { algorithm: string; valid: boolean } {
  const r = new SshReader(signatureBlob, "signature");
  const algorithm = r.text();
  const sig = r.string();
  r.end();
  const hash = signer.type === "ssh-rsa" ? RSA_HASH[algorithm] ?? null : null;
  const key = createPublicKey(signer.publicKey.export({ format: "pem", type: "spki" }));
  return { algorithm, valid: nodeVerify(hash, data, key, sig) };
}
