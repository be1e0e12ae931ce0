/** Files for transfer tests: a random file, its SHA-256 (streamed), and whether a path exists. */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { run } from "./tools.ts";

/** SHA-256 (hex) of a file, read as a stream (64 MiB files are never held whole). */
export async function fileSha(path: string): Promise<string> {
  const hash = createHash("sha256");
  using f = await Deno.open(path);
  for await (const chunk of f.readable) hash.update(chunk);
  return hash.digest("hex");
}

/** Writes `size` random bytes to `path` (head -c SIZE /dev/urandom). */
export async function randomFile(path: string, size: number): Promise<void> {
  const r = await run("sh", ["-c", `head -c ${size} /dev/urandom > '${path}'`]);
  assert.equal(r.code, 0, r.stderr);
}

/** Whether anything (a file, a directory, a dangling link) is at `path`. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}
