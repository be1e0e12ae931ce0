/**
 * The interactive side of a `connect` session on the local machine: stdin forwarded with the `~`
 * escapes, the local terminal in raw mode with its size changes sent on, the channel's output
 * pumped to stdout and stderr, the check that every byte received was written out, and the exit
 * code of the remote command. Local I/O goes through the platform seam.
 * @module
 */

import type { ExitInfo, Session } from "../connection/session.ts";
import { DEFAULT_TERMINAL_SETTINGS, encodeTerminalSettings } from "../connection/terminal_modes.ts";
import { platform } from "../platform/mod.ts";
import { releasable, release } from "../wire/release.ts";
import { SshError } from "../errors/mod.ts";
import type { Tracer } from "../trace.ts";
import { writeErr } from "./output.ts";

const SIGNALS: Record<string, number> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  ABRT: 6,
  FPE: 8,
  KILL: 9,
  SEGV: 11,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
  USR1: 10,
  USR2: 12,
};

/** The exit code for how the remote command ended (128+n for a signal, as shells do). */
export function exitCodeOf(exit: ExitInfo): number {
  if (exit.status !== null) return exit.status & 0xff;
  if (exit.signal) return 128 + (SIGNALS[exit.signal.name] ?? 0);
  return 0;
}

/**
 * Whether writes to `device` (our stdout or stderr) complete at once: a regular file, or a
 * character device that is not a terminal (/dev/null). Pipes, sockets and terminals can make a
 * writer wait, so they are written asynchronously.
 */
function writesNeverWait(device: string): boolean {
  try {
    const info = platform.stat(device);
    const terminal = device === "/dev/stdout"
      ? platform.stdout.isTerminal()
      : platform.stderr.isTerminal();
    return info.isFile || (info.isCharDevice === true && !terminal);
  } catch {
    return false;
  }
}

/** Bytes the stdout pump gathers into one write at most, and holds at most while writing. */
const PUMP_BATCH = 1024 * 1024;

/**
 * Copies a channel stream to stdout or stderr and resolves with the number of bytes written
 * (each write completed, so nothing is left to flush at exit); rejects if a write fails. Each
 * write is a costly call (~40 µs whatever its size), so chunks that arrive while a write is
 * under way are joined into the next one (up to `PUMP_BATCH`); reading pauses while that much
 * waits, which holds back the channel window.
 */
export async function pump(
  stream: ReadableStream<Uint8Array>,
  out: { write(p: Uint8Array): Promise<number>; writeSync(p: Uint8Array): number },
  device: "/dev/stdout" | "/dev/stderr",
): Promise<number> {
  let written = 0;
  if (writesNeverWait(device)) {
    // A regular file or /dev/null: a synchronous write costs a few µs and cannot stall.
    for await (const chunk of stream) {
      let off = 0;
      while (off < chunk.length) {
        const n = out.writeSync(chunk.subarray(off));
        off += n;
        written += n;
      }
      release(chunk); // written: its memory is free (lib/wire/release.ts)
    }
    return written;
  }
  const queue: Uint8Array[] = [];
  let queued = 0;
  let ended = false;
  let failed: unknown = null;
  // Who waits for whom: the writer for data, the reader for room.
  const waiting: { writer: (() => void) | null; reader: (() => void) | null } = {
    writer: null,
    reader: null,
  };
  const wake = (who: "writer" | "reader") => {
    const resolve = waiting[who];
    waiting[who] = null;
    resolve?.();
  };
  const writer = (async () => {
    for (;;) {
      if (!queue.length) {
        if (ended) return;
        await new Promise<void>((resolve) => (waiting.writer = resolve));
        continue;
      }
      let data: Uint8Array;
      if (queue.length === 1) data = queue[0]!;
      else {
        data = releasable(new Uint8Array(queued));
        let o = 0;
        for (const c of queue) {
          data.set(c, o);
          o += c.length;
          release(c); // copied: its memory is free (lib/wire/release.ts)
        }
      }
      queue.length = 0;
      queued = 0;
      wake("reader");
      let off = 0;
      while (off < data.length) {
        const n = await out.write(data.subarray(off));
        off += n;
        written += n;
      }
      release(data);
    }
  })().catch((e) => {
    failed = e;
    wake("reader");
  });
  try {
    for await (const chunk of stream) {
      if (failed) break;
      queue.push(chunk);
      queued += chunk.length;
      wake("writer");
      if (queued >= PUMP_BATCH) {
        await new Promise<void>((resolve) => (waiting.reader = resolve));
        if (failed) break;
      }
    }
  } finally {
    ended = true;
    wake("writer");
    await writer;
  }
  if (failed) throw failed;
  return written;
}

/**
 * Checks that everything the server sent reached our stdout and stderr: a data-stage error when
 * a write failed (a closed pipe, a full disk) or the counts disagree; null when they agree.
 */
export async function checkDelivery(
  session: Session,
  pumps: Promise<number>[],
): Promise<{ written: number; error: SshError | null }> {
  const results = await Promise.allSettled(pumps);
  let written = 0;
  let cause = "";
  for (const r of results) {
    if (r.status === "fulfilled") written += r.value;
    else cause ||= (r.reason as Error)?.message ?? String(r.reason);
  }
  const expected = session.bytesIn - session.channel.bytesDiscarded;
  if (!cause && written === expected) return { written, error: null };
  const error = new SshError(
    "data",
    "data.output-incomplete",
    `only ${written} of the ${expected} bytes received reached stdout and stderr` +
      (cause ? `: ${cause}` : ""),
    { received: expected, written, cause: cause || null },
  );
  return { written, error };
}

/**
 * The pty's terminal modes, as OpenSSH sends them: the local terminal's (read before raw mode),
 * or a sane terminal's when there is none or it cannot be read; traced with the source.
 */
export async function localTerminalModes(tracer: Tracer): Promise<Uint8Array> {
  // Loaded for a terminal session only, so other runs do not pay for its module at start.
  const { readLocalTerminal } = await import("../platform/termios.ts");
  const local = readLocalTerminal();
  const settings = local.settings ?? DEFAULT_TERMINAL_SETTINGS;
  const f = settings.flags;
  const on = (["ICRNL", "ONLCR", "ECHO", "ICANON", "ISIG"] as const)
    .map((n) => `${f[n] ? "" : "-"}${n.toLowerCase()}`).join(" ");
  tracer.emit({
    stage: "session",
    type: "info",
    message: `terminal modes from ${
      local.settings ? local.source : `defaults (stty sane; ${local.reason})`
    }: ${on}, ${settings.ospeed} baud`,
  });
  return encodeTerminalSettings(settings);
}

/**
 * Forwards stdin to the session; in a terminal handles `~.`, `~?` and `~~` after a newline
 * (`~` being EscapeChar: another byte, or `none` for no escapes).
 */
export async function forwardStdin(
  session: Session,
  interactive: boolean,
  onDisconnect: () => void,
  escapeChar = "~",
) {
  const esc = escapeChar === "none" ? -1 : escapeChar.charCodeAt(0);
  const shown = esc < 0x20 ? `^${String.fromCharCode(esc + 64)}` : escapeChar;
  const buf = new Uint8Array(32 * 1024);
  let atLineStart = true;
  let tilde = false;
  for (;;) {
    let n: number | null;
    try {
      n = await platform.stdin.read(buf);
    } catch {
      return;
    }
    if (n === null) {
      await session.eof().catch(() => {});
      return;
    }
    let data = buf.slice(0, n);
    if (interactive && esc >= 0) {
      const out: number[] = [];
      for (const b of data) {
        if (tilde) {
          tilde = false;
          if (b === 0x2e) { // ~.
            writeErr(`\r\nConnection closed by ${shown}.\r\n`);
            onDisconnect();
            return;
          }
          if (b === 0x3f) { // ~?
            writeErr(
              `\r\nSupported escape sequences:\r\n ${shown}.  - terminate connection\r\n` +
                ` ${shown}?  - this message\r\n ${shown}${shown}  - send the escape character\r\n` +
                "(Note that escapes are only recognized immediately after newline.)\r\n",
            );
            atLineStart = false;
            continue;
          }
          if (b !== esc) out.push(esc);
          out.push(b);
          atLineStart = b === 0x0d || b === 0x0a;
          continue;
        }
        if (atLineStart && b === esc) {
          tilde = true;
          continue;
        }
        out.push(b);
        atLineStart = b === 0x0d || b === 0x0a;
      }
      data = new Uint8Array(out);
      if (!data.length) continue;
    }
    try {
      await session.write(data);
    } catch {
      return;
    }
  }
}

/**
 * Puts the local terminal in raw mode and sends its size changes (SIGWINCH) to the session's pty;
 * returns what undoes both (a no-op after its first call, and when the terminal is gone).
 */
export function rawTerminal(session: Session): () => void {
  platform.stdin.setRaw(true);
  const onWinch = () => {
    const s = platform.consoleSize();
    session.windowChange(s.columns, s.rows).catch(() => {});
  };
  const removeWinch = platform.onSignal("SIGWINCH", onWinch);
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    try {
      removeWinch();
      platform.stdin.setRaw(false);
    } catch {
      // the terminal may be gone
    }
  };
}
