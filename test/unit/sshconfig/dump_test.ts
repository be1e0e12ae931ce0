import assert from "node:assert/strict";
import { parseCommandLine } from "../../../lib/cli/args.ts";
import { runConfigDump } from "../../../lib/cli/config.ts";
import { dumpConfig, dumpText } from "../../../lib/sshconfig/dump.ts";
import { resolveConfig } from "../../../lib/sshconfig/resolve.ts";
import { memoryIo } from "../../helpers/sshconfig_io.ts";

const USER = "/home/me/.ssh/config";

/** The -G command `args` parse to. */
function configCommand(args: string[]) {
  const cmd = parseCommandLine(["-G", ...args]);
  if (cmd.name !== "config") throw new Error(`not -G: ${cmd.name}`);
  return cmd;
}

Deno.test("dumpConfig() prints ssh -G's keys, formats and order", () => {
  const io = memoryIo({
    [USER]: [
      "Host sw",
      "  HostName 10.0.0.1",
      "  StrictHostKeyChecking no",
      "  RequestTTY yes",
      "  PubkeyAuthentication no",
      "  EscapeChar ^A",
      "  RekeyLimit 1G 1h",
      "  ConnectTimeout 1m",
      "  SendEnv LANG",
      "  SetEnv A=1",
      "  UserKnownHostsFile ~/kh",
    ].join("\n"),
  });
  const lines = dumpConfig(resolveConfig({ host: "sw" }, io));
  const map = new Map(lines.map((l) => [l.key, l.value]));
  assert.deepEqual(lines.slice(0, 4).map((l) => l.key), ["host", "user", "hostname", "port"]);
  assert.equal(map.get("hostname"), "10.0.0.1");
  assert.equal(map.get("stricthostkeychecking"), "false");
  assert.equal(map.get("requesttty"), "true");
  assert.equal(map.get("pubkeyauthentication"), "false");
  assert.equal(map.get("escapechar"), "\\^A");
  assert.equal(map.get("rekeylimit"), "1073741824 3600");
  assert.equal(map.get("connecttimeout"), "60");
  assert.equal(map.get("userknownhostsfile"), "/home/me/kh");
  assert.equal(map.get("batchmode"), "no");
  const keys = lines.map((l) => l.key);
  assert.ok(keys.indexOf("requiredrsasize") < keys.indexOf("ciphers"));
  assert.ok(keys.indexOf("identityfile") < keys.indexOf("sendenv"));
  assert.ok(keys.indexOf("setenv") < keys.indexOf("rekeylimit"));
  assert.match(
    dumpText(lines, true),
    /^stricthostkeychecking false {2}# \/home\/me\/.ssh\/config:3$/m,
  );
  assert.match(dumpText(lines, false), /^port 22$/m);
});

Deno.test("-G keeps -o, -p and -l in the order given, in every spelling", () => {
  const cmd = parseCommandLine([
    "-G",
    "-oPort=1",
    "-p",
    "2",
    "-vl",
    "bob",
    "--option=User=x",
    "-F",
    "/tmp/c",
    "host",
  ]);
  assert.equal(cmd.name, "config");
  if (cmd.name !== "config") return;
  assert.equal(cmd.target, "host");
  assert.equal(cmd.flags.F, "/tmp/c");
  assert.deepEqual(cmd.order, [
    { kind: "option", value: "Port=1", flag: "-o" },
    { kind: "port", value: "2", flag: "-p" },
    { kind: "user", value: "bob", flag: "-l" },
    { kind: "option", value: "User=x", flag: "-o" },
  ]);
});

Deno.test("-F is read by every command that connects, not only -G", () => {
  for (
    const args of [["-F", "x", "host"], ["probe", "-F", "x", "host"], ["send", "-F", "x", "h", "c"]]
  ) {
    const r = parseCommandLine(args);
    assert.equal((r as { flags: { F?: string } }).flags.F, "x");
  }
  assert.equal(
    (parseCommandLine(["check", "-F", "none", "inv"]) as { flags: { F?: string } }).flags.F,
    "none",
  );
});

Deno.test("runConfigDump() prints the configuration, warnings and with -v the reading", () => {
  const io = memoryIo({ [USER]: "Host h\n  Port 2\n  Bogus x\n  ForwardX11 yes\n" });
  let out = "";
  let err = "";
  const code = runConfigDump(configCommand(["-v", "me@h"]), (t) => out += t, (t) => err += t, io);
  assert.equal(code, 0);
  assert.match(out, /^port 2 {2}# \/home\/me\/.ssh\/config:2$/m);
  assert.match(out, /^user me {2}# command line$/m);
  assert.match(err, /config:3: unknown keyword "Bogus"/);
  assert.match(err, /config:4: ForwardX11 yes: refused/);
  assert.match(err, /config: \/home\/me\/.ssh\/config:1: Host h: matched/);
});

Deno.test("-G prints ProxyJump as ssh -G does; a malformed one is config.invalid at file:line", () => {
  const io = memoryIo({ [USER]: "Host h\n  ProxyJump admin@b:2222,c\n" });
  let out = "";
  runConfigDump(configCommand(["h"]), (t) => out += t, () => {}, io);
  assert.match(out, /^proxyjump admin@b:2222,c$/m);
  const forwards = memoryIo({
    [USER]: "LocalForward 8080 web:80\nLocalForward localhost:2222 [::1]:22\n",
  });
  out = "";
  runConfigDump(configCommand(["h"]), (t) => out += t, () => {}, forwards);
  assert.match(out, /^localforward 8080 \[web\]:80\nlocalforward \[localhost\]:2222 \[::1\]:22$/m);
  const bad = memoryIo({ [USER]: "ProxyJump a,,b\n" });
  assert.throws(
    () => runConfigDump(configCommand(["h"]), () => {}, () => {}, bad),
    (e: Error & { stage?: string }) =>
      e.stage === "config" && /\/home\/me\/.ssh\/config:1: ProxyJump.*empty/.test(e.message),
  );
});

Deno.test("runConfigDump() turns a bad file into a config.invalid error naming file:line (exit 2)", () => {
  const io = memoryIo({ [USER]: "Port x\n" });
  assert.throws(
    () => runConfigDump(configCommand(["h"]), () => {}, () => {}, io),
    (e: Error & { stage?: string; code?: string; exitCode?: number }) =>
      e.stage === "config" && e.code === "config.invalid" && e.exitCode === 2 &&
      /\/home\/me\/.ssh\/config:1: Port/.test(e.message),
  );
});

Deno.test("-G shows sshtrace's own flags as the options they stand for, -i first", () => {
  const io = memoryIo({ [USER]: "IdentityFile ~/file_key\nCompression no\n" });
  let out = "";
  runConfigDump(
    configCommand(["-v", "-C", "-t", "--batch", "-i", "/k/a b", "--ciphers", "aes128-ctr", "h"]),
    (t) => out += t,
    () => {},
    io,
  );
  assert.match(out, /^compression yes {2}# -C$/m);
  assert.match(out, /^requesttty true {2}# -t$/m);
  assert.match(out, /^batchmode yes {2}# --batch$/m);
  assert.match(out, /^ciphers aes128-ctr {2}# --ciphers$/m);
  assert.match(out, /^identityfile \/k\/a b {2}# -i\nidentityfile ~\/file_key {2}# /m);
});

Deno.test("-G --json prints the configuration with origins and the reading as one object", () => {
  const io = memoryIo({ [USER]: "Host h\n  Port 2\n  ForwardX11 yes\n" });
  let out = "";
  runConfigDump(configCommand(["--json", "h"]), (t) => out += t, () => {}, io);
  const report = JSON.parse(out);
  assert.equal(report.host, "h");
  assert.deepEqual(report.config[3], { key: "port", value: "2", origin: `${USER}:2` });
  assert.equal(report.blocks[0].matched, true);
  assert.equal(report.refusals[0].keyword, "ForwardX11");
  assert.equal(report.refusals[0].origin, `${USER}:3`);
});

Deno.test("runConfigDump() names the refusals a connection would stop on, values not acted on too", () => {
  const io = memoryIo({ [USER]: "Host h\n  ControlMaster yes\n" });
  let err = "";
  runConfigDump(configCommand(["h"]), () => {}, (t) => err += t, io);
  assert.match(err, /config:2: ControlMaster yes: refused \(/);
});
