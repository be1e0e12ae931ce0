/**
 * Host certificate algorithms (OpenSSH PROTOCOL.certkeys): `<algorithm>-cert-v01@openssh.com`
 * for each plain host key algorithm, e.g. `rsa-sha2-512-cert-v01@openssh.com` for keys of type
 * `ssh-rsa-cert-v01@openssh.com`. The server proves it holds the certified key with the plain
 * algorithm's signature, so each entry verifies through its plain entry (one implementation per
 * key family). Whether the certificate itself is trusted (CA, principals, validity) is the
 * host-key policy's question (lib/hostkeys/host_certificate.ts).
 *
 * These are not in the default offer: the client offers them, first, when known_hosts has an
 * `@cert-authority` line for the host (as ssh(1) orders them), or when a list names them.
 * @module
 */

import { CERT_SUFFIX, certifiedKey, publicKeyType } from "./pubkey.ts";
import { HOST_KEY_ALGORITHMS } from "./hostkey.ts";
import type { HostKeyAlgorithm } from "./types.ts";

function certAlgorithm(plain: HostKeyAlgorithm): HostKeyAlgorithm {
  const keyType = plain.keyType + CERT_SUFFIX;
  return {
    ...plain,
    name: plain.name + CERT_SUFFIX,
    spec: `PROTOCOL.certkeys (${plain.spec})`,
    keyType,
    async verify(keyBlob, signatureBlob, data) {
      if (publicKeyType(keyBlob) !== keyType) return false;
      return await plain.verify(certifiedKey(keyBlob).publicBlob, signatureBlob, data);
    },
  };
}

/** The certificate variant of every host key algorithm, in the same preference order. */
export const HOST_CERT_ALGORITHMS: readonly HostKeyAlgorithm[] = HOST_KEY_ALGORITHMS.map(
  certAlgorithm,
);

/** Whether an algorithm or key type name is a certificate's. */
export const isCertificateName = (name: string): boolean => name.endsWith(CERT_SUFFIX);

export { certificateAlgorithmOf } from "./names.ts";
