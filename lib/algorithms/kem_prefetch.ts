/**
 * A sntrup761 key pair made ahead, on a worker thread, while the main thread loads modules,
 * connects and waits for the server. sntrup761's key generation is the costliest step of a key
 * exchange (~35 ms of CPU in WebAssembly, BENCHMARKS.md) and comes after the server's KEXINIT,
 * so on the main thread it adds its whole time to every login and probe against OpenSSH 9.0–9.8,
 * which choose sntrup761x25519. The CLI starts it for commands that connect; the hybrid key
 * exchange takes it (once: a key pair is used for one exchange only) and makes its own when
 * there is none. A server that chooses another method leaves it unused (~50 ms of another CPU's
 * time). The worker's start costs CPU too, so it is started only when a spare CPU is likely (not
 * on two CPUs: measured slower there; Deno's `new Worker` also blocks the main thread for 20–45 ms
 * while the worker's runtime is made). The standalone executable embeds the worker as a second
 * entry point (scripts/binary.sh); where a worker cannot start, nothing changes, and one that
 * starts but never answers is given up after {@link TAKE_TIMEOUT_MS}. Without a worker, a
 * connection whose first offered key exchange is a sntrup761 hybrid makes it on the main thread
 * during the server's greeting ({@link makeSntrup761KeyPairSoon}).
 * @module
 */

import { LATE, orLate } from "../async.ts";
import { platform } from "../platform/mod.ts";

/**
 * Whether a spare CPU is likely: four or more CPUs and, where the system says (/proc/loadavg), a
 * 1-minute load average and a count of threads runnable right now both below half of them. On two
 * CPUs (measured, BENCHMARKS.md: load 1.4–2, 2–3 and 8–10, the bench's sshd on the same CPUs) the
 * worker's own start (~20–28 ms of CPU) cost more than the parallel key pair gained every time:
 * medians 16–41 ms slower, only the best runs faster.
 */
function spareCpu(): boolean {
  const cpus = globalThis.navigator?.hardwareConcurrency ?? 1;
  if (cpus < 4) return false;
  try {
    const text = platform.readTextSync("/proc/loadavg", 128);
    if (text === undefined) return true; // no figure (not Linux): assume a desktop's idle CPUs
    const [load1, running] = text.split(" ");
    const runnable = Number(running?.split("/")[0]);
    return Number(load1) < cpus / 2 && !(runnable >= cpus / 2);
  } catch {
    return true;
  }
}

/** A KEM key pair, as `Kem.keypair()` returns it. */
export interface KeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

/** A key pair made ahead, as {@link takeSntrup761KeyPair} hands it out: where it was made. */
export interface KeyPairAhead extends KeyPair {
  /** For the trace: `on a worker thread`, `on the main thread during the connect`. */
  readonly where: string;
}

let pending: {
  /** Stops the maker (the worker), if there is one to stop. */
  stop(): void;
  keys: Promise<KeyPair | null>;
  giveUpMs: number;
  where: string;
} | null = null;

/**
 * Starts making a sntrup761 key pair on a worker thread (once per process), when a spare CPU is
 * likely (`always`: regardless; tests). `SSHTRACE_KEM_AHEAD=on` starts it regardless and
 * `=off` never (for A/B measurements). `workerUrl`: another worker script, `giveUpMs`: another
 * {@link TAKE_TIMEOUT_MS} (tests).
 */
export function prefetchSntrup761KeyPair(
  options: { always?: boolean; workerUrl?: string; giveUpMs?: number } = {},
): void {
  if (pending) return;
  const choice = platform.grantedEnv("SSHTRACE_KEM_AHEAD");
  if (choice === "off") return;
  if (!(options.always || choice === "on" || spareCpu())) return;
  let worker: Worker;
  try {
    worker = options.workerUrl
      ? new Worker(options.workerUrl, { type: "module" })
      : new Worker(new URL("./_kem_worker.ts", import.meta.url).href, { type: "module" });
  } catch {
    return; // no worker here: the key exchange makes its key pair itself
  }
  const keys = new Promise<KeyPair | null>((resolve) => {
    worker.onmessage = (e: MessageEvent) => {
      const data = e.data as Partial<KeyPair> | null;
      resolve(
        data?.publicKey instanceof Uint8Array && data.secretKey instanceof Uint8Array
          ? { publicKey: data.publicKey, secretKey: data.secretKey }
          : null,
      );
      worker.terminate();
    };
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault(); // not the process's error: the key pair is then made on the main thread
      resolve(null);
      worker.terminate();
    };
    worker.onmessageerror = () => {
      resolve(null);
      worker.terminate();
    };
  });
  pending = {
    stop: () => worker.terminate(),
    keys,
    giveUpMs: options.giveUpMs ?? TAKE_TIMEOUT_MS,
    where: "on a worker thread",
  };
}

/**
 * Begins a sntrup761 key pair on the main thread, for a connection whose first offered key
 * exchange is a sntrup761 hybrid (lib/client/early_connect.ts decides), so that it is made once
 * `connected` settles, while the server sends its greeting and KEXINIT, rather than after them.
 * Where that wait is idle (the standalone executable: 8–18 ms, BENCHMARKS.md) the wait is gained;
 * under `deno run` module loading fills it and nothing changes. A server that picks another
 * method leaves it unused (~35 ms of CPU), which is why only a first choice is made ahead.
 * Nothing when a key pair is already being made (the worker) or with `SSHTRACE_KEM_AHEAD=off`.
 * Fresh per process: the key exchange takes it once.
 */
export function makeSntrup761KeyPairSoon(connected: Promise<unknown>): void {
  if (pending || platform.grantedEnv("SSHTRACE_KEM_AHEAD") === "off") return;
  const keys = (async (): Promise<KeyPair | null> => {
    const { sntrup761 } = await import("./pq.ts");
    const { kem } = await sntrup761();
    // After the connect, and one turn of the event loop later, so that our version line is on its
    // way before these ~35 ms of CPU: the server's greeting and KEXINIT come meanwhile.
    await connected;
    await new Promise((resolve) => setTimeout(resolve, 0));
    return kem.keypair();
  })().catch(() => null); // the key exchange loads it again and reports why it cannot
  pending = {
    stop: () => {},
    keys,
    giveUpMs: TAKE_TIMEOUT_MS,
    where: "on the main thread during the connect",
  };
}

/**
 * How long the key exchange waits for a key pair made ahead before it makes its own: a worker
 * that started but never answers (a runtime whose workers behave differently) must not hang it.
 */
const TAKE_TIMEOUT_MS = 3000;

/** The key pair made ahead, if one was started (each is handed out once), else null. */
export async function takeSntrup761KeyPair(): Promise<KeyPairAhead | null> {
  const p = pending;
  if (!p) return null;
  pending = null;
  const keys = await orLate(p.keys, p.giveUpMs);
  if (keys === LATE || !keys) {
    p.stop();
    void p.keys.then((k) => k?.secretKey.fill(0));
    return null;
  }
  return { publicKey: keys.publicKey, secretKey: keys.secretKey, where: p.where };
}

/** Stops a key pair still being made and drops one not taken (the run is over). */
export function discardPrefetchedKeyPair(): void {
  const p = pending;
  pending = null;
  if (!p) return;
  p.stop();
  void p.keys.then((k) => k?.secretKey.fill(0));
}
