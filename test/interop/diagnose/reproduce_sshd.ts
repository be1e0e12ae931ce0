/**
 * Host key, auth, session and data failures reproduced by OpenSSH sshd's configuration: one
 * server, a Match LocalPort block per extra port.
 */
import assert from "node:assert/strict";
import { connect, type ConnectOptions } from "../../../lib/client.ts";
import { encodeTerminalModes } from "../../../lib/connection/session.ts";
import { Tracer } from "../../../lib/trace.ts";
import { EXIT_CODES } from "../../../lib/types.ts";
import { ensureTestUser, startSshd } from "../../helpers/sshd.ts";
import { freePort, tempDir } from "../../helpers/tools.ts";
import { password } from "../../helpers/lab.ts";
import {
  cli,
  cliSeen,
  explained,
  failure,
  re,
  reproductionTable,
  until,
  userKey,
} from "../../helpers/reproduce.ts";
import { encoder, startNetem } from "../../helpers/raw_servers.ts";

/** The table: one row per step; `reproduces` lists the catalogue codes each row proves. */
export const SSHD = reproductionTable({
  name:
    "OpenSSH sshd: host key, auth, session and data failures are reproduced by its configuration",
  async setup() {
    const user = await ensureTestUser();
    const dir = await tempDir("sshtrace-repro-");
    const good = await userKey(dir.path, "good", "ed25519");
    const bad = await userKey(dir.path, "bad", "ed25519");
    const ports = {
      maxAuthTries: freePort(),
      partial: freePort(),
      keyOnly: freePort(),
      noSessions: freePort(),
      noTty: freePort(),
      noForwarding: freePort(),
    };
    const sshd = await startSshd({
      authorizedKeys: [good.pub],
      logLevel: "INFO",
      config: [
        ...Object.values(ports).map((p) => `Port ${p}`),
        `Match LocalPort ${ports.maxAuthTries}`,
        "  MaxAuthTries 1",
        `Match LocalPort ${ports.partial}`,
        "  AuthenticationMethods publickey,password",
        `Match LocalPort ${ports.keyOnly}`,
        "  AuthenticationMethods publickey",
        `Match LocalPort ${ports.noSessions}`,
        "  MaxSessions 0",
        `Match LocalPort ${ports.noTty}`,
        "  PermitTTY no",
        `Match LocalPort ${ports.noForwarding}`,
        "  AllowTcpForwarding no",
      ],
    });
    const at = (port: number) => `${user.name}@127.0.0.1:${port}`;
    const main = at(sshd.port);
    const knownHosts = `${dir.path}/known_hosts`;
    const env = { PW: user.password, WRONG: "not the password" };
    /** `sshtrace --json -o StrictHostKeyChecking=no ARGS`. */
    const ssh = (args: string[], options: { stdin?: string } = {}) =>
      cli(["--json", "--timeout", "5", "-o", "StrictHostKeyChecking=no", ...args], {
        env,
        ...options,
      });
    const connectSshd = (tracer: Tracer, options: Partial<ConnectOptions> = {}) =>
      connect({
        host: "127.0.0.1",
        port: sshd.port,
        user: user.name,
        strictHostKeyChecking: "no",
        knownHostsFiles: [],
        timeoutMs: 5000,
        tracer,
        auth: { password: password(user.password), methods: ["password"] },
        ...options,
      });
    return {
      ctx: { user, dir, good, bad, ports, sshd, at, main, knownHosts, env, ssh, connectSshd },
      async teardown() {
        await sshd.stop();
        await dir.cleanup();
      },
    };
  },
  rows: [
    // ------------------------------------------------------------------ hostkey
    {
      name: "an empty known_hosts under StrictHostKeyChecking=yes is hostkey.unknown",
      reproduces: [{
        code: "hostkey.unknown",
        by: "CLI: connect -o StrictHostKeyChecking=yes with an empty known_hosts (sshd)",
      }],
      async run({ main, knownHosts }, expect) {
        await Deno.writeTextFile(knownHosts, "");
        const r = await cli([
          "--json",
          "--batch",
          "-o",
          "StrictHostKeyChecking=yes",
          "-o",
          `UserKnownHostsFile=${knownHosts}`,
          main,
          "true",
        ]);
        expect(cliSeen(r), {
          code: "hostkey.unknown",
          stage: "hostkey",
          fix: /-o StrictHostKeyChecking=accept-new/,
          opensshFix: /-o StrictHostKeyChecking=accept-new/,
        });
      },
    },
    {
      name: "another key in known_hosts is hostkey.changed with the exact ssh-keygen -R command",
      reproduces: [{
        code: "hostkey.changed",
        by: "CLI: connect with a different key for [127.0.0.1]:PORT in known_hosts (sshd)",
      }],
      async run({ bad, sshd, main, knownHosts }, expect) {
        await Deno.writeTextFile(knownHosts, `[127.0.0.1]:${sshd.port} ${bad.pub}\n`);
        const r = await cli([
          "--json",
          "--batch",
          "-o",
          `UserKnownHostsFile=${knownHosts}`,
          main,
          "true",
        ]);
        const command = `ssh-keygen -R "[127.0.0.1]:${sshd.port}" -f ${knownHosts}`;
        expect(cliSeen(r), {
          code: "hostkey.changed",
          stage: "hostkey",
          fix: new RegExp(`^${re(command)}`),
          opensshFix: new RegExp(`^${re(command)}$`),
          says: new RegExp(`${re(knownHosts)}:1`),
        });
      },
    },
    {
      name: "a key marked @revoked is hostkey.revoked naming the file and line",
      reproduces: [{
        code: "hostkey.revoked",
        by: "CLI: connect with the host key marked @revoked in known_hosts (sshd)",
      }],
      async run({ sshd, main, knownHosts }, expect) {
        await Deno.writeTextFile(
          knownHosts,
          `# revoked after a leak\n@revoked * ${sshd.hostKeys.ed25519.pub}\n`,
        );
        const r = await cli([
          "--json",
          "--batch",
          "-o",
          `UserKnownHostsFile=${knownHosts}`,
          main,
          "true",
        ]);
        expect(cliSeen(r), {
          code: "hostkey.revoked",
          stage: "hostkey",
          fix: null,
          opensshFix: null,
          says: new RegExp(`${re(knownHosts)}:2`),
        });
      },
    },
    {
      name: "answering no at the host key prompt is hostkey.refused-by-user",
      reproduces: [{
        code: "hostkey.refused-by-user",
        by: 'library: connect({strictHostKeyChecking: "ask"}) answered no (sshd)',
      }],
      async run({ knownHosts, connectSshd }, expect) {
        // The CLI cannot be answered without a terminal (its prompt fails with ENOTTY: reported),
        // so the library's ask callback answers no.
        await Deno.writeTextFile(knownHosts, "");
        const tracer = new Tracer();
        const error = await failure(connectSshd(tracer, {
          strictHostKeyChecking: "ask",
          knownHostsFiles: [knownHosts],
          ask: () => Promise.resolve(false),
        }));
        expect(explained(error, tracer), {
          code: "hostkey.refused-by-user",
          stage: "hostkey",
          fix: /answer yes/,
        });
        assert.equal(await Deno.readTextFile(knownHosts), "", "nothing was stored");
      },
    },
    {
      name: "a known_hosts path under a regular file is hostkey.write-failed",
      reproduces: [{
        code: "hostkey.write-failed",
        by:
          "CLI: connect -o StrictHostKeyChecking=accept-new with an unwritable known_hosts (sshd)",
      }],
      async run({ dir, main }, expect) {
        await Deno.writeTextFile(`${dir.path}/not-a-dir`, "");
        const r = await cli([
          "--json",
          "--batch",
          "-o",
          "StrictHostKeyChecking=accept-new",
          "-o",
          `UserKnownHostsFile=${dir.path}/not-a-dir/known_hosts`,
          main,
          "true",
        ]);
        expect(cliSeen(r), {
          code: "hostkey.write-failed",
          stage: "hostkey",
          fix: /-o UserKnownHostsFile=PATH/,
          opensshFix: /-o UserKnownHostsFile=PATH/,
        });
      },
    },
    // ------------------------------------------------------------------ auth
    {
      name: "a wrong password is auth.password-rejected",
      reproduces: [{
        code: "auth.password-rejected",
        by: "CLI: connect --password-env with a wrong password (sshd)",
      }],
      async run({ main, ssh }, expect) {
        const r = await ssh([
          "--password-env",
          "WRONG",
          "-o",
          "PreferredAuthentications=password",
          main,
          "true",
        ]);
        expect(cliSeen(r), {
          code: "auth.password-rejected",
          stage: "auth",
          fix: /USER@HOST.*--password-env VAR/,
          opensshFix: /-l USER/,
        });
      },
    },
    {
      name: "a key not in authorized_keys is auth.key-rejected",
      reproduces: [{
        code: "auth.key-rejected",
        by: "CLI: connect -i KEY with a key not in authorized_keys (sshd)",
      }],
      async run({ bad, main, ssh }, expect) {
        const r = await ssh([
          "-i",
          bad.path,
          "-o",
          "PreferredAuthentications=publickey",
          main,
          "true",
        ]);
        expect(cliSeen(r), {
          code: "auth.key-rejected",
          stage: "auth",
          fix: /-i KEY|authorized_keys/,
          opensshFix: /IdentitiesOnly=yes -i KEY/,
          says: /rejected the key/,
        });
      },
    },
    {
      name: "--batch with nothing but prompts left is auth.batch-mode-needs-prompt",
      reproduces: [{
        code: "auth.batch-mode-needs-prompt",
        by: "CLI: connect --batch without a key or password (sshd)",
      }],
      async run({ main, ssh }, expect) {
        const r = await ssh(["--batch", main, "true"]);
        expect(cliSeen(r), {
          code: "auth.batch-mode-needs-prompt",
          stage: "auth",
          fix: /--password-env VAR/,
          opensshFix: /-o BatchMode=no/,
        });
      },
    },
    {
      name: "MaxAuthTries 1 and a wrong key is auth.too-many-failures",
      reproduces: [{
        code: "auth.too-many-failures",
        by: "CLI: connect -i WRONG -i RIGHT to sshd with MaxAuthTries 1",
      }],
      async run({ good, bad, ports, at, ssh }, expect) {
        const r = await ssh(["-i", bad.path, "-i", good.path, at(ports.maxAuthTries), "true"]);
        expect(cliSeen(r), {
          code: "auth.too-many-failures",
          stage: "auth",
          fix: /-i KEY -o IdentitiesOnly=yes/,
          opensshFix: /-o IdentitiesOnly=yes -i KEY/,
        });
        const fixed = await ssh([
          "-i",
          good.path,
          "-o",
          "IdentitiesOnly=yes",
          at(ports.maxAuthTries),
          "true",
        ]);
        assert.equal(fixed.code, 0, `the fix works: ${fixed.stderr.slice(-400)}`);
      },
    },
    {
      name: "AuthenticationMethods publickey,password with a key only is auth.partial-needs-method",
      reproduces: [{
        code: "auth.partial-needs-method",
        by: "CLI: connect --batch -i KEY to sshd with AuthenticationMethods publickey,password",
      }],
      async run({ good, ports, at, ssh }, expect) {
        const r = await ssh(["--batch", "-i", good.path, at(ports.partial), "true"]);
        expect(cliSeen(r), {
          code: "auth.partial-needs-method",
          stage: "auth",
          fix: /--password-env VAR/,
          opensshFix: /PreferredAuthentications=publickey,password/,
          says: /password/,
        });
      },
    },
    {
      name: "AuthenticationMethods publickey with a password only is auth.no-common-method",
      reproduces: [{
        code: "auth.no-common-method",
        by: "CLI: connect --password-env to sshd with AuthenticationMethods publickey",
      }],
      async run({ ports, at, ssh }, expect) {
        const r = await ssh(["--password-env", "PW", at(ports.keyOnly), "true"]);
        expect(cliSeen(r), {
          code: "auth.no-common-method",
          stage: "auth",
          fix: /-i (KEY|FILE)/,
          opensshFix: /-o PreferredAuthentications=publickey/,
          says: /offers publickey; we can do .*password/,
        });
      },
    },
    {
      name: "a jump host with AllowTcpForwarding no is connect.jump-refused naming the hop",
      reproduces: [{
        code: "connect.jump-refused",
        by: "CLI: connect -J through sshd with AllowTcpForwarding no",
      }],
      async run({ good, ports, at, main, ssh, dir }, expect) {
        // The jump host's options come from its configuration (-F), as with ssh -J.
        const config = `${dir.path}/jump_config`;
        await Deno.writeTextFile(
          config,
          `Host *\n  StrictHostKeyChecking no\n  IdentityFile ${good.path}\n`,
        );
        const r = await ssh(["-F", config, "-J", at(ports.noForwarding), main, "true"]);
        expect(cliSeen(r), {
          code: "connect.jump-refused",
          stage: "connect",
          fix: /AllowTcpForwarding yes/,
          opensshFix: /AllowTcpForwarding yes/,
          says: /hop 2 of 2 .*refused the tunnel.*administratively prohibited/,
        });
      },
    },
    {
      name: "-L on a local port already in use is session.forward-bind-failed",
      reproduces: [{
        code: "session.forward-bind-failed",
        by:
          "CLI: connect -N -o ExitOnForwardFailure=yes -L on a port another listener holds (sshd)",
      }],
      async run({ good, main, ssh }, expect) {
        const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
        try {
          const r = await ssh([
            "-i",
            good.path,
            "-o",
            "ExitOnForwardFailure=yes",
            "-N",
            "-L",
            `${taken.addr.port}:127.0.0.1:1`,
            main,
          ]);
          expect(cliSeen(r), {
            code: "session.forward-bind-failed",
            stage: "session",
            fix: new RegExp(`instead of ${taken.addr.port}`),
            opensshFix: /-L FREE_PORT/,
            says: /cannot listen on 127\.0\.0\.1:\d+ → 127\.0\.0\.1:1/,
          });
        } finally {
          taken.close();
        }
      },
    },
    // ------------------------------------------------------------------ session
    {
      name: "MaxSessions 0 is session.channel-open-refused (OpenSSH says code 2)",
      reproduces: [],
      async run({ good, ports, at, ssh }, _expect) {
        // OpenSSH refuses the session channel with reason 2 (connect failed, "open failed"), which
        // the catalogue explains as a failed forwarding target, with no fix (reported). The stage,
        // code and exit code are right; the lab step above reproduces the entry with its fix.
        const r = await ssh(["-i", good.path, at(ports.noSessions), "true"]);
        const seen = cliSeen(r);
        assert.equal(seen.code, "session.channel-open-refused", seen.message);
        assert.equal(seen.stage, "session");
        assert.equal(seen.exitCode, EXIT_CODES.session);
        assert.match(seen.message, /connect failed \(code 2\): open failed/);
      },
    },
    {
      name: "PermitTTY no with -t is session.pty-refused suggesting -T",
      reproduces: [{
        code: "session.pty-refused",
        by: "CLI: connect -t to sshd with PermitTTY no",
      }],
      async run({ good, ports, at, ssh }, expect) {
        const r = await ssh(["-t", "-i", good.path, at(ports.noTty), "true"]);
        expect(cliSeen(r), {
          code: "session.pty-refused",
          stage: "session",
          fix: /^-T/,
          opensshFix: /-T/,
        });
      },
    },
    {
      name: "a shell whose prompt never matches is session.prompt-not-found",
      reproduces: [{
        code: "session.prompt-not-found",
        by: "CLI: send --prompt NEVER-SEEN> to bash on sshd",
      }],
      async run({ good, main }, expect) {
        const r = await cli([
          "send",
          "--json",
          "-o",
          "StrictHostKeyChecking=no",
          "-i",
          good.path,
          "--prompt",
          "NEVER-SEEN>",
          "--command-timeout",
          "1",
          main,
          "--",
          "true",
        ]);
        expect(cliSeen(r), {
          code: "session.prompt-not-found",
          stage: "session",
          fix: /prompt as a regular expression/,
        });
      },
    },
    {
      name: "a command that outlives --command-timeout is session.send-timeout",
      reproduces: [{
        code: "session.send-timeout",
        by: "CLI: send --command-timeout 1 -- 'sleep 5' to bash on sshd",
      }],
      async run({ good, main }, expect) {
        const r = await cli([
          "send",
          "--json",
          "-o",
          "StrictHostKeyChecking=no",
          "-i",
          good.path,
          "--device",
          "linux",
          "--command-timeout",
          "1",
          main,
          "--",
          "sleep 5",
        ]);
        expect(cliSeen(r), {
          code: "session.send-timeout",
          stage: "session",
          fix: /raise the per-command limit/,
        });
      },
    },
    {
      name: "more output than --max-output without a prompt is session.output-too-large",
      reproduces: [{
        code: "session.output-too-large",
        by: "CLI: send --max-output 1M, a command printing 5 MB, to bash on sshd",
      }],
      async run({ good, main }, expect) {
        const r = await cli([
          "send",
          "--json",
          "-o",
          "StrictHostKeyChecking=no",
          "-i",
          good.path,
          "--device",
          "linux",
          "--max-output",
          "1M",
          main,
          "--",
          "yes | head -c 5000000",
        ]);
        expect(cliSeen(r), {
          code: "session.output-too-large",
          stage: "session",
          fix: /--max-output 512M/,
        });
      },
    },
    {
      name: "a command that ends the shell is session.shell-closed",
      reproduces: [{ code: "session.shell-closed", by: "CLI: send -- exit to bash on sshd" }],
      async run({ good, main }, expect) {
        const r = await cli([
          "send",
          "--json",
          "-o",
          "StrictHostKeyChecking=no",
          "-i",
          good.path,
          "--device",
          "linux",
          main,
          "--",
          "exit",
        ]);
        expect(cliSeen(r), {
          code: "session.shell-closed",
          stage: "session",
          fix: /exit, reload, quit/,
        });
      },
    },
    {
      name: "a command exiting 1 in a fleet check is session.command-failed",
      reproduces: [{
        code: "session.command-failed",
        by: "CLI: check --login --command false (sshd)",
      }],
      async run({ dir, good, main }, expect) {
        const inventory = `${dir.path}/hosts.txt`;
        await Deno.writeTextFile(inventory, `${main}\n`);
        const r = await cli([
          "check",
          "--json",
          "--login",
          "-i",
          good.path,
          "-o",
          "StrictHostKeyChecking=no",
          "--command",
          "false",
          inventory,
        ]);
        expect(cliSeen(r, 0), {
          code: "session.command-failed",
          stage: "session",
          fix: /run the command by hand/,
        });
      },
    },
    // ------------------------------------------------------------------ data
    {
      name: "the server process dying mid-command is data.connection-closed",
      reproduces: [{
        code: "data.connection-closed",
        by: "CLI: connect, the command kills its sshd session process (sshd)",
      }],
      async run({ good, main, ssh }, expect) {
        const r = await ssh(["-i", good.path, main, "sleep 0.3; kill -9 $PPID"]);
        expect(cliSeen(r), {
          code: "data.connection-closed",
          stage: "data",
          fix: /ServerAliveInterval=30/,
          opensshFix: /-o ServerAliveInterval=30/,
        });
      },
    },
    {
      name: "a server that stops answering is data.keepalive-timeout",
      reproduces: [{
        code: "data.keepalive-timeout",
        by: "CLI: connect -o ServerAliveInterval=1 -o ServerAliveCountMax=1, sshd process stopped",
      }],
      async run({ dir, good, main, ssh }, expect) {
        // The command stops its own sshd session process (SIGSTOP): the connection stays up,
        // nothing answers. The process is killed afterwards by its pid.
        const pids = await Deno.makeTempDir({ dir: dir.path, prefix: "pid-" });
        await Deno.chmod(pids, 0o777);
        const r = await ssh([
          "-i",
          good.path,
          "-o",
          "ServerAliveInterval=1",
          "-o",
          "ServerAliveCountMax=1",
          main,
          `echo $PPID > ${pids}/pid; kill -STOP $PPID`,
        ]);
        const pid = Number((await Deno.readTextFile(`${pids}/pid`).catch(() => "")).trim());
        if (pid > 1) {
          try {
            Deno.kill(pid, "SIGKILL");
          } catch {
            // already gone
          }
        }
        expect(cliSeen(r), {
          code: "data.keepalive-timeout",
          stage: "data",
          fix: /-o ServerAliveInterval=15 -o ServerAliveCountMax=6/,
          opensshFix: /-o ServerAliveInterval=15 -o ServerAliveCountMax=6/,
        });
      },
    },
    {
      name: "a reset in the middle of a command is data.connection-reset",
      reproduces: [{
        code: "data.connection-reset",
        by: "library: exec through a TCP proxy that resets the connection (sshd)",
      }],
      async run({ sshd, connectSshd }, expect) {
        const proxy = await startNetem("proxy", sshd.port);
        try {
          const tracer = new Tracer();
          const client = await connectSshd(tracer, { port: proxy.port });
          try {
            const running = failure(client.exec("sleep 5"));
            await until(
              () => tracer.openSpans.some((s) => s.stage === "data"),
              5000,
              "the command to start",
            );
            await proxy.reset();
            const error = await running;
            expect(explained(error, tracer), {
              code: "data.connection-reset",
              stage: "data",
              fix: /ServerAliveInterval=30/,
              opensshFix: /-o ServerAliveInterval=30/,
            });
          } finally {
            await client.close();
          }
        } finally {
          await proxy.stop();
        }
      },
    },
    {
      name: "writing to a channel the server closed is data.channel-closed",
      reproduces: [{
        code: "data.channel-closed",
        by: "library: session.write() after the command ended (sshd)",
      }],
      async run({ connectSshd }, expect) {
        const tracer = new Tracer();
        const client = await connectSshd(tracer);
        try {
          const session = await client.openSession();
          await session.exec("true");
          await session.exit;
          const error = await failure(session.write(encoder.encode("late\n")));
          expect(explained(error, tracer), {
            code: "data.channel-closed",
            stage: "data",
            fix: null,
            says: /channel is closed/,
          });
        } finally {
          await client.close();
        }
      },
    },
    {
      name: "writing after eof() is data.write-after-eof",
      reproduces: [{
        code: "data.write-after-eof",
        by: "library: session.write() after session.eof() (sshd)",
      }],
      async run({ connectSshd }, expect) {
        const tracer = new Tracer();
        const client = await connectSshd(tracer);
        try {
          const session = await client.openSession();
          await session.exec("cat");
          await session.eof();
          const error = await failure(session.write(encoder.encode("late\n")));
          expect(explained(error, tracer), {
            code: "data.write-after-eof",
            stage: "data",
            fix: null,
            says: /end of input was already sent/,
          });
        } finally {
          await client.close();
        }
      },
    },
    // ------------------------------------------------------------------ library usage errors
    {
      name: "a keepalive count of 1.5 is usage.invalid-keepalive",
      reproduces: [{
        code: "usage.invalid-keepalive",
        by: "library: connect({keepalive: {countMax: 1.5}}) (sshd)",
      }],
      async run({ connectSshd }, expect) {
        const tracer = new Tracer();
        const error = await failure(
          connectSshd(tracer, { keepalive: { intervalMs: 1000, countMax: 1.5 } }),
        );
        expect(explained(error, tracer), {
          code: "usage.invalid-keepalive",
          stage: "usage",
          fix: /-o ServerAliveInterval=30 -o ServerAliveCountMax=3/,
          opensshFix: /-o ServerAliveInterval=30 -o ServerAliveCountMax=3/,
        });
      },
    },
    {
      name: "a channel window of 0 is usage.invalid-channel-option",
      reproduces: [{
        code: "usage.invalid-channel-option",
        by: "library: connect({windowSize: 0}) (sshd)",
      }],
      async run({ connectSshd }, expect) {
        const tracer = new Tracer();
        const error = await failure(connectSshd(tracer, { windowSize: 0 }));
        expect(explained(error, tracer), {
          code: "usage.invalid-channel-option",
          stage: "usage",
          fix: /32768/,
          says: /windowSize|window/i,
        });
      },
    },
    {
      name: "terminal modes with an unknown name or a bad value are usage errors",
      reproduces: [{
        code: "usage.unknown-terminal-mode",
        by: "library: openSession({modes: encodeTerminalModes({ECHOO: 1})}) (sshd)",
      }, {
        code: "usage.invalid-terminal-mode",
        by: "library: openSession({modes: encodeTerminalModes({ECHO: -1})}) (sshd)",
      }],
      async run({ connectSshd }, expect) {
        const tracer = new Tracer();
        const client = await connectSshd(tracer);
        try {
          const pty = (modes: Record<string, number>) => () =>
            client.openSession({
              term: "xterm",
              cols: 80,
              rows: 24,
              modes: encodeTerminalModes(modes),
            });
          const unknown = await failure(Promise.resolve().then(pty({ ECHOO: 1 })));
          expect(explained(unknown, tracer), {
            code: "usage.unknown-terminal-mode",
            stage: "usage",
            fix: /RFC 4254 §8/,
            says: /ECHOO/,
          });
          const invalid = await failure(Promise.resolve().then(pty({ ECHO: -1 })));
          expect(explained(invalid, tracer), {
            code: "usage.invalid-terminal-mode",
            stage: "usage",
            fix: /whole number/,
            says: /ECHO/,
          });
          // The connection is still good: a pty with valid modes works.
          const session = await pty({ ECHO: 0 })();
          await session.exec("true");
          assert.equal((await session.exit).status, 0);
        } finally {
          await client.close();
        }
      },
    },
  ],
});
