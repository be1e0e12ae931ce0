/**
 * SFTP over an SSH session: requests the `sftp` subsystem on a session channel and starts the
 * SFTP client on its data stream. The subsystem's error output is drained (it shares the
 * channel's window) and traced line by line.
 * @module
 */

import type { Session } from "../connection/session.ts";
import { SshError } from "../errors/mod.ts";
import type { Tracer } from "../trace.ts";
import { decodeText } from "../wire/buffer.ts";
import { SftpClient, type SftpOptions } from "./sftp_client.ts";

/** Drains a stream, tracing its text (at most the first 4 KiB), so it never blocks the window. */
export function drainStderr(stream: ReadableStream<Uint8Array>, tracer: Tracer, what: string) {
  let kept = 0;
  stream.pipeTo(
    new WritableStream({
      write(chunk) {
        if (kept >= 4096) return;
        const text = decodeText(chunk.subarray(0, 4096 - kept)).trimEnd();
        kept += chunk.length;
        if (text) tracer.emit({ stage: "transfer", type: "info", message: `${what}: ${text}` });
      },
    }),
  ).catch(() => {});
}

/**
 * Starts SFTP on an open session: `transfer.no-sftp` when the server refuses the subsystem.
 * The session is closed again on failure.
 */
export async function startSftpOn(
  session: Session,
  tracer: Tracer,
  options: SftpOptions = {},
): Promise<SftpClient> {
  try {
    if (!(await session.subsystem("sftp"))) {
      throw new SshError(
        "transfer",
        "transfer.no-sftp",
        "the server refused the sftp subsystem (SFTP is not enabled on it)",
        { subsystem: "sftp" },
      );
    }
    drainStderr(session.stderr, tracer, "sftp server says");
    return await SftpClient.start(
      {
        readable: session.stdout,
        write: (bytes) => session.write(bytes),
        close: () => session.close(),
      },
      { tracer, ...options },
    );
  } catch (e) {
    await session.close().catch(() => {});
    throw e;
  }
}
