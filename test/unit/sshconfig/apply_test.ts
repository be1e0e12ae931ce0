import assert from "node:assert/strict";
import {
  configRefusals,
  copyConfig,
  refusalError,
  sessionEnvironment,
  settingsFromConfig,
  traceConfig,
} from "../../../lib/sshconfig/apply.ts";
import { resolveConfig } from "../../../lib/sshconfig/resolve.ts";
import { Tracer } from "../../../lib/trace.ts";
import { memoryIo } from "../../helpers/sshconfig_io.ts";

const USER = "/home/me/.ssh/config";
const SYSTEM = "/etc/ssh/ssh_config";

const resolve = (files: Record<string, string>, host: string, options: string[] = []) =>
  resolveConfig(
    { host, commandLine: options.map((text) => ({ kind: "option" as const, text })) },
    memoryIo(files),
  );

Deno.test("settingsFromConfig() takes an alias's HostName, Port, User and IdentityFile list", () => {
  const config = resolve({
    [USER]: "Host sw1\n  HostName 10.0.0.1\n  Port 2222\n  User admin\n" +
      "  IdentityFile ~/.ssh/sw_key\n  IdentityFile %d/.ssh/other_%r\n  IdentitiesOnly yes\n",
  }, "sw1");
  const s = settingsFromConfig(config);
  assert.equal(s.hostname, "10.0.0.1");
  assert.equal(s.port, 2222);
  assert.equal(s.user, "admin");
  assert.deepEqual(s.identityFiles, ["/home/me/.ssh/sw_key", "/home/me/.ssh/other_admin"]);
  assert.equal(s.identitiesOnly, true);
});

Deno.test("settingsFromConfig() leaves defaults out, so a run without a configuration is unchanged", () => {
  const s = settingsFromConfig(resolve({}, "host"));
  assert.deepEqual(s, { identityFiles: [], algorithms: {} });
});

Deno.test("settingsFromConfig() applies algorithm edits for one Host only", () => {
  const files = { [USER]: "Host old-*\n  KexAlgorithms +diffie-hellman-group14-sha1\n" };
  const old = settingsFromConfig(resolve(files, "old-sw"));
  assert.match(old.algorithms.kex![0]!, /,diffie-hellman-group14-sha1$/);
  assert.equal(settingsFromConfig(resolve(files, "new-sw")).algorithms.kex, undefined);
});

Deno.test("settingsFromConfig() maps the yes/no and choice keywords", () => {
  const s = settingsFromConfig(resolve({
    [USER]: "PasswordAuthentication no\nKbdInteractiveAuthentication no\nRequestTTY force\n" +
      "StrictHostKeyChecking no\nLogLevel debug2\nEscapeChar none\nIdentityAgent none\n" +
      "HashKnownHosts yes\nSendEnv LANG LC_*\nSetEnv A=1\nCompression yes\nBatchMode yes\n" +
      "ServerAliveInterval 15\nRekeyLimit 1G\nUserKnownHostsFile /k1 /k2\n",
  }, "h"));
  assert.deepEqual(s.disabledMethods, ["keyboard-interactive", "password"]);
  assert.equal(s.requestTty, "force");
  assert.equal(s.strictHostKeyChecking, "no");
  assert.equal(s.logLevel, "DEBUG2");
  assert.equal(s.escapeChar, "none");
  assert.equal(s.identityAgent, "none");
  assert.equal(s.hashKnownHosts, true);
  assert.deepEqual(s.sendEnv, ["LANG", "LC_*"]);
  assert.deepEqual(s.setEnv, ["A=1"]);
  assert.deepEqual(s.algorithms.compression, ["^zlib@openssh.com,zlib"]);
  assert.equal(s.batchMode, true);
  assert.equal(s.serverAliveInterval, 15);
  assert.equal(s.rekeyLimit, 1024 ** 3);
  assert.equal(s.userKnownHostsFile, "/k1");
  assert.deepEqual(s.globalKnownHostsFiles, [
    "/k2",
    "/etc/ssh/ssh_known_hosts",
    "/etc/ssh/ssh_known_hosts2",
  ]);
});

Deno.test("configRefusals() names refused keywords and values sshtrace does not act on, with file:line", () => {
  const config = resolve({
    [USER]: "Host h\n  ForwardX11 yes\n  ControlMaster yes\n  ForwardX11Trusted no\n",
  }, "h");
  const refusals = configRefusals(config);
  assert.deepEqual(refusals.map((r) => [r.keyword, r.value]), [
    ["ForwardX11", "yes"],
    ["ControlMaster", "yes"],
  ]);
  const e = refusalError(refusals);
  assert.equal(e.code, "config.refused");
  assert.equal(e.stage, "config");
  assert.equal(e.exitCode, 2);
  assert.match(e.message, /^\/home\/me\/\.ssh\/config:2: ForwardX11 yes: not supported/);
  assert.deepEqual(e.details.others, ["/home/me/.ssh/config:3: ControlMaster"]);
  // -o is refused the same way, and Debian's defaults are not.
  assert.equal(configRefusals(resolve({}, "h", ["ForwardX11=yes"]))[0]?.keyword, "ForwardX11");
  assert.deepEqual(
    configRefusals(resolve({
      [SYSTEM]: "Host *\n  SendEnv LANG LC_*\n  HashKnownHosts yes\n  GSSAPIAuthentication yes\n",
    }, "h")),
    [],
  );
});

Deno.test("copyConfig(): a copy does not use, nor refuse, what scp and sftp override; the rest still stops it", () => {
  const config = resolve({
    [USER]: "Host h\n  ForwardX11 yes\n  ControlMaster auto\n  ControlPersist 10m\n" +
      "  RemoteCommand top\n  LocalForward 8080 web:80\n  ForwardAgent yes\n" +
      "  AddKeysToAgent yes\n  ControlPath ~/.ssh/cm-%r@%h:%p\n",
  }, "h");
  const { refusals, unused } = copyConfig(config);
  // scp/sftp's ControlMaster=no still uses a running master at ControlPath: refused, as a login.
  assert.deepEqual(refusals.map((r) => r.keyword), ["AddKeysToAgent", "ControlPath"]);
  assert.deepEqual(unused.map((u) => [u.keyword, u.value, u.override]), [
    ["ForwardX11", "yes", "ForwardX11=no"],
    ["ControlMaster", "auto", "ControlMaster=no"],
    ["ControlPersist", "10m", "ControlMaster=no"],
    ["RemoteCommand", "top", "RemoteCommand=none"],
    ["LocalForward", "8080 web:80", "ClearAllForwardings=yes"],
    ["ForwardAgent", "yes", "ForwardAgent=no"],
  ]);
  assert.equal(unused[0]!.origin.kind, "file");
  // A login refuses every one of these six refused keywords.
  assert.equal(configRefusals(config).length, 6);
  // The user's own -o ForwardAgent=yes comes before scp's ForwardAgent=no: the copy uses it.
  const agent = copyConfig(resolve({}, "h", ["ForwardAgent=yes"]));
  assert.deepEqual(agent, { refusals: [], unused: [] });
});

Deno.test("sessionEnvironment() sends SetEnv, then the SendEnv matches (-pattern drops a pattern), each name once", () => {
  const local: Record<string, string> = { LANG: "C.UTF-8", LC_ALL: "C", HOME: "/x", A: "local" };
  const env = sessionEnvironment(
    { sendEnv: ["LANG", "LC_*", "A", "-LC_*"], setEnv: ["A=set", "B=2"] },
    Object.keys(local),
    (n) => local[n],
  );
  assert.deepEqual(env, [["A", "set"], ["B", "2"], ["LANG", "C.UTF-8"]]);
});

Deno.test("traceConfig() emits the config stage: files, blocks, values with origins, warnings", () => {
  const config = resolve(
    { [USER]: "Host h\n  Port 2200\n  Bogus 1\nHost other\n  User x\n" },
    "h",
    ["User=bob"],
  );
  const tracer = new Tracer();
  traceConfig(tracer, config);
  const events = tracer.events.map(({ t: _, ...e }) => e);
  assert.deepEqual(events[0], { stage: "config", type: "begin" });
  assert.ok(
    events.some((e) => e.type === "file" && e.path === USER && e.found && e.includedFrom === null),
  );
  assert.ok(events.some((e) => e.type === "block" && e.line === 1 && e.matched));
  assert.ok(events.some((e) => e.type === "block" && e.line === 4 && !e.matched));
  assert.ok(events.some((e) =>
    e.type === "value" && e.keyword === "Port" && e.value === "2200" &&
    e.origin === `${USER}:2`
  ));
  assert.ok(
    events.some((e) =>
      e.type === "value" && e.keyword === "User" && e.value === "bob" && e.origin === "-o User=bob"
    ),
  );
  assert.ok(events.some((e) => e.type === "warning" && e.line === 3 && e.keyword === "Bogus"));
  assert.equal(events.at(-1)?.type, "end");
  assert.ok(tracer.timings.config !== undefined);
});

Deno.test("settingsFromConfig() maps HostKeyAlias (lower case), PubkeyAcceptedAlgorithms, NumberOfPasswordPrompts", () => {
  const s = settingsFromConfig(resolve({
    [USER]:
      "HostKeyAlias Core-SW\nPubkeyAcceptedAlgorithms ssh-ed25519\nNumberOfPasswordPrompts 1\n",
  }, "h"));
  assert.equal(s.hostKeyAlias, "core-sw");
  assert.deepEqual(s.pubkeyAlgorithms, ["ssh-ed25519"]);
  assert.equal(s.passwordPrompts, 1);
  assert.deepEqual(configRefusals(resolve({ [USER]: "NumberOfPasswordPrompts 1\n" }, "h")), []);
});

Deno.test("a list edit that leaves nothing of the run's base list names where it was set", () => {
  const spec = "Ciphers -aes*-ctr,aes*-gcm@openssh.com,chacha20-poly1305@openssh.com\n";
  assert.throws(
    () => resolve({ [USER]: `Host h\n  ${spec}` }, "h"),
    (e: Error) => /^\/home\/me\/\.ssh\/config:2: Ciphers: .*leaves no algorithm/.test(e.message),
  );
  // With --legacy the base has the legacy ciphers: the same edit leaves them.
  const legacy = resolveConfig(
    { host: "h", legacy: true },
    memoryIo({ [USER]: `Host h\n  ${spec}` }),
  );
  assert.deepEqual(legacy.effective.algorithms.cipher, [
    "aes128-cbc",
    "aes192-cbc",
    "aes256-cbc",
    "3des-cbc",
  ]);
});

Deno.test("settingsFromConfig() takes GatewayPorts and ExitOnForwardFailure (no refusal)", () => {
  const config = resolve(
    { [USER]: "Host fwd\n  GatewayPorts yes\n" },
    "fwd",
    ["ExitOnForwardFailure=yes"],
  );
  const s = settingsFromConfig(config);
  assert.equal(s.gatewayPorts, true);
  assert.equal(s.exitOnForwardFailure, true);
  assert.deepEqual(configRefusals(config), []);
  const off = settingsFromConfig(resolve({ [USER]: "GatewayPorts no\n" }, "fwd"));
  assert.equal(off.gatewayPorts, undefined);
  assert.equal(off.exitOnForwardFailure, undefined);
});

Deno.test("settingsFromConfig(): the first of ProxyJump and ProxyCommand wins, as ssh(1)", () => {
  const files = { [USER]: "Host a\n  ProxyJump bastion\nHost *\n  ProxyCommand nc %h %p\n" };
  const fromFile = settingsFromConfig(resolve(files, "a"));
  assert.equal(fromFile.proxyJump, "bastion");
  assert.equal(fromFile.proxyCommand, undefined);
  // -o comes first: its ProxyCommand wins over the file's ProxyJump.
  const fromOption = settingsFromConfig(resolve(files, "a", ["ProxyCommand=socat - TCP:%h:%p"]));
  assert.equal(fromOption.proxyCommand, "socat - TCP:%h:%p");
  assert.equal(fromOption.proxyJump, undefined);
  // `none` first switches both off.
  const none = settingsFromConfig(resolve(files, "a", ["ProxyJump=none"]));
  assert.equal(none.proxyJump, undefined);
  assert.equal(none.proxyCommand, undefined);
});
