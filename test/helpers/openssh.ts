/**
 * Which OpenSSH the tests run against, read rather than assumed: `sshd -V` parsed, whether an
 * sshd implements a key exchange, the kex sshtrace's default offer lands on, and an OpenSSH >= 9.9
 * (the system's, or OpenSSH 10 built from Debian 13's source into .cache/openssh10/ by
 * scripts/build-openssh10.sh) for mlkem768x25519-sha256.
 */

import { defaultNames } from "../../lib/algorithms/registry.ts";
import { requireTool, run } from "./tools.ts";

export const SSHD = "/usr/sbin/sshd";

/** An OpenSSH version as `sshd -V` prints it (`OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL …`). */
export interface OpenSshVersion {
  major: number;
  minor: number;
  /** The first line of `sshd -V`. */
  text: string;
}

const versions = new Map<string, Promise<OpenSshVersion>>();

/** `sshd -V` of a binary, parsed (cached per path). Tests read it instead of assuming 9.2. */
export function sshdVersion(sshd = SSHD): Promise<OpenSshVersion> {
  let found = versions.get(sshd);
  if (!found) {
    found = (async () => {
      requireTool(sshd);
      const res = await run(sshd, ["-V"]);
      const text = (res.stderr + res.stdout).trim().split("\n")[0] ?? "";
      const m = /^OpenSSH_(\d+)\.(\d+)/.exec(text);
      if (!m) throw new Error(`${sshd} -V did not print an OpenSSH version: ${text}`);
      return { major: Number(m[1]), minor: Number(m[2]), text };
    })();
    versions.set(sshd, found);
  }
  return found;
}

/** True when `version` is at least major.minor. */
export function atLeast(version: OpenSshVersion, major: number, minor: number): boolean {
  return version.major > major || (version.major === major && version.minor >= minor);
}

/** True when sshd accepts `KexAlgorithms=name` (checked with `sshd -t`, no server started). */
export async function sshdSupportsKex(name: string, sshd = SSHD): Promise<boolean> {
  const res = await run(sshd, ["-t", "-f", "/dev/null", "-o", `KexAlgorithms=${name}`]);
  return !/Bad SSH2 KexAlgorithms|unsupported/i.test(res.stderr);
}

/**
 * The kex sshtrace's default offer lands on against `sshd` in its default configuration: our
 * first default the server implements (sntrup761x25519-sha512 on Debian 12's OpenSSH 9.2,
 * mlkem768x25519-sha256 on OpenSSH 9.9+).
 */
export async function defaultKexAgainst(sshd = SSHD): Promise<string> {
  for (const name of defaultNames("kex")) {
    if (await sshdSupportsKex(name, sshd)) return name;
  }
  throw new Error(`${sshd} implements none of sshtrace's default key exchange methods`);
}

const ROOT = new URL("../..", import.meta.url).pathname;
let openssh99: Promise<string> | undefined;

/**
 * An OpenSSH sshd of version 9.9 or later (it has mlkem768x25519-sha256): the system's when it
 * is new enough, else OpenSSH 10 built from Debian 13's source package into .cache/openssh10/
 * by scripts/build-openssh10.sh (once: about a minute on 2 cores, then cached).
 */
export function openssh99Sshd(): Promise<string> {
  openssh99 ??= (async () => {
    if (atLeast(await sshdVersion(SSHD), 9, 9)) return SSHD;
    const built = `${ROOT}.cache/openssh10/sbin/sshd`;
    const res = await run("bash", [`${ROOT}scripts/build-openssh10.sh`], { timeoutMs: 900_000 });
    if (res.code !== 0) {
      throw new Error(`scripts/build-openssh10.sh failed:\n${(res.stdout + res.stderr).trim()}`);
    }
    const version = await sshdVersion(built);
    if (!atLeast(version, 9, 9)) throw new Error(`${built} is ${version.text}, not >= 9.9`);
    return built;
  })();
  openssh99.catch(() => openssh99 = undefined);
  return openssh99;
}

/** The `ssh` client that goes with {@link openssh99Sshd} (the system's, or the one built beside it). */
export async function openssh99Ssh(): Promise<string> {
  const sshd = await openssh99Sshd();
  return sshd === SSHD ? "/usr/bin/ssh" : sshd.replace(/\/sbin\/sshd$/, "/bin/ssh");
}
