/**
 * The identity files ssh(1) tries by default, on their own so ssh_config's defaults
 * (lib/sshconfig/resolve.ts) do not load the key parsers.
 * @module
 */

import { platform } from "../platform/mod.ts";

function homeDir(): string {
  return platform.env("HOME") ?? "~";
}

/** The identity files tried by default, in order (`~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa`). */
export function defaultIdentityFiles(home: string = homeDir()): string[] {
  const dir = home.endsWith("/") ? home.slice(0, -1) : home;
  return ["id_ed25519", "id_ecdsa", "id_rsa"].map((name) => `${dir}/.ssh/${name}`);
}
