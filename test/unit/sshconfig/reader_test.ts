import assert from "node:assert/strict";
import { MAX_INCLUDE_DEPTH } from "../../../lib/sshconfig/reader.ts";
import { type ConfigRequest, resolveConfig } from "../../../lib/sshconfig/resolve.ts";
import { originText, SshConfigError } from "../../../lib/sshconfig/types.ts";
import { memoryIo } from "../../helpers/sshconfig_io.ts";

const USER = "/home/me/.ssh/config";
const SYSTEM = "/etc/ssh/ssh_config";

function resolve(files: Record<string, string>, request: Partial<ConfigRequest> = {}) {
  return resolveConfig({ host: "web1", ...request }, memoryIo(files));
}

/** The SshConfigError `f` throws. */
function configError(f: () => unknown): SshConfigError {
  try {
    f();
  } catch (e) {
    if (e instanceof SshConfigError) return e;
    throw e;
  }
  throw new Error("no error thrown");
}

Deno.test("the user's file is read before the system one, and the first value wins", () => {
  const c = resolve({
    [USER]: "Host web*\n  User alice\n  Port 2201\n",
    [SYSTEM]: "Host *\n  User root\n  Port 22\n  ConnectTimeout 5\n",
  });
  assert.equal(c.effective.user, "alice");
  assert.equal(c.effective.port, 2201);
  assert.equal(c.effective.connectTimeoutS, 5);
  assert.equal(originText(c.values.get("user")!.origin), `${USER}:2`);
  assert.equal(originText(c.values.get("connecttimeout")!.origin), `${SYSTEM}:4`);
  assert.equal(originText(c.values.get("serveraliveinterval")!.origin), "default");
  assert.deepEqual(c.trace.files.map((f) => [f.path, f.found]), [[USER, true], [SYSTEM, true]]);
});

Deno.test("-o, -p and -l come before the files; the first of them wins; then user@host", () => {
  const c = resolve({ [USER]: "User file\nPort 1\nHostName h1\n" }, {
    commandLine: [
      { kind: "port", value: 2222, flag: "-p" },
      { kind: "option", text: "Port=3333" },
      { kind: "option", text: "HostName h2" },
    ],
    targetUser: "target",
  });
  assert.equal(c.effective.port, 2222);
  assert.equal(originText(c.values.get("port")!.origin), "-p");
  assert.equal(c.effective.hostname, "h2");
  assert.equal(originText(c.values.get("hostname")!.origin), "-o HostName h2");
  assert.equal(c.effective.user, "target");
  assert.equal(originText(c.values.get("user")!.origin), "command line");
});

Deno.test("-F FILE replaces both files; -F none reads none; a missing -F file is an error", () => {
  const files = { [USER]: "Port 1\n", [SYSTEM]: "Port 2\n", "/tmp/c": "Port 3\n" };
  assert.equal(resolve(files, { configFile: "/tmp/c" }).effective.port, 3);
  assert.equal(resolve(files, { configFile: "none" }).effective.port, 22);
  assert.match(configError(() => resolve(files, { configFile: "/tmp/x" })).message, /\/tmp\/x/);
});

Deno.test("IdentityFile, CertificateFile and SendEnv accumulate; SetEnv's first line wins", () => {
  const c = resolve({
    [USER]: [
      "Host web1",
      "  IdentityFile ~/.ssh/%h_key",
      "  SendEnv LANG LC_*",
      '  SetEnv A=1 "B=2 3"',
      "Host *",
      "  IdentityFile /keys/%r@%n",
      "  CertificateFile ~/c.pub",
      "  SendEnv -LC_* TZ",
      "  SetEnv C=4",
    ].join("\n"),
  });
  assert.deepEqual(c.effective.identityFiles, ["/home/me/.ssh/web1_key", "/keys/me@web1"]);
  assert.deepEqual(c.lists.get("identityfile")!.map((s) => s.value), [
    "~/.ssh/%h_key",
    "/keys/%r@%n",
  ]);
  assert.deepEqual(c.effective.certificateFiles, ["/home/me/c.pub"]);
  assert.deepEqual(c.effective.sendEnv, ["LANG", "TZ"], "-LC_* removed what came before");
  assert.deepEqual(c.effective.setEnv, ["A=1", "B=2 3"]);
});

Deno.test("without IdentityFile, sshtrace's default identity files are listed", () => {
  const c = resolve({});
  assert.deepEqual(c.effective.identityFiles, [
    "/home/me/.ssh/id_ed25519",
    "/home/me/.ssh/id_ecdsa",
    "/home/me/.ssh/id_rsa",
  ]);
});

Deno.test("Host patterns: wildcards, ? and ! negation; keywords are case-insensitive", () => {
  const files = {
    [USER]: [
      "host *.lab !db.lab",
      "  USER lab",
      "Host web?",
      "  user web",
      "HOST *",
      "  User other",
    ].join("\n"),
  };
  assert.equal(resolve(files, { host: "a.lab" }).effective.user, "lab");
  assert.equal(resolve(files, { host: "db.lab" }).effective.user, "other");
  assert.equal(resolve(files, { host: "web7" }).effective.user, "web");
  const c = resolve(files, { host: "db.lab" });
  assert.deepEqual(
    c.trace.blocks.map((b) => [b.line, b.matched]),
    [[1, false], [3, false], [5, true]],
  );
});

Deno.test("HostName applies %h and lower case; Match host sees it, originalhost the alias", () => {
  const c = resolve({
    [USER]: [
      "Host sw1",
      "  HostName %h.MGMT.example.net",
      "Match host sw1.mgmt.example.net",
      "  User viaHost",
      "Match originalhost SW1",
      "  Port 2022",
    ].join("\n"),
  }, { host: "sw1" });
  assert.equal(c.effective.hostname, "sw1.mgmt.example.net");
  assert.equal(c.effective.user, "viaHost");
  assert.equal(c.effective.port, 2022);
});

Deno.test("Match user and localuser; Match all; negated criteria", () => {
  const files = {
    [USER]: [
      "Match user admin",
      "  Port 1",
      "Match localuser me !user admin",
      "  Port 2",
      "Match all",
      "  ConnectionAttempts 3",
    ].join("\n"),
  };
  assert.equal(resolve(files, { targetUser: "admin" }).effective.port, 1);
  assert.equal(resolve(files).effective.port, 2);
  assert.equal(resolve(files).effective.connectionAttempts, 3);
  assert.equal(
    resolve({ [USER]: "Match final all\n  Port 7\n" }).effective.port,
    7,
    "one attribute may come before all (OpenSSH: Match canonical all)",
  );
  assert.match(
    configError(() => resolve({ [USER]: "Match all host x\n  Port 1\n" })).message,
    /config:1: Match 'all' cannot be combined/,
  );
  assert.match(
    configError(() => resolve({ [USER]: "Match host\n" })).message,
    /config:1: missing argument for Match/,
  );
  assert.match(
    configError(() => resolve({ [USER]: "Match bogus x\n" })).message,
    /unsupported Match attribute "bogus"/,
  );
});

Deno.test("Match final runs a second pass against the final host name; canonical only there", () => {
  const c = resolve({
    [USER]: [
      "Host alias",
      "  HostName real.example",
      "Match final host real.example",
      "  User finaluser",
      "Match canonical",
      "  Port 2200",
      "Host real.example",
      "  IdentityFile ~/real",
    ].join("\n"),
  }, { host: "alias" });
  assert.equal(c.trace.finalPass, true);
  assert.equal(c.effective.user, "finaluser");
  assert.equal(c.effective.port, 2200, "OpenSSH's canonical is true in the final pass");
  assert.deepEqual(c.effective.identityFiles, ["/home/me/real"], "Host matches the final name");
  const plain = resolve({ [USER]: "Match canonical\n  Port 2200\n" });
  assert.equal(plain.trace.finalPass, false);
  assert.equal(plain.effective.port, 22, "no canonicalisation: canonical never matches");
});

Deno.test("Match exec is refused with file:line, unless an earlier criterion failed", () => {
  const e = configError(() => resolve({ [USER]: '\nMatch exec "true"\n  Port 1\n' }));
  assert.equal(e.file, USER);
  assert.equal(e.line, 2);
  assert.match(e.message, /exec is refused/);
  const c = resolve({ [USER]: 'Match host other exec "true"\n  Port 1\n' });
  assert.equal(c.effective.port, 22);
});

Deno.test("Include: relative to ~/.ssh (user) or /etc/ssh (system), ~, globs sorted", () => {
  const c = resolve({
    [USER]: "Include conf.d/*.conf ~/extra\nUser fromUser\n",
    "/home/me/.ssh/conf.d/b.conf": "Host web1\n  Port 2002\n",
    "/home/me/.ssh/conf.d/a.conf": "Host web1\n  Port 2001\n  IdentityFile a\n",
    "/home/me/.ssh/conf.d/.hidden.conf": "Port 9\n",
    "/home/me/.ssh/conf.d/c.txt": "Port 8\n",
    "/home/me/extra": "IdentityFile extra\n",
    [SYSTEM]: "Include ssh_config.d/*\n",
    "/etc/ssh/ssh_config.d/x": "ConnectTimeout 7\n",
  });
  assert.equal(c.effective.port, 2001);
  assert.deepEqual(c.lists.get("identityfile")!.map((s) => s.value), ["a", "extra"]);
  assert.equal(c.effective.user, "fromUser", "the included Host block does not leak out");
  assert.equal(c.effective.connectTimeoutS, 7);
  assert.deepEqual(
    c.trace.files.map((f) => [f.path, f.depth]),
    [
      [USER, 0],
      ["/home/me/.ssh/conf.d/a.conf", 1],
      ["/home/me/.ssh/conf.d/b.conf", 1],
      ["/home/me/extra", 1],
      [SYSTEM, 0],
      ["/etc/ssh/ssh_config.d/x", 1],
    ],
  );
  assert.deepEqual(c.trace.files[1]!.includedFrom, { file: USER, line: 1 });
});

Deno.test("Include inside a block that does not apply is read but never applies", () => {
  const c = resolve({
    [USER]: "Host other\n  Include inc\n",
    "/home/me/.ssh/inc": "Port 1\nHost *\n  User x\n",
  });
  assert.equal(c.effective.port, 22);
  assert.equal(c.effective.user, "me");
});

Deno.test("Include: ~ is refused in the system file; a loop stops at the depth limit", () => {
  assert.match(
    configError(() => resolve({ [SYSTEM]: "Include ~/x\n" })).message,
    /ssh_config:1: bad include path/,
  );
  const e = configError(() => resolve({ [USER]: "Include config\n" }));
  assert.equal(e.file, USER);
  assert.match(e.message, new RegExp(`more than ${MAX_INCLUDE_DEPTH} deep`));
});

Deno.test("a bad value is an error naming file and line, even in a block that does not apply", () => {
  const cases: [string, RegExp][] = [
    ["Host other\n  Port http\n", /config:2: Port: invalid port "http"/],
    ["Port 70000\n", /config:1: Port: port 70000 out of range/],
    ["Compression maybe\n", /config:1: Compression: unsupported value "maybe"/],
    ["StrictHostKeyChecking sometimes\n", /StrictHostKeyChecking: unsupported value/],
    ["ConnectTimeout 5x\n", /ConnectTimeout: invalid time value/],
    ["Port 22 23\n", /config:1: Port: garbage at end of line/],
    ["User\n", /config:1: no argument after keyword "User"/],
    ['IdentityFile "x\n', /config:1: invalid quotes/],
    ["Ciphers nosuch-cipher\n", /config:1: Ciphers: unknown Ciphers algorithm "nosuch-cipher"/],
    ["SetEnv NOEQUALS\n", /SetEnv: invalid SetEnv "NOEQUALS"/],
    ["RekeyLimit 1Q\n", /RekeyLimit: bad number/],
    ['Host\tx\n  Host ""\n', /config:2: Host with an empty pattern/],
  ];
  for (const [text, re] of cases) {
    assert.match(configError(() => resolve({ [USER]: text })).message, re, text);
  }
});

Deno.test("Host, Match and Include are refused in -o", () => {
  for (const text of ["Host=x", "Match all", "Include x"]) {
    const e = configError(() => resolve({}, { commandLine: [{ kind: "option", text }] }));
    assert.equal(e.file, "command line");
    assert.match(e.message, /not allowed on the command line/);
  }
});

Deno.test("unknown keywords warn with file:line unless IgnoreUnknown lists them", () => {
  const c = resolve({
    [USER]: "IgnoreUnknown UseKeychain,Add*\nUseKeychain yes\nAddSomething 1\nBogus 1\n",
  });
  assert.deepEqual(c.trace.warnings, [
    { file: USER, line: 4, keyword: "Bogus", problem: "unknown-keyword" },
  ]);
});

Deno.test("refused keywords are listed unless their value asks for nothing; ignored ones kept", () => {
  const c = resolve({
    [USER]: "ForwardX11 yes\nForwardX11Trusted yes\nGSSAPIAuthentication yes\nTunnel yes\n",
  });
  assert.deepEqual(
    c.refusals.map((r) => [r.keyword, r.value, originText(r.origin)]),
    [["ForwardX11", "yes", `${USER}:1`], ["Tunnel", "yes", `${USER}:4`]],
  );
  assert.deepEqual(c.ignored.map((o) => o.info.name), [
    "ForwardX11Trusted",
    "GSSAPIAuthentication",
  ]);
});

Deno.test("algorithm lists: a plain list replaces, +/-/^ edit sshtrace's defaults", () => {
  const c = resolve({
    [USER]: [
      "Ciphers aes256-ctr,aes128-ctr",
      "MACs -hmac-sha2-512*,umac-64@openssh.com",
      "KexAlgorithms ^curve25519-sha256",
      "HostKeyAlgorithms +ssh-rsa",
    ].join("\n"),
  });
  const a = c.effective.algorithms;
  assert.deepEqual(a.cipher, ["aes256-ctr", "aes128-ctr"]);
  assert.ok(!a.mac.some((m) => m.startsWith("hmac-sha2-512")), "removal with a wildcard");
  assert.ok(a.mac.length > 0, "removing a name sshtrace never offers changes nothing");
  assert.equal(a.kex[0], "curve25519-sha256");
  assert.equal(a.hostKey.at(-1), "ssh-rsa");
  assert.equal(c.values.get("ciphers")!.value, "aes256-ctr,aes128-ctr");
  const hardened = resolve({
    [USER]: "\nMACs umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com\n",
  });
  assert.deepEqual(hardened.effective.algorithms.mac, ["hmac-sha2-256-etm@openssh.com"]);
  assert.deepEqual(hardened.trace.warnings, [{
    file: USER,
    line: 2,
    keyword: "MACs",
    problem: "unsupported-algorithm",
    detail: "umac-128-etm@openssh.com",
  }]);
  for (const spec of ["-umac-64@openssh.com", "-umac*,hmac-sha2-512"]) {
    const r = resolve({ [USER]: `MACs ${spec}\n` });
    assert.ok(r.effective.algorithms.mac.includes("hmac-sha2-256"), spec);
  }
});

Deno.test("tokens: %C %L %l %i %k %n %p %d %h %r %u %% in UserKnownHostsFile; ${VAR} in IdentityAgent", () => {
  const io = memoryIo({
    [USER]: [
      "HostName Target.Example",
      "User bob",
      "Port 2200",
      "UserKnownHostsFile ~/kh/%h_%p_%r_%u_%n_%k_%i_%L_%l_%d_%% /x/%C",
      "IdentityAgent ${SOCK}/%h",
    ].join("\n"),
  }, { env: { SOCK: "/run/agent" } });
  const c = resolveConfig({ host: "alias" }, io);
  const [kh, hash] = c.effective.userKnownHostsFiles;
  assert.equal(
    kh,
    "/home/me/kh/target.example_2200_bob_me_alias_alias_1000_box_box.example.org_/home/me_%",
  );
  assert.match(hash!, /^\/x\/[0-9a-f]{40}$/);
  assert.equal(c.effective.identityAgent, "/run/agent/target.example");
  assert.match(
    configError(() => resolveConfig({ host: "x" }, memoryIo({ [USER]: "IdentityFile %z\n" })))
      .message,
    /config:1: IdentityFile: unknown token %z/,
  );
  assert.match(
    configError(() =>
      resolveConfig({ host: "x" }, memoryIo({ [USER]: "\nIdentityAgent ${NOPE}\n" }))
    ).message,
    /config:2: IdentityAgent: environment variable \$\{NOPE\} is not set/,
  );
});

Deno.test("hostile files: oversized files, too many lines and NUL bytes are errors", () => {
  assert.match(
    configError(() => resolve({ [USER]: "#".repeat(1024 * 1024 + 10) })).message,
    /larger than/,
  );
  assert.match(configError(() => resolve({ [USER]: "\n".repeat(30_000) })).message, /lines/);
  assert.match(configError(() => resolve({ [USER]: "Port 2\0\n" })).message, /config:1: NUL/);
});

Deno.test("an unknown keyword in -o is an error (the user typed it), unless IgnoreUnknown", () => {
  const e = configError(() => resolve({}, { commandLine: [{ kind: "option", text: "Bogus=1" }] }));
  assert.equal(e.file, "command line");
  assert.match(e.message, /unknown keyword "Bogus"/);
  const c = resolve({}, {
    commandLine: [
      { kind: "option", text: "IgnoreUnknown=Bogus" },
      { kind: "option", text: "Bogus=1" },
    ],
  });
  assert.deepEqual(c.trace.warnings, []);
});

Deno.test("an Include that matches nothing is recorded, not an error", () => {
  const c = resolve({ [USER]: "Include conf.d/*.conf\n" });
  assert.deepEqual(c.trace.files[1], {
    path: "/home/me/.ssh/conf.d/*.conf",
    pass: "first",
    depth: 1,
    found: false,
    includedFrom: { file: USER, line: 1 },
  });
});

Deno.test("Match exec in a file included from a block that does not apply is not reached", () => {
  const c = resolve({
    [USER]: "Host other\n  Include inc\n",
    "/home/me/.ssh/inc": 'Match exec "true"\n  Port 1\n',
  });
  assert.equal(c.effective.port, 22);
});

Deno.test("none means no file for IdentityFile and the known_hosts files, as ssh prints it", () => {
  const c = resolve({
    [USER]: "IdentityFile none\nUserKnownHostsFile none\nGlobalKnownHostsFile none\n",
  });
  assert.deepEqual(c.effective.identityFiles, []);
  assert.deepEqual(c.effective.userKnownHostsFiles, []);
  assert.deepEqual(c.effective.globalKnownHostsFiles, []);
  assert.deepEqual(c.values.get("userknownhostsfile")!.value, ["none"]);
});
