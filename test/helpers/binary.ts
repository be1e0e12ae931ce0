/**
 * The standalone executable for tests (dist/sshtrace-linux-x64): built by `bash
 * scripts/binary.sh` when missing or older than any source file.
 * @module
 */

import assert from "node:assert/strict";
import { ROOT } from "./cli.ts";
import { run } from "./tools.ts";

export const BINARY = `${ROOT}dist/sshtrace-linux-x64`;

/** Builds the executable unless it is there and newer than every source file. */
export async function ensureBinary(): Promise<string> {
  let built = 0;
  try {
    built = Deno.statSync(BINARY).mtime?.getTime() ?? 0;
  } catch {
    built = 0;
  }
  const newest = await run("/usr/bin/find", [
    `${ROOT}main.ts`,
    `${ROOT}lib`,
    `${ROOT}deno.json`,
    `${ROOT}scripts/binary.sh`,
    "-newer",
    BINARY,
    "-print",
    "-quit",
  ]);
  if (built > 0 && newest.code === 0 && newest.stdout.trim() === "") return BINARY;
  const res = await run("/bin/bash", [`${ROOT}scripts/binary.sh`], { timeoutMs: 300_000 });
  assert.equal(res.code, 0, `scripts/binary.sh failed:\n${res.stdout}\n${res.stderr}`);
  return BINARY;
}
