/**
 * The standalone executable (dist/sshtrace-linux-x64, built by `bash scripts/binary.sh` when
 * missing) against real servers, run with no Deno and no node_modules: `env -i
 * PATH=/usr/bin:/bin`, from `/`. Probe and exec against a real sshd (packets through OpenSSL by
 * Bun's FFI), an interactive shell in a real terminal (tmux; its modes read by tcgetattr through
 * the FFI too), `send` against the old-switch imitation, and `check` over an inventory.
 */

import assert from "node:assert/strict";
import {
  commandOutput,
  ed25519Key,
  emptyHome,
  parseJsonReport,
  ROOT,
  runSshtrace,
  type SshtraceOptions,
} from "../../helpers/cli.ts";
import { startOldSwitch } from "../../helpers/old_switch.ts";
import { ensureTestUser, startSshd } from "../../helpers/sshd.ts";
import { assertSaneTerminal, Pane, quote, TMUX } from "../../helpers/tmux.ts";
import { freePort, requireTool, run, tempDir } from "../../helpers/tools.ts";
import { ensureBinary } from "../../helpers/binary.ts";

Deno.test("the standalone executable works with no Deno and no node_modules", async (t) => {
  const binary = await ensureBinary();
  const user = await ensureTestUser();
  await using tmp = await tempDir("sshtrace-binary-");
  const home = await emptyHome(tmp.path);
  const key = await ed25519Key(tmp.path);
  const pub = (await Deno.readTextFile(`${key}.pub`)).trim();
  const sshd = await startSshd({ hostKeyTypes: ["ed25519"], authorizedKeys: [pub] });
  const bin = (args: string[], options: SshtraceOptions = {}) =>
    runSshtrace(args, { binary, home, ...options });
  const target = `${user.name}@127.0.0.1:${sshd.port}`;
  const trust = ["-o", "StrictHostKeyChecking=no", "-o", `UserKnownHostsFile=${tmp.path}/kh`];
  try {
    await t.step("the environment has no deno, node or bun on PATH", async () => {
      const res = await run("/usr/bin/env", [
        "-i",
        "PATH=/usr/bin:/bin",
        "/bin/sh",
        "-c",
        "command -v deno node bun || true",
      ]);
      assert.equal(res.stdout.trim(), "", "a JavaScript runtime is on /usr/bin:/bin");
    });

    await t.step("--version and --help", async () => {
      const version = await bin(["--version"]);
      assert.equal(version.code, 0, version.stderr);
      const { version: expected } = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
      assert.equal(version.stdout.trim(), expected);
      const help = await bin(["--help"]);
      assert.equal(help.code, 0, help.stderr);
      assert.match(help.stdout, /probe <target>/);
    });

    await t.step("probe --json names the server and its host key", async () => {
      const res = await bin(["probe", "--json", `127.0.0.1:${sshd.port}`]);
      assert.equal(res.code, 0, res.stderr);
      const report = parseJsonReport(res.stdout);
      assert.match(report.server.software, /^OpenSSH_/);
      assert.equal(report.kex.hostKeyAlgorithm, "ssh-ed25519");
    });

    await t.step(
      "packets go through OpenSSL (Bun's FFI); a .env where it runs is not read",
      async () => {
        const dir = `${tmp.path}/with-dotenv`;
        await Deno.mkdir(dir);
        await Deno.writeTextFile(`${dir}/.env`, "SSHTRACE_CRYPTO=node\n");
        const out = await new Deno.Command(binary, {
          args: ["probe", "-v", `127.0.0.1:${sshd.port}`],
          cwd: dir,
          clearEnv: true,
          env: { PATH: "/usr/bin:/bin", HOME: home, NO_COLOR: "1" },
          stdin: "null",
        }).output();
        const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
        assert.equal(out.code, 0, text);
        assert.match(text, /crypto +packets by OpenSSL 3\.\d+\.\d+ \(\/.*libcrypto\.so\.3\)/);
      },
    );

    await t.step("a connection refused is a clear error, no stack trace", async () => {
      const res = await bin(["probe", `127.0.0.1:${freePort()}`]);
      assert.notEqual(res.code, 0);
      assert.match(res.stdout + res.stderr, /refused/);
      assert.doesNotMatch(res.stdout + res.stderr, /^\s+at /m);
    });

    for (
      const cipher of ["chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com", "aes256-ctr"]
    ) {
      await t.step(`log in with a key and exec (${cipher}), 1 MiB of output intact`, async () => {
        const res = await bin([
          ...trust,
          "--ciphers",
          cipher,
          "-i",
          key,
          "--json",
          target,
          "head -c 1048576 /dev/zero | tr '\\0' x; echo; echo done-$((6*7))",
        ]);
        assert.equal(res.code, 0, res.stderr);
        const out = commandOutput(res.stdout);
        assert.equal(out, "x".repeat(1048576) + "\ndone-42\n");
        const report = parseJsonReport(res.stdout);
        assert.equal(report.ok, true);
        assert.deepEqual(report.kex.cipher, { c2s: cipher, s2c: cipher });
      });
    }

    await t.step(
      "SSHTRACE_CRYPTO=node: Bun's node:crypto, ChaCha20 from @noble/ciphers",
      async () => {
        const res = await bin([
          ...trust,
          "-v",
          "--ciphers",
          "chacha20-poly1305@openssh.com",
          "-i",
          key,
          target,
          "head -c 1048576 /dev/zero | tr '\\0' y",
        ], { env: { SSHTRACE_CRYPTO: "node" } });
        assert.equal(res.code, 0, res.stderr);
        assert.equal(res.stdout, "y".repeat(1048576));
        assert.match(res.stderr, /crypto +packets by node:crypto \(SSHTRACE_CRYPTO=node\)/);
      },
    );

    await t.step("a key file encrypted with chacha20-poly1305 (bcrypt KDF) decrypts", async () => {
      const locked = `${tmp.path}/id_locked`;
      const gen = await run("/usr/bin/ssh-keygen", [
        ...["-t", "ed25519", "-q", "-N", "s3cret pass", "-Z", "chacha20-poly1305@openssh.com"],
        ...["-C", "", "-f", locked],
      ]);
      assert.equal(gen.code, 0, gen.stderr);
      // The same public key must be authorized: append it to sshd's authorized_keys.
      const auth = await Deno.readTextFile(`${sshd.dir}/authorized_keys`);
      await Deno.writeTextFile(
        `${sshd.dir}/authorized_keys`,
        auth + (await Deno.readTextFile(`${locked}.pub`)),
      );
      const res = await bin(
        [...trust, "-q", "-i", locked, "--passphrase-env", "PP", target, "echo unlocked"],
        { env: { PP: "s3cret pass" } },
      );
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout, "unlocked\n");
    });

    await t.step("stdin reaches the remote command and the exit status comes back", async () => {
      const res = await bin([...trust, "-q", "-i", key, target, "wc -c; exit 3"], {
        stdin: "y".repeat(100_000),
      });
      assert.equal(res.code, 3, res.stderr);
      assert.equal(res.stdout.trim(), "100000");
    });

    await t.step("through a jump host (-J) and through a ProxyCommand (ssh -W)", async () => {
      // The jump host's options from -F, as ssh -J passes the hop -F but not -o or -i.
      const config = `${tmp.path}/jump_config`;
      await Deno.writeTextFile(
        config,
        `Host *\n  StrictHostKeyChecking no\n  UserKnownHostsFile ${tmp.path}/kh\n` +
          `  IdentityFile ${key}\n`,
      );
      const jump = await bin(["-F", config, "-q", "-J", target, target, "echo via-jump"]);
      assert.equal(jump.code, 0, jump.stderr);
      assert.equal(jump.stdout, "via-jump\n");
      const proxy = [
        "/usr/bin/ssh -F none -o BatchMode=yes -o StrictHostKeyChecking=no",
        `-o UserKnownHostsFile=/dev/null -i ${key} -p ${sshd.port} -W %h:%p ${user.name}@127.0.0.1`,
      ].join(" ");
      const viaProxy = await bin([
        ...trust,
        "-q",
        "-i",
        key,
        "-o",
        `ProxyCommand=${proxy}`,
        target,
        "echo via-proxy",
      ]);
      assert.equal(viaProxy.code, 0, viaProxy.stderr);
      assert.equal(viaProxy.stdout, "via-proxy\n");
    });

    await t.step("SIGINT during a command: exit 130 at stage data, at once", async () => {
      const child = new Deno.Command(binary, {
        args: [...trust, "-i", key, target, "echo started; sleep 30; echo late"],
        cwd: "/",
        clearEnv: true,
        env: { PATH: "/usr/bin:/bin", HOME: home, NO_COLOR: "1" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const errText = new Response(child.stderr).text();
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let out = "";
      while (!out.includes("started\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        out += value;
      }
      const sent = performance.now();
      child.kill("SIGINT");
      const status = await child.status;
      const waited = performance.now() - sent;
      reader.releaseLock();
      await child.stdout.cancel().catch(() => {});
      const err = await errText;
      assert.equal(status.code, 130, err);
      assert.match(err, /interrupted at stage data/);
      assert.ok(waited < 5000, `exit took ${waited} ms after SIGINT`);
    });

    await t.step("an interactive shell in a real terminal (tmux)", async () => {
      requireTool(TMUX);
      const sttyFile = `${tmp.path}/stty-after`;
      const traceFile = `${tmp.path}/shell-trace`;
      const script = [
        `cd /`,
        `exec env -i PATH=/usr/bin:/bin TERM=xterm-256color HOME=${quote(home)} bash -c ${
          quote(
            [
              `${quote(binary)} ${trust.map(quote).join(" ")} -i ${quote(key)} ${target} ` +
              `2> ${quote(traceFile)}`,
              `code=$?`,
              `stty -a > ${quote(sttyFile)}`,
              `echo "SSHTRACE-EXITED code=$code"`,
              `sleep 600`,
            ].join("; "),
          )
        }`,
      ].join("; ");
      const pane = await Pane.start(script);
      try {
        await pane.waitFor(new RegExp(`${user.name}@[^\\s]+:~\\$ $`, "m"));
        await pane.type("stty size");
        await pane.waitFor(/^30 100$/m);
        await pane.type("echo $((40+2))-ok");
        await pane.waitFor(/^42-ok$/m);
        await pane.type("exit 5");
        await pane.waitFor(/SSHTRACE-EXITED code=5/);
        assertSaneTerminal(await Deno.readTextFile(sttyFile));
        // The pty request carried the local terminal's modes, read with tcgetattr via Bun's FFI.
        assert.match(
          await Deno.readTextFile(traceFile),
          /terminal modes from the local terminal \(tcgetattr on stdin/,
        );
      } finally {
        await pane.kill();
      }
    });

    await t.step("check over an inventory: the live sshd and a closed port", async () => {
      const closed = freePort();
      const inventory = `${tmp.path}/hosts.txt`;
      await Deno.writeTextFile(inventory, `127.0.0.1:${sshd.port}\n127.0.0.1:${closed}\n`);
      const res = await bin(["check", "--json", inventory]);
      const report = JSON.parse(res.stdout);
      const text = JSON.stringify(report);
      assert.match(text, new RegExp(`127\\.0\\.0\\.1:${sshd.port}`));
      assert.match(text, /refused/);
      assert.notEqual(res.code, 0, "one host of two failed");
    });
  } finally {
    await sshd.stop();
  }

  await t.step("send runs commands on the old-switch imitation (Comware)", async () => {
    const sw = await startOldSwitch({ device: "comware" });
    try {
      const res = await bin([
        "send",
        "--legacy",
        "-o",
        "StrictHostKeyChecking=no",
        "--password-env",
        "PW",
        "--device",
        "comware",
        "--json",
        `${sw.user}@127.0.0.1:${sw.port}`,
        "--",
        "display current-configuration",
        "display version",
      ], { env: { PW: sw.password } });
      assert.equal(res.code, 0, `${res.stderr}\n${sw.logs()}`);
      const r = parseJsonReport(res.stdout);
      assert.equal(r.ok, true);
      assert.equal(r.commands.length, 2);
      assert.equal(r.commands[0].output, await sw.expected("display current-configuration"));
    } finally {
      await sw.stop();
    }
  });
});
