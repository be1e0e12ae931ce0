/**
 * The pty request carries terminal modes a server can emulate the terminal from (RFC 4254 §8),
 * as OpenSSH's do: against the lab's `emulated-terminal` profile (a pty emulated from the
 * modes, as Apache MINA SSHD does) Enter must end a line (ICRNL) and output lines must end in
 * CR LF (OPOST + ONLCR). Checked with the library and with the CLI (stdin not a terminal, so
 * the defaults of a sane terminal are sent).
 */

import assert from "node:assert/strict";
import { type LabEvent, startLabServer } from "../../lib/lab/mod.ts";
import { emptyHome, runSshtrace } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tools.ts";
import { connectLab, readUntil, sharedHostKeys } from "../helpers/lab.ts";

function cliArgs(port: number, ...command: string[]): string[] {
  return [
    "-v",
    "-t",
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "--password-env",
    "PW",
    "--timeout",
    "10",
    "-p",
    String(port),
    "demo@127.0.0.1",
    ...command,
  ];
}

Deno.test("library: a pty shell on a terminal emulated from the modes turns Enter into a newline", async () => {
  const events: LabEvent[] = [];
  const lab = await startLabServer({
    profile: "emulated-terminal",
    hostKeys: await sharedHostKeys(),
    onEvent: (e) => events.push(e),
  });
  try {
    const client = await connectLab(lab);
    try {
      const session = await client.openSession({ term: "xterm", cols: 80, rows: 24 });
      await session.shell();
      const reader = session.stdout.getReader();
      let text = await readUntil(reader, /demo@sshtrace-lab:~\$ $/);
      await session.write("echo hi-$USER\r");
      text = await readUntil(reader, /hi-\$USER\r\n/, text);
      await session.write("stty\r");
      text = await readUntil(reader, /-ixany.*\r\n/, text);
      assert.match(text, /intr = \^C; quit = \^\\; erase = \^\?; kill = \^U; eof = \^D;/);
      assert.match(text, /speed 38400 baud/);
      await session.write("exit\r");
      assert.equal((await session.exit).status, 0);
      reader.releaseLock();
    } finally {
      await client.close();
    }
    const req = events.find((e) => e.message.includes("pty-req"));
    assert.match(req?.message ?? "", /ICRNL=1 ONLCR=1 OPOST=1 ECHO=1 ICANON=1 VINTR=3/);
  } finally {
    await lab.stop();
  }
});

Deno.test("CLI: the pty-req carries ICRNL=1, ONLCR=1, OPOST=1, VINTR=3 (defaults without a local terminal), and the shell works", async () => {
  const lab = await startLabServer({
    profile: "emulated-terminal",
    hostKeys: await sharedHostKeys(),
  });
  await using tmp = await tempDir("sshtrace-modes-");
  const home = await emptyHome(tmp.path);
  try {
    const stty = await runSshtrace(cliArgs(lab.port, "stty"), {
      home,
      env: { PW: "demo" },
      timeoutMs: 30_000,
    });
    assert.equal(stty.code, 0, stty.stderr.slice(-2000));
    const flags = stty.stdout.split(/\s+/);
    for (const on of ["icrnl", "onlcr", "opost", "echo", "icanon", "isig", "iexten", "cs8"]) {
      assert.ok(flags.includes(on), `${on} in ${stty.stdout}`);
    }
    for (const off of ["-ixany", "-inlcr", "-igncr", "-ocrnl", "-cs7", "-parenb"]) {
      assert.ok(flags.includes(off), `${off} in ${stty.stdout}`);
    }
    assert.match(stty.stdout, /intr = \^C; quit = \^\\; erase = \^\?; kill = \^U; eof = \^D;/);
    assert.match(
      stty.stderr,
      /terminal modes from defaults \(stty sane; stdin is not a terminal\)/,
    );

    // The shell, typed into as a terminal would: Enter is CR.
    const shell = await runSshtrace(cliArgs(lab.port), {
      home,
      env: { PW: "demo" },
      stdin: "echo typed-$((6 * 7))\rexit 3\r",
      timeoutMs: 30_000,
    });
    assert.match(shell.stdout, /\r\ntyped-\$\(\(6 \* 7\)\)\r\n/, shell.stdout);
    assert.equal(shell.code, 3, shell.stderr.slice(-2000));
  } finally {
    await lab.stop();
  }
});
