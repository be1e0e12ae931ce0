/**
 * Unix-socket forwards against a real OpenSSH sshd, every form ssh(1) has: `-L /local.sock:
 * host:port`, `-L port:/remote.sock` and `-L /local.sock:/remote.sock`
 * (`direct-streamlocal@openssh.com`), `-R /remote.sock:host:port`
 * (`streamlocal-forward@openssh.com`, `forwarded-streamlocal@openssh.com` channels) and
 * `-R port:/local.sock`; the local socket's mode (StreamLocalBindMask), a stale socket file
 * (StreamLocalBindUnlink), a server that forbids it (AllowStreamLocalForwarding no), and
 * `sshtrace -L /local.sock:…` from the command line.
 */

import assert from "node:assert/strict";
import { connect, type ConnectOptions } from "../../../lib/client.ts";
import { SshError } from "../../../lib/errors/mod.ts";
import { Tracer } from "../../../lib/trace.ts";
import { DENO_DIR } from "../../helpers/cli.ts";
import { password } from "../../helpers/lab.ts";
import { ensureTestUser, startSshd } from "../../helpers/sshd.ts";
import { tempDir } from "../../helpers/tools.ts";

/** An echo server on a listener (the forward's far end). */
function echo(listener: Deno.Listener): () => void {
  (async () => {
    for await (const conn of listener) {
      conn.readable.pipeTo(conn.writable).catch(() => {});
    }
  })().catch(() => {});
  return () => listener.close();
}

/** Writes `text` to a connection, half-closes, and reads the whole echo back. */
async function roundTrip(conn: Deno.Conn, text: string): Promise<string> {
  await conn.write(new TextEncoder().encode(text));
  await conn.closeWrite();
  const back = await new Response(conn.readable).text();
  return back;
}

const unixConn = (path: string) => Deno.connect({ transport: "unix", path });
const tcpConn = (port: number) => Deno.connect({ hostname: "127.0.0.1", port });

Deno.test("Unix-socket forwards (-L and -R, every form) through a real sshd", async (t) => {
  const user = await ensureTestUser();
  const dir = await tempDir("sshtrace-unixfwd-");
  // sshd runs the forwards as the test user: it must reach (and for -R create) the sockets.
  await Deno.chmod(dir.path, 0o777);
  const sshd = await startSshd({ config: ["StreamLocalBindUnlink yes"] });
  const forbidden = await startSshd({ config: ["AllowStreamLocalForwarding no"] });
  const tcpEcho = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const stopTcp = echo(tcpEcho);
  const remoteSock = `${dir.path}/remote-echo.sock`;
  const stopUnix = echo(Deno.listen({ transport: "unix", path: remoteSock }));
  await Deno.chmod(remoteSock, 0o777);
  const knownHosts = `${dir.path}/known_hosts`;
  await Deno.writeTextFile(
    knownHosts,
    [sshd, forbidden].map((s) => `[127.0.0.1]:${s.port} ${s.hostKeys.ed25519.pub}\n`).join(""),
  );
  const options = (port: number, tracer: Tracer): ConnectOptions => ({
    host: "127.0.0.1",
    port,
    user: user.name,
    tracer,
    knownHostsFiles: [knownHosts],
    auth: { password: password(user.password), methods: ["password"] },
  });
  const tcpPort = (tcpEcho.addr as Deno.NetAddr).port;
  const tracer = new Tracer();
  const client = await connect(options(sshd.port, tracer));
  try {
    await t.step("-L /local.sock:host:port", async () => {
      const local = `${dir.path}/l1.sock`;
      const f = client.forwardLocal(`${local}:127.0.0.1:${tcpPort}`, {
        unix: { mode: 0o600 },
      });
      assert.equal(Deno.statSync(local).mode! & 0o777, 0o600, "StreamLocalBindMask 0177");
      assert.equal(await roundTrip(await unixConn(local), "one"), "one");
      f.close();
    });

    await t.step("-L port:/remote.sock (direct-streamlocal@openssh.com)", async () => {
      const f = client.forwardLocal(`0:${remoteSock}`);
      assert.equal(await roundTrip(await tcpConn(f.port), "two"), "two");
      f.close();
      assert.ok(
        tracer.events.some((e) =>
          e.type === "info" && e.message.includes(`→ ${remoteSock}: connection #1`)
        ),
      );
    });

    await t.step("-L /local.sock:/remote.sock, and a stale socket file unlinked", async () => {
      const local = `${dir.path}/l3.sock`;
      // A socket file left behind (a crashed run): refused unless StreamLocalBindUnlink.
      const stale = Deno.listen({ transport: "unix", path: local });
      assert.throws(
        () => client.forwardLocal(`${local}:${remoteSock}`),
        (e: unknown) => e instanceof SshError && e.code === "session.forward-bind-failed",
      );
      // StreamLocalBindUnlink: the stale file is removed and the forward listens there.
      const f = client.forwardLocal(`${local}:${remoteSock}`, { unix: { unlink: true } });
      assert.equal(await roundTrip(await unixConn(local), "three"), "three");
      f.close();
      stale.close();
    });

    await t.step("-R /remote.sock:host:port (streamlocal-forward@openssh.com)", async () => {
      const serverSock = `${dir.path}/r1.sock`;
      const back = await client.forwardRemote(`${serverSock}:127.0.0.1:${tcpPort}`);
      // The server created the socket (as the user, on this machine); a connection to it comes
      // back to us as a forwarded-streamlocal channel, carried to the TCP echo here.
      assert.equal(back.port, 0);
      assert.ok(Deno.lstatSync(serverSock).isSocket);
      assert.equal(await roundTrip(await unixConn(serverSock), "four"), "four");
      await back.close();
    });

    await t.step("-R port:/local.sock (forwarded-tcpip to a Unix socket here)", async () => {
      const back = await client.forwardRemote(`0:${remoteSock}`);
      assert.ok(back.port > 0);
      assert.equal(await roundTrip(await tcpConn(back.port), "five"), "five");
      await back.close();
    });

    await t.step("bad Unix-socket forms are usage errors", () => {
      for (const bad of ["/a.sock", "/a.sock:h", "1:/a.sock:/b.sock", `/${"x".repeat(120)}:h:1`]) {
        assert.throws(() => client.forwardLocal(bad), (e: unknown) => {
          assert.ok(e instanceof SshError, bad);
          assert.equal(e.code, "usage.invalid", bad);
          return true;
        });
      }
    });
  } finally {
    await client.close();
  }

  await t.step("a server with AllowStreamLocalForwarding no refuses both ways", async () => {
    const refusing = await connect(options(forbidden.port, new Tracer()));
    try {
      await assert.rejects(
        refusing.forwardRemote(`${dir.path}/nope.sock:127.0.0.1:${tcpPort}`),
        (e: unknown) => {
          assert.ok(e instanceof SshError);
          assert.equal(e.code, "session.forward-bind-failed");
          assert.match(e.message, /streamlocal-forward@openssh\.com/);
          return true;
        },
      );
      const f = refusing.forwardLocal(`0:${remoteSock}`);
      const conn = await tcpConn(f.port);
      assert.equal(await roundTrip(conn, "x"), "", "the connection is closed at once");
      f.close();
      const { exit } = await refusing.exec("true");
      assert.equal(exit.status, 0, "nothing else disturbed");
    } finally {
      await refusing.close();
    }
  });

  await t.step("sshtrace -N -L /local.sock:/remote.sock until Ctrl-C", async () => {
    const local = `${dir.path}/cli.sock`;
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../../../main.ts", import.meta.url).pathname,
        "--password-env",
        "PW",
        "--batch",
        "-o",
        `UserKnownHostsFile=${knownHosts}`,
        "-o",
        "PreferredAuthentications=password",
        "-o",
        "StreamLocalBindMask=0111",
        "-N",
        "-L",
        `${local}:${remoteSock}`,
        `${user.name}@127.0.0.1:${sshd.port}`,
      ],
      env: { PW: user.password, HOME: dir.path, DENO_DIR, NO_COLOR: "1", RUST_BACKTRACE: "0" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let echoed: string | null = null;
    for (let i = 0; i < 300 && echoed === null; i++) {
      await new Promise((r) => setTimeout(r, 100));
      echoed = await unixConn(local).then((c) => roundTrip(c, "cli"), () => null);
    }
    const mode = Deno.statSync(local).mode! & 0o777;
    child.kill("SIGINT");
    const out = await child.output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(echoed, "cli", stderr);
    assert.equal(mode, 0o666, "StreamLocalBindMask 0111");
    assert.match(stderr, /forwarding .*cli\.sock → .*remote-echo\.sock through the server/);
    assert.equal(out.code, 130, stderr);
  });

  stopTcp();
  stopUnix();
  await forbidden.stop();
  await sshd.stop();
  await dir.cleanup();
});
