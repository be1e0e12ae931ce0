/**
 * checkHostCertificate(), the certificate host key algorithms and the host-key policy's
 * certificate path, with certificates signed in-process by an Ed25519 CA (Web Crypto): every
 * rule ssh(1) applies, and hostile blobs (truncated, huge length fields, wrong type, trailing
 * bytes) rejected as `WireError` without a stack trace or a hang.
 */

import assert from "node:assert/strict";
import { findHostKey } from "../../../lib/algorithms/registry.ts";
import { fingerprintSha256, publicKeyToLine } from "../../../lib/algorithms/pubkey.ts";
import { buildOffer } from "../../../lib/algorithms/registry.ts";
import { SshError } from "../../../lib/errors/mod.ts";
import {
  checkHostCertificate,
  type HostCertificateOptions,
} from "../../../lib/hostkeys/host_certificate.ts";
import { parseKnownHosts } from "../../../lib/hostkeys/known_hosts.ts";
import { hostKeyPolicy } from "../../../lib/hostkeys/policy.ts";
import { orderHostKeyAlgorithms } from "../../../lib/hostkeys/offer_order.ts";
import { parseCertificate } from "../../../lib/keys/certificate.ts";
import { Tracer } from "../../../lib/trace.ts";
import { SshWriter, WireError } from "../../../lib/wire/buffer.ts";

interface Ed25519Pair {
  blob: Uint8Array;
  sign(data: Uint8Array): Promise<Uint8Array>;
}

async function ed25519Pair(): Promise<Ed25519Pair> {
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  return {
    blob: new SshWriter().string("ssh-ed25519").string(raw).bytes(),
    sign: async (data) =>
      new Uint8Array(
        await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey, new Uint8Array(data)),
      ),
  };
}

const CA = await ed25519Pair();
const OTHER_CA = await ed25519Pair();
const HOST = await ed25519Pair();
const NOW = 1_800_000_000;
const FOREVER = 0xffff_ffff_ffff_ffffn;

interface CertSpec {
  kind?: number;
  principals?: string[];
  validAfter?: bigint;
  validBefore?: bigint;
  critical?: [string, string][];
  ca?: Ed25519Pair;
  signatureName?: string;
  corruptSignature?: boolean;
}

/** A host certificate for HOST's key, as ssh-keygen -s -h lays it out. */
async function cert(spec: CertSpec = {}): Promise<Uint8Array> {
  const ca = spec.ca ?? CA;
  const principals = new SshWriter();
  for (const p of spec.principals ?? ["sw1.example", "10.0.0.1"]) principals.string(p);
  const critical = new SshWriter();
  for (const [n, v] of spec.critical ?? []) {
    critical.string(n).string(new SshWriter().string(v).bytes());
  }
  const hostKey = HOST.blob.subarray(4 + "ssh-ed25519".length + 4);
  const body = new SshWriter()
    .string("ssh-ed25519-cert-v01@openssh.com")
    .string(new Uint8Array(32).fill(3))
    .string(hostKey)
    .uint64(42n)
    .uint32(spec.kind ?? 2)
    .string("sw1-host")
    .string(principals.bytes())
    .uint64(spec.validAfter ?? BigInt(NOW - 60))
    .uint64(spec.validBefore ?? BigInt(NOW + 3600))
    .string(critical.bytes())
    .string(new Uint8Array(0))
    .string(new Uint8Array(0))
    .string(ca.blob)
    .bytes();
  const raw = await ca.sign(body);
  if (spec.corruptSignature) raw[0]! ^= 1;
  const signature = new SshWriter().string(spec.signatureName ?? "ssh-ed25519").string(raw).bytes();
  return new SshWriter().raw(body).string(signature).bytes();
}

const kh = (lines: string[]) => parseKnownHosts(lines.join("\n") + "\n", "kh");
const caLine = (ca: Ed25519Pair = CA, hosts = "*.example") =>
  `@cert-authority ${hosts} ${publicKeyToLine(ca.blob)}`;

function options(
  certBlob: Uint8Array,
  lines: string[] = [caLine()],
  extra: Partial<HostCertificateOptions> = {},
): HostCertificateOptions {
  return {
    certBlob,
    knownHosts: kh(lines),
    host: "sw1.example",
    port: 22,
    principal: "sw1.example",
    now: NOW,
    ...extra,
  };
}

const problemOf = async (
  blob: Uint8Array,
  lines?: string[],
  extra?: Partial<HostCertificateOptions>,
) => (await checkHostCertificate(options(blob, lines, extra))).problem;

Deno.test("checkHostCertificate() accepts a valid certificate from a CA trusted for the host, naming the line", async () => {
  const r = await checkHostCertificate(options(await cert(), ["# ca", caLine()]));
  assert.equal(r.problem, null);
  assert.deepEqual(r.ca, { file: "kh", line: 2 });
  assert.deepEqual(r.summary, {
    certType: "ssh-ed25519-cert-v01@openssh.com",
    keyId: "sw1-host",
    serial: "42",
    principals: ["sw1.example", "10.0.0.1"],
    validity: "2027-01-15T07:59:00Z..2027-01-15T09:00:00Z",
    caType: "ssh-ed25519",
    caFingerprint: fingerprintSha256(CA.blob),
  });
});

Deno.test("checkHostCertificate() applies each of ssh(1)'s rules", async () => {
  const blob = await cert();
  assert.equal(await problemOf(blob, [caLine(OTHER_CA)]), "unknown-ca");
  assert.equal(await problemOf(blob, [caLine(CA, "*.other")]), "unknown-ca");
  assert.equal(await problemOf(blob, [caLine(CA, "*.example,!sw1.example")]), "unknown-ca");
  assert.equal(await problemOf(blob, []), "unknown-ca");
  assert.equal(await problemOf(blob, undefined, { now: NOW + 7200 }), "expired");
  assert.equal(await problemOf(blob, undefined, { now: NOW - 3600 }), "not-yet-valid");
  assert.equal(await problemOf(blob, undefined, { principal: "sw2.example" }), "principal");
  assert.equal(await problemOf(await cert({ principals: [] })), "invalid");
  assert.equal(await problemOf(await cert({ principals: ["*.example"] })), null);
  assert.equal(await problemOf(await cert({ kind: 1 })), "invalid");
  assert.equal(await problemOf(await cert({ critical: [["force-command", "x"]] })), "invalid");
  assert.equal(await problemOf(await cert({ corruptSignature: true })), "bad-signature");
  assert.equal(await problemOf(await cert({ ca: OTHER_CA }), [caLine(CA)]), "unknown-ca");
  assert.equal(
    await problemOf(blob, undefined, { caSignatureAlgorithms: ["rsa-sha2-512"] }),
    "invalid",
  );
  assert.equal(
    await problemOf(blob, [caLine(), `@revoked * ${publicKeyToLine(CA.blob)}`]),
    "revoked-ca",
  );
  assert.equal(
    await problemOf(blob, [caLine(), `@revoked * ${publicKeyToLine(HOST.blob)}`]),
    "revoked-key",
  );
  assert.equal(
    await problemOf(await cert({ validBefore: FOREVER, validAfter: 0n })),
    null,
  );
});

Deno.test("checkHostCertificate() words validity failures with the clock, for skew", async () => {
  const r = await checkHostCertificate(options(await cert(), undefined, { now: NOW - 300 }));
  assert.equal(r.problem, "not-yet-valid");
  assert.match(r.detail!, /valid from 2027-01-15T07:59:00Z, 4 minutes after this machine's clock/);
});

Deno.test("parseCertificate() rejects hostile blobs with a WireError", async () => {
  const blob = await cert();
  for (let cut = 0; cut < blob.length; cut += 7) {
    assert.throws(() => parseCertificate(blob.subarray(0, cut)), WireError, `cut at ${cut}`);
  }
  assert.throws(() => parseCertificate(new Uint8Array([...blob, 0])), WireError);
  // A length field claiming 4 GiB.
  const huge = blob.slice();
  new DataView(huge.buffer).setUint32(4 + 32 + 4 + 32 + 4 + 32 + 8 + 4, 0xffff_ffff);
  assert.throws(() => parseCertificate(huge), WireError);
  // Not a certificate, an unknown certified type, a certificate type neither user nor host.
  assert.throws(() => parseCertificate(HOST.blob), WireError);
  const unknownType = new SshWriter().string("ssh-foo-cert-v01@openssh.com").string("n").bytes();
  assert.throws(() => parseCertificate(unknownType), WireError);
  const kind3 = await cert({ kind: 3 });
  assert.throws(() => parseCertificate(kind3), WireError);
  await assert.rejects(() => checkHostCertificate(options(blob.subarray(0, 50))), WireError);
});

Deno.test("the certificate host key algorithm verifies with the certified key's own signature", async () => {
  const blob = await cert();
  const alg = findHostKey("ssh-ed25519-cert-v01@openssh.com")!;
  assert.equal(alg.keyType, "ssh-ed25519-cert-v01@openssh.com");
  const data = new TextEncoder().encode("exchange hash");
  const sig = new SshWriter().string("ssh-ed25519").string(await HOST.sign(data)).bytes();
  assert.equal(await alg.verify(blob, sig, data), true);
  assert.equal(await alg.verify(blob, sig, new TextEncoder().encode("other")), false);
  assert.equal(await alg.verify(HOST.blob, sig, data), false);
  assert.equal(await findHostKey("ssh-ed25519")!.verify(blob, sig, data), false);
  // A certificate is fingerprinted by its plain key, as ssh-keygen -l does.
  assert.equal(fingerprintSha256(blob), fingerprintSha256(HOST.blob));
});

Deno.test("certificate algorithms are offered first only when an @cert-authority line matches (ssh(1)'s order)", () => {
  const plain = buildOffer().hostKey;
  assert.ok(!plain.some((n) => n.includes("-cert-")));
  const withCerts = buildOffer({}, false, { hostCertificates: true }).hostKey;
  assert.equal(withCerts[0], "ssh-ed25519-cert-v01@openssh.com");
  assert.deepEqual(withCerts.slice(withCerts.length - plain.length), plain);
  const keyType = (n: string) => findHostKey(n)?.keyType;
  // A known ECDSA key moves ECDSA (plain and certificate) first; a CA line moves certificates.
  const ordered = orderHostKeyAlgorithms(
    withCerts,
    { keyTypes: ["ecdsa-sha2-nistp256"], certAuthority: false },
    keyType,
  );
  assert.deepEqual(ordered.slice(0, 2), [
    "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp256",
  ]);
  // The first algorithm's type is known: the list is kept as it is.
  assert.deepEqual(
    orderHostKeyAlgorithms(withCerts, { keyTypes: ["ssh-ed25519"], certAuthority: true }, keyType),
    withCerts,
  );
  // A user list naming certificates is accepted.
  assert.deepEqual(
    buildOffer({ hostKey: ["ssh-ed25519-cert-v01@openssh.com,ssh-ed25519"] }).hostKey,
    ["ssh-ed25519-cert-v01@openssh.com", "ssh-ed25519"],
  );
});

/** Runs the policy over known_hosts `lines` for the certificate; returns the error or null. */
async function policy(
  blob: Uint8Array,
  lines: string[],
  mode: "yes" | "accept-new" = "yes",
): Promise<{ error: SshError | null; tracer: Tracer; file: string }> {
  const dir = await Deno.makeTempDir({ prefix: "sshtrace-cert-" });
  const file = `${dir}/known_hosts`;
  await Deno.writeTextFile(file, lines.join("\n") + "\n");
  const tracer = new Tracer();
  const check = hostKeyPolicy({
    mode,
    host: "sw1.example",
    port: 22,
    knownHostsFiles: [file],
    tracer,
    now: () => NOW * 1000,
  });
  try {
    await check({
      algorithm: "ssh-ed25519-cert-v01@openssh.com",
      blob,
      keyType: "ssh-ed25519-cert-v01@openssh.com",
      fingerprint: fingerprintSha256(blob),
      md5: "MD5:00",
      bits: 256,
    });
    return { error: null, tracer, file };
  } catch (e) {
    assert.ok(e instanceof SshError, String(e));
    return { error: e, tracer, file };
  }
}

Deno.test("hostKeyPolicy() accepts a certificate, and falls back to the plain key as ssh(1) does", async () => {
  const blob = await cert();
  const ok = await policy(blob, [caLine()]);
  assert.equal(ok.error, null);
  const event = ok.tracer.events.find((e) => e.type === "certificate");
  assert.equal(event?.type === "certificate" && event.accepted, true);
  // Expired, but the plain key is known: accepted, with the reason traced.
  const plainKnown = await policy(await cert({ validBefore: BigInt(NOW - 1) }), [
    caLine(),
    `sw1.example ${publicKeyToLine(HOST.blob)}`,
  ]);
  assert.equal(plainKnown.error, null);
  const status = plainKnown.tracer.events.find((e) => e.type === "status");
  assert.ok(status?.type === "status" && status.status === "known" && status.line === 2);
  assert.match(status.note ?? "", /checked its plain key instead/);
  // Expired and the plain key unknown under strict checking: the certificate's own code.
  const strict = await policy(await cert({ validBefore: BigInt(NOW - 1) }), [caLine()]);
  assert.equal(strict.error?.code, "hostkey.cert-expired");
  assert.equal(strict.error?.details.plainKeyTried, true);
  // accept-new records the plain key (not the certificate).
  const added = await policy(await cert({ principals: ["other"] }), [caLine()], "accept-new");
  assert.equal(added.error, null);
  assert.match(
    await Deno.readTextFile(added.file),
    new RegExp(`^sw1\\.example ${publicKeyToLine(HOST.blob).replace(/[+/]/g, "\\$&")}$`, "m"),
  );
  // A revoked CA or a bad signature ends it, even with the plain key known.
  const known = `sw1.example ${publicKeyToLine(HOST.blob)}`;
  const revoked = await policy(blob, [caLine(), `@revoked * ${publicKeyToLine(CA.blob)}`, known]);
  assert.equal(revoked.error?.code, "hostkey.ca-revoked");
  const forged = await policy(await cert({ corruptSignature: true }), [caLine(), known]);
  assert.equal(forged.error?.code, "hostkey.cert-invalid");
  const malformed = await policy(blob.subarray(0, blob.length - 5), [caLine(), known]);
  assert.equal(malformed.error?.code, "hostkey.cert-invalid");
});
