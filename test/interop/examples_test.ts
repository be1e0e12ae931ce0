/**
 * The scripts in examples/ run as documented against a real OpenSSH sshd (each as its own
 * `deno run -A` process, with an empty HOME): a probe to JSON, one command on a list of hosts,
 * and a fleet check written as CSV.
 */

import assert from "node:assert/strict";
import { fingerprintSha256 } from "../../lib/algorithms/pubkey.ts";
import { DENO_DIR } from "../helpers/cli.ts";
import { ensureTestUser, SSH_KEYGEN, startSshd } from "../helpers/sshd.ts";
import { freePort, run, tempDir } from "../helpers/tools.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

async function example(home: string, script: string, args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `examples/${script}`, ...args],
    cwd: ROOT,
    env: { RUST_BACKTRACE: "0", NO_COLOR: "1", HOME: home, DENO_DIR, SSH_AUTH_SOCK: "" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test("the examples run against a real sshd as their headers say", async (t) => {
  const user = await ensureTestUser();
  await using dir = await tempDir();
  const key = `${dir.path}/id_ed25519`;
  const gen = await run(SSH_KEYGEN, ["-t", "ed25519", "-q", "-N", "", "-C", "example", "-f", key]);
  assert.equal(gen.code, 0, gen.stderr);
  const pub = (await Deno.readTextFile(`${key}.pub`)).trim();
  const sshd = await startSshd({ hostKeyTypes: ["ed25519"], authorizedKeys: [pub] });
  const home = `${dir.path}/home`;
  await Deno.mkdir(home);
  try {
    await t.step("probe_json.ts prints the report contract", async () => {
      const r = await example(home, "probe_json.ts", [`127.0.0.1:${sshd.port}`]);
      const report = JSON.parse(r.stdout);
      assert.match(report.server.software, /^OpenSSH_/);
      assert.equal(report.kex.hostKeyAlgorithm, "ssh-ed25519");
      assert.equal(
        report.hostKey.fingerprint,
        fingerprintSha256(sshd.hostKeys.ed25519.blob),
      );
      assert.equal(r.code, report.exitCode);
    });

    await t.step("run_on_hosts.ts runs the command or names the failing stage", async () => {
      const r = await example(home, "run_on_hosts.ts", [
        key,
        "echo hi from $USER",
        `${user.name}@127.0.0.1:${sshd.port}`,
        `nobody-here@127.0.0.1:${sshd.port}`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        r.stdout,
        `${user.name}@127.0.0.1:${sshd.port}: exit 0\nhi from ${user.name}\n` +
          `nobody-here@127.0.0.1:${sshd.port}: failed at auth: ` +
          r.stdout.split("failed at auth: ")[1],
      );
      // accept-new recorded the host key on first use.
      assert.match(
        await Deno.readTextFile(`${home}/.ssh/known_hosts`),
        /^\[127\.0\.0\.1\]:\d+ ssh-ed25519 /,
      );
    });

    await t.step(
      "fleet_check_csv.ts writes one CSV row per host and the fleet's exit code",
      async () => {
        const closed = freePort();
        const inventory = `${dir.path}/fleet.txt`;
        await Deno.writeTextFile(inventory, `127.0.0.1:${sshd.port}\n127.0.0.1:${closed}\n`);
        const r = await example(home, "fleet_check_csv.ts", [inventory]);
        const rows = r.stdout.trim().split("\n").map((l) => l.split(","));
        assert.deepEqual(rows[0], ["host", "ok", "failedStage", "reason", "kex", "cipher", "ms"]);
        assert.deepEqual(rows[1]!.slice(0, 3), [`127.0.0.1:${sshd.port}`, "true", ""]);
        assert.deepEqual(rows[2]!.slice(0, 3), [`127.0.0.1:${closed}`, "false", "connect"]);
        assert.equal(rows.length, 3);
        assert.equal(r.code, 10, r.stderr);
      },
    );

    await t.step("behind_bastion.ts checks devices through one bastion login", async () => {
      const closed = freePort();
      const at = `${user.name}@127.0.0.1`;
      const r = await example(home, "behind_bastion.ts", [
        key,
        `${at}:${sshd.port}`,
        "echo behind",
        `${at}:${sshd.port}`,
        `${at}:${closed}`,
      ]);
      const lines = r.stdout.trim().split("\n");
      assert.deepEqual(lines.slice(0, 2), [`${at}:${sshd.port}: ok`, "behind"]);
      assert.match(
        lines[2]!,
        new RegExp(`^${at}:${closed}: failed at connect: .*refused the tunnel`),
      );
      assert.equal(r.code, 10, r.stderr);
    });
  } finally {
    await sshd.stop();
  }
});
