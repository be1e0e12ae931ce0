// `sshtrace -G` against OpenSSH's `ssh -G` on shared configuration files: the same keys and
// values for the keywords sshtrace supports. Differences by design, normalised here:
//  - algorithm lists: each tool starts from its own defaults, so lists are compared only where a
//    config sets a plain list; +/-/^ edits are compared by their effect (appended, removed,
//    prepended);
//  - the default IdentityFile list is sshtrace's (id_ed25519, id_ecdsa, id_rsa), compared only
//    where a config sets IdentityFile;
//  - unknown keywords: OpenSSH stops, sshtrace warns (both honour IgnoreUnknown);
//  - Debian's patched ssh defaults ServerAliveInterval to 300 under BatchMode yes; sshtrace
//    follows upstream OpenSSH (0), so that key is skipped where a case sets BatchMode.
import assert from "node:assert/strict";
import { parseCommandLine } from "../../../lib/cli/args.ts";
import { runConfigDump } from "../../../lib/cli/config.ts";
import { runSshtrace } from "../../helpers/cli.ts";
import { requireTool, run, tempDir } from "../../helpers/tools.ts";

const SSH = "/usr/bin/ssh";
const ALGORITHM_KEYS = [
  "ciphers",
  "hostkeyalgorithms",
  "casignaturealgorithms",
  "kexalgorithms",
  "macs",
  "pubkeyacceptedalgorithms",
];

/** `key value` lines as key → values (repeated keys keep every value, in order). */
function parseDump(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    if (!line) continue;
    const sp = line.indexOf(" ");
    const key = line.slice(0, sp);
    out.set(key, [...(out.get(key) ?? []), line.slice(sp + 1)]);
  }
  return out;
}

/** sshtrace -G, in process (the same code path as the CLI after argument parsing). */
function sshtraceG(args: string[]): { code: number; out: string; err: string } {
  const cmd = parseCommandLine(["-G", ...args]);
  if (cmd.name !== "config") throw new Error(`not a -G command: ${cmd.name}`);
  let out = "";
  let err = "";
  try {
    const code = runConfigDump(cmd, (t) => out += t, (t) => err += t);
    return { code, out, err };
  } catch (e) {
    return { code: 2, out, err: (e as Error).message };
  }
}

async function sshG(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await run(requireTool(SSH), ["-G", ...args]);
  return { code: r.code, out: r.stdout, err: r.stderr };
}

interface Case {
  name: string;
  /** The config; `@` stands for the temporary directory. */
  config: string;
  host: string;
  args?: string[];
  /** Extra files, by name in the temporary directory. */
  files?: Record<string, string>;
  /** Compare the algorithm lists (the config sets each of them as a plain list). */
  algorithms?: boolean;
  /** Compare identityfile (the config sets IdentityFile). */
  identities?: boolean;
  /** Keys not compared (a documented difference). */
  skip?: string[];
  /** Checks of +/-/^ edits: key → [edit kind, algorithm]. */
  edits?: Record<string, ["+" | "-" | "^", string]>;
}

const CASES: Case[] = [
  {
    name: "jump hosts and forwards (ProxyJump, Local/Remote/DynamicForward, ForwardAgent)",
    config: "Host sw*\n  ProxyJump b:2222,c\n  LocalForward 8080 web:80\n" +
      "  LocalForward localhost:2222 [::1]:22\n  RemoteForward 0 127.0.0.1:22\n" +
      "  DynamicForward 1080\n  ForwardAgent yes\n",
    host: "sw1",
  },
  {
    name: "Unix-socket forwards, StreamLocalBind*, GatewayPorts, ExitOnForwardFailure",
    config: "Host sw*\n  LocalForward /tmp/l.sock web:80\n  LocalForward 8080 /run/r.sock\n" +
      "  RemoteForward /run/r2.sock /tmp/l2.sock\n  StreamLocalBindMask 0111\n" +
      "  StreamLocalBindUnlink yes\n  GatewayPorts yes\n  ExitOnForwardFailure yes\n",
    host: "sw1",
  },
  {
    name: "-J, -L, -R, -D and -A on the command line",
    config: "",
    host: "sw1",
    args: [
      "-J",
      "bastion:2200",
      "-L",
      "8080:web:80",
      "-R",
      "9000:127.0.0.1:9000",
      "-D",
      "1080",
      "-A",
    ],
  },
  {
    name: "an alias with HostName, User, Port",
    config: "Host sw1\n  HostName 10.1.2.3\n  User admin\n  Port 2222\n",
    host: "sw1",
  },
  {
    name: "HostName in lower case; Host is case-sensitive",
    config: "Host SW1\n  HostName Example.COM\nHost sw1\n  Port 1\n",
    host: "SW1",
  },
  {
    name: "negation skips a host",
    config: "Host *.lab !db.lab\n  User lab\nHost *\n  User other\n",
    host: "db.lab",
  },
  {
    name: "negation lets others through",
    config: "Host *.lab !db.lab\n  User lab\nHost *\n  User other\n",
    host: "web.lab",
  },
  {
    name: "? wildcard and several patterns",
    config: "Host web? api\n  Port 8022\n",
    host: "web7",
  },
  {
    name: "the first value wins across blocks",
    config: "Host x\n  Port 1\n  User first\nHost *\n  Port 2\n  User second\n  ConnectTimeout 9\n",
    host: "x",
  },
  {
    name: "an Include chain with a glob",
    config: "Include @/inc1\nHost *\n  User fallback\n",
    files: {
      "inc1": "Include @/inc.d/*.conf\nHost chain\n  Port 2001\n",
      "inc.d/10-a.conf": "Host chain\n  User a\n",
      "inc.d/20-b.conf": "Host chain\n  User b\n  ConnectionAttempts 3\n",
      "inc.d/skip.txt": "Port 9\n",
    },
    host: "chain",
  },
  {
    name: "an Include in a block that does not match is not applied",
    config: "Host other\n  Include @/inc2\nHost *\n  ServerAliveInterval 7\n",
    files: { "inc2": "Port 9\nHost *\n  User never\n" },
    host: "mine",
  },
  {
    name: "Match host sees the HostName",
    config: "Host a\n  HostName b.example\nMatch host b.example\n  User viahost\n",
    host: "a",
  },
  {
    name: "Match originalhost sees the alias",
    config: "Host a\n  HostName b.example\nMatch originalhost a\n  Port 2022\n",
    host: "a",
  },
  {
    name: "Match user with -l",
    config: "Match user deploy\n  Port 2200\n",
    host: "h",
    args: ["-l", "deploy"],
  },
  {
    name: "Match localuser, negated host, all",
    config:
      "Match localuser root !host nomatch\n  User local\nMatch all\n  ServerAliveCountMax 9\n",
    host: "h",
  },
  {
    name: "Match final re-reads with the final host name",
    config: "Host alias\n  HostName real.example\nMatch final host real.example\n  Port 2022\n" +
      "Host real.example\n  User realuser\n",
    host: "alias",
  },
  {
    name: "Match canonical all and Match final all",
    config: "Match canonical all\n  Port 2023\nMatch final all\n  User finalall\n",
    host: "h",
  },
  {
    name: "tokens in HostName, UserKnownHostsFile and IdentityAgent",
    config: "Host t\n  HostName %h.example.net\n  User bob\n  Port 2200\n" +
      "  UserKnownHostsFile @/kh_%h_%p_%r_%u_%n_%k_%i_%L_%l %d/x_%% @/%C\n" +
      "  IdentityAgent @/agent.%h.%r\n  HostKeyAlias alias_%h\n",
    host: "t",
  },
  {
    name: "plain algorithm lists",
    config: "Ciphers aes256-ctr,aes128-ctr\nMACs hmac-sha2-256,hmac-sha2-512\n" +
      "KexAlgorithms curve25519-sha256,diffie-hellman-group14-sha256\n" +
      "HostKeyAlgorithms ssh-ed25519,rsa-sha2-256\nPubkeyAcceptedAlgorithms ssh-ed25519\n" +
      "CASignatureAlgorithms ssh-ed25519,rsa-sha2-256\n",
    host: "h",
    algorithms: true,
  },
  {
    name: "legacy algorithms for one Host pattern only",
    config: "Host old-*\n  Ciphers aes128-cbc,3des-cbc\n  MACs hmac-sha1\n" +
      "  KexAlgorithms diffie-hellman-group1-sha1,diffie-hellman-group14-sha1\n" +
      "  HostKeyAlgorithms ssh-rsa\n  PubkeyAcceptedAlgorithms ssh-rsa\n" +
      "  CASignatureAlgorithms rsa-sha2-512,ssh-rsa\n",
    host: "old-switch",
    algorithms: true,
  },
  {
    name: "+, - and ^ algorithm edits",
    config:
      "Ciphers +aes128-cbc\nMACs -hmac-sha2-512\nKexAlgorithms ^diffie-hellman-group14-sha1\n" +
      "HostKeyAlgorithms -ssh-ed25519\n",
    host: "h",
    edits: {
      ciphers: ["+", "aes128-cbc"],
      macs: ["-", "hmac-sha2-512"],
      kexalgorithms: ["^", "diffie-hellman-group14-sha1"],
      hostkeyalgorithms: ["-", "ssh-ed25519"],
    },
  },
  {
    name: "IdentityFile and CertificateFile accumulate across blocks",
    config: "Host h\n  IdentityFile ~/.ssh/h_key\n  CertificateFile ~/.ssh/h_key-cert.pub\n" +
      "Host *\n  IdentityFile @/all_%r\n  IdentityFile ~/.ssh/id_ed25519\n",
    host: "h",
    identities: true,
  },
  {
    name: "quoted values and escapes",
    config: 'Host q\n  IdentityFile "@/my key"\n  SetEnv "A=b c" D=e\n  SendEnv "LC_*" LANG\n' +
      "  PreferredAuthentications 'publickey,password'\n",
    host: "q",
    identities: true,
  },
  {
    name: "key=value and key = value, comments, blank lines, CRLF",
    config: "# a comment\r\n\r\nPort=2200\r\n  User = bob   # trailing comment\r\n" +
      "\thostname\t=\th.example\r\n",
    host: "anything",
  },
  {
    name: "yes/no and multi-state keywords",
    config: "StrictHostKeyChecking accept-new\nRequestTTY force\nPubkeyAuthentication no\n" +
      "BatchMode yes\nCompression yes\nTCPKeepAlive no\nCheckHostIP yes\nHashKnownHosts yes\n" +
      "IdentitiesOnly yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n" +
      "AddressFamily inet6\n",
    host: "h",
    skip: ["serveraliveinterval"], // Debian: 300 under BatchMode
  },
  {
    name: "other spellings: true/false, off, ChallengeResponseAuthentication, KeepAlive",
    config: "StrictHostKeyChecking off\nRequestTTY false\nBatchMode true\n" +
      "ChallengeResponseAuthentication no\nKeepAlive no\n",
    host: "h",
    skip: ["serveraliveinterval"], // Debian: 300 under BatchMode
  },
  {
    name: "numbers, times and sizes",
    config: "ConnectTimeout 1m30s\nServerAliveInterval 15\nServerAliveCountMax 5\n" +
      "ConnectionAttempts 4\nNumberOfPasswordPrompts 1\nRekeyLimit 2G 30m\nRequiredRSASize 2048\n" +
      "LogLevel VERBOSE\nEscapeChar none\nBindAddress 127.0.0.1\nGlobalKnownHostsFile @/g1 @/g2\n",
    host: "h",
  },
  {
    name: "EscapeChar ^X, RekeyLimit default none, LogLevel DEBUG1",
    config: "EscapeChar ^B\nRekeyLimit default none\nLogLevel DEBUG1\n",
    host: "h",
  },
  {
    name: "-o, -p and -l before the file, the first of them winning",
    config: "Port 1\nUser file\nConnectTimeout 3\n",
    host: "h",
    args: [
      "-o",
      "Port=10",
      "-p",
      "20",
      "-l",
      "first",
      "-o",
      "User=second",
      "-o",
      "ConnectTimeout 4",
    ],
  },
  {
    name: "-i, -C and -t stand for IdentityFile, Compression and RequestTTY",
    config: "IdentityFile @/from_file\nCompression no\n",
    files: { "key": "" },
    host: "h",
    args: ["-C", "-t", "-i", "@/key"],
    identities: true,
  },
  {
    name: "user@host on the command line after -o",
    config: "Host h\n  User file\n",
    host: "target@h",
  },
  {
    name: "none for IdentityFile and the known_hosts files",
    config: "IdentityFile none\nUserKnownHostsFile none\nGlobalKnownHostsFile none\n",
    host: "h",
    identities: true,
  },
  {
    name: "SendEnv removals and IgnoreUnknown",
    config: "IgnoreUnknown UseKeychain,Foo*\nUseKeychain yes\nFooBar 1\n" +
      "SendEnv LANG LC_* TZ\nSendEnv -LC_*\n",
    host: "h",
  },
];

Deno.test(`sshtrace -G prints what ssh -G prints for ${CASES.length} configurations`, async () => {
  requireTool(SSH);
  await using dir = await tempDir("sshtrace-g-");
  const failures: string[] = [];
  for (const [i, c] of CASES.entries()) {
    const sub = `${dir.path}/${i}`;
    await Deno.mkdir(sub, { recursive: true });
    const fill = (t: string) => t.replaceAll("@", sub);
    for (const [name, text] of Object.entries(c.files ?? {})) {
      const path = `${sub}/${name}`;
      await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      await Deno.writeTextFile(path, fill(text));
    }
    const file = `${sub}/config`;
    await Deno.writeTextFile(file, fill(c.config));
    const args = ["-F", file, ...(c.args ?? []).map(fill), c.host];
    const ours = sshtraceG(args);
    const theirs = await sshG(args);
    assert.equal(theirs.code, 0, `${c.name}: ssh -G failed: ${theirs.err}`);
    assert.equal(ours.code, 0, `${c.name}: sshtrace -G failed: ${ours.err}`);
    const a = parseDump(ours.out);
    const b = parseDump(theirs.out);
    assert.ok(a.size >= 30, `${c.name}: sshtrace printed only ${a.size} keys`);
    const order = [...b.keys()].filter((k) => a.has(k));
    assert.deepEqual([...a.keys()], order, `${c.name}: keys in ssh -G's order`);
    for (const [key, values] of a) {
      if (ALGORITHM_KEYS.includes(key) && !c.algorithms) continue;
      if (key === "identityfile" && !c.identities) continue;
      if (c.skip?.includes(key)) continue;
      const expected = b.get(key);
      if (JSON.stringify(values) !== JSON.stringify(expected)) {
        failures.push(
          `${c.name}: ${key}: sshtrace ${JSON.stringify(values)}, ssh ${JSON.stringify(expected)}`,
        );
      }
    }
    for (const [key, [op, name]] of Object.entries(c.edits ?? {})) {
      for (const [who, list] of [["sshtrace", a.get(key)![0]!], ["ssh", b.get(key)![0]!]]) {
        const names = list!.split(",");
        const ok = op === "+"
          ? names.at(-1) === name
          : op === "^"
          ? names[0] === name
          : !names.includes(name);
        if (!ok) failures.push(`${c.name}: ${who} ${key} ${op}${name}: ${list}`);
      }
    }
  }
  assert.deepEqual(failures, []);
});

/** Broken configurations: ssh refuses each, and sshtrace names the file and line. */
const MALFORMED: [name: string, config: string, line: number][] = [
  ["a port that is not a number", "Host x\n  Port abc\n", 2],
  ["a flag that is not yes/no", "\nCompression maybe\n", 2],
  ["an unclosed quote", 'IdentityFile "unterminated\n', 1],
  ["a keyword without argument", "Host *\n  User\n", 2],
  ["Match without its argument", "Match host\n", 1],
  ["extra arguments", "Port 22 23\n", 1],
  ["Match all combined", "Match all host x\n", 1],
  ["an unknown cipher", "Ciphers nosuch-cipher\n", 1],
  ["a bad time", "ConnectTimeout soon\n", 1],
  ["a bad Match attribute", "Match colour blue\n", 1],
];

Deno.test("malformed configurations: ssh refuses them and sshtrace names file:line", async () => {
  requireTool(SSH);
  await using dir = await tempDir("sshtrace-g-bad-");
  for (const [i, [name, text, line]] of MALFORMED.entries()) {
    const file = `${dir.path}/bad${i}`;
    await Deno.writeTextFile(file, text);
    const theirs = await sshG(["-F", file, "h"]);
    assert.notEqual(theirs.code, 0, `${name}: ssh -G accepted it`);
    const ours = sshtraceG(["-F", file, "h"]);
    assert.equal(ours.code, 2, name);
    assert.ok(ours.err.includes(`${file}:${line}:`), `${name}: ${ours.err}`);
  }
  // An Include loop: ssh stops at its depth limit, sshtrace too.
  const loop = `${dir.path}/loop`;
  await Deno.writeTextFile(loop, `Include ${loop}\n`);
  assert.notEqual((await sshG(["-F", loop, "h"])).code, 0);
  assert.match(sshtraceG(["-F", loop, "h"]).err, /Include nested more than 16 deep/);
});

Deno.test("sshtrace -G from the command line: stdout like ssh -G, -v adds origins, errors exit 2", async () => {
  await using dir = await tempDir("sshtrace-g-cli-");
  const file = `${dir.path}/config`;
  await Deno.writeTextFile(file, "Host sw\n  HostName 10.0.0.9\n  Port 2022\n");
  const r = await runSshtrace(["-G", "-F", file, "sw"], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, sshtraceG(["-F", file, "sw"]).out);
  assert.match(r.stdout, /^hostname 10\.0\.0\.9$/m);
  const v = await runSshtrace(["-G", "-v", "-F", file, "sw"], { timeoutMs: 30_000 });
  assert.match(v.stdout, new RegExp(`^port 2022  # ${file}:3$`, "m"));
  assert.match(v.stderr, new RegExp(`config: ${file}:1: Host sw: matched`));
  await Deno.writeTextFile(file, "Host sw\n  Port x\n");
  const bad = await runSshtrace(["-G", "-F", file, "sw"], { timeoutMs: 30_000 });
  assert.equal(bad.code, 2);
  assert.equal(bad.stdout, "");
  assert.ok(bad.stderr.includes(`${file}:2: Port`), bad.stderr);
});

Deno.test("without -F, ~/.ssh/config and /etc/ssh/ssh_config (with its Include) read as ssh does", async () => {
  requireTool(SSH);
  const args = ["-p", "2022", "somehost.example"];
  const ours = sshtraceG(args);
  const theirs = await sshG(args);
  assert.equal(theirs.code, 0, theirs.err);
  assert.equal(ours.code, 0, ours.err);
  const a = parseDump(ours.out);
  const b = parseDump(theirs.out);
  const differ = [...a].filter(([key, values]) =>
    !ALGORITHM_KEYS.includes(key) && key !== "identityfile" &&
    JSON.stringify(values) !== JSON.stringify(b.get(key))
  );
  assert.deepEqual(differ, []);
});
