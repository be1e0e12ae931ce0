import assert from "node:assert/strict";
import { fingerprintSha256, publicKeyToLine } from "../../../lib/algorithms/pubkey.ts";
import {
  appendKnownHost,
  checkHostKey,
  entryMatchesHost,
  globMatch,
  knownHostsHostPattern,
  matchHostPatternList,
  parseKnownHosts,
  recordKnownHost,
} from "../../../lib/hostkeys/known_hosts.ts";
import { tempDir } from "../../helpers/tools.ts";
import {
  A,
  B,
  C,
  ecdsaP256Blob,
  KEY_A,
  KEY_B,
  KEY_C,
  status,
  writeFile,
} from "../../helpers/known_hosts_fixture.ts";

// ---------------------------------------------------------------------------------------------
// Parsing

Deno.test("parseKnownHosts() reads markers, patterns, key and comment with line numbers", () => {
  const text = [
    "# a comment",
    "",
    `example.com,10.0.0.1 ${A} my comment here`,
    `@revoked * ${B}`,
    `\t@cert-authority *.example.com ${C}\r`,
  ].join("\n");
  const { entries, problems } = parseKnownHosts(text, "kh");
  assert.deepEqual(problems, []);
  assert.equal(entries.length, 3);
  assert.deepEqual(entries[0], {
    file: "kh",
    line: 3,
    marker: null,
    patterns: "example.com,10.0.0.1",
    keyType: "ssh-ed25519",
    keyBlob: KEY_A,
    comment: "my comment here",
  });
  assert.equal(entries[1]!.marker, "revoked");
  assert.equal(entries[1]!.line, 4);
  assert.deepEqual(entries[1]!.keyBlob, KEY_B);
  assert.equal(entries[2]!.marker, "cert-authority");
  assert.equal(entries[2]!.patterns, "*.example.com");
  assert.equal(entries[2]!.comment, "");
});

Deno.test("parseKnownHosts() skips malformed lines and reports each with its line number", () => {
  const [typeName, base64] = A.split(" ");
  const text = [
    `good.example ${A}`,
    `@bogus host ${A}`,
    "onlyhost ssh-ed25519",
    `host ssh-ed25519 ${base64!.slice(0, -4)}$$$$`,
    `host ssh-rsa ${base64}`,
    `|1|notbase64!|abc ${typeName} ${base64}`,
    `|1|${btoa("short")}|${btoa("short")} ${A}`,
    "old.example 1024 35 1234567",
    `host ssh-ed25519 ${btoa("\0\0\0\x0bssh-ed25519\0\0\0\x02ab")}`,
    `,, ${A}`,
    `also.good ${B}`,
  ].join("\n");
  const { entries, problems } = parseKnownHosts(text, "/tmp/kh");
  assert.deepEqual(entries.map((e) => e.line), [1, 11]);
  assert.deepEqual(problems.map((p) => p.line), [2, 3, 4, 5, 6, 7, 8, 9, 10]);
  for (const p of problems) {
    assert.equal(p.file, "/tmp/kh");
    assert.ok(p.message.length > 0);
  }
  assert.match(problems[0]!.message, /unknown marker "@bogus"/);
  assert.match(problems[3]!.message, /ssh-rsa.*ssh-ed25519/);
  assert.match(problems[6]!.message, /SSH-1/);
});

// ---------------------------------------------------------------------------------------------
// Matching

Deno.test("globMatch() handles * and ? like OpenSSH match_pattern", () => {
  assert.equal(globMatch("a.example.com", "*.example.com"), true);
  assert.equal(globMatch("example.com", "*.example.com"), false);
  assert.equal(globMatch("host1.lan", "host?.lan"), true);
  assert.equal(globMatch("host12.lan", "host?.lan"), false);
  assert.equal(globMatch("anything", "*"), true);
  assert.equal(globMatch("", "*"), true);
  assert.equal(globMatch("abcabd", "*ab?"), true);
  assert.equal(globMatch("[a.example]:2222", "[*.example]:2222"), true);
  assert.equal(globMatch("[a.example]:2223", "[*.example]:2222"), false);
});

Deno.test("matchHostPatternList() lets a negated pattern override a positive one", () => {
  assert.equal(matchHostPatternList("good.example.com", "*.example.com,!bad.example.com"), "match");
  assert.equal(
    matchHostPatternList("bad.example.com", "*.example.com,!bad.example.com"),
    "negated",
  );
  assert.equal(
    matchHostPatternList("bad.example.com", "!bad.example.com,*.example.com"),
    "negated",
  );
  assert.equal(matchHostPatternList("other.org", "!bad.example.com"), "none");
  assert.equal(matchHostPatternList("EXAMPLE.com", "example.COM"), "match");
});

Deno.test("knownHostsHostPattern() writes [host]:port only for ports other than 22", () => {
  assert.equal(knownHostsHostPattern("Example.COM", 22), "example.com");
  assert.equal(knownHostsHostPattern("example.com", 2222), "[example.com]:2222");
  assert.equal(knownHostsHostPattern("::1", 830), "[::1]:830");
});

Deno.test("checkHostKey() knows a plain host name, case-insensitively, and nothing else", async () => {
  await using dir = await tempDir();
  const file = await writeFile(dir.path, "kh", ["# comment", `example.com ${A}`]);
  const result = await checkHostKey({
    files: [file],
    host: "Example.com",
    port: 22,
    keyBlob: KEY_A,
  });
  assert.deepEqual(result, {
    status: "known",
    matched: { file, line: 2 },
    certAuthority: [],
    problems: [],
  });
  assert.equal(await status([file], "example.org", 22, KEY_A), "unknown");
  assert.equal(await status([file], "example.com", 2222, KEY_A), "unknown");
});

Deno.test("checkHostKey() matches every name of a comma list", async () => {
  await using dir = await tempDir();
  const file = await writeFile(dir.path, "kh", [`a.example,b.example,192.0.2.7 ${A}`]);
  for (const host of ["a.example", "b.example", "192.0.2.7"]) {
    assert.equal(await status([file], host, 22, KEY_A), "known", host);
  }
  assert.equal(await status([file], "c.example", 22, KEY_A), "unknown");
});

Deno.test("checkHostKey() matches [host]:port entries only on that port", async () => {
  await using dir = await tempDir();
  const file = await writeFile(dir.path, "kh", [`[switch.lan]:2222 ${A}`, `switch.lan ${B}`]);
  assert.equal(await status([file], "switch.lan", 2222, KEY_A), "known");
  assert.equal(await status([file], "switch.lan", 2223, KEY_A), "unknown");
  assert.equal(await status([file], "switch.lan", 22, KEY_B), "known");
  assert.equal(await status([file], "switch.lan", 2222, KEY_B), "changed");
});

Deno.test("checkHostKey() matches * and ? wildcards", async () => {
  await using dir = await tempDir();
  const file = await writeFile(dir.path, "kh", [
    `*.example.com ${A}`,
    `sw?.lan ${B}`,
    `[*.dc.lan]:830 ${C}`,
  ]);
  assert.equal(await status([file], "a.b.example.com", 22, KEY_A), "known");
  assert.equal(await status([file], "example.com", 22, KEY_A), "unknown");
  assert.equal(await status([file], "sw1.lan", 22, KEY_B), "known");
  assert.equal(await status([file], "sw12.lan", 22, KEY_B), "unknown");
  assert.equal(await status([file], "core.dc.lan", 830, KEY_C), "known");
  assert.equal(await status([file], "core.dc.lan", 22, KEY_C), "unknown");
});

Deno.test("checkHostKey() ignores a line whose negated pattern matches the host", async () => {
  await using dir = await tempDir();
  const file = await writeFile(dir.path, "kh", [`*.example.com,!bad.example.com ${A}`]);
  assert.equal(await status([file], "good.example.com", 22, KEY_A), "known");
  assert.equal(await status([file], "bad.example.com", 22, KEY_A), "unknown");
  assert.equal(await status([file], "bad.example.com", 22, KEY_B), "unknown");
});

Deno.test("checkHostKey() reports a key on a @revoked line as revoked for any host", async () => {
  await using dir = await tempDir();
  const file = await writeFile(dir.path, "kh", [
    `example.com ${A}`,
    `@revoked other.example ${A}`,
    `@revoked * ${C}`,
  ]);
  const result = await checkHostKey({
    files: [file],
    host: "example.com",
    port: 22,
    keyBlob: KEY_A,
  });
  assert.equal(result.status, "revoked");
  assert.deepEqual(result.matched, { file, line: 2 });
  assert.equal(await status([file], "anything", 2222, KEY_C), "revoked");
  assert.equal(await status([file], "example.com", 22, KEY_B), "changed");
});

Deno.test("checkHostKey() lists @cert-authority lines for the host but never trusts them", async () => {
  await using dir = await tempDir();
  const file = await writeFile(dir.path, "kh", [
    `@cert-authority *.example.com ${A}`,
    `@cert-authority *.example.org ${B}`,
  ]);
  const result = await checkHostKey({
    files: [file],
    host: "a.example.com",
    port: 22,
    keyBlob: KEY_A,
  });
  assert.equal(result.status, "unknown");
  assert.deepEqual(result.certAuthority, [{ file, line: 1 }]);
  assert.equal(result.changed, undefined);
});

Deno.test("checkHostKey() reports a changed key with the file, line and fingerprint of the old one", async () => {
  await using dir = await tempDir();
  const file = await writeFile(dir.path, "kh", [
    `other.example ${C}`,
    "# old key below",
    `router.lan,10.1.1.1 ${A}`,
  ]);
  const result = await checkHostKey({
    files: [file],
    host: "router.lan",
    port: 22,
    keyBlob: KEY_B,
  });
  assert.deepEqual(result, {
    status: "changed",
    changed: [{ file, line: 3, keyType: "ssh-ed25519", fingerprint: fingerprintSha256(KEY_A) }],
    certAuthority: [],
    problems: [],
  });
});

Deno.test("checkHostKey() treats a host known only by a key of another type as changed", async () => {
  await using dir = await tempDir();
  const ecdsa = await ecdsaP256Blob();
  const file = await writeFile(dir.path, "kh", [`other.lan ${B}`, `router.lan ${A}`]);
  const result = await checkHostKey({
    files: [file],
    host: "router.lan",
    port: 22,
    keyBlob: ecdsa,
  });
  assert.equal(result.status, "changed");
  assert.deepEqual(result.changed, [
    { file, line: 2, keyType: "ssh-ed25519", fingerprint: fingerprintSha256(KEY_A) },
  ]);
  await writeFile(dir.path, "kh", [`router.lan ${A}`, `router.lan ${publicKeyToLine(ecdsa)}`]);
  assert.equal(await status([file], "router.lan", 22, ecdsa), "known");
});

Deno.test("checkHostKey() reads several files, tolerating missing ones, and reports their problems", async () => {
  await using dir = await tempDir();
  const user = await writeFile(dir.path, "user_known_hosts", [`router.lan ${B}`, "broken line"]);
  const global = await writeFile(dir.path, "global_known_hosts", [`x.lan ${C}`, `router.lan ${A}`]);
  const missing = `${dir.path}/does/not/exist`;
  const files = [missing, user, global];
  const result = await checkHostKey({ files, host: "router.lan", port: 22, keyBlob: KEY_A });
  assert.equal(result.status, "known");
  assert.deepEqual(result.matched, { file: global, line: 2 });
  assert.deepEqual(result.problems.map((p) => [p.file, p.line]), [[user, 2]]);
  const changed = await checkHostKey({ files, host: "router.lan", port: 22, keyBlob: KEY_C });
  assert.equal(changed.status, "changed");
  assert.deepEqual(changed.changed?.map((c) => [c.file, c.line]), [[user, 1], [global, 2]]);
  assert.equal(await status([missing], "router.lan", 22, KEY_A), "unknown");
});

Deno.test("checkHostKey() reports an unreadable file as a problem instead of throwing", async () => {
  await using dir = await tempDir();
  const result = await checkHostKey({ files: [dir.path], host: "h", port: 22, keyBlob: KEY_A });
  assert.equal(result.status, "unknown");
  assert.equal(result.problems.length, 1);
  assert.equal(result.problems[0]!.file, dir.path);
  assert.equal(result.problems[0]!.line, 0);
});

// ---------------------------------------------------------------------------------------------
// Appending

Deno.test("appendKnownHost() creates the file and its directory with private modes", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/home/.ssh/known_hosts`;
  const line = await appendKnownHost(file, "Router.lan", 22, KEY_A);
  assert.equal(line, `router.lan ${A}`);
  assert.equal(await Deno.readTextFile(file), `router.lan ${A}\n`);
  assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
  assert.equal((await Deno.stat(`${dir.path}/home/.ssh`)).mode! & 0o777, 0o700);
  assert.equal(await status([file], "router.lan", 22, KEY_A), "known");
});

Deno.test("appendKnownHost() called concurrently writes each line once and whole", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/known_hosts`;
  await Deno.writeTextFile(file, "# no newline at the end");
  const hosts = Array.from({ length: 40 }, (_, i) => `sw${i}.example`);
  // 40 hosts at once, and the first five three times over (an inventory listing them twice).
  await Promise.all([
    ...hosts.map((h, i) => appendKnownHost(file, h, 22, i % 2 ? KEY_A : KEY_B)),
    ...hosts.slice(0, 5).flatMap((h, i) => [
      appendKnownHost(file, h, 22, i % 2 ? KEY_A : KEY_B),
      appendKnownHost(file, h, 22, i % 2 ? KEY_A : KEY_B),
    ]),
  ]);
  const lines = (await Deno.readTextFile(file)).split("\n");
  assert.equal(lines[0], "# no newline at the end");
  assert.equal(lines.at(-1), "");
  const body = lines.slice(1, -1);
  assert.equal(body.length, 40);
  assert.deepEqual(
    body.toSorted(),
    hosts.map((h, i) => `${h} ${i % 2 ? A : B}`).toSorted(),
  );
});

Deno.test("appendKnownHost() keeps other lines byte for byte and adds a missing newline", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/known_hosts`;
  const before = `# keep me\r\n|1|garbage line\n*.lan,!x.lan ${B} note\n@revoked * ${C}`;
  await Deno.writeTextFile(file, before);
  await appendKnownHost(file, "sw1.example", 2222, KEY_A);
  await appendKnownHost(file, "sw2.example", 22, KEY_B);
  const after = await Deno.readTextFile(file);
  assert.equal(after, `${before}\n[sw1.example]:2222 ${A}\nsw2.example ${B}\n`);
  assert.equal(await status([file], "sw1.example", 2222, KEY_A), "known");
});

Deno.test("appendKnownHost() refuses host names that would change the line's meaning", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/known_hosts`;
  for (const host of ["", "a b", "a,b", "*.lan", "!x", "#x", "|1|x", "[x]:2"]) {
    await assert.rejects(appendKnownHost(file, host, 22, KEY_A), Error, host);
  }
  await assert.rejects(appendKnownHost(file, "ok.lan", 0, KEY_A), Error);
  await assert.rejects(Deno.stat(file), Deno.errors.NotFound);
});

Deno.test("recordKnownHost() reports the real line number and hashes the host with HashKnownHosts", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/known_hosts`;
    await Deno.writeTextFile(file, "# mine\nother.example " + publicKeyToLine(KEY_B));
    const plain = await recordKnownHost(file, "sw1.example", 2222, KEY_A);
    assert.equal(plain.line, 3);
    assert.match(plain.text, /^\[sw1\.example\]:2222 ssh-ed25519 /);
    const hashed = await recordKnownHost(file, "sw2.example", 22, KEY_A, { hash: true });
    assert.equal(hashed.line, 4);
    assert.match(hashed.text, /^\|1\|[A-Za-z0-9+/]{27}=\|[A-Za-z0-9+/]{27}= ssh-ed25519 /);
    const parsed = parseKnownHosts(await Deno.readTextFile(file), file);
    const entry = parsed.entries.find((e) => e.line === 4)!;
    assert.ok(entryMatchesHost(entry, "sw2.example", 22));
    assert.ok(!entryMatchesHost(entry, "sw1.example", 22));
    // Recorded again: not written, the existing line's number.
    const again = await recordKnownHost(file, "sw2.example", 22, KEY_A, { hash: true });
    assert.deepEqual([again.line, again.written], [4, false]);
    assert.equal((await Deno.readTextFile(file)).split("\n").length, 5);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
