/**
 * sshtrace against SSH servers written independently of OpenSSH (Debian's paramiko, Go's
 * x/crypto/ssh, Erlang/OTP's ssh, libssh; see test/helpers/independent_servers.ts), each with
 * its default algorithms: probe, password and public key logins (ed25519, ECDSA, RSA), exec with
 * exit status, a pty shell typed into, 10 MiB downloaded through a pipe and into a file with its
 * checksum, and client-initiated rekeys during a 10 MiB download and a 10 MiB upload. The matrix
 * is in docs/interop.md.
 */

import assert from "node:assert/strict";
import {
  emptyHome,
  type Json,
  MiB,
  parseJsonReport,
  runSshtrace,
  sha256,
  splitNdjson,
  type SshtraceResult,
  userKey,
} from "../helpers/cli.ts";
import { runSshtraceToFile, spawnSshtrace } from "../helpers/cli_spawn.ts";
import {
  INDEPENDENT_SERVERS,
  type IndependentServer,
  type IndependentServerName,
  patternBytes,
  startIndependentServer,
} from "../helpers/independent_servers.ts";
import { tempDir } from "../helpers/tools.ts";

const USER = "interop";
const PASSWORD = "independent 42";
const SIZE = 10 * MiB;
const PATTERN = patternBytes(SIZE);
const EXPECTED_SHA = sha256(PATTERN);

/** The version line each implementation sends (it proves which server answered). */
const VERSION_LINE: Record<IndependentServerName, RegExp> = {
  paramiko: /^SSH-2\.0-paramiko_\d+\.\d+/,
  go: /^SSH-2\.0-Go$/,
  erlang: /^SSH-2\.0-Erlang\/\d+\.\d+/,
  libssh: /^SSH-2\.0-libssh_\d+\.\d+/,
};

/** Prints a measurement (not asserted) to the test's stderr. */
function note(text: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(`    [measured] ${text}\n`));
}

/**
 * What to show when a run went wrong: the end of its stderr (where a failure is printed, after
 * any data) and of the server's log.
 */
function context(server: IndependentServer, res: { stderr: string; stderrTail?: string }): string {
  const stderr = res.stderrTail ?? res.stderr;
  return `sshtrace stderr (end):\n${JSON.stringify(stderr.slice(-3000))}\n${server.title} log:\n` +
    server.logs().slice(-3000);
}

function expectOk(server: IndependentServer, res: SshtraceResult, code = 0): void {
  assert.equal(res.timedOut, false, `timed out\n${context(server, res)}`);
  assert.equal(res.code, code, context(server, res));
}

/** For a failed rekey run: its last events (kex and closing) and the end of stderr. */
function rekeyContext(server: IndependentServer, res: SshtraceResult, events: Json[]): string {
  const last = events.slice(-12).map((e) => JSON.stringify(e).slice(0, 300)).join("\n");
  return `last events:\n${last}\n${context(server, res)}`;
}

/**
 * Counts the client-initiated rekeys that completed (NEWKEYS both ways, less the first key
 * exchange) and fails unless there were at least `min`. The client may begin one more as it
 * closes; the disconnect cuts that one short.
 */
function clientRekeys(events: Json[], min: number): string {
  const begun = events.filter((e) => e.type === "rekey" && e.initiator === "client").length;
  const newkeys = (direction: string) =>
    events.filter((e) => e.type === "newkeys" && e.direction === direction).length - 1;
  const completed = Math.min(newkeys("sent"), newkeys("received"));
  assert.ok(completed >= min, `only ${completed} of ${begun} client rekeys completed`);
  return `${completed} client rekeys completed (${begun} begun)`;
}

for (const name of INDEPENDENT_SERVERS) {
  Deno.test(
    `sshtrace works with the ${name} server: probe, logins, exec, pty shell, 10 MiB, rekey`,
    async (t) => {
      await using tmp = await tempDir(`sshtrace-${name}-`);
      const home = await emptyHome(tmp.path);
      const keys = {
        ed25519: await userKey(tmp.path, "ed25519"),
        ecdsa: await userKey(tmp.path, "ecdsa"),
        rsa: await userKey(tmp.path, "rsa"),
      };
      const key = keys.ed25519;
      const authorizedKeys = `${tmp.path}/authorized_keys`;
      await Deno.writeTextFile(
        authorizedKeys,
        (await Promise.all(Object.values(keys).map((k) => Deno.readTextFile(`${k}.pub`)))).join(""),
      );
      const server = await startIndependentServer(name, { authorizedKeys, password: PASSWORD });
      const started = performance.now();
      try {
        const knownHosts = `${tmp.path}/known_hosts`;
        await Deno.writeTextFile(
          knownHosts,
          server.hostKeys.map((k) => `[127.0.0.1]:${server.port} ${k.pub}\n`).join(""),
        );
        const base = ["-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${knownHosts}`];
        const target = `${USER}@127.0.0.1:${server.port}`;
        const keyLogin = (k: string) => [
          ...base,
          "-q",
          "-i",
          k,
          "-o",
          "PreferredAuthentications=publickey",
        ];
        const withKey = keyLogin(key);
        const withPassword = [
          ...base,
          "-q",
          "-o",
          "PreferredAuthentications=password",
          "--password-env",
          "PW",
        ];
        const sshtrace = (args: string[], stdin?: Uint8Array) =>
          runSshtrace(args, { home, env: { PW: PASSWORD }, textLimit: MiB, stdin });

        await t.step("probe verifies the host key and lists password and publickey", async () => {
          const res = await sshtrace(["probe", "--json", ...base, `127.0.0.1:${server.port}`]);
          expectOk(server, res);
          const r: Json = parseJsonReport(res.stdout);
          assert.match(r.server.versionLine, VERSION_LINE[name]);
          if (name === "libssh") {
            // libssh 0.10's cipher lists end with a comma: tolerated and traced, as OpenSSH does.
            assert.ok(r.server.quirks.includes("kexinit-empty-names"), r.server.quirks.join());
          }
          assert.equal(r.hostKey.status, "known");
          assert.ok(r.auth.methods.includes("password"), JSON.stringify(r.auth));
          assert.ok(r.auth.methods.includes("publickey"), JSON.stringify(r.auth));
          const k = r.kex;
          note(
            `${name}: ${r.server.versionLine}; ${k.algorithm}, ${k.hostKeyAlgorithm}, ` +
              `${k.cipher.s2c}, ${k.mac.s2c}, strict kex ${k.strict ? "on" : "off"}; quirks: ` +
              (r.server.quirks.join(", ") || "none"),
          );
        });

        await t.step("a password login runs a command", async () => {
          const res = await sshtrace([...withPassword, target, "whoami"]);
          expectOk(server, res);
          assert.equal(res.stdout, `${USER} password\n`);
        });

        for (const [type, path] of Object.entries(keys)) {
          await t.step(`a public key login (${type}) runs a command`, async () => {
            const res = await sshtrace([...keyLogin(path), target, "whoami"]);
            expectOk(server, res);
            assert.equal(res.stdout, `${USER} publickey\n`);
          });
        }

        await t.step("exec passes output, stderr and the exit status through", async () => {
          const echo = await sshtrace([...withKey, target, "echo", "hello", "independent"]);
          expectOk(server, echo);
          assert.equal(echo.stdout, "hello independent\n");
          const status = await sshtrace([...withKey, target, "exit 7"]);
          expectOk(server, status, 7);
          const unknown = await sshtrace([...withKey, target, "no-such-command"]);
          expectOk(server, unknown, 127);
          assert.equal(unknown.stderr, "unknown command: no-such-command\n");
        });

        await t.step("a pty shell answers typed commands and ends with their exit", async () => {
          const shell = spawnSshtrace([...withKey, "-t", target], {
            home,
            env: { TERM: "xterm-256color" },
          });
          try {
            await shell.expect(/interop\$ $/);
            await shell.type("echo ping-42\r");
            // The pty echoes what was typed, then the command's output follows.
            await shell.expect(/echo ping-42\r\nping-42\r\ninterop\$ $/);
            await shell.type("pty\r");
            await shell.expect(/pty\r\nxterm-256color 80x24\r\ninterop\$ $/);
            await shell.type("exit 3\r");
            const end = await shell.finish();
            assert.equal(
              end.code,
              3,
              `stdout: ${JSON.stringify(end.stdout)}\n${context(server, end)}`,
            );
          } finally {
            shell.kill();
          }
        });

        await t.step("10 MiB downloaded through a pipe arrive with their checksum", async () => {
          const res = await sshtrace([...withKey, target, `bytes ${SIZE}`]);
          expectOk(server, res);
          assert.equal(res.stdoutBytes, SIZE);
          assert.equal(res.stdoutSha, EXPECTED_SHA);
          note(`${name}: 10 MiB through a pipe in ${Math.round(res.ms)} ms (with login)`);
        });

        await t.step("10 MiB downloaded into a file arrive with their checksum", async () => {
          const file = `${tmp.path}/download`;
          const res = await runSshtraceToFile([...withKey, target, `bytes ${SIZE}`], file, {
            home,
          });
          assert.equal(res.timedOut, false, `timed out\n${context(server, res)}`);
          assert.equal(res.code, 0, context(server, res));
          assert.equal(res.fileBytes, SIZE);
          assert.equal(res.fileSha, EXPECTED_SHA);
          note(`${name}: 10 MiB into a file in ${Math.round(res.ms)} ms (with login)`);
        });

        await t.step(
          "client rekeys (--rekey-limit 512K) during a 10 MiB download lose nothing",
          async () => {
            // The data goes to stderr, the NDJSON events to stdout.
            const res = await sshtrace([
              ...withKey,
              "--ndjson",
              "--rekey-limit",
              "512K",
              target,
              `bytes ${SIZE} stderr`,
            ]);
            assert.equal(res.timedOut, false, `timed out\n${context(server, res)}`);
            const { events, other } = splitNdjson(res.stdout);
            assert.equal(res.code, 0, rekeyContext(server, res, events));
            assert.deepEqual(other, []);
            assert.equal(res.stderrBytes, SIZE);
            assert.equal(res.stderrSha, EXPECTED_SHA);
            // The client checks its limit as it sends (window adjusts, here), so it rekeys less often
            // than every 512 KiB received.
            note(`${name}: ${clientRekeys(events, 2)} during a 10 MiB download`);
          },
        );

        await t.step(
          "client rekeys (-o RekeyLimit=512K) during a 10 MiB upload lose nothing",
          async () => {
            const res = await sshtrace([
              ...withKey,
              "--ndjson",
              "-o",
              "RekeyLimit=512K",
              target,
              `check ${SIZE}`,
            ], PATTERN);
            assert.equal(res.timedOut, false, `timed out\n${context(server, res)}`);
            const { events, other } = splitNdjson(res.stdout);
            assert.equal(res.code, 0, rekeyContext(server, res, events));
            assert.deepEqual(other, [`ok ${SIZE}`], "the server got every byte, in order");
            note(`${name}: ${clientRekeys(events, 10)} during a 10 MiB upload`);
          },
        );
      } finally {
        await server.stop();
        note(`${name}: all steps in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      }
    },
  );
}
