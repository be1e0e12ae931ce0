/**
 * The installed command: `bash scripts/install.sh` (deno install -g from the checkout, offline;
 * with no `deno` on PATH the checkout's Deno is linked beside it) and `--binary` (the standalone
 * executable), each into a temporary DENO_INSTALL_ROOT, then `sshtrace` run by name from another
 * directory.
 */

import assert from "node:assert/strict";
import { DENO_DIR, ROOT } from "../../helpers/cli.ts";
import { run, tempDir } from "../../helpers/tools.ts";

for (const variant of ["deno install -g", "--binary"] as const) {
  Deno.test(`scripts/install.sh installs a working \`sshtrace\` command (${variant})`, async () => {
    await using tmp = await tempDir("sshtrace-install-");
    const root = `${tmp.path}/root`;
    const env = (path: string) => [
      "-i",
      `PATH=${path}`,
      `HOME=${tmp.path}`,
      `DENO_DIR=${DENO_DIR}`,
      `DENO_INSTALL_ROOT=${root}`,
      "RUST_BACKTRACE=0",
      "NO_COLOR=1",
    ];
    const install = await run("/usr/bin/env", [
      ...env("/usr/bin:/bin"),
      "/bin/bash",
      `${ROOT}scripts/install.sh`,
      ...(variant === "--binary" ? ["--binary"] : []),
    ], { timeoutMs: 300_000 });
    assert.equal(install.code, 0, install.stdout + install.stderr);
    assert.match(install.stdout, new RegExp(`install: ${root}/bin/sshtrace \\d+\\.\\d+\\.\\d+`));
    assert.match(install.stdout, /add it to PATH/);

    const version = await run("/usr/bin/env", [
      ...env(`${root}/bin:/usr/bin:/bin`),
      "/bin/sh",
      "-c",
      `cd ${tmp.path} && sshtrace --version`,
    ], { timeoutMs: 60_000 });
    assert.equal(version.code, 0, version.stderr);
    const { version: expected } = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
    assert.equal(version.stdout.trim(), expected);
    assert.doesNotMatch(version.stdout + version.stderr, /^Task /m, "no `Task …` line");
  });
}
