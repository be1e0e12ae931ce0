/**
 * `sshtrace probe` as a user runs it, without an SSH server: usage errors, and small misbehaving
 * TCP servers in this process. Exit codes, and that no failure ever shows a stack trace. Against a
 * real OpenSSH sshd: test/interop/cli/probe_cli_test.ts.
 */

import assert from "node:assert/strict";
import { assertNoStackTrace, assertUsageError, runSshtrace } from "../../helpers/cli.ts";
import { freePort } from "../../helpers/tools.ts";

/** Runs the CLI in the project root (RUST_BACKTRACE=0, NO_COLOR=1). */
const sshtrace = (args: string[]) => runSshtrace(args, { timeoutMs: 30_000 });

/** A port nothing listens on (bound a moment ago, then closed). */
function closedPort(): number {
  return freePort();
}

/**
 * A TCP server on 127.0.0.1 that greets each connection with `greeting` (nothing when null),
 * then stops sending and reads until the client goes away.
 */
async function withFakeServer<T>(
  greeting: string | null,
  fn: (port: number) => Promise<T>,
): Promise<T> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const conns: Promise<void>[] = [];
  const serve = async (conn: Deno.Conn) => {
    try {
      if (greeting !== null) {
        await conn.write(new TextEncoder().encode(greeting));
        await conn.closeWrite();
      }
      const buf = new Uint8Array(4096);
      while ((await conn.read(buf)) !== null) {
        // discard what the client sends
      }
    } catch {
      // the client reset the connection
    } finally {
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
  };
  const accepting = (async () => {
    try {
      for await (const conn of listener) conns.push(serve(conn));
    } catch {
      // listener closed
    }
  })();
  try {
    return await fn(port);
  } finally {
    listener.close();
    await accepting;
    await Promise.all(conns);
  }
}

// ---------------------------------------------------------------------------------------------
// Bad input: exit 2

Deno.test("an unknown flag exits 2 with a one-line message and no stack trace", async () => {
  const res = await sshtrace(["probe", "--bogus", "127.0.0.1"]);
  assertUsageError(res, /unknown option '--bogus'/);
  assert.equal(res.stderr.trim().split("\n").length, 1);
});

Deno.test("a missing target exits 2 naming the argument", async () => {
  assertUsageError(await sshtrace(["probe"]), /missing required argument 'target'/);
});

Deno.test("a bad port exits 2, in the target and in -p", async () => {
  assertUsageError(await sshtrace(["probe", "127.0.0.1:abc"]), /invalid port "abc"/);
  assertUsageError(await sshtrace(["probe", "-p", "abc", "127.0.0.1"]), /invalid port "abc"/);
  assertUsageError(await sshtrace(["probe", "127.0.0.1:99999"]), /invalid port 99999/);
});

Deno.test("an unknown algorithm in --kex +nope exits 2 naming it", async () => {
  assertUsageError(await sshtrace(["probe", "--kex", "+nope", "127.0.0.1"]), /"nope"/);
  assertUsageError(
    await sshtrace(["probe", "--ciphers", "-blowfish", "127.0.0.1"]),
    /unknown Ciphers algorithm "blowfish"/,
  );
});

Deno.test("-o Bogus=1 exits 2 naming the option", async () => {
  const res = await sshtrace(["probe", "-o", "Bogus=1", "127.0.0.1"]);
  assertUsageError(res, /unsupported option -o Bogus/);
  assert.match(res.stderr, /try: supported: .*\bPort\b.*\bStrictHostKeyChecking\b/);
});

Deno.test("a bad --timeout exits 2", async () => {
  assertUsageError(await sshtrace(["probe", "--timeout", "soon", "127.0.0.1"]), /--timeout "soon"/);
});

// ---------------------------------------------------------------------------------------------
// Network failures: exit 10, 11, 12

Deno.test("a closed port exits 10 at stage connect", async () => {
  const res = await sshtrace(["probe", `127.0.0.1:${closedPort()}`]);
  assert.equal(res.code, 10, res.stderr);
  assertNoStackTrace(res);
  assert.match(res.stderr, /failed at stage connect \(exit 10\)/);
  assert.match(res.stderr, /refused/);
});

Deno.test("a closed port with --json prints the failure report on stdout", async () => {
  const port = closedPort();
  const res = await sshtrace(["probe", "--json", `127.0.0.1:${port}`]);
  assert.equal(res.code, 10, res.stderr);
  assertNoStackTrace(res);
  const report = JSON.parse(res.stdout);
  assert.equal(report.ok, false);
  assert.equal(report.exitCode, 10);
  assert.equal(report.failedStage, "connect");
  assert.equal(report.error.stage, "connect");
  assert.equal(report.error.code, "connect.refused");
  assert.match(report.error.message, new RegExp(`port ${port}`));
  assert.equal(report.server.versionLine, null);
  assert.equal(report.kex, null);
  assert.equal(report.hostKey, null);
  assert.equal(report.auth, null);
});

Deno.test("an unresolvable host exits 10 at stage connect", async () => {
  const res = await sshtrace(["probe", "nonexistent.invalid"]);
  assert.equal(res.code, 10, res.stderr);
  assertNoStackTrace(res);
  assert.match(res.stderr, /failed at stage connect/);
  assert.match(res.stderr, /nonexistent\.invalid/);
});

Deno.test("a server that accepts and says nothing exits 11 within the --timeout, at stage version", async () => {
  await withFakeServer(null, async (port) => {
    const res = await sshtrace(["probe", "--timeout", "1", `127.0.0.1:${port}`]);
    assert.equal(res.code, 11, res.stderr);
    assertNoStackTrace(res);
    assert.ok(res.ms < 3500, `took ${Math.round(res.ms)} ms`);
    assert.match(res.stderr, /stage version/);
    assert.match(res.stderr, /1 s/);
  });
});

Deno.test("a server that sends SSH-1.5 exits 11 and says it speaks SSH-1", async () => {
  await withFakeServer("SSH-1.5-OldServer\r\n", async (port) => {
    const res = await sshtrace(["probe", "--json", `127.0.0.1:${port}`]);
    assert.equal(res.code, 11, res.stderr);
    assertNoStackTrace(res);
    assert.match(res.stderr, /SSH-1\b/);
    const report = JSON.parse(res.stdout);
    assert.equal(report.failedStage, "version");
    assert.match(report.error.message, /SSH-1/);
  });
});

Deno.test("an HTTP server exits 11 with 'not an SSH server' and names HTTP", async () => {
  await withFakeServer("HTTP/1.1 400 Bad Request\r\n\r\n", async (port) => {
    const res = await sshtrace(["probe", `127.0.0.1:${port}`]);
    assert.equal(res.code, 11, res.stderr);
    assertNoStackTrace(res);
    assert.match(res.stderr, /not an SSH server.*HTTP/);
  });
});

Deno.test("a server that sends a version line and then closes exits 12 at stage kex", async () => {
  await withFakeServer("SSH-2.0-Fake_1.0\r\n", async (port) => {
    const res = await sshtrace(["probe", "--json", `127.0.0.1:${port}`]);
    assert.equal(res.code, 12, res.stderr);
    assertNoStackTrace(res);
    assert.match(res.stderr, /failed at stage kex \(exit 12\)/);
    const report = JSON.parse(res.stdout);
    assert.equal(report.failedStage, "kex");
    assert.equal(report.server.versionLine, "SSH-2.0-Fake_1.0");
    assert.equal(report.server.software, "Fake_1.0");
  });
});
