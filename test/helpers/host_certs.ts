/**
 * Host certificates for tests: a CA made with `ssh-keygen`, the shared test host keys signed by
 * it with `ssh-keygen -s CA -h` (written into the caller's directory, never next to the shared
 * keys), and an sshd that presents them (`HostCertificate`).
 */

import assert from "node:assert/strict";
import { type HostKey, type HostKeyType, SSH_KEYGEN, testHostKeys } from "./sshd.ts";
import { run } from "./tools.ts";

/** Makes an ed25519 CA key pair at `dir/name`; returns its public line (`type base64`). */
export async function makeCa(dir: string, name: string): Promise<{ path: string; pub: string }> {
  const path = `${dir}/${name}`;
  const r = await run(SSH_KEYGEN, ["-t", "ed25519", "-q", "-N", "", "-C", name, "-f", path]);
  assert.equal(r.code, 0, r.stderr);
  const pub = (await Deno.readTextFile(`${path}.pub`)).trim().split(/\s+/).slice(0, 2).join(" ");
  return { path, pub };
}

export interface HostCertSpec {
  /** Comma-separated principals; empty: none (`-n` left out). */
  principals: string;
  /** `ssh-keygen -V` interval, e.g. `-5m:+1h`, `20200101:20200102`. */
  validity: string;
  serial: number;
}

/**
 * Signs the shared `type` host key with the CA as a host certificate; the certificate is
 * written to `dir/NAME-cert.pub` (the public key is copied there first). Returns its path.
 */
export async function certifyHostKey(
  dir: string,
  ca: string,
  type: HostKeyType,
  name: string,
  spec: HostCertSpec,
): Promise<string> {
  const key: HostKey = (await testHostKeys())[type];
  const pub = `${dir}/${name}.pub`;
  await Deno.writeTextFile(pub, `${key.pub}\n`);
  const r = await run(SSH_KEYGEN, [
    "-q",
    "-s",
    ca,
    "-h",
    "-I",
    `host-${name}`,
    ...(spec.principals ? ["-n", spec.principals] : []),
    "-V",
    spec.validity,
    "-z",
    String(spec.serial),
    pub,
  ]);
  assert.equal(r.code, 0, r.stderr);
  return `${dir}/${name}-cert.pub`;
}
