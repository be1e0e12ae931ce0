/**
 * Data a server sends after its CHANNEL_EOF (RFC 4254 §5.3 forbids it, some servers do it) is
 * delivered, not dropped, and the window is credited until CLOSE so a server still waiting for
 * window space can finish: lab profiles `data-after-eof` and `eof-while-waiting`, with the
 * library and with the CLI writing to a pipe and to a file, every byte checked by SHA-256.
 * And a session whose output could not all be written ends with data.output-incomplete.
 */

import assert from "node:assert/strict";
import { startLabServer } from "../../lib/lab/mod.ts";
import { DENO_DIR, emptyHome, MiB, ROOT, runSshtrace, sha256 } from "../helpers/cli.ts";
import { quote } from "../helpers/tmux.ts";
import { run, tempDir } from "../helpers/tools.ts";
import { connectLab, sharedHostKeys } from "../helpers/lab.ts";

const SIZE = 10 * MiB;

/** Deterministic bytes that are not all alike (a reordering or loss changes the hash). */
function payload(size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = 0x12345678;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const DATA = payload(SIZE);
const DATA_SHA = sha256(DATA);

function cliArgs(port: number, command: string): string[] {
  return [
    "-v",
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
    command,
  ];
}

/** `promise`, or a failure once `ms` have passed (a hang must fail the test, not stall it). */
async function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no end within ${ms} ms: it hangs`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

for (const profile of ["data-after-eof", "eof-while-waiting"]) {
  Deno.test(`lab profile ${profile}: 10 MiB through cat arrive whole, with the library and the CLI to a pipe and to a file`, async (t) => {
    const lab = await startLabServer({ profile, hostKeys: await sharedHostKeys() });
    await using tmp = await tempDir("sshtrace-late-data-");
    const home = await emptyHome(tmp.path);
    try {
      await t.step("library: the session's stdout gives every byte", async () => {
        const client = await connectLab(lab, { timeoutMs: 10_000 });
        try {
          const session = await client.openSession();
          await session.exec("cat");
          // Written and read at once: cat echoes as it reads, and both windows are finite.
          const [, out, exit] = await within(
            20_000,
            Promise.all([
              session.write(DATA).then(() => session.eof()),
              new Response(session.stdout).arrayBuffer(),
              session.exit,
            ]),
          );
          assert.equal(out.byteLength, SIZE);
          assert.equal(sha256(new Uint8Array(out)), DATA_SHA);
          assert.equal(exit.status, 0);
          if (profile === "data-after-eof") assert.equal(session.channel.bytesAfterEof, SIZE / 2);
          else assert.ok(session.channel.bytesAfterEof > 0, "some data came after EOF");
        } finally {
          await within(5000, client.close()).catch(() => client.transport.close());
        }
      });

      await t.step("CLI to a pipe: every byte, exit 0, the quirk traced once", async () => {
        const res = await runSshtrace(cliArgs(lab.port, "cat"), {
          home,
          env: { PW: "demo" },
          stdin: DATA,
          textLimit: 64 * 1024,
          timeoutMs: 20_000,
        });
        assert.equal(res.timedOut, false, "the download hung");
        assert.equal(res.code, 0, res.stderr.slice(-2000));
        assert.equal(res.stdoutBytes, SIZE);
        assert.equal(res.stdoutSha, DATA_SHA);
        assert.match(res.stderr, new RegExp(`session ended: ${SIZE} bytes in`));
        if (profile === "data-after-eof") {
          assert.equal(
            res.stderr.match(/quirk\s+(⚠ )?data-after-eof: the server sent data/g)?.length,
            1,
          );
        }
      });

      await t.step("CLI to a file: every byte, exit 0", async () => {
        const input = `${tmp.path}/input.bin`;
        const out = `${tmp.path}/output.bin`;
        await Deno.writeFile(input, DATA);
        const cmd = [Deno.execPath(), "run", "-A", "main.ts", ...cliArgs(lab.port, "cat")]
          .map(quote).join(" ");
        const res = await run("bash", ["-c", `${cmd} < ${quote(input)} > ${quote(out)}`], {
          cwd: ROOT,
          env: {
            RUST_BACKTRACE: "0",
            NO_COLOR: "1",
            HOME: home,
            DENO_DIR,
            SSH_AUTH_SOCK: "",
            PW: "demo",
          },
          timeoutMs: 20_000,
        });
        assert.equal(res.code, 0, res.stderr.slice(-2000));
        const data = await Deno.readFile(out);
        assert.equal(data.length, SIZE);
        assert.equal(sha256(data), DATA_SHA);
      });
    } finally {
      await lab.stop();
    }
  });
}

Deno.test("a reader that closes the pipe early makes the CLI end with data.output-incomplete, not exit 0", async () => {
  const lab = await startLabServer({ profile: "modern", hostKeys: await sharedHostKeys() });
  await using tmp = await tempDir("sshtrace-late-data-");
  const home = await emptyHome(tmp.path);
  try {
    const cmd = [
      Deno.execPath(),
      "run",
      "-A",
      "main.ts",
      ...cliArgs(lab.port, `head -c ${SIZE} /dev/zero`),
    ].map(quote).join(" ");
    const res = await run(
      "bash",
      ["-c", `set -o pipefail; ${cmd} | head -c 1000 > /dev/null; echo "exit=$?" >&2`],
      {
        cwd: ROOT,
        env: {
          RUST_BACKTRACE: "0",
          NO_COLOR: "1",
          HOME: home,
          DENO_DIR,
          SSH_AUTH_SOCK: "",
          PW: "demo",
        },
        timeoutMs: 60_000,
      },
    );
    assert.match(res.stderr, /exit=16/, res.stderr.slice(-2000));
    assert.match(res.stderr, /data\.output-incomplete|reached stdout and stderr/);
    assert.doesNotMatch(res.stderr, /internal error/);
  } finally {
    await lab.stop();
  }
});
