/** The doctor's output forms: OpenSSH Host block, sshtrace flags, Paramiko/Netmiko, scrapli. */

import assert from "node:assert/strict";
import {
  hostBlock,
  netmikoArgs,
  opensshOptions,
  paramikoArgs,
  paramikoDisabled,
  scrapliArgs,
  sshtraceFlags,
} from "../../../lib/doctor/forms.ts";
import { defaultSettings, withChange } from "../../../lib/doctor/settings.ts";

const target = { host: "sw1.example.net", port: 22, user: "admin" };

Deno.test("hostBlock() of the defaults holds only the host, port and user", () => {
  assert.equal(
    hostBlock(defaultSettings(), { ...target, port: 2222 }),
    "# sshtrace doctor: what works for sw1.example.net port 2222\n" +
      "Host sw1.example.net\n  Port 2222\n  User admin\n",
  );
  assert.deepEqual(sshtraceFlags(defaultSettings()), []);
  assert.deepEqual(paramikoDisabled(defaultSettings()), {});
  assert.equal(
    paramikoArgs(defaultSettings(), target),
    'client.connect(hostname="sw1.example.net", port=22, username="admin")',
  );
});

Deno.test("a legacy set is appended with + in every form, its cost named", () => {
  const s = withChange(defaultSettings(), {
    add: { kex: ["diffie-hellman-group14-sha1"], cipher: ["aes128-cbc"] },
  });
  const block = hostBlock(s, { ...target, alias: "sw1" });
  assert.match(block, /^# {3}cost: diffie-hellman-group14-sha1: .+$/m);
  assert.match(block, /^Host sw1\n {2}HostName sw1\.example\.net\n/m);
  assert.match(block, /^ {2}KexAlgorithms \+diffie-hellman-group14-sha1$/m);
  assert.match(block, /^ {2}Ciphers \+aes128-cbc$/m);
  assert.deepEqual(sshtraceFlags(s), [
    "--kex +diffie-hellman-group14-sha1",
    "--ciphers +aes128-cbc",
  ]);
  // Paramiko offers both by default: nothing to disable.
  assert.deepEqual(paramikoDisabled(s), {});
  assert.equal(
    scrapliArgs(s, target),
    'Scrapli(host="sw1.example.net", port=22, auth_username="admin", transport="system", ' +
      'transport_options={"open_cmd": ["-o", "KexAlgorithms=+diffie-hellman-group14-sha1", ' +
      '"-o", "Ciphers=+aes128-cbc"]})',
  );
});

Deno.test("leaving out group exchange is a - edit, and Paramiko disables both group exchanges", () => {
  const s = withChange(defaultSettings(), {
    remove: { kex: ["diffie-hellman-group-exchange-*"] },
  });
  assert.deepEqual(opensshOptions(s), ["KexAlgorithms=-diffie-hellman-group-exchange-*"]);
  assert.deepEqual(paramikoDisabled(s), {
    kex: ["diffie-hellman-group-exchange-sha256", "diffie-hellman-group-exchange-sha1"],
  });
  assert.match(
    netmikoArgs(s, target),
    /disabled_algorithms=\{"kex": \["diffie-hellman-group-exchange-sha256", /,
  );
});

Deno.test("a list both cut and extended is written out whole (OpenSSH keeps one line per keyword)", () => {
  const s = withChange(defaultSettings(), {
    remove: { hostKey: ["rsa-sha2-*"] },
    add: { hostKey: ["ssh-rsa"] },
  });
  const [line] = opensshOptions(s);
  const list = line!.replace(/^HostKeyAlgorithms=/, "").split(",");
  assert.ok(list.includes("ssh-rsa"));
  assert.ok(list.includes("ssh-ed25519"));
  assert.ok(!list.some((n) => n.startsWith("rsa-sha2-")));
  assert.deepEqual(sshtraceFlags(s), ["--hostkeys '-rsa-sha2-*'", "--hostkeys +ssh-rsa"]);
  assert.deepEqual(paramikoDisabled(s), { keys: ["rsa-sha2-512", "rsa-sha2-256"] });
});

Deno.test("ssh-rsa user signatures: PubkeyAcceptedAlgorithms, Paramiko's pubkeys workaround", () => {
  const s = withChange(defaultSettings(), { rsaSha1: true });
  assert.deepEqual(opensshOptions(s), ["PubkeyAcceptedAlgorithms=+ssh-rsa"]);
  assert.deepEqual(paramikoDisabled(s), { pubkeys: ["rsa-sha2-512", "rsa-sha2-256"] });
  assert.deepEqual(sshtraceFlags(s), ["--legacy"]);
  assert.match(hostBlock(s, target), /cost: ssh-rsa user signatures: SHA-1/);
});

Deno.test("a pinned short offer replaces the lists; Paramiko disables everything else", () => {
  const s = withChange(defaultSettings(), {
    only: { kex: ["curve25519-sha256"], hostKey: ["ssh-ed25519"] },
  });
  assert.deepEqual(opensshOptions(s), [
    "KexAlgorithms=curve25519-sha256",
    "HostKeyAlgorithms=ssh-ed25519",
  ]);
  const d = paramikoDisabled(s);
  assert.ok(d.kex?.includes("curve25519-sha256@libssh.org"));
  assert.ok(!d.keys?.includes("ssh-ed25519") && d.keys?.includes("ssh-rsa"));
});

Deno.test("window and pacing, which OpenSSH cannot express, are comments", () => {
  const s = withChange(defaultSettings(), { window: 16384, pacingMs: 5000 });
  const block = hostBlock(s, target);
  assert.match(block, /^ {2}# a 16384-byte channel window: OpenSSH has no setting for it$/m);
  assert.match(block, /^ {2}# wait 5000 ms between connections/m);
  assert.match(netmikoArgs(s, target), /conn_timeout=15/);
});
