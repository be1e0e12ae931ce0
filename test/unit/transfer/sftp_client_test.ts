/**
 * The SFTP client and copies against the in-process scripted SFTP server: pipelining, short
 * reads, offsets beyond 4 GiB, status codes as staged errors, hostile names in a recursive
 * download (CVE-2019-6111 class), a server that closes mid-transfer, and an aborted copy. Each
 * failure leaves nothing under the final name.
 */

import assert from "node:assert/strict";
import { SshError } from "../../../lib/errors/mod.ts";
import { pipelinedRead } from "../../../lib/transfer/pipeline.ts";
import { OPEN, SftpClient } from "../../../lib/transfer/sftp_client.ts";
import { FX, FXP } from "../../../lib/transfer/sftp_codec.ts";
import { downloadFile, downloadTree, uploadFile } from "../../../lib/transfer/sftp_files.ts";
import { type SftpFaults, startSftpServer, type VirtualEntry } from "../../helpers/sftp_server.ts";

function random(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

async function withServer(
  entries: [string, VirtualEntry][],
  faults: SftpFaults,
  body: (sftp: SftpClient, files: Map<string, VirtualEntry>, dir: string) => Promise<void>,
) {
  const server = startSftpServer(new Map(entries), faults);
  const sftp = await SftpClient.start(server.channel, { timeoutMs: 5000 });
  const dir = await Deno.makeTempDir({ prefix: "sshtrace-sftp-unit-" });
  try {
    await body(sftp, server.files, dir);
  } finally {
    await sftp.end();
    await server.done;
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

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SshError) return e.code;
    throw e;
  }
  throw new Error("expected a failure");
}

Deno.test("downloadFile() keeps 64 reads in flight and writes the file under its final name", async () => {
  const data = random(5 * 1024 * 1024 + 123);
  const server = startSftpServer(new Map([["/f", { kind: "file", data }]]));
  const sftp = await SftpClient.start(server.channel);
  const dir = await Deno.makeTempDir();
  try {
    const r = await downloadFile(sftp, "/f", `${dir}/f`);
    assert.equal(r.bytes, data.length);
    assert.deepEqual(await Deno.readFile(`${dir}/f`), data);
    assert.deepEqual(await listTree(dir), ["f"]);
    // The first 64 requests went out before any answer was handled: 64 × 32 KiB offsets.
    assert.deepEqual(
      server.reads.slice(0, 64).map((r) => r.offset),
      [...Array(64).keys()].map((i) => i * 32768),
    );
  } finally {
    await sftp.end();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pipelinedRead() asks again for the rest after short reads, in order", async () => {
  const data = random(300_000);
  await withServer([["/f", { kind: "file", data }]], { shortReads: 1000 }, async (sftp, _, dir) => {
    await downloadFile(sftp, "/f", `${dir}/f`);
    assert.deepEqual(await Deno.readFile(`${dir}/f`), data);
  });
});

Deno.test("pipelinedRead() reads past 4 GiB with exact 64-bit offsets", async () => {
  const size = 4 * 2 ** 30 + 100_000;
  const byteAt = (pos: number) => (pos * 7 + Math.floor(pos / 2 ** 32)) & 0xff;
  await withServer([["/big", { kind: "virtual", size, byteAt }]], {}, async (sftp) => {
    const start = 2 ** 32 - 50_000;
    const handle = await sftp.open("/big", OPEN.READ);
    const got: number[] = [];
    const n = await pipelinedRead(sftp, handle, "/big", (d) => {
      got.push(...d);
      return Promise.resolve();
    }, { offset: start });
    assert.equal(n, size - start);
    for (let i = 0; i < got.length; i += 997) assert.equal(got[i], byteAt(start + i), `byte ${i}`);
  });
});

Deno.test("uploadFile() writes through a temporary name and renames it over the target", async () => {
  const data = random(1_000_000);
  await withServer(
    [["/up", { kind: "dir" }], ["/up/old.bin", { kind: "file", data: new Uint8Array(3) }]],
    {},
    async (sftp, files, dir) => {
      await Deno.writeFile(`${dir}/new.bin`, data);
      const r = await uploadFile(sftp, `${dir}/new.bin`, "/up/old.bin");
      assert.equal(r.remote, "/up/old.bin");
      const e = files.get("/up/old.bin");
      assert.ok(e?.kind === "file");
      assert.deepEqual(e.data, data);
      assert.equal(files.has("/up/.old.bin.sshtrace-part"), false);
    },
  );
});

Deno.test("status codes become transfer errors naming the operation and path", async () => {
  await withServer([["/f", { kind: "file", data: new Uint8Array(10) }]], {
    statusFor: { [FXP.OPEN]: FX.PERMISSION_DENIED },
  }, async (sftp, _, dir) => {
    assert.equal(await code(downloadFile(sftp, "/f", `${dir}/f`)), "transfer.permission-denied");
    assert.equal(await code(sftp.stat("/missing")), "transfer.no-such-file");
    assert.deepEqual(await listTree(dir), []);
  });
  await withServer([["/f", { kind: "file", data: new Uint8Array(10) }]], {
    statusFor: { [FXP.OPEN]: FX.FAILURE },
  }, async (sftp, _, dir) => {
    const e = await downloadFile(sftp, "/f", `${dir}/f`).catch((e) => e);
    assert.equal(e.code, "transfer.remote-error");
    assert.match(
      e.message,
      /open \/f: the server answered FAILURE \(the server said: forced by the test\)/,
    );
  });
});

for (
  const [label, hostile] of [
    ["a ../ name", "../escaped"],
    ["an absolute path", "/tmp/sshtrace-escaped"],
    ["a / inside a name", "sub/../../escaped"],
    ["a \\ inside a name", "..\\escaped"],
  ] as const
) {
  Deno.test(`downloadTree() refuses ${label} from a malicious server and writes nothing`, async () => {
    await withServer(
      [["/d", { kind: "dir" }], ["/d/ok.txt", { kind: "file", data: new Uint8Array(5) }]],
      { names: { "/d": ["ok.txt", hostile] } },
      async (sftp, _, dir) => {
        await Deno.mkdir(`${dir}/dest`);
        const e = await downloadTree(sftp, "/d", `${dir}/dest/d`).catch((e) => e);
        assert.ok(e instanceof SshError, String(e));
        assert.equal(e.code, "transfer.unsafe-name");
        assert.equal(e.details.name, hostile);
        // Nothing at all was written: not the safe entry, not outside the destination.
        assert.deepEqual(await listTree(dir), ["dest"]);
      },
    );
  });
}

Deno.test("a server that closes mid-transfer: transfer.incomplete, nothing under the final name", async () => {
  const data = random(2_000_000);
  await withServer(
    [["/f", { kind: "file", data }]],
    { closeAfterBytes: 500_000 },
    async (sftp, _, dir) => {
      assert.equal(await code(downloadFile(sftp, "/f", `${dir}/f`)), "transfer.incomplete");
      assert.deepEqual(await listTree(dir), []);
    },
  );
});

Deno.test("an aborted download is transfer.interrupted and leaves nothing behind", async () => {
  const data = random(4_000_000);
  await withServer([["/f", { kind: "file", data }]], {}, async (sftp, _, dir) => {
    const controller = new AbortController();
    const e = await downloadFile(sftp, "/f", `${dir}/f`, {
      signal: controller.signal,
      onProgress: (done) => done > 1_000_000 && controller.abort(),
    }).catch((e) => e);
    assert.equal(e.code, "transfer.interrupted");
    assert.equal(e.exitCode, 130);
    assert.deepEqual(await listTree(dir), []);
  });
});

Deno.test("with resume, a failed download keeps its partial file for the next run", async () => {
  const data = random(2_000_000);
  await withServer(
    [["/f", { kind: "file", data }]],
    { closeAfterBytes: 1_000_000 },
    async (sftp, _, dir) => {
      assert.equal(
        await code(downloadFile(sftp, "/f", `${dir}/f`, { resume: true })),
        "transfer.incomplete",
      );
      assert.deepEqual(await listTree(dir), [".f.sshtrace-part"]);
    },
  );
});

Deno.test("a directory where a file was expected is transfer.not-a-file", async () => {
  await withServer([["/d", { kind: "dir" }]], {}, async (sftp, _, dir) => {
    assert.equal(await code(downloadFile(sftp, "/d", `${dir}/d`)), "transfer.not-a-file");
    assert.deepEqual(await listTree(dir), []);
  });
});

Deno.test("downloadTree() skips . and .. entries (as OpenSSH's sftp does): nothing outside", async () => {
  await withServer(
    [["/d", { kind: "dir" }], ["/d/ok.txt", { kind: "file", data: new Uint8Array(5) }]],
    { names: { "/d": [".", "..", "ok.txt"] } },
    async (sftp, _, dir) => {
      await Deno.mkdir(`${dir}/dest`);
      const r = await downloadTree(sftp, "/d", `${dir}/dest/d`);
      assert.equal(r.files.length, 1);
      assert.deepEqual(await listTree(dir), ["dest", "dest/d", "dest/d/ok.txt"]);
    },
  );
});

Deno.test("a server that stops answering: every request in flight fails with transfer.timeout", async () => {
  // A channel whose server never answers after VERSION.
  const version = new Uint8Array([0, 0, 0, 5, 2, 0, 0, 0, 3]);
  let end: () => void = () => {};
  const channel = {
    readable: new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(version);
        end = () => c.close();
      },
    }),
    write: () => Promise.resolve(),
    close: () => {
      end();
      return Promise.resolve();
    },
  };
  const sftp = await SftpClient.start(channel, { timeoutMs: 100 });
  const started = performance.now();
  const results = await Promise.allSettled([sftp.stat("/a"), sftp.stat("/b")]);
  for (const r of results) {
    assert.equal(r.status, "rejected");
    assert.equal((r as PromiseRejectedResult).reason.code, "transfer.timeout");
  }
  assert.ok(performance.now() - started < 2000);
  await sftp.end();
});

Deno.test("with limits@openssh.com, reads are as large as the server allows (255 KiB at most), about 4 MiB in flight", async () => {
  const data = random(8 * 1024 * 1024);
  const server = startSftpServer(new Map([["/f", { kind: "file", data }]]), {
    limits: { read: 261120, write: 261120 },
  });
  const sftp = await SftpClient.start(server.channel);
  const dir = await Deno.makeTempDir();
  try {
    assert.deepEqual(await sftp.limits(), {
      maxPacket: 262144,
      maxRead: 261120,
      maxWrite: 261120,
      maxHandles: 0,
    });
    await downloadFile(sftp, "/f", `${dir}/f`);
    assert.deepEqual(await Deno.readFile(`${dir}/f`), data);
    assert.equal(server.reads[0]!.length, 261120);
    assert.deepEqual(
      server.reads.slice(0, 16).map((r) => r.offset),
      [...Array(16).keys()].map((i) => i * 261120),
    );
  } finally {
    await sftp.end();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("uploads send whole requests of the server's size, never a short one mid-file", async () => {
  const data = random(3 * 261120 + 5);
  const server = startSftpServer(new Map([["/up", { kind: "dir" }]]), {
    limits: { read: 261120, write: 261120 },
  });
  const sftp = await SftpClient.start(server.channel);
  const dir = await Deno.makeTempDir();
  const sizes: number[] = [];
  try {
    await Deno.writeFile(`${dir}/f`, data);
    await uploadFile(sftp, `${dir}/f`, "/up/f", {
      onProgress: (done) => sizes.push(done),
    });
    assert.deepEqual(sizes, [261120, 2 * 261120, 3 * 261120, 3 * 261120 + 5]);
    const e = server.files.get("/up/f");
    assert.ok(e?.kind === "file");
    assert.deepEqual(e.data, data);
  } finally {
    await sftp.end();
    await Deno.remove(dir, { recursive: true });
  }
});
