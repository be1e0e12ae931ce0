/**
 * The interactive shell of `sshtrace user@host` in a real terminal: tmux runs it in a detached
 * pane (100x30), the test types with `send-keys` and reads the screen with `capture-pane`.
 * Checks the pty size and its changes, the `~?` and `~.` escapes, and that the local terminal
 * is sane (canonical mode, echo) after sshtrace exits.
 */

import assert from "node:assert/strict";
import { DENO_DIR, ed25519Key, emptyHome, ROOT } from "../helpers/cli.ts";
import { ensureTestUser, type SshdHandle, startSshd } from "../helpers/sshd.ts";
import { requireTool, tempDir } from "../helpers/tools.ts";
import { Pane, quote, TMUX } from "../helpers/tmux.ts";

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
