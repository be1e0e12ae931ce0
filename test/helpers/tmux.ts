/**
 * A tmux server of its own (socket name) running a command in a detached pane: type into it
 * with `send-keys`, read the screen with `capture-pane`. For tests of the interactive terminal.
 */

import assert from "node:assert/strict";
import { run } from "./tools.ts";

export const TMUX = "/usr/bin/tmux";

/** Quotes text for a POSIX shell. */
export function quote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** One tmux server (its own socket name) running sshtrace in a pane. */
export class Pane {
  readonly socket = `sshtrace-test-${crypto.getRandomValues(new Uint32Array(1))[0]}`;

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

  async kill(): Promise<void> {
    await run(TMUX, ["-L", this.socket, "kill-server"], { timeoutMs: 10_000 });
  }
}
