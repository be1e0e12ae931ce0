import assert from "node:assert/strict";
import { buildOffer, defaultNames } from "../../../lib/algorithms/registry.ts";
import {
  addListEdit,
  emptySettings,
  parsePort,
  parseSize,
  parseTarget,
  type Settings,
} from "../../../lib/config/options.ts";
import { explainFailure } from "../../../lib/diagnose/explain.ts";
import { SshError } from "../../../lib/errors/mod.ts";
import { settingsFor } from "../../../lib/cli/settings.ts";
import { configRefusals } from "../../../lib/sshconfig/apply.ts";
import { memoryIo } from "../../helpers/sshconfig_io.ts";

/** Asserts `fn` throws a usage error (exit 2) whose message matches `pattern`. */
function assertUsage(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SshError, `expected SshError, got ${e}`);
    assert.equal(e.stage, "usage");
    assert.equal(e.code, "usage.invalid");
    assert.equal(e.exitCode, 2);
    assert.match(e.message, pattern);
    return true;
  });
}

/** The settings `-o` options give, through ssh_config resolution as the CLI does (no files). */
function withOptions(...options: string[]): Settings {
  const order = options.map((value) => ({ kind: "option" as const, value, flag: "-o" }));
  return settingsFor({ target: "h", flags: { F: "none" }, order }, memoryIo({})).settings;
}

// ---------------------------------------------------------------------------------------------
// Targets

Deno.test("parseTarget() reads user@host:port", () => {
  assert.deepEqual(parseTarget("admin@switch1.example.net:2222"), {
    user: "admin",
    host: "switch1.example.net",
    port: 2222,
  });
});

Deno.test("parseTarget() reads a bracketed IPv6 address with a port", () => {
  assert.deepEqual(parseTarget("[::1]:2222"), { user: null, host: "::1", port: 2222 });
  assert.deepEqual(parseTarget("root@[fe80::1%eth0]:22"), {
    user: "root",
    host: "fe80::1%eth0",
    port: 22,
  });
  assert.deepEqual(parseTarget("[::1]"), { user: null, host: "::1", port: null });
});

Deno.test("parseTarget() reads a bare host with no user and no port", () => {
  assert.deepEqual(parseTarget("router"), { user: null, host: "router", port: null });
  assert.deepEqual(parseTarget("10.0.0.1"), { user: null, host: "10.0.0.1", port: null });
});

Deno.test("parseTarget() takes a bare IPv6 address as a host without a port", () => {
  assert.deepEqual(parseTarget("2001:db8::1"), { user: null, host: "2001:db8::1", port: null });
});

Deno.test("parseTarget() splits the user at the last @", () => {
  assert.deepEqual(parseTarget("me@corp@jump:22"), { user: "me@corp", host: "jump", port: 22 });
});

Deno.test("parseTarget() refuses bad targets with a usage error", () => {
  assertUsage(() => parseTarget(""), /invalid host/);
  assertUsage(() => parseTarget("user@"), /invalid host/);
  assertUsage(() => parseTarget("@host"), /empty user name/);
  assertUsage(() => parseTarget("host:abc"), /invalid port "abc"/);
  assertUsage(() => parseTarget("host:"), /invalid port/);
  assertUsage(() => parseTarget("host:0"), /invalid port 0/);
  assertUsage(() => parseTarget("host:65536"), /invalid port 65536/);
  assertUsage(() => parseTarget("[::1]:x"), /invalid port "x"/);
  assertUsage(() => parseTarget("[::1]22"), /invalid host/);
  assertUsage(() => parseTarget("[::1"), /invalid host/);
  assertUsage(() => parseTarget("my host"), /invalid host "my host"/);
  assertUsage(() => parseTarget("host/path"), /invalid host/);
  assertUsage(() => parseTarget(":22"), /invalid host/);
});

Deno.test("parsePort() accepts 1 to 65535 and refuses everything else", () => {
  assert.equal(parsePort("1"), 1);
  assert.equal(parsePort("65535"), 65535);
  assert.equal(parsePort("022"), 22);
  assertUsage(() => parsePort("0"), /1-65535/);
  assertUsage(() => parsePort("-1"), /invalid port/);
  assertUsage(() => parsePort("22.5"), /invalid port/);
  assertUsage(() => parsePort(" 22"), /invalid port/);
  assertUsage(() => parsePort("abc", "proxy port"), /invalid proxy port "abc"/);
});

// ---------------------------------------------------------------------------------------------
// -o Key=Value

Deno.test("-o sets Port and User, in Key=Value and Key Value forms", () => {
  const s = withOptions("Port=2222", "User admin");
  assert.equal(s.port, 2222);
  assert.equal(s.user, "admin");
  assertUsage(() => withOptions("Port=abc"), /invalid port "abc"/);
  assertUsage(() => withOptions("Port=70000"), /port 70000 out of range/);
});

Deno.test("-o matches keys case-insensitively and trims blanks", () => {
  const s = withOptions("port = 2200", "  USER=x  ");
  assert.equal(s.port, 2200);
  assert.equal(s.user, "x");
});

Deno.test("-o collects every IdentityFile in order", () => {
  const s = withOptions("IdentityFile=/k/one", "IdentityFile /k/two");
  assert.deepEqual(s.identityFiles, ["/k/one", "/k/two"]);
});

Deno.test("-o maps every StrictHostKeyChecking value and refuses others", () => {
  const cases: [string, string][] = [
    ["yes", "yes"],
    ["true", "yes"],
    ["accept-new", "accept-new"],
    ["no", "no"],
    ["off", "no"],
    ["false", "no"],
    ["ask", "ask"],
    ["YES", "yes"],
  ];
  for (const [value, mode] of cases) {
    assert.equal(withOptions(`StrictHostKeyChecking=${value}`).strictHostKeyChecking, mode, value);
  }
  assertUsage(() => withOptions("StrictHostKeyChecking=maybe"), /StrictHostKeyChecking/);
});

Deno.test("-o keeps the first file of UserKnownHostsFile", () => {
  assert.equal(withOptions("UserKnownHostsFile=/tmp/kh").userKnownHostsFile, "/tmp/kh");
  assert.equal(withOptions("UserKnownHostsFile /a /b").userKnownHostsFile, "/a");
});

Deno.test("-o reads ConnectTimeout, ServerAliveInterval and ServerAliveCountMax", () => {
  const s = withOptions("ConnectTimeout=5", "ServerAliveInterval=0", "ServerAliveCountMax=3");
  assert.equal(s.connectTimeoutS, 5);
  assert.equal(s.serverAliveInterval, 0);
  assert.equal(s.serverAliveCountMax, 3);
  assert.equal(withOptions("ServerAliveInterval=15").serverAliveInterval, 15);
  // As in ssh_config: 0 sets no limit of its own (each stage keeps --timeout); times take units.
  assert.equal(withOptions("ConnectTimeout=0").connectTimeoutS, undefined);
  assert.equal(withOptions("ConnectTimeout=1m").connectTimeoutS, 60);
  assertUsage(() => withOptions("ConnectTimeout=1.5"), /ConnectTimeout/);
  assertUsage(() => withOptions("ServerAliveInterval=-1"), /ServerAliveInterval/);
  assertUsage(() => withOptions("ServerAliveCountMax=x"), /ServerAliveCountMax/);
});

Deno.test("-o splits PreferredAuthentications into a list", () => {
  assert.deepEqual(
    withOptions("PreferredAuthentications=publickey,keyboard-interactive,password")
      .preferredAuthentications,
    ["publickey", "keyboard-interactive", "password"],
  );
  // One word, as ssh_config reads it: a blank after a comma starts a second argument.
  assertUsage(
    () => withOptions("PreferredAuthentications=publickey, password"),
    /garbage at end of line/,
  );
});

Deno.test("-o reads yes/no for IdentitiesOnly, BatchMode and Compression", () => {
  const s = withOptions("IdentitiesOnly=yes", "BatchMode=no", "Compression=yes");
  assert.equal(s.identitiesOnly, true);
  assert.equal(s.batchMode, false);
  assert.equal(s.compression, true);
  assert.equal(withOptions("BatchMode=true").batchMode, true);
  assert.equal(withOptions("Compression=false").compression, false);
  assertUsage(() => withOptions("BatchMode=perhaps"), /BatchMode: .*expected yes or no/);
  assertUsage(() => withOptions("IdentitiesOnly=1"), /IdentitiesOnly: .*expected yes or no/);
});

Deno.test("-o reads RekeyLimit sizes and its time part", () => {
  assert.equal(withOptions("RekeyLimit=1G").rekeyLimit, 1024 ** 3);
  assert.equal(withOptions("RekeyLimit=500M 3600").rekeyLimit, 500 * 1024 ** 2);
  const timed = settingsFor(
    {
      target: "h",
      flags: { F: "none" },
      order: [{ kind: "option", value: "RekeyLimit=1G 1h", flag: "-o" }],
    },
    memoryIo({}),
  );
  assert.equal(timed.settings.rekeySeconds, 3600);
  assert.deepEqual(configRefusals(timed.config), []);
  assert.equal(withOptions("RekeyLimit=64k").rekeyLimit, 64 * 1024);
  assert.equal(withOptions("RekeyLimit=4096").rekeyLimit, 4096);
  assertUsage(() => withOptions("RekeyLimit=lots"), /RekeyLimit: bad number "lots"/);
  assert.equal(parseSize("2M"), 2 * 1024 * 1024);
});

Deno.test("-o reads RequiredRSASize and refuses sizes under OpenSSH's 1024-bit floor", () => {
  assert.equal(withOptions("RequiredRSASize=3072").requiredRsaSize, 3072);
  assert.equal(withOptions("RequiredRSASize 1024").requiredRsaSize, 1024);
  assertUsage(() => withOptions("RequiredRSASize=768"), /RSA key size 768 out of range \(1024-/);
  assertUsage(() => withOptions("RequiredRSASize=big"), /invalid RSA key size "big"/);
});

Deno.test("-o LogLevel and RequestTTY are acted on; ForwardAgent=no asks for nothing; AddKeysToAgent=yes is refused", () => {
  const r = settingsFor({
    target: "h",
    flags: { F: "none" },
    order: ["LogLevel=DEBUG3", "RequestTTY=yes", "ForwardAgent=no", "AddKeysToAgent=yes"]
      .map((value) => ({ kind: "option" as const, value, flag: "-o" })),
  }, memoryIo({}));
  assert.deepEqual(r.settings, { ...emptySettings(), logLevel: "DEBUG3", requestTty: "yes" });
  assert.deepEqual(configRefusals(r.config).map((x) => x.keyword), ["AddKeysToAgent"]);
});

Deno.test("-o refuses unknown keys with a usage error that lists the supported ones", () => {
  assert.throws(() => withOptions("Bogus=1"), (e: unknown) => {
    assert.ok(e instanceof SshError);
    assert.equal(e.exitCode, 2);
    assert.match(e.message, /unsupported option -o Bogus/);
    assert.match(String(explainFailure(e).fix), /StrictHostKeyChecking/);
    return true;
  });
  const jump = settingsFor(
    {
      target: "h",
      flags: { F: "none" },
      order: [{ kind: "option", value: "ForwardX11=yes", flag: "-o" }],
    },
    memoryIo({}),
  );
  assert.equal(configRefusals(jump.config)[0]?.keyword, "ForwardX11");
});

Deno.test("-o refuses input that is not Key=Value", () => {
  assertUsage(() => withOptions("Port"), /expected Key=Value/);
  assertUsage(() => withOptions("Port="), /expected Key=Value/);
  assertUsage(() => withOptions("=22"), /expected Key=Value/);
  assertUsage(() => withOptions(""), /expected Key=Value/);
});

// ---------------------------------------------------------------------------------------------
// Algorithm lists through -o

Deno.test("-o KexAlgorithms=+diffie-hellman-group1-sha1 appends the legacy method after the defaults", () => {
  const s = withOptions("KexAlgorithms=+diffie-hellman-group1-sha1");
  // The edit applied (ssh_config's one implementation), as a plain list.
  assert.deepEqual(s.algorithms, {
    kex: [[...defaultNames("kex"), "diffie-hellman-group1-sha1"].join(",")],
  });
  const offer = buildOffer(s.algorithms, false);
  assert.deepEqual(offer.kex, [...defaultNames("kex"), "diffie-hellman-group1-sha1"]);
  // Other categories are untouched.
  assert.deepEqual(offer.cipher, defaultNames("cipher"));
});

Deno.test("-o Ciphers=-aes128-ctr removes one cipher from the offer", () => {
  const s = withOptions("Ciphers=-aes128-ctr");
  assert.deepEqual(
    buildOffer(s.algorithms).cipher,
    defaultNames("cipher").filter((n) => n !== "aes128-ctr"),
  );
});

Deno.test("-o with a wildcard in '-' removes every matching algorithm", () => {
  const s = withOptions("KexAlgorithms=-diffie-hellman-*", "MACs=-*-etm@openssh.com");
  const offer = buildOffer(s.algorithms);
  assert.deepEqual(offer.kex, defaultNames("kex").filter((n) => !n.startsWith("diffie-hellman-")));
  assert.ok(offer.kex.includes("curve25519-sha256"));
  assert.deepEqual(offer.mac, ["hmac-sha2-256", "hmac-sha2-512"]);
});

Deno.test("-o HostKeyAlgorithms=^rsa-sha2-256 moves it to the front", () => {
  const s = withOptions("HostKeyAlgorithms=^rsa-sha2-256");
  const offer = buildOffer(s.algorithms).hostKey;
  assert.equal(offer[0], "rsa-sha2-256");
  assert.deepEqual(offer.slice(1), defaultNames("hostKey").filter((n) => n !== "rsa-sha2-256"));
});

Deno.test("-o MACs=a,b replaces the whole list in the given order", () => {
  const s = withOptions("MACs=hmac-sha2-512,hmac-sha2-256");
  assert.deepEqual(buildOffer(s.algorithms).mac, ["hmac-sha2-512", "hmac-sha2-256"]);
});

Deno.test("the first -o of a list wins, as in ssh(1); each is still checked", () => {
  const s = withOptions(
    "Ciphers=aes128-ctr,aes256-ctr",
    "Ciphers=+aes128-cbc",
    "Ciphers=^aes256-ctr",
  );
  assert.deepEqual(buildOffer(s.algorithms).cipher, ["aes128-ctr", "aes256-ctr"]);
  assertUsage(() => withOptions("Ciphers=aes128-ctr", "Ciphers=+nope"), /"nope"/);
});

Deno.test("an unknown algorithm in a list is a usage error naming it", () => {
  assertUsage(() => withOptions("KexAlgorithms=+nope"), /unknown KexAlgorithms algorithm "nope"/);
  assertUsage(() => withOptions("Ciphers=-blowfish-*"), /"blowfish-\*"/);
  assertUsage(() => withOptions("MACs=aes128-ctr"), /unknown MACs algorithm "aes128-ctr"/);
});

Deno.test("a list edit that leaves nothing is a usage error", () => {
  assertUsage(() => withOptions("Ciphers=-*"), /leaves no algorithm/);
  assertUsage(() => withOptions("KexAlgorithms=+"), /empty KexAlgorithms list/);
});

Deno.test("a refused list edit fails the command line, whatever came before it", () => {
  assert.deepEqual(withOptions("Ciphers=aes128-ctr").algorithms.cipher, ["aes128-ctr"]);
  assertUsage(() => withOptions("Ciphers=aes128-ctr", "MACs=+nope"), /"nope"/);
});

Deno.test("addListEdit() is what the --kex, --ciphers, --macs and --hostkeys flags use", () => {
  const s = emptySettings();
  addListEdit(s, "kex", "curve25519-sha256");
  addListEdit(s, "hostKey", "-ecdsa-*");
  const offer = buildOffer(s.algorithms);
  assert.deepEqual(offer.kex, ["curve25519-sha256"]);
  assert.deepEqual(offer.hostKey, ["ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256"]);
  assertUsage(() => addListEdit(s, "mac", "+nope"), /"nope"/);
});

Deno.test("with legacy on, list edits are checked against the offer that includes legacy names", () => {
  const spec = "-aes*-ctr,aes*-gcm@openssh.com,chacha20-poly1305@openssh.com";
  assertUsage(() => addListEdit(emptySettings(), "cipher", spec), /leaves no algorithm/);
  const s = emptySettings();
  s.legacy = true;
  addListEdit(s, "cipher", spec);
  assert.deepEqual(buildOffer(s.algorithms, true).cipher, [
    "aes128-cbc",
    "aes192-cbc",
    "aes256-cbc",
    "3des-cbc",
  ]);
});
