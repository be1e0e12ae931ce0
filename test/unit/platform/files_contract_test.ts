/**
 * The local-file contract of transfers (`LocalFiles`, lib/platform/files.ts), run the same way
 * against both implementations: deno_files.ts (`deno run`) and node_files.ts (the Node API, as
 * the Bun standalone executable uses it; Deno runs it through its node: modules). Each case is
 * a step a copy takes: write a new file, resume a partial one, read from an offset, rename over
 * the final name, remove, stat and lstat, mkdir and readDir, modes and times, and the errors'
 * meaning through the platform's `errorKind()`.
 */

import assert from "node:assert/strict";
import { denoFiles } from "../../../lib/platform/deno_files.ts";
import { runtimePlatform as denoPlatform } from "../../../lib/platform/deno.ts";
import type { LocalFiles } from "../../../lib/platform/files.ts";
import type { ErrorKind } from "../../../lib/platform/mod.ts";
import { nodeFiles } from "../../../lib/platform/node_files.ts";
import { runtimePlatform as nodePlatform } from "../../../lib/platform/node.ts";
import { tempDir } from "../../helpers/tools.ts";

const BACKENDS: { name: string; files: LocalFiles; errorKind: (e: unknown) => ErrorKind }[] = [
  { name: "deno_files.ts", files: denoFiles, errorKind: denoPlatform.errorKind },
  { name: "node_files.ts", files: nodeFiles, errorKind: nodePlatform.errorKind },
];

const bytes = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * 7 + seed) & 0xff);

/** Everything `reader` gives, read in pieces of `piece` bytes. */
async function readAll(
  files: LocalFiles,
  path: string,
  offset = 0,
  piece = 1000,
): Promise<Uint8Array> {
  const reader = await files.openRead(path, offset);
  const parts: number[] = [];
  try {
    const buffer = new Uint8Array(piece);
    for (;;) {
      const n = await reader.read(buffer);
      if (n === null) break;
      parts.push(...buffer.subarray(0, n));
    }
  } finally {
    reader.close();
  }
  return new Uint8Array(parts);
}

/** The error `step` fails with (it must fail). */
async function failure(step: () => Promise<unknown>): Promise<unknown> {
  try {
    await step();
  } catch (e) {
    return e;
  }
  assert.fail("the step did not fail");
}

for (const { name, files, errorKind } of BACKENDS) {
  Deno.test(`${name}: a new file is written in pieces, synced, and read back whole`, async () => {
    await using dir = await tempDir("sshtrace-files-");
    const path = `${dir.path}/new.bin`;
    const data = bytes(70_000, 1);
    const writer = await files.openWrite(path, { mode: 0o600 });
    await writer.write(data.subarray(0, 40_000));
    await writer.write(data.subarray(40_000));
    await writer.sync();
    writer.close();
    const st = await files.stat(path);
    assert.ok(st);
    assert.deepEqual(
      { isFile: st.isFile, isDirectory: st.isDirectory, isSymlink: st.isSymlink, size: st.size },
      { isFile: true, isDirectory: false, isSymlink: false, size: data.length },
    );
    assert.equal(st.mode, 0o600);
    assert.deepEqual(await readAll(files, path), data);
    // Writing the same name again without an offset starts the file over.
    const again = await files.openWrite(path, {});
    await again.write(bytes(10, 2));
    again.close();
    assert.deepEqual(await readAll(files, path), bytes(10, 2));
  });

  Deno.test(`${name}: exclusive creation refuses a name that exists (already-exists)`, async () => {
    await using dir = await tempDir("sshtrace-files-");
    const path = `${dir.path}/taken`;
    (await files.openWrite(path, {})).close();
    const e = await failure(() => files.openWrite(path, { exclusive: true }));
    assert.equal(errorKind(e), "already-exists");
    const fresh = await files.openWrite(`${dir.path}/fresh`, { exclusive: true, mode: 0o640 });
    fresh.close();
    assert.equal((await files.stat(`${dir.path}/fresh`))?.mode, 0o640);
  });

  Deno.test(`${name}: a partial file resumes at an offset (the rest cut, then written on)`, async () => {
    await using dir = await tempDir("sshtrace-files-");
    const path = `${dir.path}/.x.sshtrace-part`;
    const first = bytes(100_000, 3);
    const w1 = await files.openWrite(path, {});
    await w1.write(first);
    w1.close();
    // Resume at 60 000: what came after is dropped, new bytes follow from there.
    const tail = bytes(5_000, 4);
    const w2 = await files.openWrite(path, { offset: 60_000 });
    await w2.write(tail);
    await w2.sync();
    w2.close();
    const got = await readAll(files, path);
    assert.equal(got.length, 65_000);
    assert.deepEqual(got.subarray(0, 60_000), first.subarray(0, 60_000));
    assert.deepEqual(got.subarray(60_000), tail);
  });

  Deno.test(`${name}: reads start at an offset, come in pieces, and end with null`, async () => {
    await using dir = await tempDir("sshtrace-files-");
    const path = `${dir.path}/src`;
    const data = bytes(10_000, 5);
    const w = await files.openWrite(path, {});
    await w.write(data);
    w.close();
    assert.deepEqual(await readAll(files, path, 2_500, 999), data.subarray(2_500));
    assert.deepEqual(await readAll(files, path, 10_000), new Uint8Array(0));
    const reader = await files.openRead(path);
    const big = new Uint8Array(20_000);
    let n = 0;
    for (;;) {
      const r = await reader.read(big.subarray(n));
      if (r === null) break;
      n += r;
    }
    reader.close();
    assert.equal(n, data.length);
    const e = await failure(() => files.openRead(`${dir.path}/missing`));
    assert.equal(errorKind(e), "not-found");
  });

  Deno.test(`${name}: rename replaces the final name; remove ignores a missing file`, async () => {
    await using dir = await tempDir("sshtrace-files-");
    const part = `${dir.path}/.f.sshtrace-part`;
    const final = `${dir.path}/f`;
    for (const [path, seed] of [[final, 6], [part, 7]] as const) {
      const w = await files.openWrite(path, {});
      await w.write(bytes(100, seed));
      w.close();
    }
    await files.rename(part, final);
    assert.equal(await files.stat(part), null);
    assert.deepEqual(await readAll(files, final), bytes(100, 7));
    await files.remove(final);
    assert.equal(await files.lstat(final), null);
    await files.remove(final); // already gone: not an error
  });

  Deno.test(`${name}: stat follows a symlink, lstat does not; missing paths are null`, async () => {
    await using dir = await tempDir("sshtrace-files-");
    const target = `${dir.path}/target`;
    const w = await files.openWrite(target, {});
    await w.write(bytes(3, 8));
    w.close();
    await Deno.symlink(target, `${dir.path}/link`);
    assert.equal((await files.lstat(`${dir.path}/link`))?.isSymlink, true);
    const followed = await files.stat(`${dir.path}/link`);
    assert.equal(followed?.isFile, true);
    assert.equal(followed?.size, 3);
    assert.equal(await files.stat(`${dir.path}/nothing`), null);
    assert.equal(await files.lstat(`${dir.path}/nothing`), null);
    assert.equal((await files.stat(dir.path))?.isDirectory, true);
  });

  Deno.test(`${name}: mkdir (recursive or not) and readDir's sorted names`, async () => {
    await using dir = await tempDir("sshtrace-files-");
    await files.mkdir(`${dir.path}/a/b/c`, { recursive: true });
    await files.mkdir(`${dir.path}/a/b/c`, { recursive: true }); // exists: fine
    await files.mkdir(`${dir.path}/z`, { mode: 0o700 });
    assert.equal((await files.stat(`${dir.path}/z`))?.mode, 0o700);
    const e = await failure(() => files.mkdir(`${dir.path}/z`));
    assert.equal(errorKind(e), "already-exists");
    for (const n of ["m", "b", "k"]) (await files.openWrite(`${dir.path}/a/${n}.txt`, {})).close();
    assert.deepEqual(await files.readDir(`${dir.path}/a`), ["b", "b.txt", "k.txt", "m.txt"]);
    const missing = await failure(() => files.readDir(`${dir.path}/none`));
    assert.equal(errorKind(missing), "not-found");
  });

  Deno.test(`${name}: chmod and utime set what stat reads back (seconds)`, async () => {
    await using dir = await tempDir("sshtrace-files-");
    const path = `${dir.path}/kept`;
    (await files.openWrite(path, { mode: 0o600 })).close();
    await files.chmod(path, 0o754);
    await files.utime(path, 1_600_000_000, 1_500_000_000);
    const st = await files.stat(path);
    assert.equal(st?.mode, 0o754);
    assert.equal(st?.mtime, 1_500_000_000);
    assert.equal(st?.atime, 1_600_000_000);
  });
}
