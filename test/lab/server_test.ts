import assert from "node:assert/strict";
import { probe } from "../../lib/client.ts";
import { probeReport } from "../../lib/render/report.ts";
import { loadPrivateKeyFile } from "../../lib/keys/private_key.ts";
import { parsePublicKeyLine } from "../../lib/algorithms/pubkey.ts";
import { connectHelp, profileList, runLab } from "../../lib/cli/lab.ts";
import {
  FAULT_PROFILES,
  LabError,
  profileNames,
  resolveProfile,
  startLabServer,
} from "../../lib/lab/mod.ts";
import { EXIT_CODES } from "../../lib/types.ts";
import { ROOT, runSshtrace } from "../helpers/cli.ts";
import { requireTool, run, tempDir } from "../helpers/tools.ts";
import {
  connectLab,
  decode,
  password,
  readUntil,
  sharedHostKeys,
  traceError,
} from "../helpers/lab.ts";

// ---------------------------------------------------------------------------------------------
// Starting and configuring

Deno.test("startLabServer() refuses to listen on any address but 127.0.0.1", async () => {
  for (const host of ["0.0.0.0", "::", "localhost", "192.0.2.1"]) {
    await assert.rejects(
      startLabServer({ host }),
      (e) => e instanceof LabError && /127\.0\.0\.1 only/.test(e.message),
    );
  }
});

Deno.test("startLabServer() refuses an unknown profile and names the known ones", async () => {
  await assert.rejects(
    startLabServer({ profile: "no-such-profile", hostKeys: await sharedHostKeys() }),
    (e) =>
      e instanceof LabError && /unknown lab profile "no-such-profile"/.test(e.message) &&
      e.message.includes("old-switch") && e.message.includes("bad-mac"),
  );
  assert.throws(() => resolveProfile("disconnect:16"), LabError);
  assert.throws(() => resolveProfile("disconnect:0"), LabError);
});

Deno.test("the lab has the modern and old-switch profiles and at least 30 documented faults", () => {
  const names = profileNames();
  assert.deepEqual(names.slice(0, 2), ["modern", "old-switch"]);
  assert.ok(FAULT_PROFILES.length >= 30, `${FAULT_PROFILES.length} fault profiles`);
  assert.equal(new Set(names).size, names.length, "profile names are unique");
  for (const f of FAULT_PROFILES) {
    assert.ok(f.summary.length > 15 && !f.summary.includes("\n"), f.name);
    assert.match(f.name, /^[a-z0-9-]+$/);
  }
  const list = profileList();
  for (const name of names) assert.ok(list.includes(name), `${name} is listed`);
});

Deno.test("startLabServer() listens on 127.0.0.1 and counts connections", async () => {
  const lab = await startLabServer({ hostKeys: await sharedHostKeys() });
  try {
    assert.equal(lab.host, "127.0.0.1");
    assert.ok(lab.port > 0);
    assert.equal(lab.connections, 0);
    const client = await connectLab(lab);
    assert.equal(lab.connections, 1);
    assert.equal(lab.active, 1);
    await client.close();
    await lab.waitForEnded(1);
    assert.equal(lab.active, 0);
  } finally {
    await lab.stop();
  }
  assert.deepEqual(lab.errors, []);
});

// ---------------------------------------------------------------------------------------------
// Modern profile: login

Deno.test("the modern profile logs demo in with a password and runs a command", async () => {
  const events: string[] = [];
  const lab = await startLabServer({
    hostKeys: await sharedHostKeys(),
    onEvent: (e) => events.push(e.message),
  });
  try {
    const client = await connectLab(lab, {
      auth: { password: password("demo"), methods: ["password"] },
    });
    try {
      assert.equal(client.auth.method, "password");
      assert.equal(client.transport.negotiated?.kex, "mlkem768x25519-sha256");
      assert.equal(client.transport.negotiated?.strict, true);
      assert.ok(client.transport.serverSigAlgs?.includes("ssh-ed25519"));
      const { stdout, exit } = await client.exec("echo hello lab");
      assert.equal(decode(stdout), "hello lab\n");
      assert.deepEqual(exit, { status: 0, signal: null });
    } finally {
      await client.close();
    }
  } finally {
    await lab.stop();
  }
  assert.ok(events.some((m) => m === 'user "demo" logged in with password'), events.join("\n"));
  assert.ok(!events.join("\n").includes("demo\n"), "no password in the events");
  assert.deepEqual(lab.errors, []);
});

Deno.test("the modern profile answers keyboard-interactive with one hidden Password: prompt", async () => {
  const lab = await startLabServer({ hostKeys: await sharedHostKeys() });
  try {
    const prompts: string[] = [];
    const client = await connectLab(lab, {
      auth: {
        methods: ["keyboard-interactive"],
        kbdInteractive: (req) => {
          prompts.push(...req.prompts.map((p) => `${p.prompt}|${p.echo}`));
          return Promise.resolve(["demo"]);
        },
      },
    });
    assert.equal(client.auth.method, "keyboard-interactive");
    assert.deepEqual(prompts, ["Password: |false"]);
    await client.close();
  } finally {
    await lab.stop();
  }
});

Deno.test("the modern profile refuses a wrong password (auth, exit 14)", async () => {
  const lab = await startLabServer({ hostKeys: await sharedHostKeys() });
  try {
    const { error } = await traceError(
      connectLab(lab, { auth: { password: password("wrong"), methods: ["password"] } }),
    );
    assert.equal(error.code, "auth.password-rejected");
    assert.equal(error.exitCode, EXIT_CODES.auth);
    assert.deepEqual(error.details.methods, ["publickey", "password", "keyboard-interactive"]);
    assert.ok(!error.message.includes("wrong"), "the password is not in the message");
  } finally {
    await lab.stop();
  }
});

Deno.test("the modern profile logs in with an authorized Ed25519 key and refuses another", async () => {
  requireTool("/usr/bin/ssh-keygen");
  await using dir = await tempDir("sshtrace-lab-");
  const made: string[] = [];
  for (const name of ["good", "other"]) {
    const path = `${dir.path}/${name}`;
    const r = await run("/usr/bin/ssh-keygen", [
      "-q",
      "-t",
      "ed25519",
      "-N",
      "",
      "-C",
      name,
      "-f",
      path,
    ]);
    assert.equal(r.code, 0, r.stderr);
    made.push(path);
  }
  const blob = parsePublicKeyLine(await Deno.readTextFile(`${made[0]}.pub`)).blob;
  const lab = await startLabServer({
    hostKeys: await sharedHostKeys(),
    users: [{ name: "keyed", authorizedKeys: [blob] }],
  });
  try {
    const good = await loadPrivateKeyFile(made[0]!);
    const client = await connectLab(lab, {
      user: "keyed",
      auth: { signers: () => Promise.resolve([good]) },
    });
    assert.equal(client.auth.method, "publickey");
    const { stdout } = await client.exec("whoami");
    assert.equal(decode(stdout), "keyed\n");
    await client.close();

    const other = await loadPrivateKeyFile(made[1]!);
    const { error } = await traceError(
      connectLab(lab, { user: "keyed", auth: { signers: () => Promise.resolve([other]) } }),
    );
    assert.equal(error.code, "auth.key-rejected");
    assert.equal(error.exitCode, 14);
  } finally {
    await lab.stop();
  }
  assert.deepEqual(lab.errors, []);
});

// ---------------------------------------------------------------------------------------------
// Modern profile: exec and shell

Deno.test("exec runs the built-in commands and reports each exit status", async () => {
  const lab = await startLabServer({ hostKeys: await sharedHostKeys() });
  const client = await connectLab(lab);
  try {
    const cases: [string, string, number][] = [
      ["true", "", 0],
      ["false", "", 1],
      ["exit 42", "", 42],
      ["echo a  'b  c' \"d\"", "a b  c d\n", 0],
      ["echo -n no newline", "no newline", 0],
      ["uname", "Linux\n", 0],
      ["uname -sr", "Linux 6.1.0-sshtrace-lab\n", 0],
      ["echo one; echo two && false && echo never; exit 5", "one\ntwo\n", 5],
      ["hostname", "sshtrace-lab\n", 0],
    ];
    for (const [command, out, status] of cases) {
      const { stdout, exit } = await client.exec(command);
      assert.equal(decode(stdout), out, command);
      assert.equal(exit.status, status, command);
    }
    const a = await client.exec("uname -a");
    assert.match(
      decode(a.stdout),
      /^Linux sshtrace-lab 6\.1\.0-sshtrace-lab .* x86_64 GNU\/Linux\n$/,
    );
    const missing = await client.exec("no-such-command --flag");
    assert.equal(missing.exit.status, 127);
    assert.equal(decode(missing.stderr), "sh: no-such-command: command not found\n");
    assert.equal(missing.stdout.length, 0);
  } finally {
    await client.close();
    await lab.stop();
  }
});

Deno.test("exec cat sends 3 MiB of input back unchanged through both windows", async () => {
  const lab = await startLabServer({ hostKeys: await sharedHostKeys() });
  const client = await connectLab(lab);
  try {
    const input = new Uint8Array(3 * 1024 * 1024);
    for (let i = 0; i < input.length; i += 65536) {
      crypto.getRandomValues(input.subarray(i, Math.min(i + 65536, input.length)));
    }
    const { stdout, exit } = await client.exec("cat", { stdin: input });
    assert.equal(exit.status, 0);
    assert.equal(stdout.length, input.length);
    assert.ok(stdout.every((b, i) => b === input[i]), "the data is intact");
  } finally {
    await client.close();
    await lab.stop();
  }
});

Deno.test("exec head -c streams 5 MB within the client's window and max packet", async () => {
  const lab = await startLabServer({ hostKeys: await sharedHostKeys() });
  const client = await connectLab(lab, { windowSize: 64 * 1024, maxPacket: 8 * 1024 });
  try {
    const { stdout, exit } = await client.exec("head -c 5000000 /dev/zero");
    assert.equal(exit.status, 0);
    assert.equal(stdout.length, 5_000_000);
    assert.ok(stdout.every((b) => b === 0));
  } finally {
    await client.close();
    await lab.stop();
  }
  assert.deepEqual(lab.errors, []);
});

Deno.test("exec with keepBytes keeps a head of each stream and counts the rest", async () => {
  const lab = await startLabServer({ hostKeys: await sharedHostKeys() });
  const client = await connectLab(lab);
  try {
    const r = await client.exec("head -c 5000000 /dev/zero; echo done", { keepBytes: 1000 });
    assert.equal(r.exit.status, 0);
    assert.equal(r.stdout.length, 1000);
    assert.equal(r.stdoutBytes, 5_000_005);
    const none = await client.exec("echo hi; cat nothing", { keepBytes: 0 });
    assert.deepEqual([none.stdout.length, none.stdoutBytes], [0, 3]);
    assert.equal(none.stderrBytes, "cat: nothing: No such file or directory\n".length);
    const all = await client.exec("echo whole");
    assert.deepEqual([decode(all.stdout), all.stdoutBytes], ["whole\n", 6]);
  } finally {
    await client.close();
    await lab.stop();
  }
  assert.deepEqual(lab.errors, []);
});

Deno.test("a client rekey after 256 KiB is served and the data stays intact", async () => {
  const lab = await startLabServer({ hostKeys: await sharedHostKeys() });
  const client = await connectLab(lab, { rekeyLimitBytes: 256 * 1024 });
  try {
    const { stdout, exit } = await client.exec("head -c 2000000 /dev/zero; echo done");
    assert.equal(exit.status, 0);
    assert.equal(stdout.length, 2_000_005);
    assert.equal(decode(stdout.subarray(-5)), "done\n");
    const second = await client.exec("echo after rekey");
    assert.equal(decode(second.stdout), "after rekey\n");
    const rekeys = client.tracer.events.filter((e) => e.type === "rekey");
    assert.ok(rekeys.length >= 1, "the client rekeyed");
  } finally {
    await client.close();
    await lab.stop();
  }
  assert.deepEqual(lab.errors, []);
});

Deno.test("a shell with a pty echoes typed input, runs commands and exits with exit N", async () => {
  const lab = await startLabServer({ hostKeys: await sharedHostKeys() });
  const client = await connectLab(lab);
  try {
    const session = await client.openSession({ term: "xterm", cols: 80, rows: 24 });
    await session.shell();
    const reader = session.stdout.getReader();
    let text = await readUntil(reader, /demo@sshtrace-lab:~\$ $/);
    assert.match(text, /Welcome to the sshtrace lab server/);
    await session.write("echo hello pty\r");
    text = await readUntil(reader, /hello pty\r\n[^]*\$ $/);
    assert.ok(text.includes("echo hello pty\r\n"), "typed characters are echoed");
    assert.ok(text.includes("\r\nhello pty\r\n"), "output uses CR LF on a pty");
    await session.write("help\r");
    text = await readUntil(reader, /exit \[N\][^]*\$ $/);
    await session.write("exit 7\r");
    const exit = await session.exit;
    assert.equal(exit.status, 7);
    reader.releaseLock();
    await session.stdout.cancel().catch(() => {});
    await session.stderr.cancel().catch(() => {});
  } finally {
    await client.close();
    await lab.stop();
  }
});

Deno.test("a shell without a pty reads lines and does not echo", async () => {
  const lab = await startLabServer({ hostKeys: await sharedHostKeys() });
  const client = await connectLab(lab);
  try {
    const session = await client.openSession();
    await session.shell();
    await session.write("echo one\nwhoami\n");
    await session.eof();
    const out = decode(new Uint8Array(await new Response(session.stdout).arrayBuffer()));
    await session.stderr.cancel();
    assert.equal(
      out,
      'Welcome to the sshtrace lab server. Type "help" for commands.\n' +
        "demo@sshtrace-lab:~$ one\ndemo@sshtrace-lab:~$ demo\ndemo@sshtrace-lab:~$ ",
    );
    assert.equal((await session.exit).status, 0);
  } finally {
    await client.close();
    await lab.stop();
  }
});

// ---------------------------------------------------------------------------------------------
// Old switch

Deno.test("the old-switch profile is reached with legacy: true (SSH-1.99, group14-sha1, ssh-rsa, banner)", async () => {
  const lab = await startLabServer({ profile: "old-switch", hostKeys: await sharedHostKeys() });
  try {
    const client = await connectLab(lab, {
      user: "admin",
      legacy: true,
      auth: { password: password("admin") },
    });
    try {
      const t = client.transport;
      assert.equal(t.serverVersion?.line, "SSH-1.99-Comware-5.20.105");
      assert.equal(t.negotiated?.kex, "diffie-hellman-group14-sha1");
      assert.equal(t.negotiated?.hostKey, "ssh-rsa");
      assert.equal(t.negotiated?.strict, false);
      const chosen = Object.fromEntries(t.negotiated!.decisions.map((d) => [d.category, d.chosen]));
      assert.equal(chosen.cipherS2C, "aes128-cbc");
      assert.equal(chosen.macS2C, "hmac-sha1");
      assert.equal(client.auth.method, "keyboard-interactive");
      assert.match(client.auth.banner ?? "", /Authorized access only/);
      assert.deepEqual(client.auth.methods, ["keyboard-interactive"]);
      const { error } = await traceError(client.exec("display version"));
      assert.equal(error.code, "session.exec-refused");
      assert.equal(error.exitCode, EXIT_CODES.session);
    } finally {
      await client.close();
    }
  } finally {
    await lab.stop();
  }
  assert.deepEqual(lab.errors, []);
});

Deno.test("the old-switch shell shows <H3C>, pages with ---- More ---- and runs display commands", async () => {
  const lab = await startLabServer({ profile: "old-switch", hostKeys: await sharedHostKeys() });
  const client = await connectLab(lab, {
    user: "admin",
    legacy: true,
    auth: { password: password("admin") },
  });
  try {
    const session = await client.openSession({ term: "vt100", cols: 80, rows: 24 });
    await session.shell();
    const reader = session.stdout.getReader();
    let text = await readUntil(reader, /<H3C>$/);
    assert.match(text, /H3C Tech\. Co\., Ltd\./);
    await session.write("display current-configuration\r");
    text = await readUntil(reader, / {2}---- More ----$/);
    assert.ok(text.includes(" sysname H3C\r\n"));
    let pages = 1;
    for (;;) {
      await session.write(" ");
      text = await readUntil(reader, /( {2}---- More ----|<H3C>)$/, "");
      assert.ok(text.startsWith("\b".repeat(16) + " ".repeat(16) + "\b".repeat(16)));
      if (text.endsWith("<H3C>")) break;
      pages++;
    }
    assert.ok(text.includes("return\r\n"), "the last page ends the configuration");
    assert.ok(pages >= 8, `${pages} pages of 24 lines`);
    await session.write("screen-length disable\r");
    await readUntil(reader, /disabled for current user\.\r\n<H3C>$/);
    await session.write("display interface brief\r");
    text = await readUntil(reader, /<H3C>$/, "");
    assert.ok(!text.includes("More"), "no paging once disabled");
    await session.write("bogus command\r");
    text = await readUntil(reader, /<H3C>$/, "");
    assert.match(text, /% Unrecognized command found at '\^' position\./);
    await session.write("quit\r");
    const exit = await session.exit;
    assert.equal(exit.status, null, "a switch closes without an exit status");
    reader.releaseLock();
  } finally {
    await client.close();
    await lab.stop();
  }
});

Deno.test("the old-switch profile fails without legacy: no kex in common (exit 12)", async () => {
  const lab = await startLabServer({ profile: "old-switch", hostKeys: await sharedHostKeys() });
  try {
    const { error } = await traceError(
      connectLab(lab, { user: "admin", auth: { password: password("admin") } }),
    );
    assert.equal(error.stage, "kex");
    assert.equal(error.code, "kex.no-common-kex");
    assert.equal(error.exitCode, EXIT_CODES.kex);
  } finally {
    await lab.stop();
  }
});

// ---------------------------------------------------------------------------------------------
// Probe and the command line

Deno.test("probe() reports the lab server's version, kex and auth methods", async () => {
  const lab = await startLabServer({ hostKeys: await sharedHostKeys() });
  try {
    const report = probeReport(
      await probe({ host: lab.host, port: lab.port, user: "demo", timeoutMs: 5000 }),
    );
    assert.equal(report.error, null);
    assert.equal(report.exitCode, 0);
    assert.deepEqual(report.auth?.methods, ["publickey", "password", "keyboard-interactive"]);
  } finally {
    await lab.stop();
  }
});

Deno.test("the sshtrace CLI logs in to the lab server and exits with the command's status", async () => {
  const lab = await startLabServer({ hostKeys: await sharedHostKeys() });
  await using dir = await tempDir("sshtrace-lab-");
  const file = `${dir.path}/password`;
  await Deno.writeTextFile(file, "demo\n");
  try {
    const r = await runSshtrace(
      [
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "--password-file",
        file,
        `demo@127.0.0.1:${lab.port}`,
        "echo via cli; exit 3",
      ],
      { timeoutMs: 30_000 },
    );
    assert.equal(r.stdout, "via cli\n", r.stderr);
    assert.equal(r.code, 3, r.stderr);
  } finally {
    await lab.stop();
  }
});

Deno.test("runLab() prints how to connect and stops after one connection with once", async () => {
  let out = "";
  let listening: { port: number } | null = null;
  const code = runLab(
    {
      profile: "modern",
      once: true,
      hostKeys: await sharedHostKeys(),
      onListening: (s) => (listening = s),
    },
    (text) => (out += text),
  );
  while (!listening) await new Promise((r) => setTimeout(r, 10));
  const port = (listening as { port: number }).port;
  assert.match(out, new RegExp(`profile modern listening on 127\\.0\\.0\\.1:${port}`));
  assert.ok(out.includes(`demo@127.0.0.1:${port}`), out);
  assert.match(out, /password: demo/);
  assert.match(out, /ssh-ed25519 +SHA256:/);
  const client = await connectLab({ host: "127.0.0.1", port });
  await client.close();
  assert.equal(await code, 0);
  assert.match(out, /\[lab #1\] user "demo" logged in/);
  assert.match(out, /stopped after 1 connection/);
});

Deno.test("runLab() stops on its abort signal, lists profiles and refuses bad options", async () => {
  const controller = new AbortController();
  let out = "";
  const running = runLab(
    { profile: "old-switch", hostKeys: await sharedHostKeys(), signal: controller.signal },
    (t) => (out += t),
  );
  while (!out.includes("Ctrl-C")) await new Promise((r) => setTimeout(r, 10));
  assert.match(out, /--legacy admin@127\.0\.0\.1:\d+/);
  assert.match(out, /password: admin/);
  controller.abort();
  assert.equal(await running, 0);

  let list = "";
  assert.equal(await runLab({ profile: "list" }, (t) => (list += t)), 0);
  assert.match(
    list,
    /bad-signature +signs the exchange hash wrongly.*stage kex \(kex\.bad-signature\)/,
  );
  assert.match(list, /disconnect\[:N\]/);

  let bad = "";
  assert.equal(await runLab({ profile: "nope" }, (t) => (bad += t)), 2);
  assert.match(bad, /^sshtrace lab: unknown lab profile "nope"/);
  bad = "";
  assert.equal(await runLab({ port: "70000" }, (t) => (bad += t)), 2);
  assert.match(bad, /invalid port "70000"/);
});

Deno.test("connectHelp() tells what a correct client does against a fault profile", async () => {
  const lab = await startLabServer({ profile: "disconnect:7", hostKeys: await sharedHostKeys() });
  try {
    const text = connectHelp(lab);
    assert.match(text, /profile disconnect:7 listening/);
    assert.match(text, /SERVICE_NOT_AVAILABLE \(7\)/);
    assert.match(text, /A correct client stops at stage auth \(auth\.disconnect\)\./);
  } finally {
    await lab.stop();
  }
});

Deno.test("runLab() in its own process stops cleanly on SIGTERM", async () => {
  const code = `import { runLab } from ${
    JSON.stringify(new URL("../../lib/cli/lab.ts", import.meta.url).href)
  };
const enc = new TextEncoder();
Deno.exit(await runLab({ quiet: true }, (t) => Deno.stdout.writeSync(enc.encode(t))));`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    cwd: ROOT,
    env: { RUST_BACKTRACE: "0", NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.getReader();
  let out = "";
  try {
    out = await readUntil(reader, /Press Ctrl-C to stop\.\n$/, "", 20_000);
    child.kill("SIGTERM");
    out = await readUntil(reader, /stopped after 0 connection\(s\)\n$/, out, 20_000);
  } finally {
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});
  }
  const status = await child.status;
  const stderr = decode(new Uint8Array(await new Response(child.stderr).arrayBuffer()));
  assert.equal(status.code, 0, stderr);
  assert.match(out, /profile modern listening on 127\.0\.0\.1:\d+/);
});
