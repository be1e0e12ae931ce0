/**
 * OpenSSH's `ssh` (an implementation we did not write) against the lab server: password login
 * through sshpass, public keys of each type, every registered algorithm OpenSSH 9.2 also has,
 * and a shell on a pty. This proves the server half independently of sshtrace's client.
 */

import assert from "node:assert/strict";
import { parsePublicKeyLine } from "../../lib/algorithms/pubkey.ts";
import { type ListCategory, REGISTRIES } from "../../lib/algorithms/registry.ts";
import { type LabServer, startLabServer } from "../../lib/lab/mod.ts";
import { openssh99Ssh } from "../helpers/sshd.ts";
import { requireTool, run, tempDir } from "../helpers/tools.ts";
import { everyAlgorithm, sharedHostKeys } from "../helpers/lab.ts";

const SSH = "/usr/bin/ssh";
const SSHPASS = "/usr/bin/sshpass";
const SSH_KEYGEN = "/usr/bin/ssh-keygen";

function sshArgs(lab: LabServer, extra: string[], user = "demo"): string[] {
  return [
    "-p",
    String(lab.port),
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    "-o",
    "ConnectTimeout=10",
    "-F",
    "/dev/null",
    ...extra,
    `${user}@127.0.0.1`,
  ];
}

/** `ssh` with the password "demo" given by sshpass (through the environment, not argv). */
function sshWithPassword(lab: LabServer, extra: string[], command: string, ssh = SSH) {
  requireTool(ssh);
  requireTool(SSHPASS);
  return run(
    SSHPASS,
    [
      "-e",
      ssh,
      ...sshArgs(lab, [
        "-o",
        "PreferredAuthentications=password",
        "-o",
        "PubkeyAuthentication=no",
        ...extra,
      ]),
      command,
    ],
    { env: { SSHPASS: "demo" }, timeoutMs: 30_000 },
  );
}

Deno.test("OpenSSH ssh logs in to the modern lab server with a password and runs echo hi", async () => {
  const lab = await startLabServer({ hostKeys: await sharedHostKeys() });
  try {
    const r = await sshWithPassword(lab, [], "echo hi");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "hi\n");
  } finally {
    await lab.stop();
  }
  assert.deepEqual(lab.errors, []);
});

Deno.test("OpenSSH ssh gets the remote exit status and stderr from the lab server", async () => {
  const lab = await startLabServer({ hostKeys: await sharedHostKeys() });
  try {
    const r = await sshWithPassword(lab, [], "echo out; nosuch; exit 9");
    assert.equal(r.code, 9, r.stderr);
    assert.equal(r.stdout, "out\n");
    assert.match(r.stderr, /sh: nosuch: command not found/);
  } finally {
    await lab.stop();
  }
});

Deno.test("OpenSSH ssh logs in with Ed25519, ECDSA and RSA keys (signatures verified by the lab)", async () => {
  requireTool(SSH);
  requireTool(SSH_KEYGEN);
  await using dir = await tempDir("sshtrace-lab-");
  const keys: { path: string; blob: Uint8Array; type: string }[] = [];
  for (const [type, bits] of [["ed25519", ""], ["ecdsa", "384"], ["rsa", "2048"]]) {
    const path = `${dir.path}/id_${type}`;
    const args = ["-q", "-t", type!, "-N", "", "-C", `lab-${type}`, "-f", path];
    if (bits) args.push("-b", bits);
    const made = await run(SSH_KEYGEN, args);
    assert.equal(made.code, 0, made.stderr);
    keys.push({
      path,
      type: type!,
      blob: parsePublicKeyLine(await Deno.readTextFile(`${path}.pub`)).blob,
    });
  }
  const lab = await startLabServer({
    hostKeys: await sharedHostKeys(),
    users: [{ name: "keyed", authorizedKeys: keys.map((k) => k.blob) }],
  });
  try {
    for (const key of keys) {
      const r = await run(
        SSH,
        [
          ...sshArgs(lab, [
            "-i",
            key.path,
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "PreferredAuthentications=publickey",
            "-o",
            "BatchMode=yes",
            "-v",
          ], "keyed"),
          "whoami",
        ],
        { timeoutMs: 30_000 },
      );
      assert.equal(r.code, 0, `${key.type}: ${r.stderr}`);
      assert.equal(r.stdout, "keyed\n", key.type);
      assert.match(r.stderr, /Authenticated to 127\.0\.0\.1 .* using "publickey"/, key.type);
      if (key.type === "rsa") assert.match(r.stderr, /Server accepts key: .* RSA SHA256:/);
    }
  } finally {
    await lab.stop();
  }
  assert.deepEqual(lab.errors, []);
});

Deno.test("OpenSSH ssh -tt gets a shell on a pty from the lab server", async () => {
  requireTool(SSH);
  requireTool(SSH_KEYGEN);
  await using dir = await tempDir("sshtrace-lab-");
  const path = `${dir.path}/id_ed25519`;
  assert.equal((await run(SSH_KEYGEN, ["-q", "-t", "ed25519", "-N", "", "-f", path])).code, 0);
  const blob = parsePublicKeyLine(await Deno.readTextFile(`${path}.pub`)).blob;
  const lab = await startLabServer({
    hostKeys: await sharedHostKeys(),
    users: [{ name: "demo", password: "demo", authorizedKeys: [blob] }],
  });
  try {
    const r = await run(
      SSH,
      [...sshArgs(lab, ["-tt", "-i", path, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"])],
      { stdin: "echo from-tty\nexit 4\n", timeoutMs: 30_000 },
    );
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stdout, /demo@sshtrace-lab:~\$ /);
    assert.match(r.stdout, /\r\nfrom-tty\r\n/);
  } finally {
    await lab.stop();
  }
});

// ---------------------------------------------------------------------------------------------
// Every registered algorithm that OpenSSH 9.2 also has

const OPENSSH_OPTION: Partial<Record<ListCategory, string>> = {
  kex: "KexAlgorithms",
  hostKey: "HostKeyAlgorithms",
  cipher: "Ciphers",
  mac: "MACs",
};

/** What `ssh -v` says was chosen, per category. */
const CHOSEN: Partial<Record<ListCategory, (name: string) => RegExp>> = {
  kex: (n) => new RegExp(`kex: algorithm: ${n.replace(/[.@]/g, "\\$&")}\\r?\\n`),
  hostKey: (n) => new RegExp(`kex: host key algorithm: ${n}\\r?\\n`),
  cipher: (n) => new RegExp(`kex: server->client cipher: ${n.replace(/[.@]/g, "\\$&")} `),
  mac: (n) =>
    new RegExp(`kex: server->client cipher: aes128-ctr MAC: ${n.replace(/[.@]/g, "\\$&")} `),
};

Deno.test("OpenSSH ssh and the lab server agree on every registered algorithm both have", async () => {
  requireTool(SSH);
  const supported = new Set<string>();
  for (const q of ["kex", "cipher", "mac", "HostKeyAlgorithms"]) {
    const r = await run(SSH, ["-Q", q]);
    for (const n of r.stdout.split("\n")) if (n) supported.add(n.trim());
  }
  const lab = await startLabServer({
    hostKeys: await sharedHostKeys(),
    algorithms: everyAlgorithm(),
  });
  let tried = 0;
  try {
    for (const category of Object.keys(OPENSSH_OPTION) as ListCategory[]) {
      for (const alg of REGISTRIES[category]) {
        if (!supported.has(alg.name)) continue;
        const extra = ["-v", "-o", `${OPENSSH_OPTION[category]}=${alg.name}`];
        if (category === "mac") extra.push("-o", "Ciphers=aes128-ctr");
        const r = await sshWithPassword(lab, extra, `echo ${alg.name}`);
        assert.equal(r.code, 0, `${alg.name}: ${r.stderr.split("\n").slice(-5).join("\n")}`);
        assert.equal(r.stdout, `${alg.name}\n`);
        assert.match(r.stderr, CHOSEN[category]!(alg.name), alg.name);
        tried++;
      }
    }
    const compressed = await sshWithPassword(lab, ["-v", "-C"], "echo compressed");
    assert.equal(compressed.stdout, "compressed\n", compressed.stderr);
    assert.match(compressed.stderr, /compression: zlib@openssh\.com/);
  } finally {
    await lab.stop();
  }
  const registered = (["kex", "hostKey", "cipher", "mac"] as const).reduce(
    (n, c) => n + REGISTRIES[c].length,
    0,
  );
  // Only mlkem768x25519-sha256 is missing from OpenSSH 9.2.
  assert.ok(tried >= registered - 1, `${tried} of ${registered} algorithms tried`);
  assert.deepEqual(lab.errors, []);
});

Deno.test("OpenSSH 10's ssh and the lab server agree on the post-quantum hybrids (its server halves: ML-KEM on @noble/post-quantum, sntrup761 on liboqs)", async () => {
  const ssh = await openssh99Ssh();
  const lab = await startLabServer({
    hostKeys: await sharedHostKeys(),
    algorithms: everyAlgorithm(),
  });
  try {
    for (
      const kex of [
        "mlkem768x25519-sha256",
        "sntrup761x25519-sha512",
        "sntrup761x25519-sha512@openssh.com",
      ]
    ) {
      const r = await sshWithPassword(
        lab,
        ["-v", "-o", `KexAlgorithms=${kex}`],
        `echo ${kex}`,
        ssh,
      );
      assert.equal(r.code, 0, `${kex}: ${r.stderr.split("\n").slice(-5).join("\n")}`);
      assert.equal(r.stdout, `${kex}\n`);
      assert.match(r.stderr, CHOSEN.kex!(kex));
      assert.match(r.stderr, /OpenSSH_(9\.9|[1-9]\d)/);
    }
  } finally {
    await lab.stop();
  }
  assert.deepEqual(lab.errors, []);
});
