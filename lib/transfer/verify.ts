/**
 * `--verify`: SHA-256 of each copied file on both sides. The remote sum comes from `sha256sum`
 * (or `shasum -a 256`) run over exec when the host can, else from reading the file back over
 * SFTP; the trace says which. A mismatch is `transfer.verify-mismatch`.
 * @module
 */

import type { Hash } from "node:crypto";
import { nodeCrypto, preloadNodeCrypto } from "../algorithms/node_loader.ts";
import { SshError } from "../errors/mod.ts";
import { readSmallText } from "./byte_reader.ts";
import { local, localFiles } from "./local.ts";
import { pipelinedRead, sizesFor } from "./pipeline.ts";
import { OPEN, type SftpClient } from "./sftp_client.ts";
import type { ScpHost } from "./scp.ts";
import type { FileResult } from "./sftp_files.ts";

/** Quotes a path for a POSIX shell. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * A SHA-256 hash. `node:crypto` is loaded here, with --verify only: a static import cost every
 * copy ~25 ms of start-up (lib/algorithms/node_loader.ts).
 */
async function sha256(): Promise<Hash> {
  await preloadNodeCrypto();
  return nodeCrypto().createHash("sha256");
}

/** SHA-256 of a local file, streamed. */
export async function localSha256(path: string): Promise<string> {
  const hash = await sha256();
  const reader = await local("open", path, () => localFiles.openRead(path));
  try {
    const buffer = new Uint8Array(256 * 1024);
    for (;;) {
      const n = await local("read", path, () => reader.read(buffer));
      if (n === null) break;
      hash.update(buffer.subarray(0, n));
    }
  } finally {
    reader.close();
  }
  return hash.digest("hex");
}

/** The remote sum by a command, or null when the host cannot run one. */
async function remoteSumByExec(host: ScpHost, path: string): Promise<string | null> {
  const q = shellQuote(path);
  try {
    const session = await host.exec(`sha256sum -- ${q} 2>/dev/null || shasum -a 256 -- ${q}`);
    await session.eof();
    session.stderr.cancel().catch(() => {});
    const stdout = await readSmallText(session.stdout, 4096);
    const exit = await session.exit;
    const m = /^([0-9a-f]{64})\b/.exec(stdout);
    return exit.status === 0 && m ? m[1]! : null;
  } catch {
    return null;
  }
}

/** The remote sum by reading the file back over SFTP. */
async function remoteSumBySftp(sftp: SftpClient, path: string): Promise<string> {
  const hash = await sha256();
  const handle = await sftp.open(path, OPEN.READ);
  try {
    await pipelinedRead(sftp, handle, path, (data) => {
      hash.update(data);
      return Promise.resolve();
    }, await sizesFor(sftp, "read", {}));
  } finally {
    await sftp.close(handle, path).catch(() => {});
  }
  return hash.digest("hex");
}

/** Verifies every copied file; throws `transfer.verify-mismatch` at the first difference. */
export async function verifyCopy(
  host: ScpHost,
  sftp: SftpClient | null,
  direction: "get" | "put",
  files: FileResult[],
): Promise<{ path: string; sha256: string; remoteBy: string }[]> {
  const out: { path: string; sha256: string; remoteBy: string }[] = [];
  let exec = true;
  for (const f of files) {
    const mine = await localSha256(f.local);
    let theirs = exec ? await remoteSumByExec(host, f.remote) : null;
    let by = "sha256sum on the host";
    if (theirs === null) {
      exec = false;
      if (!sftp) {
        host.info(`--verify: ${f.remote} not verified (no sha256sum/shasum on the host, no SFTP)`);
        out.push({ path: f.remote, sha256: mine, remoteBy: "unverified" });
        continue;
      }
      theirs = await remoteSumBySftp(sftp, f.remote);
      by = "read back over SFTP";
    }
    if (theirs !== mine) {
      throw new SshError(
        "transfer",
        "transfer.verify-mismatch",
        `${f.remote}: SHA-256 differs (local ${mine}, remote ${theirs}, ${by})`,
        { path: f.remote, local: mine, remote: theirs },
      );
    }
    host.info(`verified ${direction === "get" ? f.local : f.remote}: SHA-256 ${mine} (${by})`);
    out.push({ path: f.remote, sha256: mine, remoteBy: by });
  }
  return out;
}
