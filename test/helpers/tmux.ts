/**
 * A real terminal for tests: tmux runs a shell command in a detached pane (its own server
 * socket), the test types with `send-keys` and reads the screen with `capture-pane`, or the raw
 * bytes the program wrote with `pipe-pane`. Also builds the pane's script that runs sshtrace and
 * records its exit code and the terminal settings afterwards.
 */

import assert from "node:assert/strict";
import { DENO_DIR, ROOT } from "./cli.ts";
import { requireTool, run } from "./tools.ts";

export const TMUX = "/usr/bin/tmux";

/** Single-quotes `s` for a POSIX shell. */
export function quote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** One tmux server (its own socket name) running a command in a pane named `t`. */
export class Pane {
  readonly socket = `sshtrace-test-${crypto.getRandomValues(new Uint32Array(1))[0]}`;

  /** Starts the pane (columns x rows) running `bash -c script`. */
  static async start(script: string, size = { columns: 100, rows: 30 }): Promise<Pane> {
    requireTool(TMUX);
    const pane = new Pane();
    await pane.tmux(
      "new-session",
      "-d",
      "-s",
      "t",
      "-x",
      String(size.columns),
      "-y",
      String(size.rows),
      `bash -c ${quote(script)}`,
    );
    return pane;
  }

  async tmux(...args: string[]): Promise<string> {
    const res = await run(TMUX, ["-L", this.socket, ...args], { timeoutMs: 10_000 });
    assert.equal(res.code, 0, `tmux ${args.join(" ")}: ${res.stderr}`);
    return res.stdout;
  }

  /** The visible screen, plus the scrollback, as text. */
  screen(): Promise<string> {
    return this.tmux("capture-pane", "-p", "-J", "-S", "-200", "-t", "t");
  }

  /** Waits until the screen matches `re` (polling capture-pane); returns the screen. */
  async waitFor(re: RegExp, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let text = "";
    while (Date.now() < deadline) {
      text = await this.screen();
      if (re.test(text)) return text;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`the pane did not show ${re} within ${timeoutMs} ms. Screen:\n${text}`);
  }

  /** Types text literally (no key-name lookup), then optionally Enter. */
  async type(text: string, enter = true): Promise<void> {
    await this.tmux("send-keys", "-t", "t", "-l", text);
    if (enter) await this.tmux("send-keys", "-t", "t", "Enter");
  }

  /** Presses one key by its tmux name (`C-c`, `C-d`, `Enter`). */
  async key(name: string): Promise<void> {
    await this.tmux("send-keys", "-t", "t", name);
  }

  /** From now on, appends every byte the pane's program writes to `file`. */
  async recordOutput(file: string): Promise<void> {
    await this.tmux("pipe-pane", "-O", "-t", "t", `cat >> ${quote(file)}`);
  }

  async kill(): Promise<void> {
    await run(TMUX, ["-L", this.socket, "kill-server"], { timeoutMs: 10_000 });
  }
}

/** What {@link sshtraceScript} needs: where the run's side files go, and the environment. */
export interface ScriptOptions {
  /** HOME for sshtrace (an empty directory: no keys, config or known_hosts). */
  home: string;
  /** Where the exit code and `stty -a` after the run are written. */
  exitFile: string;
  sttyFile: string;
  /** Where stdout goes (e.g. a `--json` report); default: the terminal. */
  stdoutFile?: string;
  /** More `NAME=value` exports. */
  env?: Record<string, string>;
}

/**
 * A pane script that runs `deno run -A main.ts ARGS` in the project root (NO_COLOR, no agent),
 * then writes the exit code and the terminal settings to files, prints `SSHTRACE-EXITED
 * code=N` and stays open (so the screen can still be read).
 */
export function sshtraceScript(args: string[], o: ScriptOptions): string {
  const env = { ...o.env };
  const exports = Object.entries(env).map(([k, v]) => ` ${k}=${quote(v)}`).join("");
  return [
    `cd ${quote(ROOT)}`,
    `export RUST_BACKTRACE=0 NO_COLOR=1 TERM=xterm-256color SSH_AUTH_SOCK= ` +
    `HOME=${quote(o.home)} DENO_DIR=${quote(DENO_DIR)}${exports}`,
    `${quote(Deno.execPath())} run -A main.ts ${args.map(quote).join(" ")}` +
    (o.stdoutFile ? ` > ${quote(o.stdoutFile)}` : ""),
    `code=$?`,
    `stty -a > ${quote(o.sttyFile)}`,
    `echo $code > ${quote(o.exitFile)}`,
    `echo "SSHTRACE-EXITED code=$code"`,
    `sleep 600`,
  ].join("; ");
}

/** Asserts the terminal settings recorded after a run are sane (canonical mode, echo, CR/LF). */
export function assertSaneTerminal(stty: string): void {
  const flags = stty.split(/\s+/);
  assert.ok(flags.includes("icanon"), `icanon is off after exit:\n${stty}`);
  assert.ok(flags.includes("echo"), `echo is off after exit:\n${stty}`);
  assert.ok(flags.includes("isig"), `isig is off after exit:\n${stty}`);
  assert.ok(flags.includes("icrnl") && flags.includes("opost"), stty);
}
