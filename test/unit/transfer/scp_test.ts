/**
 * SCP against scripted peers (no SSH): the sink writes through a temporary name, refuses names a
 * malicious server sends (CVE-2019-6111 class), turns error lines (OpenSSH's `\x01…` and a
 * switch's bare text) into transfer errors, and leaves nothing when the server stops mid-file;
 * the source sends the protocol lines OpenSSH's scp expects.
 */

import assert from "node:assert/strict";
import { explainFailure } from "../../../lib/diagnose/explain.ts";
import { SshError } from "../../../lib/errors/mod.ts";
import { scpWithQuirks } from "../../../lib/transfer/copy.ts";
import {
  remoteArg,
  scpDownload,
  scpError,
  type ScpHost,
  type ScpSession,
  scpUpload,
} from "../../../lib/transfer/scp.ts";

const enc = new TextEncoder();

/** A peer that sends `script` (whatever the client says) and exits with `status`. */
function scripted(script: (string | Uint8Array)[], status = 0) {
  const sent: Uint8Array[] = [];
  const commands: string[] = [];
  let resolveExit: (v: { status: number; signal: null }) => void = () => {};
  const host: ScpHost = {
    exec(command) {
      commands.push(command);
      const exit = new Promise<{ status: number; signal: null }>((r) => (resolveExit = r));
      const session: ScpSession = {
        stdout: new ReadableStream({
          start(c) {
            for (const part of script) {
              c.enqueue(typeof part === "string" ? enc.encode(part) : part);
            }
            c.close();
            setTimeout(() => resolveExit({ status, signal: null }), 5);
          },
        }),
        stderr: new ReadableStream({ start: (c) => c.close() }),
        write: (b: Uint8Array | string) => {
          sent.push(typeof b === "string" ? enc.encode(b) : b.slice());
          return Promise.resolve();
        },
        eof: () => Promise.resolve(),
        exit,
        close: () => Promise.resolve(),
      };
      return Promise.resolve(session);
    },
    info: () => {},
  };
  const sentText = () => new TextDecoder().decode(new Uint8Array(sent.flatMap((b) => [...b])));
  return { host, commands, sentText };
}

async function inTemp(body: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "sshtrace-scp-unit-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    out.push(e.name);
    if (e.isDirectory) {
      out.push(...(await listTree(`${dir}/${e.name}`)).map((n) => `${e.name}/${n}`));
    }
  }
  return out.sort();
}

async function failure(p: Promise<unknown>): Promise<SshError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SshError) return e;
    throw e;
  }
  throw new Error("expected a failure");
}

Deno.test("scpDownload() receives a file under its own name (the server's name is not used)", async () => {
  await inTemp(async (dir) => {
    const peer = scripted(["C0644 5 whatever.txt\n", "hello", "\0"]);
    const r = await scpDownload(peer.host, "cfg/startup.cfg", `${dir}/`);
    assert.deepEqual(peer.commands, ["scp -f cfg/startup.cfg"]);
    assert.equal(r.files[0]!.local, `${dir}/startup.cfg`);
    assert.equal(await Deno.readTextFile(`${dir}/startup.cfg`), "hello");
    assert.deepEqual(await listTree(dir), ["startup.cfg"]);
  });
});

for (
  const [label, script] of [
    ["an absolute name at the top", ["C0644 3 /etc/evil\n", "abc", "\0"]],
    ["a ../ name inside a directory", ["D0755 0 d\n", "C0644 3 ../evil\n", "abc", "\0", "E\n"]],
    ["a directory named ..", ["D0755 0 ..\n", "C0644 3 evil\n", "abc", "\0", "E\n"]],
  ] as const
) {
  Deno.test(`scpDownload() refuses ${label} and writes nothing outside`, async () => {
    await inTemp(async (dir) => {
      await Deno.mkdir(`${dir}/dest`);
      const peer = scripted([...script]);
      const e = await failure(
        scpDownload(peer.host, "d", `${dir}/dest/d`, { recursive: true }),
      );
      assert.equal(e.code, "transfer.unsafe-name");
      const left = await listTree(dir);
      assert.ok(!left.some((n) => n.includes("evil")), left.join(", "));
    });
  });
}

Deno.test("scpDownload() refuses more files than were asked for", async () => {
  await inTemp(async (dir) => {
    const peer = scripted(["C0644 1 a\n", "a", "\0", "C0644 1 b\n", "b", "\0"]);
    const e = await failure(scpDownload(peer.host, "a", `${dir}/a`));
    assert.equal(e.code, "transfer.remote-error");
    assert.match(e.message, /more files than were asked for/);
  });
});

Deno.test("scpDownload(): OpenSSH's error line and a switch's bare text become clear errors", async () => {
  await inTemp(async (dir) => {
    const missing = scripted(["\x01scp: flash:/x.cfg: No such file or directory\n"], 1);
    const e = await failure(scpDownload(missing.host, "flash:/x.cfg", `${dir}/x.cfg`));
    assert.equal(e.code, "transfer.no-such-file");
    assert.match(e.message, /the server said: scp: flash:\/x\.cfg: No such file or directory/);
    const bare = scripted(["% Invalid input detected at '^' marker.\n"], 1);
    const b = await failure(scpDownload(bare.host, "x.cfg", `${dir}/x.cfg`));
    assert.equal(b.code, "transfer.remote-error");
    assert.match(b.message, /% Invalid input detected/);
    assert.deepEqual(await listTree(dir), []);
  });
});

Deno.test("scpDownload(): a server that stops mid-file leaves nothing under the final name", async () => {
  await inTemp(async (dir) => {
    const peer = scripted(["C0644 100 f\n", "0123456789"]);
    const e = await failure(scpDownload(peer.host, "f", `${dir}/f`));
    assert.equal(e.code, "transfer.incomplete");
    assert.deepEqual(e.details, { path: "f", bytes: 10, expected: 100 });
    assert.deepEqual(await listTree(dir), []);
  });
});

Deno.test("scpUpload() sends T, C, the data and a zero byte, waiting for each answer", async () => {
  await inTemp(async (dir) => {
    await Deno.writeTextFile(`${dir}/up.txt`, "hello");
    await Deno.chmod(`${dir}/up.txt`, 0o640);
    await Deno.utime(`${dir}/up.txt`, 1_000_000_001, 1_000_000_000);
    const peer = scripted(["\0", "\0", "\0", "\0"]);
    await scpUpload(peer.host, `${dir}/up.txt`, "flash:/", { preserve: true });
    assert.deepEqual(peer.commands, ["scp -p -t flash:/"]);
    assert.equal(peer.sentText(), "T1000000000 0 1000000001 0\nC0640 5 up.txt\nhello\0");
  });
});

Deno.test("scpUpload(): the server's refusal of the C line is the error", async () => {
  await inTemp(async (dir) => {
    await Deno.writeTextFile(`${dir}/up.txt`, "hello");
    const peer = scripted(["\0", "\x01scp: /ro/up.txt: Permission denied\n"], 1);
    const e = await failure(scpUpload(peer.host, `${dir}/up.txt`, "/ro/"));
    assert.equal(e.code, "transfer.permission-denied");
  });
});

Deno.test("scpError(): a server without an scp program is not a missing file", () => {
  const e = scpError("f", "sh: 1: scp: not found");
  assert.equal(e.code, "transfer.remote-error");
  assert.equal(e.details.noScp, true);
  assert.equal(explainFailure(e).fix, "--protocol sftp");
  assert.equal(scpError("f", "scp: f: No such file or directory").code, "transfer.no-such-file");
});

Deno.test("remoteArg() quotes only what a shell would change, and guards a leading -", () => {
  assert.equal(remoteArg("flash:/startup-config"), "flash:/startup-config");
  assert.equal(remoteArg("my file"), "'my file'");
  assert.equal(remoteArg("it's"), `'it'\\''s'`);
  assert.equal(remoteArg("-x"), "-- -x");
});

Deno.test("a switch's scp without -p: the copy runs again without it, and says so", async () => {
  await inTemp(async (dir) => {
    const commands: string[] = [];
    const said: string[] = [];
    const host: ScpHost = {
      exec(command) {
        commands.push(command);
        const reply = command.includes(" -p ")
          ? ["% Invalid input detected at '^' marker.\n"]
          : ["C0644 5 x\n", "hello", "\0"];
        return scripted(reply, reply.length === 1 ? 1 : 0).host.exec(command);
      },
      info: (m) => said.push(m),
    };
    const r = await scpWithQuirks(host, {
      direction: "get",
      remote: "flash:/startup.cfg",
      local: `${dir}/startup.cfg`,
      preserve: true,
    });
    assert.deepEqual(commands, ["scp -p -f flash:/startup.cfg", "scp -f flash:/startup.cfg"]);
    assert.equal(r.files.length, 1);
    assert.match(said.join("\n"), /refused -p/);
    assert.equal(await Deno.readTextFile(`${dir}/startup.cfg`), "hello");
  });
});

Deno.test("scpDownload() stops a server nesting directories without end", async () => {
  await inTemp(async (dir) => {
    const peer = scripted(Array.from({ length: 100 }, () => "D0755 0 d\n"));
    const e = await failure(scpDownload(peer.host, "d", `${dir}/d`, { recursive: true }));
    assert.equal(e.code, "transfer.remote-error");
    assert.match(e.message, /deeper than 64/);
  });
});
