// `sshtrace check` against real servers: a live sshd, closed and garbage ports, the old-switch
// emulator. The parts that need no server: test/unit/check/check_test.ts.
import assert from "node:assert/strict";
import { checkFleet, type HostReport } from "../../../lib/check/check.ts";
import { parseInventory } from "../../../lib/check/inventory.ts";
import { runCheck } from "../../../lib/cli/check.ts";
import { emptySettings } from "../../../lib/config/options.ts";
import { EXIT_CODES } from "../../../lib/types.ts";
import { startOldSwitch } from "../../helpers/old_switch.ts";
import { ensureTestUser, SSH_KEYGEN, startSshd } from "../../helpers/sshd.ts";
import { freePort, requireTool, run, tempDir } from "../../helpers/tools.ts";
import { xmlElements } from "../../helpers/xml.ts";

/** A TCP server that answers every connection with garbage, then closes it. */
function garbageServer() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const garbage = new TextEncoder().encode('\x00\x01<&"garbage\xff\r\nnot ssh at all\r\n');
  const loop = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      (async () => {
        try {
          await conn.write(garbage);
          await new Promise((r) => setTimeout(r, 20));
        } catch {
          // the client may have gone
        }
        conns.delete(conn);
        try {
          conn.close();
        } catch {
          // closed
        }
      })();
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async stop() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // closed
        }
      }
      await loop.catch(() => {});
      await new Promise((r) => setTimeout(r, 50));
    },
  };
}

Deno.test("checkFleet() gives per-host verdicts in inventory order across live, closed and garbage hosts", async () => {
  const a = await startSshd({ hostKeyTypes: ["ed25519"] });
  const b = await startSshd({ hostKeyTypes: ["ed25519"] }); // same test host key: a cloned device
  const garbage = garbageServer();
  const closed = freePort();
  try {
    const lines: string[] = [];
    const expected: (string | null)[] = [];
    for (let i = 0; i < 50; i++) {
      switch (i % 5) {
        case 0:
        case 2:
          lines.push(`127.0.0.1:${a.port}`);
          expected.push(null);
          break;
        case 1:
          lines.push(`probe@127.0.0.1:${b.port}`);
          expected.push(null);
          break;
        case 3:
          lines.push(`127.0.0.1:${closed}`);
          expected.push("connect");
          break;
        case 4:
          lines.push(`127.0.0.1:${garbage.port}`);
          expected.push("version");
          break;
      }
    }
    const entries = parseInventory(lines.join("\n"), "fleet.txt");
    const completed: number[] = [];
    const result = await checkFleet(entries, {
      concurrency: 8,
      timeoutMs: 5000,
      knownHostsFiles: [],
      onResult: (i) => completed.push(i),
    });
    assert.equal(result.hosts.length, 50);
    assert.deepEqual(completed.toSorted((x, y) => x - y), [...Array(50).keys()]);
    result.hosts.forEach((h, i) => {
      assert.equal(h.index, i);
      assert.equal(h.source, `fleet.txt:${i + 1}`);
      assert.equal(h.failedStage, expected[i], `host ${i} (${h.target}): ${h.error?.message}`);
      assert.equal(h.ok, expected[i] === null);
    });
    const live = result.hosts.filter((h) => h.ok);
    for (const h of live) {
      assert.equal(h.exitCode, 0);
      assert.ok(h.kex?.algorithm, "kex chosen");
      assert.ok(h.kex?.cipher.c2s, "cipher chosen");
      assert.equal(h.hostKey?.fingerprint, live[0]!.hostKey?.fingerprint);
      assert.ok(h.auth?.methods?.includes("publickey"));
    }
    assert.equal(result.hosts[1]!.auth?.user, "probe");
    const refused = result.hosts[3]!;
    assert.equal(refused.exitCode, 10);
    assert.equal(refused.error?.code, "connect.refused");
    const notSsh = result.hosts[4]!;
    assert.equal(notSsh.exitCode, 11);
    assert.equal(notSsh.error?.stage, "version");
    assert.deepEqual(result.summary, {
      total: 50,
      passed: 30,
      failed: 20,
      byStage: {
        usage: 0,
        config: 0,
        connect: 10,
        version: 10,
        kex: 0,
        hostkey: 0,
        auth: 0,
        session: 0,
        data: 0,
        transfer: 0,
      },
    });
    assert.equal(result.ok, false);
    assert.equal(result.exitCode, 10, "mixed failures: the earliest stage's code");
    assert.equal(result.sharedHostKeys.length, 1);
    const shared = result.sharedHostKeys[0]!;
    assert.equal(shared.fingerprint, live[0]!.hostKey?.fingerprint);
    assert.deepEqual(shared.hosts, [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`]);
    assert.equal(shared.entries.length, 30);
  } finally {
    await garbage.stop();
    await a.stop();
    await b.stop();
  }
});

Deno.test("checkFleet() fails a host that passes its hard deadline without holding up the others", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const silentPort = (listener.addr as Deno.NetAddr).port;
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const c of listener) conns.push(c); // accepts, never speaks
  })();
  const sshd = await startSshd({ hostKeyTypes: ["ed25519"] });
  try {
    const entries = parseInventory(`127.0.0.1:${silentPort}\n127.0.0.1:${sshd.port}\n`, "t");
    const result = await checkFleet(entries, {
      concurrency: 2,
      timeoutMs: 3000,
      hostDeadlineMs: 400,
      knownHostsFiles: [],
    });
    const [silent, live] = result.hosts;
    assert.equal(silent!.ok, false);
    assert.equal(silent!.failedStage, "version");
    assert.equal(silent!.error?.code, "version.deadline");
    assert.ok(silent!.ms < 2500, `deadline honoured (${silent!.ms} ms)`);
    assert.equal(live!.ok, true);
    assert.equal(result.exitCode, 11);
    // The deadline closed the abandoned connection: the silent server reads our version line,
    // then end of stream (not a connection left open until the 3 s timeout).
    const buf = new Uint8Array(1024);
    let eof = false;
    const timer = setTimeout(() => conns[0]!.close(), 1000);
    try {
      while (!eof) eof = (await conns[0]!.read(buf)) === null;
    } catch {
      // closed by the timer: not at end of stream
    } finally {
      clearTimeout(timer);
    }
    assert.ok(eof, "the client closed the connection at the deadline");
  } finally {
    listener.close();
    for (const c of conns) {
      try {
        c.close();
      } catch {
        // already closed
      }
    }
    await accepting.catch(() => {});
    await sshd.stop();
  }
});

Deno.test("runCheck() prints the table, JSON and NDJSON, and writes JUnit for a mixed inventory", async () => {
  const sshd = await startSshd({ hostKeyTypes: ["ed25519"] });
  const closed = freePort();
  await using dir = await tempDir();
  try {
    const inv = `${dir.path}/fleet.csv`;
    await Deno.writeTextFile(
      inv,
      `host,port,device,site\n127.0.0.1,${sshd.port},linux,"A&B <1>"\n127.0.0.1,${closed},ios,B\n`,
    );
    const junit = `${dir.path}/out.xml`;
    let out = "";
    let err = "";
    const settings = emptySettings();
    settings.userKnownHostsFile = `${dir.path}/known_hosts`;
    const code = await runCheck({
      inventoryPath: inv,
      flags: { json: true, ndjson: true, junit, concurrency: "4" },
      settings,
      timeoutMs: 5000,
      writeOut: (t) => (out += t),
      writeErr: (t) => (err += t),
      tty: false,
    });
    assert.equal(code, 10);
    const lines = out.split("\n");
    // NDJSON: the first two lines are the host reports (completion order), then the JSON object.
    const nd = [JSON.parse(lines[0]!), JSON.parse(lines[1]!)];
    assert.deepEqual(nd.map((r) => r.index).toSorted(), [0, 1]);
    const json = JSON.parse(lines.slice(2).join("\n"));
    assert.equal(json.ok, false);
    assert.equal(json.exitCode, 10);
    assert.deepEqual(
      [json.summary.total, json.summary.passed, json.summary.failed, json.summary.byStage.connect],
      [2, 1, 1, 1],
    );
    assert.deepEqual(
      json.hosts.map((h: HostReport) => [h.ok, h.failedStage, h.device, h.grade === null]),
      [
        [true, null, "linux", false],
        [false, "connect", "ios", true],
      ],
    );
    const letter = json.hosts[0].grade.letter;
    assert.match(letter, /^[A-F]$/);
    assert.deepEqual(json.hosts[0].extra, { site: "A&B <1>" });
    // With machine output on stdout the table goes to stderr; progress lines only on a terminal.
    assert.doesNotMatch(err, /\[1\/2\]/);
    assert.match(err, /^HOST\s+OK\s+STAGE\s+REASON\s+KEX\s+CIPHER\s+GRADE\s+MS$/m);
    assert.match(
      err,
      new RegExp(`127\\.0\\.0\\.1:${closed}\\s+FAIL\\s+connect\\s+connection to .* refused`),
    );
    assert.match(
      err,
      new RegExp(`127\\.0\\.0\\.1:${sshd.port}\\s+ok\\s.*\\s${letter}\\s+\\d+$`, "m"),
    );
    assert.match(err, /^2 hosts: 1 passed, 1 failed \(connect 1\) in .* hosts\/s\); exit 10$/m);
    // Each failed host gets the diagnosis' fix, after the table.
    assert.match(err, new RegExp(`^127\\.0\\.0\\.1:${closed}: try \\S`, "m"));
    const els = xmlElements(await Deno.readTextFile(junit));
    assert.deepEqual(els.filter((e) => e.tag === "testcase").length, 2);
    const failure = els.find((e) => e.tag === "failure")!;
    assert.equal(failure.attrs.type, "connect");
    assert.match(failure.text, /code: connect\.refused/);
  } finally {
    await sshd.stop();
  }
});

Deno.test("runCheck() --login --command runs the command with a key and fails a refused user at auth", async () => {
  const user = await ensureTestUser();
  requireTool(SSH_KEYGEN);
  await using dir = await tempDir();
  const key = `${dir.path}/id_ed25519`;
  const gen = await run(SSH_KEYGEN, ["-t", "ed25519", "-q", "-N", "", "-C", "fleet", "-f", key]);
  assert.equal(gen.code, 0, gen.stderr);
  const pub = (await Deno.readTextFile(`${key}.pub`)).trim();
  const sshd = await startSshd({ hostKeyTypes: ["ed25519"], authorizedKeys: [pub] });
  try {
    const inv = `${dir.path}/hosts.txt`;
    await Deno.writeTextFile(
      inv,
      `${user.name}@127.0.0.1:${sshd.port}\nnobody-here@127.0.0.1:${sshd.port}\n${user.name}@127.0.0.1:${sshd.port}\n`,
    );
    const settings = emptySettings();
    settings.strictHostKeyChecking = "no";
    settings.userKnownHostsFile = `${dir.path}/known_hosts`;
    let out = "";
    let err = "";
    const code = await runCheck({
      inventoryPath: inv,
      flags: { login: true, command: "echo hi", identity: [key], json: true },
      settings,
      timeoutMs: 10_000,
      writeOut: (t) => (out += t),
      writeErr: (t) => (err += t),
      tty: false,
    });
    // The text table shows each host's remote exit status and the head of its output.
    assert.match(err, /^HOST\s+OK\s+STAGE\s+REASON\s+KEX\s+CIPHER\s+GRADE\s+EXIT\s+OUTPUT\s+MS$/m);
    assert.match(
      err,
      new RegExp(`^${user.name}@127\\.0\\.0\\.1:\\d+\\s+ok\\s.*\\s0\\s+hi\\s+\\d+$`, "m"),
    );
    assert.match(err, /^nobody-here@127\.0\.0\.1:\d+\s+FAIL\s+auth\s.*\s-\s+\d+$/m);
    const json = JSON.parse(out);
    assert.equal(code, 14, JSON.stringify(json.hosts.map((h: HostReport) => h.error)));
    const [first, refused, third] = json.hosts as HostReport[];
    for (const h of [first!, third!]) {
      assert.equal(h.ok, true, h.error?.message);
      assert.equal(h.auth?.success, true);
      assert.equal(h.command?.exitStatus, 0);
      assert.equal(h.command?.stdoutHead, "hi\n");
      assert.equal(h.command?.stdoutBytes, 3);
    }
    assert.equal(refused!.ok, false);
    assert.equal(refused!.failedStage, "auth");
    assert.equal(refused!.command, null);
    assert.deepEqual(json.summary.byStage.auth, 1);

    // A command exiting non-zero fails the host at stage session (data means a broken link).
    const result = await checkFleet(parseInventory(`${user.name}@127.0.0.1:${sshd.port}`, "x"), {
      login: true,
      command: "echo oops >&2; exit 3",
      strictHostKeyChecking: "no",
      knownHostsFiles: [`${dir.path}/known_hosts`],
      auth: {
        signers: () =>
          import("../../../lib/keys/private_key.ts").then(async (
            m,
          ) => [await m.loadPrivateKeyFile(key)]),
      },
    });
    const h = result.hosts[0]!;
    assert.equal(h.ok, false);
    assert.equal(h.failedStage, "session");
    assert.equal(h.error?.code, "session.command-failed");
    assert.equal(h.command?.exitStatus, 3);
    assert.equal(h.command?.stderrHead, "oops\n");
    assert.equal(result.exitCode, 15);
  } finally {
    await sshd.stop();
  }
});

Deno.test("checkFleet() probes a 500-entry inventory against one sshd with every host ok", async () => {
  const sshd = await startSshd({ hostKeyTypes: ["ed25519"], logLevel: "ERROR" });
  try {
    const entries = parseInventory(
      Array.from({ length: 500 }, () => `127.0.0.1:${sshd.port}`).join("\n"),
      "big.txt",
    );
    const result = await checkFleet(entries, {
      concurrency: 32,
      timeoutMs: 20_000,
      knownHostsFiles: [],
    });
    const failures = result.hosts.filter((h) => !h.ok).map((h) =>
      `${h.index}: ${h.error?.message}`
    );
    assert.deepEqual(failures, []);
    assert.equal(result.summary.passed, 500);
    assert.equal(result.exitCode, 0);
    assert.equal(result.sharedHostKeys.length, 0, "one host:port is not a shared key");
    // deno-lint-ignore no-console
    console.log(`500 probes in ${result.ms} ms: ${(500 / (result.ms / 1000)).toFixed(1)} hosts/s`);
  } finally {
    await sshd.stop();
  }
});

Deno.test("check --login --command runs it through send on CSV switches and by exec on the rest", async () => {
  const user = await ensureTestUser();
  const sw = await startOldSwitch({ device: "comware", password: "correct horse 42" });
  const sshd = await startSshd({ hostKeyTypes: ["ed25519"] });
  try {
    await using dir = await tempDir();
    const inv = `${dir.path}/fleet.csv`;
    await Deno.writeTextFile(
      inv,
      [
        "host,port,user,device,legacy",
        `127.0.0.1,${sw.port},${sw.user},comware,yes`,
        `127.0.0.1,${sshd.port},${user.name},linux,`,
        `127.0.0.1,${sw.port},${sw.user},,yes`,
      ].join("\n") + "\n",
    );
    const settings = emptySettings();
    settings.strictHostKeyChecking = "no";
    settings.userKnownHostsFile = `${dir.path}/known_hosts`;
    let out = "";
    Deno.env.set("SSHTRACE_TEST_FLEET_PASSWORD", user.password);
    const code = await runCheck({
      inventoryPath: inv,
      flags: {
        login: true,
        command: "display version",
        passwordEnv: "SSHTRACE_TEST_FLEET_PASSWORD",
        json: true,
      },
      settings,
      timeoutMs: 10_000,
      writeOut: (t) => (out += t),
      writeErr: () => {},
      tty: false,
    });
    Deno.env.delete("SSHTRACE_TEST_FLEET_PASSWORD");
    const hosts = JSON.parse(out).hosts as HostReport[];
    const [viaSend, viaExec, unmarked] = hosts;
    // The switch: the command typed at its prompt, output without echo, pager or prompt.
    assert.equal(viaSend!.ok, true, JSON.stringify(viaSend!.error));
    assert.equal(viaSend!.command?.via, "send");
    assert.equal(viaSend!.command?.exitStatus, null);
    const expected = await sw.expected("display version");
    assert.equal(viaSend!.command?.stdoutHead, expected.slice(0, 200));
    assert.equal(viaSend!.command?.stdoutBytes, new TextEncoder().encode(expected).length);
    // Linux: exec (sshd has no `display` command: exit 127 fails the host at session, not at
    // data, which means a broken connection).
    assert.equal(viaExec!.command?.via, "exec");
    assert.equal(viaExec!.command?.exitStatus, 127);
    assert.equal(viaExec!.failedStage, "session");
    assert.equal(viaExec!.error?.code, "session.command-failed");
    // The same switch without a device mark gets exec, which it refuses: stage session.
    assert.equal(unmarked!.ok, false);
    assert.equal(unmarked!.failedStage, "session");
    assert.equal(unmarked!.command, null);
    assert.equal(code, EXIT_CODES.session);
  } finally {
    await sw.stop();
    await sshd.stop();
  }
});

Deno.test("check --login --command: a switch that rejects the command fails at session, its error line in the table", async () => {
  const sw = await startOldSwitch({ device: "comware", password: "correct horse 42" });
  try {
    await using dir = await tempDir();
    const inv = `${dir.path}/fleet.csv`;
    await Deno.writeTextFile(
      inv,
      `host,port,user,device,legacy\n127.0.0.1,${sw.port},${sw.user},comware,yes\n`,
    );
    const settings = emptySettings();
    settings.strictHostKeyChecking = "no";
    settings.userKnownHostsFile = `${dir.path}/known_hosts`;
    let out = "";
    let err = "";
    Deno.env.set("SSHTRACE_TEST_FLEET_PASSWORD", sw.password);
    const code = await runCheck({
      inventoryPath: inv,
      flags: {
        login: true,
        command: "display nonsense",
        passwordEnv: "SSHTRACE_TEST_FLEET_PASSWORD",
        json: true,
        log: `${dir.path}/logs`,
      },
      settings,
      timeoutMs: 10_000,
      writeOut: (t) => (out += t),
      writeErr: (t) => (err += t),
      tty: false,
    });
    Deno.env.delete("SSHTRACE_TEST_FLEET_PASSWORD");
    assert.equal(code, EXIT_CODES.session);
    const [h] = JSON.parse(out).hosts as HostReport[];
    assert.equal(h!.failedStage, "session");
    assert.equal(h!.error?.code, "session.command-rejected");
    assert.equal(h!.command?.errorLine, "% Unrecognized command found at '^' position.");
    assert.match(err, /\s+FAIL\s+session\s.*\srejected\s+% Unrecognized command found at/);
    assert.match(err, new RegExp(`^${sw.user}@127\\.0\\.0\\.1:\\d+: try check the command`, "m"));
    // The password never reaches the output.
    assert.ok(!out.includes(sw.password) && !err.includes(sw.password));
    // --log: the host's transcript in DIR/<host>_<port>.log, typed and printed text.
    const log = await Deno.readTextFile(`${dir.path}/logs/127.0.0.1_${sw.port}.log`);
    assert.match(log, / >> "display nonsense\\r"\n/);
    assert.match(log, / << ".*% Unrecognized command found at/);
    assert.ok(!log.includes(sw.password));
  } finally {
    await sw.stop();
  }
});

Deno.test("check --login: CSV rows with their own vendor, credentials by reference, enable secret and commands", async () => {
  const comware = await startOldSwitch({
    device: "comware",
    password: "comware pw 1",
    enableSecret: "super s3cret",
  });
  const cisco = await startOldSwitch({
    device: "cisco",
    password: "cisco pw 2",
    enableSecret: "enable s3cret",
  });
  try {
    await using dir = await tempDir();
    const secretFile = `${dir.path}/comware.super`;
    await Deno.writeTextFile(secretFile, "super s3cret\n");
    const inv = `${dir.path}/fleet.csv`;
    await Deno.writeTextFile(
      inv,
      [
        "host,port,user,device,legacy,password_env,enable_secret_env,enable_secret_file,commands",
        `127.0.0.1,${comware.port},${comware.user},comware,yes,FLEET_PW_A,,${secretFile},` +
        `display version;display current-configuration`,
        `127.0.0.1,${cisco.port},${cisco.user},cisco,yes,FLEET_PW_B,FLEET_EN_B,,show running-config`,
      ].join("\n") + "\n",
    );
    const settings = emptySettings();
    settings.strictHostKeyChecking = "no";
    settings.userKnownHostsFile = `${dir.path}/known_hosts`;
    Deno.env.set("FLEET_PW_A", comware.password);
    Deno.env.set("FLEET_PW_B", cisco.password);
    Deno.env.set("FLEET_EN_B", "enable s3cret");
    let out = "";
    let err = "";
    const code = await runCheck({
      inventoryPath: inv,
      flags: { login: true, json: true, log: `${dir.path}/logs` },
      settings,
      timeoutMs: 10_000,
      writeOut: (t) => (out += t),
      writeErr: (t) => (err += t),
      tty: false,
    });
    for (const v of ["FLEET_PW_A", "FLEET_PW_B", "FLEET_EN_B"]) Deno.env.delete(v);
    const hosts = JSON.parse(out).hosts as HostReport[];
    assert.equal(code, 0, JSON.stringify(hosts.map((h) => h.error)));
    const [a, b] = hosts;
    assert.equal(a!.command?.command, "display version; display current-configuration");
    assert.equal(a!.command?.via, "send");
    assert.equal(
      a!.command?.stdoutBytes,
      new TextEncoder().encode(
        (await comware.expected("display version")) +
          (await comware.expected("display current-configuration")),
      ).length,
    );
    // show running-config is refused at Switch>: it ran after enable with this row's secret.
    assert.equal(b!.command?.errorLine, null);
    assert.equal(
      b!.command?.stdoutBytes,
      new TextEncoder().encode(await cisco.expected("show running-config")).length,
    );
    const logs = [
      await Deno.readTextFile(`${dir.path}/logs/127.0.0.1_${comware.port}.log`),
      await Deno.readTextFile(`${dir.path}/logs/127.0.0.1_${cisco.port}.log`),
    ];
    assert.match(logs[0]!, / >> "super\\r"/);
    assert.match(logs[1]!, / >> "enable\\r"/);
    for (const secret of [comware.password, cisco.password, "super s3cret", "enable s3cret"]) {
      for (const text of [out, err, ...logs]) assert.ok(!text.includes(secret), secret);
    }
  } finally {
    await comware.stop();
    await cisco.stop();
  }
});
