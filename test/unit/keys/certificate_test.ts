import assert from "node:assert/strict";
import type { Signer } from "../../../lib/auth/types.ts";
import {
  certificateSigner,
  parseCertificate,
  validityText,
} from "../../../lib/keys/certificate.ts";
import { SshWriter } from "../../../lib/wire/buffer.ts";

const KEY = new Uint8Array(32).fill(7);
const CA = new SshWriter().string("ssh-ed25519").string(new Uint8Array(32).fill(9)).bytes();

/** An ssh-ed25519 user certificate, laid out as PROTOCOL.certkeys says. */
function certBlob(): Uint8Array {
  const principals = new SshWriter().string("admin").string("ops").bytes();
  const extensions = new SshWriter().string("permit-pty").string(new Uint8Array(0)).bytes();
  const body = new SshWriter()
    .string("ssh-ed25519-cert-v01@openssh.com")
    .string(new Uint8Array(32).fill(1)) // nonce
    .string(KEY)
    .uint64(41n)
    .uint32(1)
    .string("test-id")
    .string(principals)
    .uint64(1_700_000_000n)
    .uint64(0xffff_ffff_ffff_ffffn)
    .string(new Uint8Array(0))
    .string(extensions)
    .string(new Uint8Array(0))
    .string(CA)
    .bytes();
  const signature = new SshWriter().string("ssh-ed25519").string(new Uint8Array(64)).bytes();
  return new SshWriter().raw(body).string(signature).bytes();
}

Deno.test("parseCertificate() reads every field and the certified key as a plain blob", () => {
  const blob = certBlob();
  const c = parseCertificate(blob);
  assert.equal(c.certType, "ssh-ed25519-cert-v01@openssh.com");
  assert.equal(c.keyType, "ssh-ed25519");
  assert.deepEqual(c.publicBlob, new SshWriter().string("ssh-ed25519").string(KEY).bytes());
  assert.equal(c.serial, 41n);
  assert.equal(c.kind, "user");
  assert.equal(c.keyId, "test-id");
  assert.deepEqual(c.principals, ["admin", "ops"]);
  assert.deepEqual(c.extensions, ["permit-pty"]);
  assert.deepEqual(c.criticalOptions, []);
  assert.deepEqual(c.caKey, CA);
  assert.equal(c.signedData.length, blob.length - c.signature.length - 4);
  assert.equal(validityText(c), "2023-11-14T22:13:20Z..forever");
  assert.throws(() => parseCertificate(blob.subarray(0, blob.length - 3)), /truncated/);
  assert.throws(() => parseCertificate(CA), /not a certificate/);
});

Deno.test("certificateSigner() offers the certificate and signs with the key's own algorithm", async () => {
  const calls: string[] = [];
  const key: Signer = {
    type: "ssh-ed25519",
    publicBlob: new SshWriter().string("ssh-ed25519").string(KEY).bytes(),
    bits: 256,
    comment: "me",
    source: "/k",
    algorithms: ["ssh-ed25519"],
    sign: (_data, algorithm) => {
      calls.push(algorithm);
      return Promise.resolve(new Uint8Array([1]));
    },
  };
  const signer = certificateSigner(key, certBlob(), "/k-cert.pub");
  assert.equal(signer.type, "ssh-ed25519-cert-v01@openssh.com");
  assert.deepEqual(signer.algorithms, ["ssh-ed25519-cert-v01@openssh.com"]);
  assert.deepEqual(signer.publicBlob, certBlob());
  await signer.sign(new Uint8Array(1), "ssh-ed25519-cert-v01@openssh.com");
  assert.deepEqual(calls, ["ssh-ed25519"]);
  assert.match(signer.comment, /certificate test-id, serial 41/);
});
