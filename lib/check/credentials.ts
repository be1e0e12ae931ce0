/**
 * A fleet host's own credentials, from the inventory's references (lib/check/inventory.ts): the
 * password or enable secret read from the named environment variable or file, a key file
 * loaded. Read when the host is checked, so a secret is held only while it is needed; a missing
 * variable or unreadable file fails that host as a `usage` error naming the column.
 * @module
 */

import type { PasswordSource } from "../auth/userauth.ts";
import type { Signer } from "../auth/types.ts";
import { loadPrivateKeyFile } from "../keys/private_key.ts";
import { usageError } from "../config/options.ts";
import { platform } from "../platform/mod.ts";
import type { SecretSource } from "../send/privilege.ts";
import type { HostCredentials } from "./inventory.ts";

async function secretFrom(
  env: string | null,
  file: string | null,
  what: string,
): Promise<string | null> {
  if (env !== null) {
    const value = platform.env(env);
    if (value === undefined) {
      throw usageError(`${what}_env: the environment variable ${env} is not set`);
    }
    return value;
  }
  if (file !== null) {
    try {
      return (await platform.readTextFile(file)).replace(/\r?\n$/, "");
    } catch (e) {
      throw usageError(`${what}_file: cannot read ${file}: ${(e as Error).message}`);
    }
  }
  return null;
}

/** What a host's inventory line adds to the fleet-wide authentication and privilege options. */
export interface HostSecrets {
  password?: PasswordSource;
  signers?: () => Promise<Signer[]>;
  /** Set when the line names an enable secret: `send` then raises the level first. */
  enableSecret?: SecretSource;
}

/** Resolves a host's credential columns (nothing for columns left empty). */
export async function hostSecrets(c: HostCredentials): Promise<HostSecrets> {
  const out: HostSecrets = {};
  const password = await secretFrom(c.passwordEnv, c.passwordFile, "password");
  if (password !== null) out.password = { get: () => Promise.resolve(password), fromUser: false };
  const enable = await secretFrom(c.enableSecretEnv, c.enableSecretFile, "enable_secret");
  if (enable !== null) out.enableSecret = () => Promise.resolve(enable);
  if (c.key !== null) {
    const key = c.key;
    const signer = await loadPrivateKeyFile(key).catch((e) => {
      throw usageError(`key: cannot load ${key}: ${(e as Error).message}`);
    });
    out.signers = () => Promise.resolve([signer]);
  }
  return out;
}
