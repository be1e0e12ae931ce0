/**
 * The command line parser (`parseCommandLine` in lib/cli/args.ts, on lib/cli/parse_argv.ts):
 * commands, ssh-style connect arguments, flag keys and defaults, the order of -o/-p/-l, help,
 * version and usage errors, odd and hostile words. Pure: no network; the last tests run the CLI
 * as a subprocess for what only main() does.
 */

import assert from "node:assert/strict";
import {
  type CheckCliFlags,
  type ConnectCliFlags,
  type DoctorCliFlags,
  type LabCliFlags,
  parseCommandLine,
  type ParsedCommand,
  type ProbeFlags,
  type SendCliFlags,
} from "../../../lib/cli/args.ts";
import { COMMANDS } from "../../../lib/cli/commands.ts";
import { settingsFor } from "../../../lib/cli/settings.ts";
import { memoryIo } from "../../helpers/sshconfig_io.ts";
import { SshError } from "../../../lib/errors/mod.ts";
import { SSHTRACE_VERSION } from "../../../lib/about.ts";
import { runSshtrace } from "../../helpers/cli.ts";

/** The parse of `args`, which must be `name`. */
function parsed<N extends ParsedCommand["name"]>(
  name: N,
  args: string[],
): Extract<ParsedCommand, { name: N }> {
  const r = parseCommandLine(args);
  assert.equal(r.name, name, `${JSON.stringify(args)} parsed as ${JSON.stringify(r)}`);
  return r as Extract<ParsedCommand, { name: N }>;
}

/** Asserts `args` is a usage error (SshError, exit 2) whose message matches `pattern`. */
function assertUsage(args: string[], pattern: RegExp): void {
  assert.throws(() => parseCommandLine(args), (e: unknown) => {
    assert.ok(e instanceof SshError, `expected SshError, got ${e}`);
    assert.equal(e.stage, "usage");
    assert.equal(e.code, "usage.invalid");
    assert.equal(e.exitCode, 2);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes("\n"), `one line: ${JSON.stringify(e.message)}`);
    return true;
  });
}

const COMMON_DEFAULTS = { option: [], timeout: "10", verbose: 0 };

// ---------------------------------------------------------------------------------------------
// connect: the default command, ssh-style

Deno.test("options before the target, repeatable -i/-o, counted -vv, and the remote command", () => {
  const r = parsed("connect", [
    "-p",
    "2222",
    "-i",
    "k1",
    "-i",
    "k2",
    "-vv",
    "-o",
    "X",
    "user@host",
    "ls",
    "-la",
  ]);
  assert.equal(r.target, "user@host");
  assert.deepEqual(r.command, ["ls", "-la"]);
  assert.deepEqual(r.flags, {
    port: "2222",
    identity: ["k1", "k2"],
    L: [],
    R: [],
    D: [],
    verbose: 2,
    option: ["X"],
    timeout: "10",
  });
});

Deno.test("options may follow the host; the first plain word starts the command", () => {
  const r = parsed("connect", ["user@host", "-p", "2222", "ls", "-la"]);
  assert.equal(r.target, "user@host");
  assert.deepEqual(r.command, ["ls", "-la"]);
  assert.equal(r.flags.port, "2222");
  // After the command starts, option-like words belong to it.
  const later = parsed("connect", ["host", "-v", "ls", "-v", "-p", "1"]);
  assert.deepEqual(later.command, ["ls", "-v", "-p", "1"]);
  assert.equal(later.flags.verbose, 1);
  assert.equal(later.flags.port, undefined);
});

Deno.test("-p2222, --port=2222 and -vp 2222 give the port", () => {
  for (
    const args of [
      ["-p2222", "host"],
      ["--port=2222", "host"],
      ["host", "--port=2222"],
      ["host", "-p2222"],
      ["-vp", "2222", "host"],
      ["host", "-vp", "2222"],
    ]
  ) {
    const r = parsed("connect", args);
    assert.equal(r.target, "host", JSON.stringify(args));
    assert.equal(r.flags.port, "2222", JSON.stringify(args));
    assert.deepEqual(r.command, []);
  }
});

Deno.test("-- ends the options: the rest is the command, even words starting with -", () => {
  const r = parsed("connect", ["host", "--", "ls", "-la"]);
  assert.equal(r.target, "host");
  assert.deepEqual(r.command, ["ls", "-la"]);
  assert.deepEqual(r.flags, { ...COMMON_DEFAULTS, identity: [], L: [], R: [], D: [] });
  const before = parsed("connect", ["-v", "--", "host", "-x"]);
  assert.equal(before.target, "host");
  assert.deepEqual(before.command, ["-x"]);
  assert.equal(before.flags.verbose, 1);
  assert.deepEqual(parsed("connect", ["host", "-q", "--", "--", "-q"]).command, ["--", "-q"]);
});

Deno.test("a value starting with - is still the option's value (--kex -x, -l -h)", () => {
  const r = parsed("connect", ["host", "--kex", "-x", "-l", "-h", "ls"]);
  assert.equal(r.flags.kex, "-x");
  assert.equal(r.flags.login, "-h");
  assert.deepEqual(r.command, ["ls"]);
  assert.equal(
    parsed("probe", ["probe", "--ciphers", "-blowfish", "h"]).flags.ciphers,
    "-blowfish",
  );
  assert.equal(parsed("connect", ["-l", "", "host"]).flags.login, "");
});

Deno.test("an explicit connect parses like the default command", () => {
  const r = parsed("connect", ["connect", "-p", "1", "host", "-v", "ls", "-v"]);
  assert.equal(r.target, "host");
  assert.deepEqual(r.command, ["ls", "-v"]);
  assert.deepEqual(r.flags, {
    ...COMMON_DEFAULTS,
    verbose: 1,
    port: "1",
    identity: [],
    L: [],
    R: [],
    D: [],
  });
  // A word that is not a command name is the target.
  assert.equal(parsed("connect", ["--json", "probe"]).target, "probe");
});

Deno.test("connect switches: -C -t -T --batch and the credential flags", () => {
  const r = parsed("connect", ["-C", "-t", "host"]);
  assert.deepEqual(r.flags, {
    ...COMMON_DEFAULTS,
    identity: [],
    L: [],
    R: [],
    D: [],
    C: true,
    t: true,
  });
  assert.deepEqual(parsed("connect", ["-Ct", "host"]).flags, r.flags);
  assert.deepEqual(parsed("connect", ["-T", "host", "cmd"]).flags.T, true);
  const creds = parsed("connect", [
    "--batch",
    "--password-env",
    "PW",
    "--password-file",
    "f",
    "--passphrase-env",
    "E",
    "--passphrase-file",
    "g",
    "--rekey-limit",
    "1G",
    "host",
  ]);
  assert.deepEqual(creds.flags, {
    ...COMMON_DEFAULTS,
    identity: [],
    L: [],
    R: [],
    D: [],
    batch: true,
    passwordEnv: "PW",
    passwordFile: "f",
    passphraseEnv: "E",
    passphraseFile: "g",
    rekeyLimit: "1G",
  });
});

Deno.test("every common flag gets its commander key", () => {
  const r = parsed("connect", [
    "--kex",
    "+a",
    "--hostkeys",
    "-b",
    "--ciphers",
    "^c",
    "--macs",
    "d",
    "--legacy",
    "--timeout",
    "3",
    "--json",
    "--ndjson",
    "-q",
    "-l",
    "u",
    "--verbose",
    "-v",
    "host",
  ]);
  assert.deepEqual(r.flags, {
    option: [],
    identity: [],
    L: [],
    R: [],
    D: [],
    timeout: "3",
    verbose: 2,
    kex: "+a",
    hostkeys: "-b",
    ciphers: "^c",
    macs: "d",
    legacy: true,
    json: true,
    ndjson: true,
    quiet: true,
    login: "u",
  });
});

// ---------------------------------------------------------------------------------------------
// The other commands

Deno.test("probe host --json: options anywhere, defaults filled in", () => {
  for (const args of [["probe", "host", "--json"], ["probe", "--json", "host"]]) {
    const r = parsed("probe", args);
    assert.equal(r.target, "host");
    assert.deepEqual(r.flags, { ...COMMON_DEFAULTS, json: true });
  }
  assert.equal(parsed("probe", ["probe", "-v", "-v", "host"]).flags.verbose, 2);
  assert.equal(parsed("probe", ["probe", "-vv", "host", "-q"]).flags.quiet, true);
});

Deno.test("send host --device comware -- commands", () => {
  const r = parsed("send", [
    "send",
    "host",
    "--device",
    "comware",
    "--",
    "display version",
    "display clock",
  ]);
  assert.equal(r.target, "host");
  assert.deepEqual(r.commands, ["display version", "display clock"]);
  assert.deepEqual(r.flags, { ...COMMON_DEFAULTS, identity: [], answer: [], device: "comware" });
  const more = parsed("send", [
    "send",
    "--prompt",
    "x>",
    "h",
    "--command-timeout",
    "5",
    "--encoding",
    "gbk",
    "--batch",
    "--enable",
    "--enable-secret-env",
    "EN",
    "--answer",
    "a=b",
    "--answer",
    "c=d",
    "--",
    "a",
  ]);
  assert.deepEqual(more.flags, {
    ...COMMON_DEFAULTS,
    identity: [],
    answer: ["a=b", "c=d"],
    device: "auto",
    prompt: "x>",
    commandTimeout: "5",
    encoding: "gbk",
    batch: true,
    enable: true,
    enableSecretEnv: "EN",
  });
});

Deno.test("check inv.txt --login --command uptime --concurrency 5", () => {
  const r = parsed("check", [
    "check",
    "inv.txt",
    "--login",
    "--command",
    "uptime",
    "--concurrency",
    "5",
  ]);
  assert.equal(r.inventory, "inv.txt");
  assert.deepEqual(r.flags, {
    ...COMMON_DEFAULTS,
    identity: [],
    login: true,
    command: "uptime",
    concurrency: "5",
  });
  assert.equal(parsed("check", ["check", "-"]).inventory, "-");
  assert.equal(parsed("check", ["check", "i", "--junit", "j.xml"]).flags.junit, "j.xml");
  // check's --login is a switch: no -l, and settingsFor() does not take it for a user name.
  assertUsage(["check", "inv", "-l", "bob"], /unknown option '-l'/);
  assert.equal(
    settingsFor({ target: "h", flags: r.flags, order: r.order }, memoryIo({})).settings.user,
    undefined,
  );
});

Deno.test("lab --profile old-switch --once, and lab's own defaults", () => {
  assert.deepEqual(parsed("lab", ["lab", "--profile", "old-switch", "--once"]).flags, {
    profile: "old-switch",
    once: true,
  });
  assert.deepEqual(parsed("lab", ["lab"]).flags, { profile: "modern" });
  assert.deepEqual(parsed("lab", ["lab", "-q", "--port", "0"]).flags, {
    profile: "modern",
    quiet: true,
    port: "0",
  });
  // lab has none of the common options.
  assertUsage(["lab", "-p", "1"], /unknown option '-p'/);
});

Deno.test("defaults: timeout 10, option [], identity [], verbose 0, nothing else", () => {
  assert.deepEqual(parsed("connect", ["host"]).flags, {
    ...COMMON_DEFAULTS,
    identity: [],
    L: [],
    R: [],
    D: [],
  });
  assert.deepEqual(parsed("probe", ["probe", "host"]).flags, COMMON_DEFAULTS);
  assert.deepEqual(parsed("send", ["send", "h", "c"]).flags, {
    ...COMMON_DEFAULTS,
    identity: [],
    answer: [],
    device: "auto",
  });
  assert.deepEqual(parsed("check", ["check", "i"]).flags, { ...COMMON_DEFAULTS, identity: [] });
});

Deno.test("settingsFor() reads the parsed flags as ssh(1) does: the first value given wins", () => {
  const io = memoryIo({});
  const r = parsed("connect", ["-o", "Port=2200", "-p", "2222", "-l", "bob", "host"]);
  const s = settingsFor(r, io).settings;
  assert.equal(s.port, 2200);
  assert.equal(s.user, "bob");
  const p = parsed("connect", ["-p", "2222", "-o", "Port=2200", "host"]);
  assert.equal(settingsFor(p, io).settings.port, 2222);
  // A dedicated flag comes before -o, as with ssh -c and -o Ciphers.
  const k = parsed("connect", [
    "-o",
    "KexAlgorithms=ecdh-sha2-nistp256",
    "--kex",
    "curve25519-sha256",
    "host",
  ]);
  assert.deepEqual(settingsFor(k, io).settings.algorithms.kex, ["curve25519-sha256"]);
});

// ---------------------------------------------------------------------------------------------
// Usage errors

Deno.test("an unknown option is a usage error naming it, with a suggestion when close", () => {
  assertUsage(["probe", "--bogus", "127.0.0.1"], /^unknown option '--bogus'$/);
  assertUsage(["--bogus", "host"], /^unknown option '--bogus'$/);
  assertUsage(["host", "--bogus", "ls"], /^unknown option '--bogus'$/);
  assertUsage(["host", "-Z"], /^unknown option '-Z'$/);
  assertUsage(["probe", "-vZ", "h"], /^unknown option '-Z'$/);
  assertUsage(["probe", "--jsn", "h"], /unknown option '--jsn' \(Did you mean --json\?\)/);
  // -C, -t and -T have no long form; -V belongs to the program, not to a command.
  assertUsage(["--C", "host"], /unknown option '--C'/);
  assertUsage(["probe", "-C", "h"], /unknown option '-C'/);
  assertUsage(["probe", "-V"], /unknown option '-V'/);
  assertUsage(["probe", "--json=1", "h"], /option '--json' does not take a value/);
  assertUsage(["host", "--verbose=2"], /option '--verbose' does not take a value/);
});

Deno.test("a missing option value is a usage error naming the option", () => {
  assertUsage(["-p"], /^option '-p, --port <port>' argument missing$/);
  assertUsage(["host", "-p"], /^option '-p, --port <port>' argument missing$/);
  assertUsage(["probe", "--port"], /option '-p, --port <port>' argument missing/);
  assertUsage(["probe", "h", "-vo"], /option '-o, --option <Key=Value>' argument missing/);
  assertUsage(["send", "h", "--device"], /option '--device <name>' argument missing/);
});

Deno.test("a missing or extra argument is a usage error naming it", () => {
  assertUsage([], /^missing required argument 'target'$/);
  assertUsage(["-v"], /missing required argument 'target'/);
  assertUsage(["connect"], /missing required argument 'target'/);
  assertUsage(["probe"], /missing required argument 'target'/);
  assertUsage(["probe", "--json"], /missing required argument 'target'/);
  assertUsage(["send", "host"], /missing required argument 'commands'/);
  assertUsage(["check"], /missing required argument 'inventory'/);
  assertUsage(["probe", "a", "b"], /too many arguments for 'probe'.*got 2: a, b/);
  assertUsage(["check", "a", "b"], /too many arguments for 'check'/);
  assertUsage(["lab", "extra"], /too many arguments for 'lab'. Expected 0 arguments/);
  assertUsage(["help", "bogus"], /unknown command 'bogus'/);
});

Deno.test("an empty value is a value: -F '', -L '', -l '', --port=", () => {
  const r = parsed("connect", ["-F", "", "-L", "", "-J", "", "-l", "", "h"]);
  assert.equal(r.flags.F, "");
  assert.deepEqual(r.flags.L, [""]);
  assert.equal(r.flags.J, "");
  assert.equal(r.flags.login, "");
  assert.equal(parsed("probe", ["probe", "--port=", "h"]).flags.port, "");
  assert.equal(parsed("probe", ["probe", "--kex", "", "h"]).flags.kex, "");
});

Deno.test("a value is the next word whatever it is: --, -h, --json", () => {
  assert.equal(parsed("connect", ["-p", "--", "h"]).flags.port, "--");
  assert.equal(parsed("connect", ["--kex", "--json", "h"]).flags.kex, "--json");
  assert.equal(parsed("connect", ["-l", "--help", "h"]).flags.login, "--help");
  assert.equal(parsed("connect", ["-p", "-V", "h"]).flags.port, "-V");
  assert.equal(parsed("probe", ["probe", "-p-1", "h"]).flags.port, "-1");
  assert.equal(parsed("probe", ["probe", "-p=2", "h"]).flags.port, "=2");
  assert.equal(parsed("probe", ["probe", "--port==2", "h"]).flags.port, "=2");
});

Deno.test("repeats: the last value of a single option wins; counts add every form", () => {
  const r = parsed("probe", [
    "probe",
    "-p",
    "1",
    "--port=2",
    "-p3",
    "-vvv",
    "--verbose",
    "h",
    "-v",
  ]);
  assert.equal(r.flags.port, "3");
  assert.equal(r.flags.verbose, 5);
  assert.deepEqual(
    parsed("connect", ["-oA=1", "-o", "B=2", "--option=C=3", "--option", "D=4", "h"]).flags.option,
    ["A=1", "B=2", "C=3", "D=4"],
  );
  assert.equal(parsed("connect", ["-C", "-C", "h"]).flags.C, true);
  assert.equal(parsed("connect", ["-N", "h"]).flags.N, true);
});

Deno.test("an option without a long name has no --form: --C, --F=x, --F x", () => {
  assertUsage(["--C=1", "h"], /^unknown option '--C'$/);
  assertUsage(["--F=x", "h"], /^unknown option '--F'$/);
  assertUsage(["--F", "x", "h"], /^unknown option '--F'$/);
  assertUsage(["probe", "--J=j", "h"], /^unknown option '--J'$/);
});

Deno.test("odd words: -, --, ---x, --=x, -=, a dash inside a group, unicode, control characters", () => {
  assert.equal(parsed("check", ["check", "-"]).inventory, "-");
  assert.deepEqual(parsed("connect", ["h", "-"]).command, ["-"]);
  assert.deepEqual(parsed("connect", ["h", ""]).command, [""]);
  assert.equal(parsed("connect", [""]).target, "");
  assertUsage(["---x", "h"], /^unknown option '---x'$/);
  assertUsage(["probe", "---json", "h"], /^unknown option '---json' \(Did you mean --json\?\)$/);
  assertUsage(["--=x", "h"], /^unknown option '--=x'$/);
  assertUsage(["--=", "h"], /^unknown option '--='$/);
  assertUsage(["-=", "h"], /^unknown option '-='$/);
  assertUsage(["-C=1", "h"], /^unknown option '-='$/);
  // parseArgs took `-v-` for `-v --`.
  assertUsage(["-v-", "h"], /^unknown option '-' in '-v-'$/);
  assertUsage(["get", "-p-1", "h:f"], /^unknown option '-' in '-p-1'$/);
  assertUsage(["-😀", "h"], /^unknown option '-😀'$/);
  assertUsage(["probe", "-v😀", "h"], /^unknown option '-😀'$/);
  assertUsage(["--émoji=😀", "h"], /^unknown option '--émoji'$/);
  assert.equal(parsed("connect", ["-l", "ünï😀", "hôst"]).flags.login, "ünï😀");
  // deno-lint-ignore no-control-regex -- the NUL the option holds is what is checked
  assertUsage(["-\u0000", "h"], /^unknown option '-\u0000'$/);
  assert.equal(parsed("connect", ["h\u001b[31m"]).target, "h\u001b[31m");
});

Deno.test("hostile sizes: a 1 MB option name or value, 200 000 words", () => {
  const long = "x".repeat(1_000_000);
  const started = performance.now();
  assertUsage(["probe", `--${long}`, "h"], /^unknown option '--x+'$/);
  assertUsage(["probe", `--jsonx${long}`, "h"], /^unknown option '--jsonx+'$/);
  assert.equal(parsed("probe", ["probe", "--kex", long, "h"]).flags.kex, long);
  const words = Array.from({ length: 200_000 }, (_, i) => (i % 2 ? "-v" : "w"));
  assert.equal(parsed("connect", ["h", "c", ...words]).command.length, 200_001);
  assert.equal(parsed("connect", ["h", "--", ...words]).command.length, 200_000);
  assert.equal(parsed("connect", ["-v", ...words.slice(0, 1), "--", ...words]).flags.verbose, 1);
  assertUsage(["probe", ...words], /^too many arguments for 'probe'/);
  assert.equal(parsed("probe", ["probe", `-${"v".repeat(100_000)}`, "h"]).flags.verbose, 100_000);
  // No quadratic work anywhere: the suggestion skips names of a very different length.
  assert.ok(performance.now() - started < 5_000, `${performance.now() - started} ms`);
});

Deno.test("help asked for anywhere among the options wins over other mistakes, not over a missing value", () => {
  const probeHelp = parseCommandLine(["help", "probe"]);
  for (
    const args of [
      ["probe", "--bogus", "-h"],
      ["probe", "-h", "--bogus"],
      ["probe", "--bogus", "-vh"],
      ["probe", "--json=1", "--help"],
      ["probe", "-hZ"],
    ]
  ) {
    assert.deepEqual(parseCommandLine(args), probeHelp, JSON.stringify(args));
  }
  assertUsage(["probe", "-h", "-p"], /^option '-p, --port <port>' argument missing$/);
  assertUsage(["probe", "-hp"], /^option '-p, --port <port>' argument missing$/);
  // After --, or as a value, -h is no request for help.
  assertUsage(["probe", "--bogus", "--", "-h"], /^unknown option '--bogus'$/);
  assert.equal(parsed("probe", ["probe", "-l", "-h", "h"]).flags.login, "-h");
  assert.deepEqual(parsed("connect", ["h", "ls", "-h"]).command, ["ls", "-h"]);
  // -V is the program's: after a command word it is unknown; help wins over version.
  assert.equal(parseCommandLine(["-Vh"]).name, "help");
  assert.equal(parseCommandLine(["-hV"]).name, "help");
  assertUsage(["-V", "--bogus"], /^unknown option '--bogus'$/);
});

Deno.test("the order of -o, -p and -l in every form, for ssh_config's first-value rule", () => {
  const r = parsed("connect", [
    "-l",
    "a",
    "-p1",
    "-vo",
    "Port=3",
    "--login=b",
    "--port",
    "4",
    "h",
    "--option=User=c",
    "-vlx",
    "-q",
    "ls",
    "-p",
    "9",
  ]);
  assert.deepEqual(r.order, [
    { kind: "user", value: "a", flag: "-l" },
    { kind: "port", value: "1", flag: "-p" },
    { kind: "option", value: "Port=3", flag: "-o" },
    { kind: "user", value: "b", flag: "-l" },
    { kind: "port", value: "4", flag: "-p" },
    { kind: "option", value: "User=c", flag: "-o" },
    { kind: "user", value: "x", flag: "-l" },
  ]);
  // get/put: -P is the port (every form), -p a switch; check's --login is a switch.
  for (const args of [["-P", "2"], ["-P2"], ["--port", "2"], ["--port=2"], ["-rP2"]]) {
    const g = parseCommandLine(["get", "-p", ...args, "h:f"]);
    assert.ok(g.name === "get", JSON.stringify(g));
    assert.deepEqual(g.order, [{ kind: "port", value: "2", flag: "-P" }], JSON.stringify(args));
    assert.equal(g.flags.port, "2");
  }
  assert.deepEqual(parsed("check", ["check", "--login", "-o", "X=1", "i"]).order, [
    { kind: "option", value: "X=1", flag: "-o" },
  ]);
  assert.deepEqual(parsed("lab", ["lab", "--port", "1"]), {
    name: "lab",
    flags: { profile: "modern", port: "1" },
  });
});

// ---------------------------------------------------------------------------------------------
// Help and version

Deno.test("--help, -h and help give the program's help: commands and common options", () => {
  for (const args of [["--help"], ["-h"], ["help"], ["host", "-h"], ["-v", "host", "--help"]]) {
    const r = parseCommandLine(args);
    assert.equal(r.name, "help", JSON.stringify(args));
    assert.ok(r.name === "help");
    assert.match(r.text, /^Usage: sshtrace /);
    for (const c of ["probe", "connect", "send", "check", "lab"]) {
      assert.match(r.text, new RegExp(`^  ${c} .*\\S`, "m"), `command ${c} listed`);
    }
    assert.match(r.text, /^ {2}-p, --port <port> +port to connect to/m);
    assert.match(r.text, /^ {2}-V, --version +output the version number/m);
  }
});

Deno.test("<command> --help lists that command's arguments and options, aligned", () => {
  const connect = parseCommandLine(["connect", "--help"]);
  assert.ok(connect.name === "help");
  assert.match(connect.text, /^Usage: sshtrace \[connect\] \[options\] <target> \[command\.\.\.\]/);
  assert.match(connect.text, /^ {2}-i, --identity <file> +private key file \(repeatable\)$/m);
  assert.match(connect.text, /^ {2}-C +request compression/m);
  assert.match(connect.text, /^ {2}--rekey-limit <size> +rekey after/m);
  const probe = parseCommandLine(["help", "probe"]);
  assert.ok(probe.name === "help");
  assert.match(probe.text, /^Usage: sshtrace probe \[options\] <target>$/m);
  assert.doesNotMatch(probe.text, /--identity/);
  // Help wins over other mistakes on the line.
  assert.deepEqual(parseCommandLine(["probe", "--bogus", "-h"]), probe);
  const send = parseCommandLine(["send", "-h"]);
  assert.ok(send.name === "help");
  assert.match(send.text, /--device <name> +comware, .* \(default\s+auto\)/s);
  const lab = parseCommandLine(["lab", "--help"]);
  assert.ok(lab.name === "help");
  assert.match(lab.text, /--profile <name> +modern, old-switch.*\(default\s+modern\)/s);
  // Descriptions start in one column, and no line is wider than 80.
  for (const page of [connect.text, probe.text, send.text, lab.text]) {
    const options = page.split("\n").filter((l) => /^ {2}-/.test(l));
    const columns = new Set(options.map((l) => /^ {2}\S.*?\s{2,}(?=\S)/.exec(l)![0].length));
    assert.equal(columns.size, 1, page);
    for (const l of page.split("\n")) assert.ok(l.length <= 80, `too wide: ${l}`);
  }
});

Deno.test("-V and --version give the version", () => {
  for (const args of [["-V"], ["--version"], ["host", "-V"]]) {
    assert.deepEqual(parseCommandLine(args), { name: "version", text: `${SSHTRACE_VERSION}\n` });
  }
});

// ---------------------------------------------------------------------------------------------
// The flag types follow the option tables and fit the run* functions' flag types.

type Equal<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const COMMON_KEYS = [
  "port",
  "login",
  "option",
  "kex",
  "hostkeys",
  "ciphers",
  "macs",
  "legacy",
  "timeout",
  "json",
  "ndjson",
  "verbose",
  "quiet",
  "F",
] as const;
type Common = (typeof COMMON_KEYS)[number];
type Secrets = "identity" | "passwordEnv" | "passwordFile" | "passphraseEnv" | "passphraseFile";

Deno.test("the flag types have exactly commander's keys", () => {
  const checks: true[] = [
    true satisfies Equal<
      keyof ProbeFlags,
      Common | "J" | "deep" | "policy" | "makePolicy" | "junit"
    >,
    true satisfies Equal<
      keyof ConnectCliFlags,
      | Common
      | Secrets
      | "C"
      | "t"
      | "T"
      | "s"
      | "rekeyLimit"
      | "batch"
      | "L"
      | "R"
      | "D"
      | "A"
      | "g"
      | "N"
      | "W"
      | "J"
      | "G"
      | "F"
      | "4"
      | "6"
      | "b"
      | "e"
      | "E"
      | "n"
    >,
    true satisfies Equal<
      keyof SendCliFlags,
      | Common
      | Secrets
      | "device"
      | "prompt"
      | "commandTimeout"
      | "maxOutput"
      | "encoding"
      | "batch"
      | "enable"
      | "enableLevel"
      | "enableSecretEnv"
      | "enableSecretFile"
      | "answer"
      | "config"
      | "save"
      | "log"
    >,
    true satisfies Equal<
      keyof CheckCliFlags,
      | Common
      | Secrets
      | "concurrency"
      | "command"
      | "junit"
      | "jump"
      | "fetch"
      | "dest"
      | "fsync"
      | "log"
      | "policy"
      | "drift"
      | "deep"
    >,
    true satisfies Equal<keyof LabCliFlags, "port" | "profile" | "once" | "quiet">,
    true satisfies Equal<
      keyof DoctorCliFlags,
      Common | Secrets | "goal" | "writeConfig" | "alias" | "pacing" | "batch" | "J"
    >,
    true satisfies Equal<ConnectCliFlags["verbose"], number>,
    true satisfies Equal<SendCliFlags["device"], string>,
    true satisfies Equal<CheckCliFlags["login"], true | undefined>,
  ];
  assert.equal(checks.length, 9);
  assert.equal(new Set(COMMON_KEYS).size, 14);
});

// ---------------------------------------------------------------------------------------------
// Through main(): output channels and exit codes

Deno.test("sshtrace --help prints on stdout and exits 0; --version prints the version", async () => {
  const help = await runSshtrace(["--help"], { timeoutMs: 30_000 });
  assert.equal(help.code, 0, help.stderr);
  assert.equal(help.stderr, "");
  assert.match(help.stdout, /^Commands:$/m);
  const version = await runSshtrace(["-V"], { timeoutMs: 30_000 });
  assert.equal(version.code, 0, version.stderr);
  assert.equal(version.stdout, `${SSHTRACE_VERSION}\n`);
});

Deno.test("a usage error with --json: one line on stderr, exit 2, a JSON report on stdout", async () => {
  const res = await runSshtrace(["--json", "--bogus", "host"], { timeoutMs: 30_000 });
  assert.equal(res.code, 2, res.stderr);
  assert.equal(
    res.stderr,
    "sshtrace: unknown option '--bogus' (run sshtrace --help for usage)\n",
  );
  const report = JSON.parse(res.stdout);
  assert.equal(report.ok, false);
  assert.equal(report.exitCode, 2);
  assert.equal(report.failedStage, "usage");
  assert.equal(report.error.code, "usage.invalid");
  assert.match(report.error.message, /unknown option '--bogus'/);
});

Deno.test("no command's option table lists an option twice (its help would show it twice)", () => {
  for (const [name, spec] of Object.entries(COMMANDS)) {
    const seen = new Set<string>();
    for (const o of spec.options as readonly { short?: string; long?: string }[]) {
      for (const key of [o.short && `-${o.short}`, o.long && `--${o.long}`]) {
        if (!key) continue;
        assert.ok(!seen.has(key), `${name} lists ${key} twice`);
        seen.add(key);
      }
    }
  }
});
