/**
 * The old-switch emulator for tests: `startOldSwitch()` runs test/servers/old_switch.py (an
 * asyncssh server imitating an H3C Comware 5 switch, or Huawei VRP / Cisco IOS) on 127.0.0.1
 * with a free port. Needs /usr/bin/python3 with Debian's python3-asyncssh: a missing one makes
 * the test FAIL, never skip.
 */

import { requireTool, run } from "./tools.ts";

export const PYTHON = "/usr/bin/python3";
export const OLD_SWITCH_SCRIPT = new URL("../servers/old_switch.py", import.meta.url).pathname;

export type OldSwitchDevice = "comware" | "huawei" | "cisco";

export interface OldSwitchOptions {
  /** @default "comware" */
  device?: OldSwitchDevice;
  /** @default "admin" */
  user?: string;
  /** @default "old-switch 42" */
  password?: string;
  /** Shown in the prompt; default per device (H3C, HUAWEI, Switch). */
  hostname?: string;
  /** How the pager erases itself; default per device (comware: backspaces, huawei: ESC[42D). */
  erase?: "backspace" | "ansi" | "ansi42";
  /** Override the version line, e.g. `SSH-2.0-Comware-7.1`. */
  versionLine?: string;
  /** cisco: the shell starts at `Switch>` and `enable` asks for this secret. */
  enableSecret?: string;
  /** Accept the netconf subsystem and send a `<hello>` (or, `garbage`, something else). */
  netconf?: "hello" | "garbage";
}

export interface OldSwitchHandle {
  host: "127.0.0.1";
  port: number;
  device: OldSwitchDevice;
  user: string;
  password: string;
  /** What the server wrote to stderr so far (Python tracebacks end up here). */
  logs(): string;
  /** The unpaged output of a command on this device, lines joined by `\n` (ends with `\n`). */
  expected(command: string): Promise<string>;
  /** Stops the server. Safe to call twice. */
  stop(): Promise<void>;
}

let checked: Promise<void> | null = null;

/** Fails (with a hint) unless /usr/bin/python3 can import asyncssh. */
export function requireAsyncssh(): Promise<void> {
  checked ??= (async () => {
    requireTool(PYTHON);
    const r = await run(PYTHON, ["-W", "ignore", "-c", "import asyncssh"], { timeoutMs: 20_000 });
    if (r.code !== 0) {
      checked = null;
      throw new Error(
        `python3-asyncssh not installed for ${PYTHON}: run scripts/install-deps.sh ` +
          `(apt-get install python3-asyncssh): ${r.stderr.trim().split("\n").pop()}`,
      );
    }
  })();
  return checked;
}

/** Starts the emulator and resolves once it listens. */
export async function startOldSwitch(options: OldSwitchOptions = {}): Promise<OldSwitchHandle> {
  await requireAsyncssh();
  const device = options.device ?? "comware";
  const user = options.user ?? "admin";
  const password = options.password ?? "old-switch 42";
  const args = [OLD_SWITCH_SCRIPT, "--port", "0", "--device", device, "--user", user];
  if (options.hostname) args.push("--hostname", options.hostname);
  if (options.erase) args.push("--erase", options.erase);
  if (options.versionLine) args.push("--version-line", options.versionLine);
  if (options.netconf) args.push("--netconf", options.netconf);
  const child = new Deno.Command(PYTHON, {
    args,
    // The password goes through the environment, not argv (ps shows argv).
    env: {
      OLD_SWITCH_PASSWORD: password,
      OLD_SWITCH_ENABLE_SECRET: options.enableSecret ?? "",
      PYTHONWARNINGS: "ignore",
      PYTHONDONTWRITEBYTECODE: "1",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  let stderr = "";
  const errDone = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) stderr += decoder.decode(chunk, { stream: true });
  })();

  // Read stdout until "LISTENING <port>", then keep draining it.
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let out = "";
  let port = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`old_switch.py did not start within 20 s: ${stderr.trim()}`)),
      20_000,
    );
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      child.kill("SIGTERM");
    } catch {
      // already gone
    }
    await reader.cancel().catch(() => {});
    await child.status;
    await errDone.catch(() => {});
  };
  try {
    await Promise.race([
      (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) {
            throw new Error(`old_switch.py exited before listening: ${stderr.trim()}`);
          }
          out += decoder.decode(value, { stream: true });
          const m = /LISTENING (\d+)/.exec(out);
          if (m) {
            port = Number(m[1]);
            return;
          }
        }
      })(),
      timeout,
    ]);
  } catch (e) {
    await stop();
    throw e;
  } finally {
    clearTimeout(timer);
  }
  // Keep stdout drained so the server never blocks on a full pipe.
  const drain = (async () => {
    try {
      for (;;) if ((await reader.read()).done) return;
    } catch {
      // cancelled by stop()
    }
  })();

  return {
    host: "127.0.0.1",
    port,
    device,
    user,
    password,
    logs: () => stderr,
    async expected(command: string): Promise<string> {
      const args = [OLD_SWITCH_SCRIPT, "--device", device, "--dump", command];
      if (options.hostname) args.push("--hostname", options.hostname);
      const r = await run(PYTHON, args, { env: { PYTHONWARNINGS: "ignore" } });
      if (r.code !== 0) throw new Error(`old_switch.py --dump ${command} failed: ${r.stderr}`);
      return r.stdout;
    },
    async stop() {
      await stop();
      await drain;
    },
  };
}
