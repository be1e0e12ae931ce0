/** Known-hosts fixtures: three Ed25519 keys, a file writer and a host's status. */
import { publicKeyToLine } from "../../lib/algorithms/pubkey.ts";
import { checkHostKey } from "../../lib/hostkeys/known_hosts.ts";
import { SshWriter } from "../../lib/wire/buffer.ts";
import { hex } from "./hex.ts";

export function ed25519(publicKeyHex: string): Uint8Array {
  return new SshWriter().string("ssh-ed25519").string(hex(publicKeyHex)).bytes();
}

// Three distinct Ed25519 public keys (RFC 8032 §7.1 TEST 1..3).
export const KEY_A = ed25519("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
export const KEY_B = ed25519("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
export const KEY_C = ed25519("fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025");
export const A = publicKeyToLine(KEY_A);
export const B = publicKeyToLine(KEY_B);
export const C = publicKeyToLine(KEY_C);

/** Writes `lines` as a known_hosts file in `dir` and returns its path. */
export async function writeFile(dir: string, name: string, lines: string[]): Promise<string> {
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
  return path;
}

export async function status(files: string[], host: string, port: number, keyBlob: Uint8Array) {
  return (await checkHostKey({ files, host, port, keyBlob })).status;
}

/** The public key blob of a fresh ECDSA P-256 key (a host key of another type than A, B, C). */
export async function ecdsaP256Blob(): Promise<Uint8Array> {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const point = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  return new SshWriter().string("ecdsa-sha2-nistp256").string("nistp256").string(point).bytes();
}
