/**
 * A real OpenSSH server for tests: `startSshd()` runs /usr/sbin/sshd (or `options.sshd`) on 127.0.0.1 with a fresh
 * config on a free port, host keys generated once per test process, logs captured from stderr.
 *
 * Needs root (sshd with UsePAM, password logins, useradd). Missing tools make tests fail.
 */

import { decodeBase64 } from "../../lib/algorithms/pubkey.ts";
import { atLeast, type OpenSshVersion, SSHD, sshdVersion } from "./openssh.ts";
import { freePort, requireRoot, requireTool, run } from "./tools.ts";

// The OpenSSH version helpers live in openssh.ts; re-exported here for the tests' convenience.
export {
  atLeast,
  defaultKexAgainst,
  openssh99Ssh,
  openssh99Sshd,
  type OpenSshVersion,
  SSHD,
  sshdSupportsKex,
  sshdVersion,
} from "./openssh.ts";
export const SSH_KEYGEN = "/usr/bin/ssh-keygen";

export type HostKeyType = "ed25519" | "ecdsa" | "rsa" | "dsa";

export interface HostKey {
  /** Path of the private key file (the public key is at `${path}.pub`). */
  path: string;
  /** Public key as "type base64" (no comment), e.g. "ssh-ed25519 AAAAC3Nz...". */
  pub: string;
  /** The SSH wire-format public key blob (base64-decoded `pub`). */
  blob: Uint8Array;
}

export interface SshdOptions {
  /** The sshd binary. Default /usr/sbin/sshd (see `openssh99Sshd()` for one with ML-KEM). */
  sshd?: string;
  /** Host keys the server loads. Default ed25519, ecdsa, rsa (dsa only when listed). */
  hostKeyTypes?: HostKeyType[];
  /** authorized_keys lines; when given, AuthorizedKeysFile points at a file holding them. */
  authorizedKeys?: string[];
  /** sshd's LogLevel (default DEBUG1; DEBUG output can reach exec sessions' stderr). */
  logLevel?: string;
  /** Extra sshd_config lines appended to the generated config. */
  config?: string[];
  /** Force algorithm lists (sshd `-o KexAlgorithms=...` etc.). */
  kex?: string | string[];
  hostKeyAlgorithms?: string | string[];
  ciphers?: string | string[];
  macs?: string | string[];
  /** Path of a file sent as the pre-auth banner (`Banner`). */
  bannerFile?: string;
  /** The sftp subsystem's command (default `internal-sftp`); null: no SFTP at all. */
  sftpSubsystem?: string | null;
}

export interface SshdHandle {
  host: "127.0.0.1";
  port: number;
  /** The binary that runs, and its version as `sshd -V` reports it. */
  sshd: string;
  version: OpenSshVersion;
  /** Per-server directory holding sshd_config (and authorized_keys when given). */
  dir: string;
  hostKeys: Record<HostKeyType, HostKey>;
  /** Everything sshd (and its per-connection children) wrote to stderr so far. */
  logs(): string;
  /**
   * Resolves with the logs once they match `pattern` (connection children log a moment after
   * the client saw the result); rejects with the logs after `timeoutMs` (default 5000).
   */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Stops the server and its connection processes and removes `dir`. Safe to call twice. */
  stop(): Promise<void>;
}

export interface TestUser {
  name: string;
  password: string;
  home: string;
}

const KEYGEN_ARGS: Record<HostKeyType, string[]> = {
  ed25519: ["-t", "ed25519"],
  ecdsa: ["-t", "ecdsa", "-b", "256"],
  rsa: ["-t", "rsa", "-b", "3072"],
  dsa: ["-t", "dsa", "-b", "1024"],
};

let hostKeysPromise: Promise<Record<HostKeyType, HostKey>> | undefined;
let hostKeyDir: string | undefined;

async function generateHostKey(dir: string, type: HostKeyType): Promise<HostKey> {
  const path = `${dir}/ssh_host_${type}_key`;
  const res = await run(SSH_KEYGEN, [
    ...KEYGEN_ARGS[type],
    "-q",
    "-N",
    "",
    "-C",
    `sshtrace-test-${type}`,
    "-f",
    path,
  ]);
  if (res.code !== 0) {
    throw new Error(`ssh-keygen could not make the ${type} host key: ${res.stderr.trim()}`);
  }
  const [keyType, b64] = (await Deno.readTextFile(`${path}.pub`)).trim().split(/\s+/);
  return { path, pub: `${keyType} ${b64}`, blob: decodeBase64(b64) };
}

/** Host keys of all four types, generated once per process into a cached temp dir. */
export function testHostKeys(): Promise<Record<HostKeyType, HostKey>> {
  if (!hostKeysPromise) {
    hostKeysPromise = (async () => {
      requireTool(SSH_KEYGEN);
      const dir = await Deno.makeTempDir({ prefix: "sshtrace-hostkeys-" });
      hostKeyDir = dir;
      globalThis.addEventListener("unload", () => {
        try {
          Deno.removeSync(dir, { recursive: true });
        } catch {
          // best effort at exit
        }
      });
      const [ed25519, ecdsa, rsa, dsa] = await Promise.all(
        (["ed25519", "ecdsa", "rsa", "dsa"] as const).map((t) =>
          generateHostKey(dir, t).catch((e) => {
            // OpenSSH 10's ssh-keygen has no DSA: startSshd() refuses a DSA request clearly.
            if (t === "dsa") return { path: "", pub: "", blob: new Uint8Array(0) };
            throw e;
          })
        ),
      );
      return { ed25519, ecdsa, rsa, dsa };
    })();
    hostKeysPromise.catch(() => {
      hostKeysPromise = undefined;
      if (hostKeyDir) {
        try {
          Deno.removeSync(hostKeyDir, { recursive: true });
        } catch {
          // ignore
        }
      }
    });
  }
  return hostKeysPromise;
}

function algoList(value: string | string[]): string {
  return Array.isArray(value) ? value.join(",") : value;
}

function commandLineOptions(options: SshdOptions): string[] {
  const out: string[] = [];
  if (options.kex !== undefined) out.push("-o", `KexAlgorithms=${algoList(options.kex)}`);
  if (options.hostKeyAlgorithms !== undefined) {
    out.push("-o", `HostKeyAlgorithms=${algoList(options.hostKeyAlgorithms)}`);
  }
  if (options.ciphers !== undefined) out.push("-o", `Ciphers=${algoList(options.ciphers)}`);
  if (options.macs !== undefined) out.push("-o", `MACs=${algoList(options.macs)}`);
  return out;
}

function buildConfig(
  version: OpenSshVersion,
  port: number,
  hostKeys: Record<HostKeyType, HostKey>,
  types: HostKeyType[],
  authorizedKeysPath: string | undefined,
  options: SshdOptions,
): string {
  const lines = [
    "ListenAddress 127.0.0.1",
    `Port ${port}`,
    "PidFile none",
    ...types.map((t) => `HostKey ${hostKeys[t].path}`),
    // Builds without PAM (OpenSSH 10 from .cache/) log "Unsupported option UsePAM" and go on.
    "UsePAM yes",
    "PasswordAuthentication yes",
    "KbdInteractiveAuthentication yes",
    "PubkeyAuthentication yes",
    "PermitRootLogin yes",
    "StrictModes no",
    "MaxStartups 1000",
    `LogLevel ${options.logLevel ?? "DEBUG1"}`,
    "PrintMotd no",
  ];
  const sftp = options.sftpSubsystem === undefined ? "internal-sftp" : options.sftpSubsystem;
  if (sftp !== null) lines.push(`Subsystem sftp ${sftp}`);
  // ssh-dss is off by default in OpenSSH; a test asking for the DSA key wants it offered.
  // OpenSSH 10 has no DSA at all.
  if (types.includes("dsa") && (atLeast(version, 10, 0) || !hostKeys.dsa.path)) {
    throw new Error(`${version.text} has no DSA: a test asking for a DSA host key needs < 10`);
  }
  if (types.includes("dsa") && options.hostKeyAlgorithms === undefined) {
    lines.push("HostKeyAlgorithms +ssh-dss");
  }
  if (authorizedKeysPath) lines.push(`AuthorizedKeysFile ${authorizedKeysPath}`);
  if (options.bannerFile) lines.push(`Banner ${options.bannerFile}`);
  lines.push(...(options.config ?? []));
  // OpenSSH 9.8+ blocks a source address for a while after unauthenticated disconnects (every
  // probe is one) and answers "Not allowed at this time": tests and benchmarks connect from
  // 127.0.0.1 hundreds of times. A test's own PerSourcePenalties line (above) wins: sshd takes a
  // keyword's first value.
  if (atLeast(version, 9, 8) && !lines.some((l) => /^PerSourcePenalties\b/i.test(l))) {
    lines.push("PerSourcePenalties no");
  }
  return lines.join("\n") + "\n";
}

/** Process ids of all living descendants of `root`, read from /proc. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    let stat: string;
    try {
      stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry.name));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const pid of children.get(queue.shift()!) ?? []) {
      out.push(pid);
      queue.push(pid);
    }
  }
  return out;
}

async function canConnect(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Starts a real sshd on 127.0.0.1 and resolves once it accepts TCP connections. */
export async function startSshd(options: SshdOptions = {}): Promise<SshdHandle> {
  const sshd = options.sshd ?? SSHD;
  requireTool(sshd);
  const version = await sshdVersion(sshd);
  requireRoot("startSshd()");
  await Deno.mkdir("/run/sshd", { recursive: true }); // privilege separation directory
  const hostKeys = await testHostKeys();
  const types = options.hostKeyTypes ?? ["ed25519", "ecdsa", "rsa"];
  if (types.length === 0) throw new Error("startSshd() needs at least one host key type");

  const dir = await Deno.makeTempDir({ prefix: "sshtrace-sshd-" });
  // The authorized_keys file is read with the user's privileges: let everyone read the dir.
  await Deno.chmod(dir, 0o755);
  try {
    let authorizedKeysPath: string | undefined;
    if (options.authorizedKeys) {
      authorizedKeysPath = `${dir}/authorized_keys`;
      await Deno.writeTextFile(authorizedKeysPath, options.authorizedKeys.join("\n") + "\n");
      await Deno.chmod(authorizedKeysPath, 0o644);
    }
    const confPath = `${dir}/sshd_config`;
    const extra = commandLineOptions(options);

    // A port can be taken between freePort() and sshd's bind: try a few ports.
    let lastError = "";
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = freePort();
      await Deno.writeTextFile(
        confPath,
        buildConfig(version, port, hostKeys, types, authorizedKeysPath, options),
      );
      const check = await run(sshd, ["-t", "-f", confPath, ...extra]);
      if (check.code !== 0) {
        throw new Error(
          `sshd rejected the test config (sshd -t exit ${check.code}): ${
            (check.stderr + check.stdout).trim()
          }`,
        );
      }
      const handle = spawnSshd({ sshd, version }, port, dir, confPath, extra, hostKeys);
      const result = await handle.ready;
      if (result === "ready") return handle.handle;
      lastError = result;
      await handle.handle.stopProcess();
      if (!/Address already in use/i.test(result)) break;
    }
    throw new Error(`sshd did not start: ${lastError}`);
  } catch (e) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e;
  }
}

function spawnSshd(
  binary: { sshd: string; version: OpenSshVersion },
  port: number,
  dir: string,
  confPath: string,
  extra: string[],
  hostKeys: Record<HostKeyType, HostKey>,
): {
  ready: Promise<"ready" | string>;
  handle: SshdHandle & { stopProcess(): Promise<void> };
} {
  const child = new Deno.Command(binary.sshd, {
    args: ["-D", "-e", "-f", confPath, ...extra],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();

  let logText = "";
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const pump = (async () => {
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        logText += value;
      }
    } catch {
      // cancelled by stop()
    }
  })();

  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });

  // Connection processes call setsid(), so a process-group kill misses them: find every
  // descendant through /proc before signalling (they are re-parented once sshd is gone).
  let family: number[] = [];
  const signalGroup = (signal: Deno.Signal) => {
    if (!exited) family = [child.pid, ...descendants(child.pid)];
    for (const pid of family) {
      try {
        Deno.kill(pid, signal);
      } catch {
        // already gone
      }
    }
  };

  let stopping: Promise<void> | undefined;
  const stopProcess = () => {
    stopping ??= (async () => {
      if (!exited) {
        signalGroup("SIGTERM");
        const timeout = delay(2000).then(() => "timeout" as const);
        if ((await Promise.race([status, timeout])) === "timeout") signalGroup("SIGKILL");
      }
      await status;
      // Connection children may still hold the pipe for a moment; don't wait forever.
      const drained = await Promise.race([pump.then(() => true), delay(1000).then(() => false)]);
      if (!drained) {
        signalGroup("SIGKILL");
        await reader.cancel().catch(() => {});
        await pump;
      }
    })();
    return stopping;
  };

  const handle = {
    host: "127.0.0.1" as const,
    port,
    ...binary,
    dir,
    hostKeys,
    logs: () => logText,
    waitForLog: async (pattern: RegExp, timeoutMs = 5000) => {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(logText)) {
        if (Date.now() >= deadline) {
          throw new Error(`sshd logs did not show ${pattern} within ${timeoutMs} ms:\n${logText}`);
        }
        await delay(25);
      }
      return logText;
    },
    stopProcess,
    stop: async () => {
      await stopProcess();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };

  const ready = (async (): Promise<"ready" | string> => {
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      if (exited) {
        const s = await status;
        await Promise.race([pump, delay(500)]);
        return `sshd exited with code ${s.code} before accepting connections: ${logText.trim()}`;
      }
      if (await canConnect(port)) return "ready";
      await delay(50);
    }
    return `sshd did not accept connections on 127.0.0.1:${port} within 5 s: ${logText.trim()}`;
  })();

  return { ready, handle };
}

/**
 * Makes sure a local account for password logins exists (useradd -m -s /bin/bash) and sets its
 * password with chpasswd. Returns the account's name, password and home directory.
 */
export async function ensureTestUser(
  name = "sshtrace-test",
  password = "correct horse 42",
): Promise<TestUser> {
  requireRoot("ensureTestUser()");
  const exists = async () => (await run("id", ["-u", name])).code === 0;
  if (!(await exists())) {
    const add = await run("useradd", ["-m", "-s", "/bin/bash", name]);
    // Another test process may have created it at the same moment: check again.
    if (add.code !== 0 && !(await exists())) {
      throw new Error(`useradd could not create the user ${name}: ${add.stderr.trim()}`);
    }
  }
  const chpasswd = await run("chpasswd", [], { stdin: `${name}:${password}\n` });
  if (chpasswd.code !== 0) {
    // chpasswd's error text never includes the password itself.
    throw new Error(`chpasswd could not set the password of ${name}: ${chpasswd.stderr.trim()}`);
  }
  const entry = await run("getent", ["passwd", name]);
  const home = entry.stdout.trim().split(":")[5];
  if (entry.code !== 0 || !home) throw new Error(`getent passwd found no entry for ${name}`);
  return { name, password, home };
}
