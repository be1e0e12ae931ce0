/**
 * The sshtrace command line as a user runs it: `deno run -A main.ts ARGS` in a subprocess, with
 * what it printed, how it ended and how long it took; and readers for what it prints (the
 * `--json` report after a command's output, `--ndjson` event lines); and the client side of a
 * login (an empty HOME, a key).
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { SSH_KEYGEN } from "./sshd.ts";
import { killAfter, run, type RunResult } from "./tools.ts";

/** The project root (with a trailing slash): the CLI runs there. */
export const ROOT = new URL("../..", import.meta.url).pathname;

export const MiB = 1024 * 1024;

/** How much of the end of each output {@link runSshtrace} keeps as text whatever its size. */
const TAIL_BYTES = 4096;

/**
 * This process's Deno cache. A child with another HOME is pointed at it, so it neither fills a
 * fresh cache under that HOME nor misses the npm packages already there.
 */
export const DENO_DIR = Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`;

/** Parsed JSON output (the report and events are checked field by field). */
// deno-lint-ignore no-explicit-any
export type Json = any;

export interface SshtraceOptions {
  /**
   * HOME for the child (an empty directory means no default keys, config or known_hosts). Set,
   * it also pins DENO_DIR to this process's cache and turns the ssh-agent off (SSH_AUTH_SOCK
   * empty); `env` can set SSH_AUTH_SOCK back. Unset, the child inherits all three.
   */
  home?: string;
  /** More environment (over the defaults RUST_BACKTRACE=0, NO_COLOR=1 and those of `home`). */
  env?: Record<string, string>;
  /** Written to the child's standard input, which is then closed; without it stdin is null. */
  stdin?: string | Uint8Array;
  /** Deno permission flags for the child instead of `-A` (e.g. to prove a narrow set works). */
  permissions?: string[];
  /**
   * Run this standalone executable (dist/sshtrace-linux-x64) instead of `deno run main.ts`, in
   * a cleared environment (`env -i PATH=/usr/bin:/bin` plus the defaults and `env`): no Deno,
   * no node_modules.
   */
  binary?: string;
  /** Kill the child (SIGKILL) after this many milliseconds. Default 60 000. */
  timeoutMs?: number;
  /**
   * Keep an output's text only up to this many bytes (a larger output's text is "", its hash and
   * length still count): for tests that move tens of MiB. Default: keep all text.
   */
  textLimit?: number;
  /** Measure the child's peak resident memory (VmHWM, polled from /proc while it runs). */
  peakRss?: boolean;
}

export interface SshtraceResult {
  code: number;
  /** Signal that ended the child, or null. */
  signal: Deno.Signal | null;
  /** True when the child was killed because it ran past timeoutMs. */
  timedOut: boolean;
  /** stdout as text ("" when it was longer than textLimit). */
  stdout: string;
  /** SHA-256 (hex) and length in bytes of all of stdout. */
  stdoutSha: string;
  stdoutBytes: number;
  /** stderr as text ("" when it was longer than textLimit). */
  stderr: string;
  stderrSha: string;
  stderrBytes: number;
  /**
   * The last 4 KiB of stdout and stderr as text, even when the whole was over textLimit: what a
   * program printed after a large transfer (a failure message after the data).
   */
  stdoutTail: string;
  stderrTail: string;
  /** Wall time from spawn to exit, in milliseconds. */
  ms: number;
  /** With `peakRss`: the child's peak resident memory in bytes (0 if never read). */
  peakRssBytes: number;
}

/** Polls /proc/PID/status for VmHWM (peak RSS) until stopped; returns the highest seen. */
function watchPeakRss(pid: number): () => number {
  let peak = 0;
  const read = () => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
      if (m) peak = Math.max(peak, Number(m[1]) * 1024);
    } catch {
      // gone already
    }
  };
  const timer = setInterval(read, 20);
  return () => {
    read();
    clearInterval(timer);
    return peak;
  };
}

/**
 * Runs `deno run -A main.ts ARGS` in ROOT, feeding `stdin` (if any) and hashing both outputs as
 * they stream, so a large transfer is checked without being held as text.
 */
export async function runSshtrace(
  args: string[],
  options: SshtraceOptions = {},
): Promise<SshtraceResult> {
  const started = performance.now();
  const isolated: Record<string, string> = options.home === undefined
    ? {}
    : { DENO_DIR, HOME: options.home, SSH_AUTH_SOCK: "" };
  const binary = options.binary;
  const child = new Deno.Command(binary ?? Deno.execPath(), {
    args: binary ? args : ["run", ...(options.permissions ?? ["-A"]), "main.ts", ...args],
    cwd: binary ? "/" : ROOT, // the executable needs nothing of the checkout
    clearEnv: binary !== undefined,
    env: {
      ...(binary ? { PATH: "/usr/bin:/bin" } : {}),
      RUST_BACKTRACE: "0",
      NO_COLOR: "1",
      ...isolated,
      ...options.env,
    },
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stopWatch = options.peakRss ? watchPeakRss(child.pid) : () => 0;
  const kill = killAfter(child, options.timeoutMs ?? 60_000);
  const textLimit = options.textLimit ?? Infinity;
  let peakRssBytes = 0;
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const hash = createHash("sha256");
    const decoder = new TextDecoder();
    let bytes = 0;
    let text = "";
    let tail = new Uint8Array(0);
    for await (const chunk of stream) {
      hash.update(chunk);
      bytes += chunk.length;
      if (bytes <= textLimit) text += decoder.decode(chunk, { stream: true });
      const piece = chunk.subarray(-TAIL_BYTES);
      const joined = new Uint8Array(tail.length + piece.length);
      joined.set(tail);
      joined.set(piece, tail.length);
      tail = joined.slice(-TAIL_BYTES);
    }
    return {
      sha: hash.digest("hex"),
      bytes,
      text: bytes <= textLimit ? text + decoder.decode() : "",
      tail: new TextDecoder().decode(tail),
    };
  };
  const feed = async () => {
    if (options.stdin === undefined) return;
    const data = typeof options.stdin === "string"
      ? new TextEncoder().encode(options.stdin)
      : options.stdin;
    const writer = child.stdin.getWriter();
    try {
      for (let off = 0; off < data.length; off += MiB) {
        await writer.write(data.subarray(off, off + MiB));
      }
      await writer.close();
    } catch {
      // the program may exit without reading everything; its exit status tells
    }
  };
  try {
    const [out, err, status] = await Promise.all([
      collect(child.stdout),
      collect(child.stderr),
      child.status.finally(() => (peakRssBytes = stopWatch())),
      feed(),
    ]);
    return {
      code: status.code,
      signal: status.signal,
      timedOut: kill.timedOut,
      stdout: out.text,
      stdoutSha: out.sha,
      stdoutBytes: out.bytes,
      stdoutTail: out.tail,
      stderr: err.text,
      stderrSha: err.sha,
      stderrBytes: err.bytes,
      stderrTail: err.tail,
      ms: performance.now() - started,
      peakRssBytes,
    };
  } finally {
    kill.clear();
    stopWatch();
  }
}

/** Where the `--json` report starts: the JSON object printed last on stdout, or -1. */
function reportStart(stdout: string): number {
  return stdout.lastIndexOf('{\n  "ok":');
}

/** The `--json` report: the JSON object printed last on stdout (after any command output). */
export function parseJsonReport(stdout: string): Json {
  const start = reportStart(stdout);
  assert.ok(start >= 0, `no JSON report on stdout:\n${stdout.slice(-2000)}`);
  return JSON.parse(stdout.slice(start));
}

/** What the remote command printed: stdout before the `--json` report (all of it without one). */
export function commandOutput(stdout: string): string {
  const start = reportStart(stdout);
  return start >= 0 ? stdout.slice(0, start) : stdout;
}

/** `--ndjson` events (lines that are JSON objects with a stage), and the other non-empty lines. */
export function splitNdjson(stdout: string): { events: Json[]; other: string[] } {
  const events: Json[] = [];
  const other: string[] = [];
  for (const line of stdout.split("\n")) {
    if (line.startsWith('{"stage":')) events.push(JSON.parse(line));
    else if (line) other.push(line);
  }
  return { events, other };
}

/** SHA-256 of `data`, in hex (as sha256sum prints it). */
export function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Makes `DIR/home`, an empty HOME for the CLI (no keys, config or known_hosts); returns it. */
export async function emptyHome(dir: string): Promise<string> {
  const home = `${dir}/home`;
  await Deno.mkdir(home);
  return home;
}

/** Makes an unencrypted Ed25519 key pair `DIR/id_ed25519{,.pub}` with ssh-keygen; returns its path. */
export function ed25519Key(dir: string): Promise<string> {
  return userKey(dir, "ed25519");
}

/**
 * Makes an unencrypted key pair `DIR/id_TYPE{,.pub}` with ssh-keygen (ECDSA P-256, RSA 3072);
 * returns the private key's path.
 */
export async function userKey(dir: string, type: "ed25519" | "ecdsa" | "rsa"): Promise<string> {
  const key = `${dir}/id_${type}`;
  const bits = { ed25519: [], ecdsa: ["-b", "256"], rsa: ["-b", "3072"] }[type];
  const gen = await run(SSH_KEYGEN, ["-t", type, ...bits, "-q", "-N", "", "-f", key]);
  assert.equal(gen.code, 0, gen.stderr);
  return key;
}

/**
 * A remote shell command that sends `size` random bytes on stdout (or stderr) and their
 * `sha256sum` line ("HASH  -") on the other stream, the sum written first, so it cannot race the
 * channel's close (as `tee >(sha256sum)` does: the substitution may finish after the exit).
 */
export function randomWithChecksum(size: number, data: "stdout" | "stderr" = "stdout"): string {
  const [sum, out] = data === "stdout" ? [">&2", ""] : ["", " >&2"];
  return `f=$(mktemp) && head -c ${size} /dev/urandom >"$f" && sha256sum <"$f" ${sum}; ` +
    `cat "$f"${out}; rm -f "$f"`;
}

/** No stack trace and no uncaught-error text in either stream. */
export function assertNoStackTrace(res: Pick<RunResult, "stdout" | "stderr">): void {
  for (const line of (res.stdout + "\n" + res.stderr).split("\n")) {
    assert.ok(!line.startsWith("    at "), `stack trace line: ${line}\n${res.stderr}`);
    assert.ok(!/^\s+at .*\.ts:\d+/.test(line), `stack trace line: ${line}`);
  }
  assert.ok(!/Uncaught|internal error/i.test(res.stderr), res.stderr);
}

/** Asserts a usage error: exit 2, one `sshtrace: …` line naming the problem, nothing on stdout. */
export function assertUsageError(
  res: Pick<RunResult, "code" | "stdout" | "stderr">,
  pattern: RegExp,
): void {
  assert.equal(res.code, 2, res.stderr);
  assertNoStackTrace(res);
  assert.equal(res.stdout, "");
  const lines = res.stderr.split("\n").filter((l) => l.trim() !== "");
  assert.ok(lines.length >= 1, "no error message");
  assert.match(lines[0]!, /^sshtrace: /);
  assert.match(lines[0]!, pattern);
  // Anything after the message is a hint, never a trace.
  for (const l of lines.slice(1)) assert.match(l, /^ {2}try: /);
}
