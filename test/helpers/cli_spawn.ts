/**
 * The sshtrace CLI as a child process with other plumbing than {@link runSshtrace}: a dialogue
 * (the test types into its stdin and waits for what it prints, as a person at a shell prompt
 * would) and a run whose stdout is a file (`> FILE` in the shell), since a file and a pipe drain
 * differently.
 */

import { createHash } from "node:crypto";
import { DENO_DIR, ROOT, type SshtraceOptions } from "./cli.ts";
import { killAfter } from "./tools.ts";

/** The environment runSshtrace gives a child: quiet Rust, no colours, the isolated HOME. */
function childEnv(options: Pick<SshtraceOptions, "home" | "env">): Record<string, string> {
  const isolated: Record<string, string> = options.home === undefined
    ? {}
    : { DENO_DIR, HOME: options.home, SSH_AUTH_SOCK: "" };
  return { RUST_BACKTRACE: "0", NO_COLOR: "1", ...isolated, ...options.env };
}

export interface SshtraceDialogue {
  /** Writes text to sshtrace's stdin (stdin stays open). */
  type(text: string): Promise<void>;
  /**
   * Waits until stdout, from the end of the previous match on, matches `re`; returns the text up
   * to the end of the match. Fails after `timeoutMs` (default 10 000) with what was printed.
   */
  expect(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Everything printed on stdout so far. */
  stdout(): string;
  /** Closes stdin and waits for the exit; kills after `timeoutMs` (default 20 000). */
  finish(timeoutMs?: number): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Kills the child if it still runs. */
  kill(): void;
}

/** Starts `deno run -A main.ts ARGS` with stdin and stdout as pipes for a dialogue. */
export function spawnSshtrace(
  args: string[],
  options: Pick<SshtraceOptions, "home" | "env"> = {},
): SshtraceDialogue {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", ...args],
    cwd: ROOT,
    env: childEnv(options),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  let err = "";
  let seen = 0;
  let closed = false;
  const collect = async (stream: ReadableStream<Uint8Array>, add: (s: string) => void) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) add(decoder.decode(chunk, { stream: true }));
  };
  const outDone = collect(child.stdout, (s) => (out += s)).catch(() => {});
  const errDone = collect(child.stderr, (s) => (err += s)).catch(() => {});
  let exited = false;
  const status = child.status.then((s) => (exited = true, s));
  const writer = child.stdin.getWriter();
  const kill = () => {
    if (exited) return;
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  };
  return {
    async type(text) {
      await writer.write(new TextEncoder().encode(text));
    },
    async expect(re, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = re.exec(out.slice(seen));
        if (m) {
          const end = seen + m.index + m[0].length;
          const text = out.slice(seen, end);
          seen = end;
          return text;
        }
        if (Date.now() >= deadline || exited) {
          throw new Error(
            `sshtrace did not print ${re} within ${timeoutMs} ms${exited ? " (it exited)" : ""}.` +
              `\nstdout: ${JSON.stringify(out)}\nstderr: ${err}`,
          );
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    stdout: () => out,
    async finish(timeoutMs = 20_000) {
      if (!closed) {
        closed = true;
        await writer.close().catch(() => {});
      }
      const timer = setTimeout(kill, timeoutMs);
      try {
        const s = await status;
        await Promise.all([outDone, errDone]);
        return { code: s.code, stdout: out, stderr: err };
      } finally {
        clearTimeout(timer);
      }
    },
    kill,
  };
}

export interface FileRunResult {
  code: number;
  /** SHA-256 (hex) and size of the file stdout went to. */
  fileSha: string;
  fileBytes: number;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

/**
 * Runs `deno run -A main.ts ARGS > FILE` through bash (so stdout is a regular file, as when a
 * user redirects a download) and hashes the file afterwards (read whole: for tens of MiB).
 */
export async function runSshtraceToFile(
  args: string[],
  file: string,
  options: Pick<SshtraceOptions, "home" | "env" | "timeoutMs"> = {},
): Promise<FileRunResult> {
  const started = performance.now();
  const child = new Deno.Command("/bin/bash", {
    args: ["-c", 'exec "$0" run -A main.ts "$@" > "$SSHTRACE_OUT"', Deno.execPath(), ...args],
    cwd: ROOT,
    env: { ...childEnv(options), SSHTRACE_OUT: file },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const kill = killAfter(child, options.timeoutMs ?? 60_000);
  try {
    const out = await child.output();
    const data = await Deno.readFile(file);
    return {
      code: out.code,
      fileSha: createHash("sha256").update(data).digest("hex"),
      fileBytes: data.length,
      stderr: new TextDecoder().decode(out.stderr),
      timedOut: kill.timedOut,
      ms: performance.now() - started,
    };
  } finally {
    kill.clear();
  }
}
