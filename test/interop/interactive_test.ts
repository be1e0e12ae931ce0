/**
 * The interactive shell of `sshtrace user@host` in a real terminal: tmux runs it in a detached
 * pane (100x30), the test types with `send-keys` and reads the screen with `capture-pane`.
 * Checks the pty size and its changes, the `~?` and `~.` escapes, and that the local terminal
 * is sane (canonical mode, echo) after sshtrace exits.
 */

import assert from "node:assert/strict";
import { DENO_DIR, ed25519Key, emptyHome, ROOT } from "../helpers/cli.ts";
import { ensureTestUser, type SshdHandle, startSshd } from "../helpers/sshd.ts";
import { requireTool, run, tempDir } from "../helpers/tools.ts";

const TMUX = "/usr/bin/tmux";

function quote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** One tmux server (its own socket name) running sshtrace in a pane. */
class Pane {
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

Deno.test("sshtrace gives an interactive shell in a real terminal", async (t) => {
  requireTool(TMUX);
  const user = await ensureTestUser();
  await using tmp = await tempDir("sshtrace-interactive-");
  const home = await emptyHome(tmp.path);
  const key = await ed25519Key(tmp.path);
  const knownHosts = `${tmp.path}/known_hosts`;
  const sttyFile = `${tmp.path}/stty-after`;

  let sshd: SshdHandle | undefined;
  const pane = new Pane();
  try {
    sshd = await startSshd({ authorizedKeys: [(await Deno.readTextFile(`${key}.pub`)).trim()] });
    await Deno.writeTextFile(knownHosts, `[127.0.0.1]:${sshd.port} ${sshd.hostKeys.ed25519.pub}\n`);
    // The pane's shell runs sshtrace, then records the terminal settings and its exit code.
    const script = [
      `cd ${quote(ROOT)}`,
      `export RUST_BACKTRACE=0 NO_COLOR=1 TERM=xterm-256color SSH_AUTH_SOCK= ` +
      `HOME=${quote(home)} DENO_DIR=${quote(DENO_DIR)}`,
      `${quote(Deno.execPath())} run -A main.ts -q -o StrictHostKeyChecking=yes ` +
      `-o UserKnownHostsFile=${quote(knownHosts)} -i ${quote(key)} ` +
      `${user.name}@127.0.0.1:${sshd.port}`,
      `code=$?`,
      `stty -a > ${quote(sttyFile)}`,
      `echo "SSHTRACE-EXITED code=$code"`,
      `sleep 600`,
    ].join("; ");
    await pane.tmux(
      "new-session",
      "-d",
      "-s",
      "t",
      "-x",
      "100",
      "-y",
      "30",
      `bash -c ${quote(script)}`,
    );

    await t.step("the remote shell prompt appears", async () => {
      await pane.waitFor(new RegExp(`${user.name}@[^\\s]+:~\\$ $`, "m"));
    });

    await t.step("the pty has the pane's size: stty size prints 30 100", async () => {
      await pane.type("stty size");
      await pane.waitFor(/^30 100$/m);
    });

    await t.step("resizing the window reaches the remote pty: 40 120", async () => {
      await pane.tmux("resize-window", "-t", "t", "-x", "120", "-y", "40");
      // The size change travels as a window-change request; give it a moment, then ask.
      await new Promise((r) => setTimeout(r, 300));
      await pane.type("clear; stty size");
      await pane.waitFor(/^40 120$/m);
    });

    await t.step("~? after Enter prints the escape help", async () => {
      await pane.type("", true);
      await pane.type("~?", false);
      const screen = await pane.waitFor(/Supported escape sequences:/);
      assert.match(screen, /~\.\s+- terminate connection/);
      // ~? was not sent to the shell: it still has an empty command line.
      await pane.type("echo still-$((20 + 22))");
      await pane.waitFor(/^still-42$/m);
    });

    await t.step("~. after Enter disconnects and leaves a sane local terminal", async () => {
      await pane.type("", true);
      await pane.type("~.", false);
      const screen = await pane.waitFor(/SSHTRACE-EXITED code=\d+/);
      assert.match(screen, /Connection closed by ~\./);
      assert.match(screen, /SSHTRACE-EXITED code=0/, "~. is the user's choice, not a failure");
      const stty = await Deno.readTextFile(sttyFile);
      const flags = stty.split(/\s+/);
      assert.ok(flags.includes("icanon"), `icanon is off after exit:\n${stty}`);
      assert.ok(flags.includes("echo"), `echo is off after exit:\n${stty}`);
      assert.ok(flags.includes("icrnl") && flags.includes("opost"), stty);
    });
  } finally {
    await pane.kill();
    await sshd?.stop();
  }
});
