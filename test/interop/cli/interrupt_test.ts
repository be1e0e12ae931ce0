/**
 * Ctrl-C at a prompt, in a real terminal (tmux) against a real OpenSSH sshd: one press stops
 * the run at once with exit 130 and "interrupted at stage …", the terminal is left in cooked
 * mode, and the server saw no answer — no password, passphrase-unlocked key or keyboard-
 * interactive response (its log has no "Failed …"/"Accepted …" line and the `--json` report no
 * attempt of the method), and for the host key question no authentication at all.
 */

import assert from "node:assert/strict";
import { emptyHome, type Json } from "../../helpers/cli.ts";
import { ensureTestUser, SSH_KEYGEN, type SshdHandle, startSshd } from "../../helpers/sshd.ts";
import { assertSaneTerminal, Pane, sshtraceScript } from "../../helpers/tmux.ts";
import { run, tempDir } from "../../helpers/tools.ts";

interface Case {
  /** sshtrace arguments before the target (the target and `true` are added). */
  args: (dir: string, knownHosts: string) => Promise<string[]>;
  /** The prompt to wait for before pressing Ctrl-C. */
  prompt: RegExp;
  stage: "auth" | "hostkey";
  /** known_hosts holds the server's key (false: empty, so the host key question is asked). */
  known: boolean;
  /** Methods the report may list as attempted (keyboard-interactive starts before it asks). */
  started?: string[];
}

/** Runs one case in its own sshd and pane; checks everything a Ctrl-C must guarantee. */
async function pressCtrlC(c: Case): Promise<void> {
  const user = await ensureTestUser();
  await using tmp = await tempDir("sshtrace-interrupt-");
  const home = await emptyHome(tmp.path);
  const knownHosts = `${tmp.path}/known_hosts`;
  const files = {
    exitFile: `${tmp.path}/exit`,
    sttyFile: `${tmp.path}/stty`,
    stdoutFile: `${tmp.path}/report.json`,
  };
  let sshd: SshdHandle | undefined;
  let pane: Pane | undefined;
  try {
    sshd = await startSshd({ logLevel: "VERBOSE" });
    await Deno.writeTextFile(
      knownHosts,
      c.known ? `[127.0.0.1]:${sshd.port} ${sshd.hostKeys.ed25519.pub}\n` : "",
    );
    const args = [
      "--json",
      "-o",
      `UserKnownHostsFile=${knownHosts}`,
      ...await c.args(tmp.path, knownHosts),
      `${user.name}@127.0.0.1:${sshd.port}`,
      "true",
    ];
    pane = await Pane.start(sshtraceScript(args, { home, ...files }));
    await pane.waitFor(c.prompt, 20_000);
    await pane.key("C-c");
    // One press is enough: the run ends at once (no second prompt to press it at).
    const screen = await pane.waitFor(/SSHTRACE-EXITED code=\d+/, 10_000);
    assert.match(screen, /SSHTRACE-EXITED code=130/, screen);
    assert.match(screen, new RegExp(`interrupted at stage ${c.stage}`), screen);
    assert.equal((await Deno.readTextFile(files.exitFile)).trim(), "130");
    assertSaneTerminal(await Deno.readTextFile(files.sttyFile));

    const report: Json = JSON.parse(await Deno.readTextFile(files.stdoutFile));
    assert.equal(report.exitCode, 130);
    assert.equal(report.error.code, `${c.stage}.interrupted`);
    assert.equal(report.error.stage, c.stage);
    const methods = (report.auth?.attempts ?? []).map((a: Json) => a.method);
    assert.deepEqual(
      methods.filter((m: string) => m !== "none"),
      c.started ?? [],
      "no answer was sent",
    );

    // The server saw the connection end without an answer: no failed or accepted login.
    const logs = await sshd.waitForLog(/Connection closed by|Disconnected from/);
    assert.doesNotMatch(logs, /Failed (password|keyboard-interactive|publickey)|Accepted /, logs);
    if (c.stage === "hostkey") {
      assert.equal(await Deno.readTextFile(knownHosts), "", "the key was not added");
      assert.doesNotMatch(logs, /userauth|authenticating user/i, "no authentication started");
    }
  } finally {
    await pane?.kill();
    await sshd?.stop();
  }
}

Deno.test("Ctrl-C at the password prompt exits 130 at stage auth and sends no password", () =>
  pressCtrlC({
    args: () =>
      Promise.resolve([
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "PreferredAuthentications=password",
      ]),
    prompt: /'s password: ?$/m,
    stage: "auth",
    known: true,
  }));

Deno.test("Ctrl-C at a keyboard-interactive prompt exits 130 at stage auth and sends no answer", () =>
  pressCtrlC({
    args: () =>
      Promise.resolve([
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "PreferredAuthentications=keyboard-interactive",
      ]),
    prompt: /Password: ?$/m,
    stage: "auth",
    known: true,
    started: ["keyboard-interactive"],
  }));

Deno.test("Ctrl-C at the key passphrase prompt exits 130 at stage auth and offers no key", () =>
  pressCtrlC({
    args: async (dir) => {
      const key = `${dir}/id_locked`;
      const gen = await run(SSH_KEYGEN, ["-t", "ed25519", "-q", "-N", "a passphrase", "-f", key]);
      assert.equal(gen.code, 0, gen.stderr);
      return [
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "PreferredAuthentications=publickey,password",
        "-i",
        key,
      ];
    },
    prompt: /Enter passphrase for key '.*id_locked': ?$/m,
    stage: "auth",
    known: true,
  }));

Deno.test("Ctrl-C at the host key question exits 130 at stage hostkey before any authentication", () =>
  pressCtrlC({
    args: () => Promise.resolve([]),
    prompt: /\(yes\/no\)\? ?$/m,
    stage: "hostkey",
    known: false,
  }));
