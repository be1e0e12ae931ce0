// known_hosts files that OpenSSH's ssh-keygen made or reads (the rest of the known_hosts tests need
// nothing but Deno: test/unit/hostkeys/known_hosts_test.ts).
import assert from "node:assert/strict";
import { appendKnownHost, parseKnownHosts } from "../../../lib/hostkeys/known_hosts.ts";
import { A, B, KEY_A, KEY_B, status, writeFile } from "../../helpers/known_hosts_fixture.ts";
import { requireTool, run, tempDir } from "../../helpers/tools.ts";

const SSH_KEYGEN = "/usr/bin/ssh-keygen";

Deno.test("checkHostKey() matches |1| hashed entries made by ssh-keygen -H", async () => {
  await using dir = await tempDir();
  const file = await writeFile(dir.path, "kh", [
    `hashed.example ${A}`,
    `[hashed.example]:2222 ${B}`,
  ]);
  const r = await run(requireTool(SSH_KEYGEN), ["-H", "-f", file]);
  assert.equal(r.code, 0, r.stderr);
  const text = await Deno.readTextFile(file);
  assert.doesNotMatch(text, /hashed\.example/);
  const { entries, problems } = parseKnownHosts(text, file);
  assert.deepEqual(problems, []);
  assert.equal(entries.length, 2);
  for (const e of entries) {
    assert.match(e.patterns, /^\|1\|/);
    assert.equal(e.hashed?.salt.length, 20);
    assert.equal(e.hashed?.hash.length, 20);
  }
  assert.equal(await status([file], "hashed.example", 22, KEY_A), "known");
  assert.equal(await status([file], "HASHED.example", 22, KEY_A), "known");
  assert.equal(await status([file], "hashed.example", 2222, KEY_B), "known");
  assert.equal(await status([file], "hashed.example", 2222, KEY_A), "changed");
  assert.equal(await status([file], "other.example", 22, KEY_A), "unknown");
});

Deno.test("ssh-keygen -F finds the lines appendKnownHost() adds", async () => {
  requireTool(SSH_KEYGEN);
  await using dir = await tempDir();
  const file = `${dir.path}/known_hosts`;
  await Deno.writeTextFile(file, `# keep me\r\n|1|garbage line\n*.lan,!x.lan ${B} note`);
  await appendKnownHost(file, "sw1.example", 2222, KEY_A);
  await appendKnownHost(file, "sw2.example", 22, KEY_B);
  for (const host of ["[sw1.example]:2222", "sw2.example"]) {
    const r = await run(SSH_KEYGEN, ["-F", host, "-f", file]);
    assert.equal(r.code, 0, `ssh-keygen -F ${host}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(host.replace(/[[\].]/g, "\\$&")));
  }
});
