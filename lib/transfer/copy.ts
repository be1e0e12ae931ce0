/**
 * One copy between this machine and a host, whatever the protocol: picks SFTP or SCP (`auto`:
 * SFTP when the subsystem opens, SCP otherwise, the choice and its reason traced at stage
 * `transfer`), runs the copy, verifies it when asked, and returns what it did.
 * @module
 */

import type { Client } from "../client.ts";
import { SshError } from "../errors/mod.ts";
import { scpDownload, type ScpHost, scpHost, scpUpload } from "./scp.ts";
import type { SftpClient } from "./sftp_client.ts";
import {
  type CopyOptions,
  downloadFile,
  downloadTree,
  type FileResult,
  type TreeResult,
  uploadFile,
  uploadTree,
} from "./sftp_files.ts";
import { startSftpOn } from "./session.ts";
import { verifyCopy } from "./verify.ts";

/** Which protocol to use. */
export type ProtocolChoice = "sftp" | "scp" | "auto";

/** What to copy. */
export interface CopyRequest extends CopyOptions {
  direction: "get" | "put";
  remote: string;
  local: string;
  protocol?: ProtocolChoice;
  /** Copy directories. @default false */
  recursive?: boolean;
  /** Compare SHA-256 of both sides afterwards. @default false */
  verify?: boolean;
  /**
   * Environment variables (SendEnv/SetEnv) sent with the copy's session, as ssh does for scp
   * and sftp. @default []
   */
  environment?: readonly (readonly [name: string, value: string])[];
}

/** What a copy did (the `--json` report's `transfer` object). */
export interface CopyReport {
  direction: "get" | "put";
  protocol: "sftp" | "scp";
  /** Why this protocol (the `auto` decision, or "asked for"). */
  reason: string;
  files: FileResult[];
  directories: number;
  skipped: { path: string; why: string }[];
  bytes: number;
  durationMs: number;
  mbPerSecond: number;
  /** SHA-256 of each file, when verified, with how the remote side was computed. */
  verified: { path: string; sha256: string; remoteBy: string }[] | null;
}

function info(client: Client, message: string): void {
  client.tracer.emit({ stage: "transfer", type: "info", message });
}

/** Opens SFTP, or says why not (for `auto`). */
async function trySftp(client: Client, request: CopyRequest, timeoutMs: number | undefined) {
  const session = await client.openSession(undefined, undefined, request.environment);
  client.tracer.begin("transfer");
  try {
    return { sftp: await startSftpOn(session, client.tracer, { timeoutMs }), why: null };
  } catch (e) {
    if (e instanceof SshError && e.code === "transfer.no-sftp") return { sftp: null, why: e };
    throw e;
  }
}

/** What a switch's scp says when it does not know an option (`-p` on several vendors). */
const OPTION_REFUSED = /invalid (input|option)|unknown option|illegal option|usage:/i;

/**
 * SCP, with the quirk of switches whose scp has no `-p`: when `-p` was asked for and the first
 * answer refuses the command line, the copy runs again without it (and says so).
 */
export async function scpWithQuirks(host: ScpHost, request: CopyRequest): Promise<TreeResult> {
  const run = (r: CopyRequest) =>
    r.direction === "get"
      ? scpDownload(host, r.remote, r.local, r)
      : scpUpload(host, r.local, r.remote, r);
  try {
    return await run(request);
  } catch (e) {
    if (
      !request.preserve || !(e instanceof SshError) ||
      e.code !== "transfer.remote-error" || !OPTION_REFUSED.test(e.message)
    ) {
      throw e;
    }
    host.info("the server's scp refused -p: copying again without keeping times and modes");
    return await run({ ...request, preserve: false });
  }
}

/** Runs a copy on an authenticated client (stage `transfer`). */
export async function copy(
  client: Client,
  request: CopyRequest,
  timeoutMs?: number,
): Promise<CopyReport> {
  const choice = request.protocol ?? "auto";
  const started = performance.now();
  let sftp: SftpClient | null = null;
  let protocol: "sftp" | "scp";
  let reason: string;
  if (choice === "scp") {
    client.tracer.begin("transfer");
    protocol = "scp";
    reason = "--protocol scp";
  } else {
    const attempt = await trySftp(client, request, timeoutMs);
    if (attempt.sftp) {
      sftp = attempt.sftp;
      protocol = "sftp";
      reason = choice === "sftp" ? "--protocol sftp" : "auto: the sftp subsystem opened";
    } else if (choice === "sftp") {
      throw attempt.why!;
    } else {
      protocol = "scp";
      reason = "auto: the server refused the sftp subsystem, so SCP (scp -t/-f over exec)";
    }
  }
  info(client, `protocol ${protocol.toUpperCase()} (${reason})`);
  let files: FileResult[];
  let directories = 0;
  let skipped: { path: string; why: string }[] = [];
  try {
    if (sftp) {
      const s = sftp;
      const tree = request.recursive
        ? await (request.direction === "get"
          ? downloadTree(s, request.remote, request.local, request)
          : uploadTree(s, request.local, request.remote, request))
        : {
          files: [
            await (request.direction === "get"
              ? downloadFile(s, request.remote, request.local, request)
              : uploadFile(s, request.local, request.remote, request)),
          ],
          directories: 0,
          skipped: [],
        };
      files = tree.files;
      directories = tree.directories;
      skipped = tree.skipped;
    } else {
      if (request.resume) info(client, "--resume needs SFTP: SCP copies the whole file again");
      const tree = await scpWithQuirks(scpHost(client, request.environment), request);
      files = tree.files;
      directories = tree.directories;
      skipped = tree.skipped;
    }
    const verified = request.verify
      ? await verifyCopy(scpHost(client), sftp, request.direction, files)
      : null;
    const bytes = files.reduce((n, f) => n + f.bytes, 0);
    const durationMs = Math.round(performance.now() - started);
    const mbPerSecond = Math.round(bytes / 1e6 / Math.max(durationMs / 1000, 1e-3) * 10) / 10;
    info(
      client,
      `${request.direction === "get" ? "downloaded" : "uploaded"} ${files.length} file` +
        `${files.length === 1 ? "" : "s"}, ${bytes} bytes in ${(durationMs / 1000).toFixed(1)} s ` +
        `(${mbPerSecond} MB/s) over ${protocol.toUpperCase()}`,
    );
    return {
      direction: request.direction,
      protocol,
      reason,
      files,
      directories,
      skipped,
      bytes,
      durationMs,
      mbPerSecond,
      verified,
    };
  } finally {
    if (sftp) await sftp.end();
  }
}
