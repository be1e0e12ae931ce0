/**
 * SSH servers written independently of OpenSSH, for interop tests: paramiko (Python), Go's
 * x/crypto/ssh, Erlang/OTP's ssh and libssh, each a small program in test/servers/ on Debian's
 * packages (scripts/install-deps.sh installs them). `startIndependentServer(name)` builds the
 * program when it is compiled (Go, C: into .cache/interop/, again whenever the source is newer),
 * starts it on 127.0.0.1 with a free port, resolves once it listens and stops it, with every
 * process it forked, on `stop()`. A missing package makes the test FAIL with the fix, never skip.
 *
 * Every server program follows one contract:
 * - it listens on 127.0.0.1 on a port the kernel picks and prints `LISTENING <port>` on stdout;
 *   it exits when its stdin closes, so it never outlives the test process, even one killed;
 * - environment: INTEROP_HOST_KEYS (private host key files in OpenSSH format, `:`-separated),
 *   INTEROP_PASSWORD (accepted for every user name; never on the command line),
 *   INTEROP_AUTHORIZED_KEY (a file of authorized_keys lines, `type base64 [comment]`, accepted for
 *   every user name), INTEROP_WORK_DIR (an empty directory of its own);
 * - auth methods `password` and `publickey`, one session channel per connection or more;
 * - commands, by exec or typed into the shell (a prompt `interop$ ` that echoes what is typed on
 *   a pty, and ends with `exit [N]`): `echo WORDS`, `whoami` (user name and the method that
 *   logged in), `pty` (`TERM COLSxROWS` of the pty request, or `none`), `bytes N [stderr]` (N
 *   bytes, byte i being i % 251: see {@link patternBytes}), `check N` (exec only: reads stdin to
 *   its end, prints `ok N` when it was N bytes of that pattern, else says where it differed and
 *   exits 1), `exit N`; anything else exits 127.
 */

import { ROOT } from "./cli.ts";
import { descendants, type HostKey, testHostKeys } from "./sshd.ts";
import { requireTool, run } from "./tools.ts";

export type IndependentServerName = "paramiko" | "go" | "erlang" | "libssh";

export const INDEPENDENT_SERVERS: readonly IndependentServerName[] = [
  "paramiko",
  "go",
  "erlang",
  "libssh",
];

export interface IndependentServer {
  name: IndependentServerName;
  /** What it is, for test names: "paramiko", "Go x/crypto/ssh", ... */
  title: string;
  host: "127.0.0.1";
  port: number;
  /** Process id of the server program (connection handlers may be its children). */
  pid: number;
  /** The host keys it serves (ed25519, ECDSA P-256, RSA 3072), for known_hosts. */
  hostKeys: HostKey[];
  /** Everything the server printed (stderr, and stdout after the LISTENING line). */
  logs(): string;
  /** Stops the server and every process it forked; removes its work directory. Idempotent. */
  stop(): Promise<void>;
}

export interface IndependentServerOptions {
  /** Path of a file of authorized_keys lines, accepted for every user. */
  authorizedKeys: string;
  password: string;
}

const SERVERS_DIR = new URL("../servers/", import.meta.url).pathname;
const BUILD_DIR = `${ROOT}.cache/interop`;
const PYTHON = "/usr/bin/python3";
const GO = "/usr/bin/go";
const CC = "/usr/bin/cc";
const ESCRIPT = "/usr/bin/escript";
/** Debian's Go packages (golang-golang-x-crypto-dev and -x-sys-dev) install their source here. */
const GOPATH = "/usr/share/gocode";

interface Program {
  title: string;
  /** Debian packages it needs, named in the failure when it cannot start. */
  packages: string;
  /** Checks the tools, builds if needed; returns what to run. */
  prepare(): Promise<{ cmd: string; args: string[] }>;
}

const PROGRAMS: Record<IndependentServerName, Program> = {
  paramiko: {
    title: "paramiko",
    packages: "python3-paramiko",
    async prepare() {
      requireTool(PYTHON);
      const check = await run(PYTHON, ["-W", "ignore", "-c", "import paramiko"]);
      if (check.code !== 0) {
        throw new Error(
          `python3-paramiko not installed for ${PYTHON}: run scripts/install-deps.sh ` +
            `(${check.stderr.trim().split("\n").pop()})`,
        );
      }
      return { cmd: PYTHON, args: ["-W", "ignore", `${SERVERS_DIR}paramiko_server.py`] };
    },
  },
  go: {
    title: "Go x/crypto/ssh",
    packages: "golang-go golang-golang-x-crypto-dev golang-golang-x-sys-dev",
    async prepare() {
      requireTool(GO);
      const cryptoSsh = `${GOPATH}/src/golang.org/x/crypto/ssh`;
      if (!exists(cryptoSsh)) {
        throw new Error(
          `golang-golang-x-crypto-dev not installed (no ${cryptoSsh}): run scripts/install-deps.sh`,
        );
      }
      const binary = await build("go_server", "go_server.go", (out, src) => ({
        cmd: GO,
        args: ["build", "-o", out, src],
        // GOPATH mode against Debian's packaged sources: no module proxy, no network. The build
        // cache stays in .cache/ too (and works without HOME).
        env: { GO111MODULE: "off", GOPATH, GOFLAGS: "", GOCACHE: `${BUILD_DIR}/go-build` },
      }));
      return { cmd: binary, args: [] };
    },
  },
  erlang: {
    title: "Erlang/OTP ssh",
    packages: "erlang-base erlang-ssh erlang-crypto erlang-public-key",
    prepare() {
      requireTool(ESCRIPT);
      return Promise.resolve({ cmd: ESCRIPT, args: [`${SERVERS_DIR}erlang_server.escript`] });
    },
  },
  libssh: {
    title: "libssh",
    packages: "libssh-dev (and a C compiler)",
    async prepare() {
      requireTool(CC);
      if (!exists("/usr/include/libssh/server.h")) {
        throw new Error(
          "libssh-dev not installed (no libssh/server.h): run scripts/install-deps.sh",
        );
      }
      const binary = await build("libssh_server", "libssh_server.c", (out, src) => ({
        cmd: CC,
        args: ["-O2", "-Wall", "-Wno-deprecated-declarations", "-o", out, src, "-lssh"],
      }));
      return { cmd: binary, args: [] };
    },
  },
};

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function mtime(path: string): number {
  try {
    return Deno.statSync(path).mtime?.getTime() ?? 0;
  } catch {
    return 0;
  }
}

/**
 * Compiles `source` (in test/servers/) into .cache/interop/`name` unless the binary is newer
 * than the source; writes to a temporary name first, so a half-built binary never runs.
 */
async function build(
  name: string,
  source: string,
  command: (
    out: string,
    src: string,
  ) => { cmd: string; args: string[]; env?: Record<string, string> },
): Promise<string> {
  const src = `${SERVERS_DIR}${source}`;
  const binary = `${BUILD_DIR}/${name}`;
  if (mtime(binary) > mtime(src)) return binary;
  await Deno.mkdir(BUILD_DIR, { recursive: true });
  const tmp = `${binary}.${Deno.pid}.tmp`;
  const { cmd, args, env } = command(tmp, src);
  const res = await run(cmd, args, {
    ...(env ? { env } : {}),
    cwd: ROOT,
    timeoutMs: 300_000,
  });
  if (res.code !== 0) {
    await Deno.remove(tmp).catch(() => {});
    throw new Error(`building ${source} failed (${cmd} exit ${res.code}):\n${res.stderr}`);
  }
  await Deno.rename(tmp, binary);
  return binary;
}

/** Reads a child's pipe as text until it ends (or `cancel()`), handing each piece to `onText`. */
function pump(
  stream: ReadableStream<Uint8Array>,
  onText: (text: string) => void,
): { done: Promise<void>; cancel(): Promise<void> } {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  const done = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        onText(decoder.decode(value, { stream: true }));
      }
    } catch {
      // cancelled
    }
  })();
  return { done, cancel: () => reader.cancel().catch(() => {}).then(() => done) };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Starts one of the servers (building it first when needed); resolves once it listens. */
export async function startIndependentServer(
  name: IndependentServerName,
  options: IndependentServerOptions,
): Promise<IndependentServer> {
  const program = PROGRAMS[name];
  const { cmd, args } = await program.prepare();
  const keys = await testHostKeys();
  const hostKeys = [keys.ed25519, keys.ecdsa, keys.rsa];
  const workDir = await Deno.makeTempDir({ prefix: `sshtrace-${name}-` });

  const child = new Deno.Command(cmd, {
    args,
    cwd: workDir,
    env: {
      INTEROP_HOST_KEYS: hostKeys.map((k) => k.path).join(":"),
      INTEROP_PASSWORD: options.password,
      INTEROP_AUTHORIZED_KEY: options.authorizedKeys,
      INTEROP_WORK_DIR: workDir,
      HOME: Deno.env.get("HOME") ?? workDir, // erl refuses to start without one
      PYTHONDONTWRITEBYTECODE: "1",
    },
    // Never written to: when this process ends, however it ends, the server sees EOF and exits.
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lifeline = child.stdin.getWriter();

  let logText = "";
  let stdoutText = "";
  let heard = false;
  let listening: (port: number) => void = () => {};
  const port = new Promise<number>((resolve) => (listening = resolve));
  const out = pump(child.stdout, (text) => {
    if (!heard) {
      stdoutText += text;
      const m = /^LISTENING (\d+)\r?\n/m.exec(stdoutText);
      if (m) {
        heard = true;
        listening(Number(m[1]));
      }
    }
    logText += text;
  });
  const err = pump(child.stderr, (text) => (logText += text));
  const drained = Promise.all([out.done, err.done]);

  let exited = false;
  const status = child.status.then((s) => (exited = true, s));

  // Forked connection handlers (libssh) outlive their parent when it is killed: find the whole
  // family through /proc before signalling, and signal every member.
  let family: number[] = [];
  const signalAll = (signal: Deno.Signal) => {
    if (!exited) family = [child.pid, ...descendants(child.pid)];
    else family = [...family, ...family.flatMap((pid) => descendants(pid))];
    for (const pid of family) {
      try {
        Deno.kill(pid, signal);
      } catch {
        // already gone
      }
    }
  };
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      signalAll("SIGTERM");
      await lifeline.close().catch(() => {});
      const ended = await Promise.race([status.then(() => true), delay(3000).then(() => false)]);
      if (!ended) signalAll("SIGKILL");
      await status;
      // Children (Erlang's port helpers, forked connections) may hold the pipes a moment longer;
      // past that they are killed, and the pipes are let go of in any case.
      for (const last of [false, true]) {
        const ok = await Promise.race([drained.then(() => true), delay(1000).then(() => false)]);
        if (ok) break;
        if (last) await Promise.all([out.cancel(), err.cancel()]);
        else signalAll("SIGKILL");
      }
      await Deno.remove(workDir, { recursive: true }).catch(() => {});
    })();
    return stopping;
  };

  const timeoutMs = 30_000; // the Erlang VM takes 1-2 s to start, more on a loaded machine
  const outcome = await Promise.race([
    port,
    status.then((s) => `exited with code ${s.code} before listening`),
    delay(timeoutMs).then(() => `did not print LISTENING within ${timeoutMs / 1000} s`),
  ]);
  if (typeof outcome === "string") {
    await stop();
    throw new Error(
      `the ${program.title} server ${outcome} (needs ${program.packages}: run ` +
        `scripts/install-deps.sh):\n${logText.trim()}`,
    );
  }
  return {
    name,
    title: program.title,
    host: "127.0.0.1",
    port: outcome,
    pid: child.pid,
    hostKeys,
    logs: () => logText,
    stop,
  };
}

/** The bytes `bytes N` sends: N bytes, byte i being i % 251 (a prime period, so a lost or
 * repeated chunk of any power-of-two size changes the checksum). */
export function patternBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = i % 251;
  return out;
}
