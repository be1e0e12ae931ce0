/**
 * Small helpers for tests that drive real programs (sshd, ssh, ssh-keygen, ...).
 *
 * A missing tool makes the test FAIL with a hint, never skip: the suite is only green when it
 * ran against the real servers.
 */

/** Throws when `path` is not an existing executable file. Returns `path` for chaining. */
export function requireTool(path: string): string {
  let ok = false;
  try {
    const info = Deno.statSync(path);
    ok = info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    ok = false;
  }
  if (!ok) {
    const name = path.split("/").pop() || path;
    throw new Error(`${name} not installed: run scripts/install-deps.sh (looked for ${path})`);
  }
  return path;
}

/** Throws a clear error unless the tests run as root (sshd with PAM, useradd need it). */
export function requireRoot(what: string): void {
  if (Deno.uid() !== 0) {
    throw new Error(`${what} needs root: run the tests as root (uid is ${Deno.uid()})`);
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago (bind port 0, read it, close). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

export interface RunOptions {
  /** Text or bytes written to the program's standard input (closed afterwards). */
  stdin?: string | Uint8Array;
  env?: Record<string, string>;
  cwd?: string;
  /** Kill the program (SIGKILL) after this many milliseconds. Default 30 000. */
  timeoutMs?: number;
}

export interface RunResult {
  code: number;
  /** Signal that ended the program, or null. */
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
  /** True when the program was killed because it ran past timeoutMs. */
  timedOut: boolean;
}

/** Runs a program to completion and returns its exit code and output as strings. */
export async function run(
  cmd: string,
  args: string[] = [],
  opts: RunOptions = {},
): Promise<RunResult> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  }).spawn();
  const kill = killAfter(child, opts.timeoutMs ?? 30_000);
  try {
    if (opts.stdin !== undefined) {
      const data = typeof opts.stdin === "string"
        ? new TextEncoder().encode(opts.stdin)
        : opts.stdin;
      const writer = child.stdin.getWriter();
      try {
        await writer.write(data);
        await writer.close();
      } catch {
        // the program may exit without reading its input; its exit status tells the story
      }
    }
    const out = await child.output();
    const decoder = new TextDecoder();
    return {
      code: out.code,
      signal: out.signal,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
      timedOut: kill.timedOut,
    };
  } finally {
    kill.clear();
  }
}

/** A child killed (SIGKILL) after `ms` unless {@link clear}ed first; says whether it was. */
export function killAfter(child: Deno.ChildProcess, ms: number) {
  let fired = false;
  const timer = setTimeout(() => {
    fired = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, ms);
  return {
    get timedOut(): boolean {
      return fired;
    },
    clear: () => clearTimeout(timer),
  };
}

export interface TempDir {
  path: string;
  cleanup(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A fresh temporary directory; `cleanup()` (or `await using`) removes it and its contents. */
export async function tempDir(prefix = "sshtrace-test-"): Promise<TempDir> {
  const path = await Deno.makeTempDir({ prefix });
  const cleanup = async () => {
    try {
      await Deno.remove(path, { recursive: true });
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  };
  return { path, cleanup, [Symbol.asyncDispose]: cleanup };
}
