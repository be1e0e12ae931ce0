/**
 * The pty gets the local terminal's modes, as with OpenSSH: in a tmux pane whose terminal was
 * set to `erase ^H`, `ixany` and `-echoctl` (none of them a default), `stty -a` in the remote
 * shell of a real sshd shows the same settings; without --allow-ffi, the defaults of a sane
 * terminal (and the trace says why).
 */

import assert from "node:assert/strict";
import { DENO_DIR, ed25519Key, emptyHome, ROOT } from "../helpers/cli.ts";
import { ensureTestUser, type SshdHandle, startSshd } from "../helpers/sshd.ts";
import { Pane, quote, TMUX } from "../helpers/tmux.ts";
import { requireTool, tempDir } from "../helpers/tools.ts";

Deno.test("the remote pty has the local terminal's modes (stty -a on a real sshd)", async () => {
  requireTool(TMUX);
  const user = await ensureTestUser();
  await using tmp = await tempDir("sshtrace-ttymodes-");
  const home = await emptyHome(tmp.path);
  const key = await ed25519Key(tmp.path);
  const knownHosts = `${tmp.path}/known_hosts`;
  let sshd: SshdHandle | undefined;
  const pane = new Pane();
  try {
    sshd = await startSshd({ authorizedKeys: [(await Deno.readTextFile(`${key}.pub`)).trim()] });
    await Deno.writeTextFile(knownHosts, `[127.0.0.1]:${sshd.port} ${sshd.hostKeys.ed25519.pub}\n`);
    const script = [
      `cd ${quote(ROOT)}`,
      `export RUST_BACKTRACE=0 NO_COLOR=1 TERM=xterm-256color SSH_AUTH_SOCK= ` +
      `HOME=${quote(home)} DENO_DIR=${quote(DENO_DIR)}`,
      `stty erase '^H' ixany -echoctl`,
      `stty -a | tr -s ' \\n' ' ' | sed 's/^/LOCAL: /'; echo`,
      // Without --allow-ffi the terminal cannot be read: the defaults go out, and it is traced.
      `${quote(Deno.execPath())} run --allow-net --allow-env --allow-read --allow-write ` +
      `main.ts -v -t -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${quote(knownHosts)} ` +
      `-i ${quote(key)} ${user.name}@127.0.0.1:${sshd.port} ` +
      `"stty -a | tr -s ' \\n' ' ' | sed 's/^/NOFFI: /'" 2>&1 | grep -E 'NOFFI|terminal modes'`,
      `${quote(Deno.execPath())} run -A main.ts -v -o StrictHostKeyChecking=yes ` +
      `-o UserKnownHostsFile=${quote(knownHosts)} -i ${quote(key)} ` +
      `${user.name}@127.0.0.1:${sshd.port}`,
      `sleep 600`,
    ].join("; ");
    await pane.tmux(
      "new-session",
      "-d",
      "-s",
      "t",
      "-x",
      "200",
      "-y",
      "50",
      `bash -c ${quote(script)}`,
    );
    const local = await pane.waitFor(/LOCAL: .*erase = \^H/);
    assert.match(local, /LOCAL: .* ixany /);
    const noFfi = await pane.waitFor(/NOFFI: .*\n/);
    assert.match(noFfi, /terminal modes from defaults \(stty sane; no --allow-ffi for libc\)/);
    assert.match(noFfi.replaceAll("\n", ""), /NOFFI: .*erase = \^\?;.* -ixany /);
    const trace = await pane.waitFor(new RegExp(`${user.name}@[^\\s]+:~\\$ $`, "m"));
    await pane.type("clear; stty -a | tr -s ' \\n' ' ' | sed 's/^/REMOTE: /'");
    const screen = await pane.waitFor(/REMOTE: .*\$ $/m);
    const remote = /REMOTE: (.*)/.exec(screen.replaceAll("\n", ""))![1]!;
    assert.match(remote, /erase = \^H;/);
    const flags = remote.split(/[ ;]+/);
    for (const on of ["ixany", "-echoctl", "icrnl", "onlcr", "opost", "icanon", "isig"]) {
      assert.ok(flags.includes(on), `${on} in the remote stty -a: ${remote}`);
    }
    assert.match(remote, /intr = \^C;/);
    assert.match(trace, /terminal modes from the local terminal \(tcgetattr on stdin/);
  } finally {
    await pane.kill();
    await sshd?.stop();
  }
});
