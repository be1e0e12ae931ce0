/**
 * Local forwarding (`client.forwardLocal`, `sshtrace -L … -N`) through a real OpenSSH sshd:
 * 100 concurrent forwarded connections each moving 1 MiB both ways with checksums intact, a
 * target the server cannot reach (traced refusal, other connections undisturbed), a bastion
 * that forbids forwarding, and a bind port already in use as `session.forward-bind-failed`.
 */

import assert from "node:assert/strict";
import { connect, type ConnectOptions } from "../../../lib/client.ts";
import { SshError } from "../../../lib/errors/mod.ts";
import { Tracer } from "../../../lib/trace.ts";
import { DENO_DIR, runSshtrace } from "../../helpers/cli.ts";
import { password } from "../../helpers/lab.ts";
import { ensureTestUser, startSshd } from "../../helpers/sshd.ts";
import { freePort, tempDir } from "../../helpers/tools.ts";
import { EXIT_CODES } from "../../../lib/types.ts";

const MiB = 1024 * 1024;

/** A TCP echo server on 127.0.0.1 (the forward's target). */
function echoServer(): { port: number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const conn of listener) {
      (async () => {
        try {
          await conn.readable.pipeTo(conn.writable);
        } catch {
          // the client went away
        }
      })();
    }
  })().catch(() => {});
  return { port: listener.addr.port, close: () => listener.close() };
}

async function sha256(data: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", data.slice()));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Sends `data` through 127.0.0.1:`port` and reads the echo back; returns the echo. */
async function roundTrip(port: number, data: Uint8Array): Promise<Uint8Array> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const writing = (async () => {
    let off = 0;
    while (off < data.length) off += await conn.write(data.subarray(off, off + 64 * 1024));
    await conn.closeWrite();
  })();
  const out = new Uint8Array(data.length);
  let got = 0;
  const buf = new Uint8Array(64 * 1024);
  while (got < data.length) {
    const n = await conn.read(buf);
    if (n === null) break;
    out.set(buf.subarray(0, Math.min(n, data.length - got)), got);
    got += n;
  }
  await writing;
  conn.close();
  assert.equal(got, data.length, "the whole echo came back");
  return out;
}

Deno.test("forwardLocal() carries 100 concurrent connections of 1 MiB through sshd", async (t) => {
  const user = await ensureTestUser();
  const dir = await tempDir("sshtrace-forward-");
  const sshd = await startSshd();
  const closed = await startSshd({ config: ["AllowTcpForwarding no"] });
  const echo = echoServer();
  try {
    const knownHosts = `${dir.path}/known_hosts`;
    await Deno.writeTextFile(
      knownHosts,
      [sshd, closed].map((s) => `[127.0.0.1]:${s.port} ${s.hostKeys.ed25519.pub}\n`).join(""),
    );
    const options = (port: number, tracer: Tracer): ConnectOptions => ({
      host: "127.0.0.1",
      port,
      user: user.name,
      tracer,
      knownHostsFiles: [knownHosts],
      auth: { password: password(user.password), methods: ["password"] },
    });

    await t.step("100 × 1 MiB both ways, checksums intact, every connection traced", async () => {
      const tracer = new Tracer();
      const client = await connect(options(sshd.port, tracer));
      try {
        const forward = client.forwardLocal(`0:127.0.0.1:${echo.port}`);
        assert.ok(forward.port > 0);
        const payloads = Array.from({ length: 100 }, (_, i) => {
          const data = new Uint8Array(MiB);
          for (let off = 0; off < MiB; off += 65536) {
            crypto.getRandomValues(data.subarray(off, off + 65536));
          }
          data[0] = i;
          return data;
        });
        const echoes = await Promise.all(payloads.map((p) => roundTrip(forward.port, p)));
        for (const [i, e] of echoes.entries()) {
          assert.equal(await sha256(e), await sha256(payloads[i]!), `connection ${i}`);
        }
        assert.equal(forward.total, 100);
        forward.close();
        const infos = tracer.events.filter((e) => e.type === "info").map((e) =>
          e.type === "info" ? e.message : ""
        );
        assert.ok(infos.some((m) => /connection #\d+ from 127\.0\.0\.1:\d+ opened/.test(m)));
        assert.ok(infos.some((m) => /closed: 1048576 bytes out, 1048576 bytes in/.test(m)));
      } finally {
        await client.close();
      }
    });

    await t.step("an unreachable target: that connection refused, the next one works", async () => {
      const tracer = new Tracer();
      const client = await connect(options(sshd.port, tracer));
      try {
        const dead = client.forwardLocal(`0:127.0.0.1:${freePort()}`);
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: dead.port });
        assert.equal(await conn.read(new Uint8Array(16)), null, "closed at once");
        conn.close();
        const live = client.forwardLocal(`0:127.0.0.1:${echo.port}`);
        const data = new TextEncoder().encode("still fine");
        assert.deepEqual(await roundTrip(live.port, data), data);
        const refused = tracer.events.find((e) =>
          e.type === "info" && /connection #1 .* refused: .*connect failed/.test(e.message)
        );
        assert.ok(refused, "the refusal and its reason are traced");
      } finally {
        await client.close();
      }
    });

    await t.step(
      "a target that replies and closes first: the local client sees the end",
      async () => {
        const greeter = Deno.listen({ hostname: "127.0.0.1", port: 0 });
        (async () => {
          for await (const conn of greeter) {
            await conn.write(new TextEncoder().encode("hello\n"));
            conn.close();
          }
        })().catch(() => {});
        const client = await connect(options(sshd.port, new Tracer()));
        try {
          const forward = client.forwardLocal(`0:127.0.0.1:${greeter.addr.port}`);
          const conn = await Deno.connect({ hostname: "127.0.0.1", port: forward.port });
          // Never closes its own side: the end must come from the far side.
          const text = await new Response(conn.readable).text();
          assert.equal(text, "hello\n");
        } finally {
          greeter.close();
          await client.close();
        }
      },
    );

    await t.step(
      "a server with AllowTcpForwarding no: each connection refused, traced",
      async () => {
        const tracer = new Tracer();
        const client = await connect(options(closed.port, tracer));
        try {
          const forward = client.forwardLocal(`0:127.0.0.1:${echo.port}`);
          const conn = await Deno.connect({ hostname: "127.0.0.1", port: forward.port });
          assert.equal(await conn.read(new Uint8Array(16)), null);
          conn.close();
          await new Promise((r) => setTimeout(r, 50));
          assert.ok(
            tracer.events.some((e) =>
              e.type === "info" && /refused: .*administratively prohibited/.test(e.message)
            ),
          );
        } finally {
          await client.close();
        }
      },
    );

    await t.step(
      "a bind port in use is session.forward-bind-failed naming the forward",
      async () => {
        const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
        const client = await connect(options(sshd.port, new Tracer()));
        try {
          assert.throws(
            () => client.forwardLocal(`${taken.addr.port}:127.0.0.1:${echo.port}`),
            (e) => {
              assert.ok(e instanceof SshError);
              assert.equal(e.code, "session.forward-bind-failed");
              assert.match(
                e.message,
                new RegExp(`127\\.0\\.0\\.1:${taken.addr.port} → 127\\.0\\.0\\.1`),
              );
              return true;
            },
          );
          // Nothing else disturbed: the connection still runs commands.
          const { exit } = await client.exec("true");
          assert.equal(exit.status, 0);
        } finally {
          taken.close();
          await client.close();
        }
      },
    );

    await t.step(
      "forwardDynamic(): 100 SOCKS5 clients × 1 MiB, names resolved remotely",
      async () => {
        const tracer = new Tracer();
        const client = await connect(options(sshd.port, tracer));
        try {
          const socks = client.forwardDynamic("0");
          const garbage = await Deno.connect({ hostname: "127.0.0.1", port: socks.port });
          await garbage.write(new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
          assert.equal(await garbage.read(new Uint8Array(16)), null, "garbage: closed");
          garbage.close();
          const one = async (i: number) => {
            const conn = await Deno.connect({ hostname: "127.0.0.1", port: socks.port });
            const host = new TextEncoder().encode("localhost");
            await conn.write(new Uint8Array([5, 1, 0]));
            const method = new Uint8Array(2);
            assert.equal(await conn.read(method), 2);
            assert.deepEqual([...method], [5, 0]);
            const p = echo.port;
            await conn.write(new Uint8Array([5, 1, 0, 3, host.length, ...host, p >> 8, p & 255]));
            const reply = new Uint8Array(10);
            let got = 0;
            while (got < 10) got += (await conn.read(reply.subarray(got))) ?? 100;
            assert.equal(reply[1], 0, "SOCKS5 succeeded");
            const data = new Uint8Array(MiB);
            for (let off = 0; off < MiB; off += 65536) {
              crypto.getRandomValues(data.subarray(off, off + 65536));
            }
            data[0] = i;
            const writing = (async () => {
              let off = 0;
              while (off < data.length) off += await conn.write(data.subarray(off, off + 65536));
              await conn.closeWrite();
            })();
            const back = new Uint8Array(MiB);
            let n = 0;
            while (n < MiB) {
              const r = await conn.read(back.subarray(n));
              if (r === null) break;
              n += r;
            }
            await writing;
            conn.close();
            assert.equal(await sha256(back), await sha256(data), `SOCKS connection ${i}`);
          };
          await Promise.all(Array.from({ length: 100 }, (_, i) => one(i)));
          assert.ok(
            tracer.events.some((e) =>
              e.type === "info" && /not a SOCKS request \(first byte 0x47\)/.test(e.message)
            ),
          );
          assert.ok(
            tracer.events.some((e) =>
              e.type === "info" && /to localhost:\d+ \(SOCKS5\) opened/.test(e.message)
            ),
          );
          socks.close();
        } finally {
          await client.close();
        }
      },
    );

    await t.step("forwardRemote(): the server's port reaches a server here", async () => {
      const tracer = new Tracer();
      const client = await connect(options(sshd.port, tracer));
      try {
        const back = await client.forwardRemote(`0:127.0.0.1:${echo.port}`);
        assert.ok(back.port > 0, "the server chose a port");
        const payloads = Array.from(
          { length: 10 },
          () => crypto.getRandomValues(new Uint8Array(65536)),
        );
        const echoes = await Promise.all(payloads.map((p) => roundTrip(back.port, p)));
        for (const [i, e] of echoes.entries()) assert.deepEqual(e, payloads[i]);
        assert.ok(
          tracer.events.some((e) =>
            e.type === "info" && /forward remote .*: connection #1 from .* opened/.test(e.message)
          ),
        );
        await back.close();
      } finally {
        await client.close();
      }
      const refusing = await connect(options(closed.port, new Tracer()));
      try {
        await assert.rejects(refusing.forwardRemote(`0:127.0.0.1:${echo.port}`), (e) => {
          assert.ok(e instanceof SshError);
          assert.equal(e.code, "session.forward-bind-failed");
          assert.equal(e.details.side, "remote");
          return true;
        });
        const { exit } = await refusing.exec("true");
        assert.equal(exit.status, 0, "nothing else disturbed");
      } finally {
        await refusing.close();
      }
    });

    await t.step(
      "sshtrace -L … -N forwards until Ctrl-C; a bind in use: exit 15 or a warning",
      async () => {
        const home = dir.path;
        const port = freePort();
        const args = [
          "--password-env",
          "PW",
          "--batch",
          "-o",
          `UserKnownHostsFile=${knownHosts}`,
          "-o",
          "PreferredAuthentications=password",
          "-v",
        ];
        const child = new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            new URL("../../../main.ts", import.meta.url).pathname,
            ...args,
            "-N",
            "-L",
            `${port}:127.0.0.1:${echo.port}`,
            `${user.name}@127.0.0.1:${sshd.port}`,
          ],
          env: { PW: user.password, HOME: home, DENO_DIR, NO_COLOR: "1", RUST_BACKTRACE: "0" },
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const data = new TextEncoder().encode("through -L");
        let echoed: Uint8Array | null = null;
        for (let i = 0; i < 300 && !echoed; i++) {
          await new Promise((r) => setTimeout(r, 100));
          echoed = await roundTrip(port, data).catch(() => null);
        }
        child.kill("SIGINT");
        const out = await child.output();
        const stderr = new TextDecoder().decode(out.stderr);
        assert.deepEqual(echoed, data, stderr);
        assert.match(stderr, /forward 127\.0\.0\.1:\d+ → 127\.0\.0\.1:\d+: connection #1 from/);
        assert.equal(out.code, 130, stderr);

        const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
        try {
          // ExitOnForwardFailure yes: the bind failure ends the run before any command.
          const r = await runSshtrace(
            [
              ...args,
              "-o",
              "ExitOnForwardFailure=yes",
              "-L",
              `${taken.addr.port}:127.0.0.1:1`,
              `${user.name}@127.0.0.1:${sshd.port}`,
              "echo never-ran",
            ],
            { home, env: { PW: user.password }, timeoutMs: 30_000 },
          );
          assert.equal(r.code, EXIT_CODES.session, r.stderr);
          assert.match(r.stderr, /cannot listen on 127\.0\.0\.1:\d+ → 127\.0\.0\.1:1 \(-L\)/);
          assert.ok(!r.stdout.includes("never-ran"), "no command ran");
          // Without it (the default, as ssh): a warning, and the command runs.
          const warned = await runSshtrace(
            [
              ...args,
              "-L",
              `${taken.addr.port}:127.0.0.1:1`,
              `${user.name}@127.0.0.1:${sshd.port}`,
              "echo still-ran",
            ],
            { home, env: { PW: user.password }, timeoutMs: 30_000 },
          );
          assert.equal(warned.code, 0, warned.stderr);
          assert.match(warned.stdout, /still-ran/);
          assert.match(
            warned.stderr,
            /warning: cannot listen on 127\.0\.0\.1:\d+ → 127\.0\.0\.1:1 \(-L\).*going on/,
          );
          // A refused -R (AllowTcpForwarding no): the same two ways.
          const remote = (extra: string[]) =>
            runSshtrace(
              [
                ...args,
                ...extra,
                "-R",
                `0:127.0.0.1:${echo.port}`,
                `${user.name}@127.0.0.1:${closed.port}`,
                "echo remote-ran",
              ],
              { home, env: { PW: user.password }, timeoutMs: 30_000 },
            );
          const refused = await remote(["-o", "ExitOnForwardFailure=yes"]);
          assert.equal(refused.code, EXIT_CODES.session, refused.stderr);
          assert.ok(!refused.stdout.includes("remote-ran"), "no command ran");
          assert.match(refused.stderr, /the server refused to listen/);
          const goesOn = await remote([]);
          assert.equal(goesOn.code, 0, goesOn.stderr);
          assert.match(goesOn.stdout, /remote-ran/);
          assert.match(goesOn.stderr, /warning: the server refused to listen/);
        } finally {
          taken.close();
        }
      },
    );
  } finally {
    echo.close();
    await closed.stop();
    await sshd.stop();
    await dir.cleanup();
  }
});
