/**
 * Which host key algorithms the client offers first, as ssh(1) orders them from what known_hosts
 * holds for the host: certificate algorithms when an `@cert-authority` line matches it, and the
 * algorithms of the key types known for it.
 * @module
 */

import { isCertificateName } from "../algorithms/hostkey_cert.ts";
import { CERT_SUFFIX } from "../algorithms/pubkey.ts";
import { entryMatchesHost, loadKnownHosts } from "./known_hosts.ts";

/** What known_hosts holds for a host, for ordering the host key algorithms offered. */
export interface KnownForHost {
  /** Key types of the plain lines for the host, in file order. */
  readonly keyTypes: string[];
  /** Whether an `@cert-authority` line's patterns match the host. */
  readonly certAuthority: boolean;
}

/** Reads known_hosts for {@link orderHostKeyAlgorithms} (missing or bad files count as empty). */
export async function knownForHost(
  files: readonly string[],
  host: string,
  port: number,
): Promise<KnownForHost> {
  const keyTypes: string[] = [];
  let certAuthority = false;
  for (const entry of (await loadKnownHosts(files)).entries) {
    if (entry.marker === "revoked" || !entryMatchesHost(entry, host, port)) continue;
    if (entry.marker === "cert-authority") certAuthority = true;
    else if (!keyTypes.includes(entry.keyType)) keyTypes.push(entry.keyType);
  }
  return { keyTypes, certAuthority };
}

/**
 * Orders the host key algorithms offered as ssh(1) does (sshconnect2.c order_hostkeyalgs): when
 * known_hosts has a key of the type of the first algorithm, the list is kept as it is;
 * otherwise the certificate algorithms (when an `@cert-authority` line matches the host) and the
 * algorithms of the key types known for the host come first, each group in list order.
 * `keyTypeOf` gives an algorithm's key type (`ssh-rsa-cert-v01@openssh.com` for
 * `rsa-sha2-512-cert-v01@openssh.com`).
 */
export function orderHostKeyAlgorithms(
  offer: readonly string[],
  known: KnownForHost,
  keyTypeOf: (algorithm: string) => string | undefined,
): string[] {
  const plainType = (alg: string) => {
    const type = keyTypeOf(alg) ?? "";
    return isCertificateName(type) ? type.slice(0, -CERT_SUFFIX.length) : type;
  };
  if (offer.length && known.keyTypes.includes(plainType(offer[0]!))) return [...offer];
  const first: string[] = [];
  const last: string[] = [];
  for (const alg of offer) {
    const cert = isCertificateName(alg);
    if ((cert && known.certAuthority) || known.keyTypes.includes(plainType(alg))) {
      first.push(alg);
    } else {
      last.push(alg);
    }
  }
  return [...first, ...last];
}
