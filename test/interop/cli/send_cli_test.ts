/**
 * `sshtrace send` as a subprocess against the old-switch emulator (test/servers/old_switch.py):
 * Comware, Huawei VRP and Cisco IOS profiles, `--device auto`, the full unpaged output of a long
 * command, the `--json` commands list, per-command timeouts, and the plain `sshtrace host cmd`
 * path that finds exec refused (exit 15, suggests `send`) or no common algorithms (exit 12).
 */

import assert from "node:assert/strict";
import { parseJsonReport, runSshtrace } from "../../helpers/cli.ts";
import {
  type OldSwitchDevice,
  type OldSwitchHandle,
  startOldSwitch,
} from "../../helpers/old_switch.ts";
import { tempDir } from "../../helpers/tools.ts";

/** Runs the CLI with the switch's password in $PW and an empty HOME. */
const sshtrace = (home: string, sw: OldSwitchHandle, args: string[]) =>
  runSshtrace(args, { home, env: { PW: sw.password } });

const target = (sw: OldSwitchHandle) => `${sw.user}@127.0.0.1:${sw.port}`;
const BASE = ["-o", "StrictHostKeyChecking=no", "--password-env", "PW"];

/** Per device: the long command, a short one, and what the trace says about paging. */
const DEVICES: Record<
  OldSwitchDevice,
  { config: string; version: string; paging: string; quirks: string[] }
> = {
  comware: {
    config: "display current-configuration",
    version: "display version",
    paging: "screen-length disable",
    quirks: ["comware-small-window"],
  },
  huawei: {
    config: "display current-configuration",
    version: "display version",
    paging: "screen-length 0 temporary",
    quirks: ["huawei-vrp-gex"],
  },
  cisco: {
    config: "show running-config",
    version: "show version",
    paging: "terminal length 0",
    quirks: ["cisco-gex", "cisco-1.25-no-gex"],
  },
};

Deno.test("sshtrace send runs commands on old switches (Comware, Huawei, Cisco emulators)", async (t) => {
  await using tmp = await tempDir("sshtrace-send-");
  const switches = new Map<OldSwitchDevice, OldSwitchHandle>();
  try {
    for (const device of ["comware", "huawei", "cisco"] as const) {
      switches.set(device, await startOldSwitch({ device }));
    }

    for (
      const [device, cmds] of Object.entries(DEVICES) as [OldSwitchDevice, typeof DEVICES.cisco][]
    ) {
      await t.step(
        `--device ${device} --json returns the full unpaged ${cmds.config} and ${cmds.version}`,
        async () => {
          const sw = switches.get(device)!;
          const res = await sshtrace(tmp.path, sw, [
            "send",
            "--legacy",
            ...BASE,
            "--device",
            device,
            "--json",
            target(sw),
            "--",
            cmds.config,
            cmds.version,
          ]);
          assert.equal(res.code, 0, `${res.stderr}\n${sw.logs()}`);
          const r = parseJsonReport(res.stdout);
          assert.equal(r.ok, true);
          assert.equal(r.commands.length, 2);
          const [config, version] = r.commands;
          assert.deepEqual(Object.keys(config).sort(), ["command", "ms", "output", "status"]);
          assert.deepEqual(r.commands.map((c: { status: string }) => c.status), ["ok", "ok"]);
          assert.equal(config.command, cmds.config);
          assert.equal(version.command, cmds.version);
          const expectedConfig = await sw.expected(cmds.config);
          assert.ok(expectedConfig.split("\n").length > 200, "the configuration spans many pages");
          assert.equal(config.output, expectedConfig);
          assert.equal(version.output, await sw.expected(cmds.version));
          for (const c of r.commands) {
            assert.equal(typeof c.ms, "number");
            assert.ok(c.ms >= 0 && c.ms < 10_000, `${c.ms} ms`);
          }
          // No pager prompt, echo or device prompt leaked into the output.
          assert.doesNotMatch(config.output, /More|<H3C>|<HUAWEI>|Switch#/);
          assert.equal(config.output.includes("\b"), false, "no backspaces");
          assert.equal(config.output.includes("\x1b"), false, "no escape sequences");
          // Paging was switched off by the vendor's command, not answered page by page.
          assert.match(res.stderr, new RegExp(`paging turned off with "${cmds.paging}"`));
          // The firmware's quirks are traced, and the small window they ask for is used.
          const quirks = [...res.stderr.matchAll(/^\s+quirk\s+⚠ ([a-z0-9.-]+):/gm)].map((m) =>
            m[1]
          );
          assert.deepEqual(quirks, cmds.quirks);
          assert.match(res.stderr, /our window 16384 bytes, our max packet 16384 bytes/);
          // The legacy choices of the emulator are marked.
          assert.ok(r.kex.legacy.length >= 4, JSON.stringify(r.kex.legacy));
          assert.match(res.stderr, /⚠ legacy:/);
        },
      );
    }

    for (const device of ["comware", "huawei", "cisco"] as const) {
      await t.step(
        `--device auto recognises the ${device} emulator and prints the output on stdout`,
        async () => {
          const sw = switches.get(device)!;
          const command = DEVICES[device].version;
          const res = await sshtrace(tmp.path, sw, [
            "send",
            "--legacy",
            ...BASE,
            target(sw),
            "--",
            command,
          ]);
          assert.equal(res.code, 0, `${res.stderr}\n${sw.logs()}`);
          // Without --json stdout holds exactly the output (the trace is on stderr).
          assert.equal(res.stdout, await sw.expected(command));
          assert.match(res.stderr, new RegExp(`device ${device} \\(.*detected from`));
        },
      );
    }

    await t.step(
      "the emulator's other legacy choices (group1-sha1, 3des-cbc, hmac-md5) work too",
      async () => {
        const sw = switches.get("comware")!;
        const res = await sshtrace(tmp.path, sw, [
          "send",
          "--legacy",
          "--kex",
          "diffie-hellman-group1-sha1",
          "--ciphers",
          "3des-cbc",
          "--macs",
          "hmac-md5",
          ...BASE,
          "--json",
          target(sw),
          "--",
          "display version",
        ]);
        assert.equal(res.code, 0, `${res.stderr}\n${sw.logs()}`);
        const r = parseJsonReport(res.stdout);
        assert.equal(r.kex.algorithm, "diffie-hellman-group1-sha1");
        assert.deepEqual([r.kex.cipher.c2s, r.kex.cipher.s2c], ["3des-cbc", "3des-cbc"]);
        assert.deepEqual([r.kex.mac.c2s, r.kex.mac.s2c], ["hmac-md5", "hmac-md5"]);
        assert.equal(r.hostKey.type, "ssh-rsa");
        assert.equal(r.hostKey.bits, 1024);
        assert.equal(r.commands[0].output, await sw.expected("display version"));
      },
    );

    await t.step(
      "when the paging command is refused, send answers every ---- More ---- itself",
      async () => {
        // Comware's `screen-length disable` is unknown to VRP: the Huawei emulator keeps paging.
        const sw = switches.get("huawei")!;
        const command = "display current-configuration";
        const res = await sshtrace(tmp.path, sw, [
          "send",
          "--legacy",
          ...BASE,
          "--device",
          "comware",
          "--json",
          target(sw),
          "--",
          command,
        ]);
        assert.equal(res.code, 0, `${res.stderr}\n${sw.logs()}`);
        assert.match(
          res.stderr,
          /did not accept "screen-length disable".*answering pagers instead/,
        );
        const answered = /command 1\/1: .*, (\d+) pager prompt\(s\) answered/.exec(res.stderr);
        assert.ok(answered && Number(answered[1]) >= 8, res.stderr);
        assert.equal(parseJsonReport(res.stdout).commands[0].output, await sw.expected(command));
      },
    );

    await t.step(
      "a command whose prompt never comes ends with exit 15 within --command-timeout",
      async () => {
        // `system-view` turns the prompt into [H3C]; a --prompt for <H3C> only never sees it again.
        const sw = switches.get("comware")!;
        const res = await sshtrace(tmp.path, sw, [
          "send",
          "--legacy",
          ...BASE,
          "--device",
          "comware",
          "--prompt",
          "^<H3C>$",
          "--command-timeout",
          "2",
          "--json",
          target(sw),
          "--",
          "system-view",
          "display version",
        ]);
        assert.equal(res.code, 15, res.stderr);
        const r = parseJsonReport(res.stdout);
        assert.equal(r.failedStage, "session");
        assert.equal(r.error.code, "session.send-timeout");
        assert.match(r.error.message, /system-view/);
        // Two seconds for the command, plus login and start-up.
        assert.ok(res.ms < 8000, `took ${Math.round(res.ms)} ms`);
      },
    );

    await t.step(
      "a --prompt that never matches ends with exit 15 (prompt not found) within the timeout",
      async () => {
        const sw = switches.get("comware")!;
        const res = await sshtrace(tmp.path, sw, [
          "send",
          "--legacy",
          ...BASE,
          "--prompt",
          "NEVER-MATCHES>>",
          "--command-timeout",
          "2",
          "--json",
          target(sw),
          "--",
          "display version",
        ]);
        assert.equal(res.code, 15, res.stderr);
        const r = parseJsonReport(res.stdout);
        assert.equal(r.error.code, "session.prompt-not-found");
        assert.match(r.error.message, /NEVER-MATCHES/);
        assert.match(res.stderr, /failed at stage session \(exit 15\)/);
        assert.ok(
          res.ms < 8000,
          `took ${Math.round(res.ms)} ms (the first prompt waits --command-timeout)`,
        );
      },
    );

    await t.step(
      "a command the device rejects fails the run (exit 15) yet keeps every output",
      async () => {
        const sw = switches.get("cisco")!;
        const res = await sshtrace(tmp.path, sw, [
          "send",
          "--legacy",
          ...BASE,
          "--json",
          target(sw),
          "--",
          "show version",
          "show nonsense",
          "show version",
        ]);
        assert.equal(res.code, 15, res.stderr);
        const r = parseJsonReport(res.stdout);
        assert.equal(r.error.code, "session.command-rejected");
        assert.deepEqual(r.commands.map((c: { status: string }) => c.status), [
          "ok",
          "rejected",
          "ok",
        ]);
        assert.equal(r.commands[1].errorLine, "% Invalid input detected at '^' marker.");
        assert.equal(r.commands[2].output, await sw.expected("show version"));
        assert.match(res.stderr, /command 2\/3: .*rejected by the device/);
        assert.match(res.stderr, /✗ session [\d.]+ ms\n[\s\S]*failed at stage session \(exit 15\)/);
        // At Switch# the level is not the cause: the hint is about the command, not --enable.
        assert.doesNotMatch(r.error.fix, /--enable/);
      },
    );

    await t.step(
      "at a user-level Switch> prompt a rejected show running-config names --enable",
      async () => {
        const sw = await startOldSwitch({ device: "cisco", enableSecret: "en-secret 7" });
        try {
          const res = await sshtrace(tmp.path, sw, [
            "send",
            "--legacy",
            ...BASE,
            target(sw),
            "--",
            "show running-config",
            "show version",
          ]);
          assert.equal(res.code, 15, res.stderr);
          // The output of each command is still on stdout, the rejected one's error included.
          assert.match(res.stdout, /% Invalid input detected at '\^' marker\.\n/);
          assert.ok(res.stdout.endsWith(await sw.expected("show version")), res.stdout);
          assert.match(res.stderr, /"Switch>" ends in `>`/);
          assert.match(res.stderr, /^│ try\s+--enable/m);
        } finally {
          await sw.stop();
        }
      },
    );

    await t.step(
      "sshtrace --legacy HOST CMD finds exec refused: exit 15 and a hint to use send",
      async () => {
        const sw = switches.get("comware")!;
        const res = await sshtrace(tmp.path, sw, [
          "--legacy",
          ...BASE,
          "--json",
          target(sw),
          "display version",
        ]);
        assert.equal(res.code, 15, res.stderr);
        const r = parseJsonReport(res.stdout);
        assert.equal(r.failedStage, "session");
        assert.equal(r.error.code, "session.exec-refused");
        assert.match(r.error.fix, /sshtrace send/);
        assert.match(res.stderr, /refused to run the command/);
        assert.match(res.stderr, /^│ try\s+sshtrace send /m);
        // Authentication went through keyboard-interactive (the only method the switch has).
        assert.equal(r.auth.success, true);
        assert.equal(r.auth.attempts.at(-1).method, "keyboard-interactive");
      },
    );

    await t.step(
      "without --legacy the switch fails at kex with exit 12 naming every list to extend",
      async () => {
        const sw = switches.get("comware")!;
        for (
          const args of [["send", ...BASE, "--json", target(sw), "--", "display version"], [
            ...BASE,
            "--json",
            target(sw),
            "display version",
          ]]
        ) {
          const res = await sshtrace(tmp.path, sw, args);
          assert.equal(res.code, 12, res.stderr);
          const r = parseJsonReport(res.stdout);
          assert.equal(r.failedStage, "kex");
          assert.equal(
            r.error.fix,
            "--kex +diffie-hellman-group14-sha1 --hostkeys +ssh-rsa --ciphers +aes128-cbc --macs +hmac-sha1",
          );
          assert.equal(r.server.versionLine, "SSH-1.99-Comware-5.20");
        }
      },
    );
  } finally {
    await Promise.all([...switches.values()].map((s) => s.stop()));
  }
});

Deno.test("sshtrace send --enable raises the level with enable / super, never showing the secret", async (t) => {
  await using tmp = await tempDir("sshtrace-send-enable-");
  const secret = "en-Secret 9!";
  const cisco = await startOldSwitch({ device: "cisco", enableSecret: secret });
  const comware = await startOldSwitch({ device: "comware", enableSecret: secret });
  const send = (sw: OldSwitchHandle, args: string[], enableSecret = secret) =>
    runSshtrace(["send", "--legacy", ...BASE, ...args], {
      home: tmp.path,
      env: { PW: sw.password, EN: enableSecret },
    });
  const assertNoSecret = (res: { stdout: string; stderr: string }, value = secret) => {
    assert.ok(!res.stdout.includes(value), "secret on stdout");
    assert.ok(!res.stderr.includes(value), "secret on stderr");
  };
  try {
    await t.step("Cisco: enable answers Password: and reaches level 15 (Switch#)", async () => {
      const res = await send(cisco, [
        "--enable",
        "--enable-secret-env",
        "EN",
        "--json",
        target(cisco),
        "--",
        "show running-config",
      ]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stderr, /privilege: "enable" asked for a secret; sent it/);
      assert.match(res.stderr, /privilege: level 15 reached with "enable" \(prompt "Switch#"\)/);
      const r = parseJsonReport(res.stdout);
      assert.equal(r.commands[0].status, "ok");
      assert.equal(r.commands[0].output, await cisco.expected("show running-config"));
      assertNoSecret(res);
    });

    await t.step("Comware: super answers Password: and reaches level 3", async () => {
      const res = await send(comware, [
        "--enable",
        "--enable-secret-env",
        "EN",
        target(comware),
        "--",
        "display current-configuration",
      ]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stderr, /privilege: level 3 reached with "super"/);
      assert.equal(res.stdout, await comware.expected("display current-configuration"));
      assertNoSecret(res);
    });

    await t.step(
      "a wrong secret is session.privilege-failed (exit 15), not a timeout",
      async () => {
        for (const sw of [cisco, comware]) {
          const wrong = "not-the-secret 3";
          const res = await send(sw, [
            "--enable",
            "--enable-secret-env",
            "EN",
            "--json",
            target(sw),
            "--",
            sw === cisco ? "show version" : "display version",
          ], wrong);
          assert.equal(res.code, 15, res.stderr);
          const r = parseJsonReport(res.stdout);
          assert.equal(r.error.code, "session.privilege-failed");
          assert.match(r.error.title, /refused the secret for `(enable|super)`/);
          assert.match(r.error.message, /refused the secret/);
          assert.deepEqual(r.commands.map((c: { status: string }) => c.status), ["not-run"]);
          assertNoSecret(res, wrong);
        }
      },
    );

    await t.step("without a secret (--batch) the failure says which flag gives it", async () => {
      const res = await send(cisco, ["--enable", "--batch", target(cisco), "--", "show version"]);
      assert.equal(res.code, 15, res.stderr);
      assert.match(res.stderr, /asked for a secret and none was given/);
      assert.match(res.stderr, /^│ try\s+--enable-secret-env VAR or --enable-secret-file FILE/m);
    });
  } finally {
    await cisco.stop();
    await comware.stop();
  }
});

Deno.test("sshtrace send answers dialogs: built-in [Y/N] and file names, --answer rules masked", async (t) => {
  await using tmp = await tempDir("sshtrace-send-dialogs-");
  const comware = await startOldSwitch({ device: "comware" });
  const cisco = await startOldSwitch({ device: "cisco" });
  const send = (sw: OldSwitchHandle, args: string[]) =>
    runSshtrace(["send", "--legacy", ...BASE, ...args], {
      home: tmp.path,
      env: { PW: sw.password },
    });
  try {
    await t.step("Comware save: Are you sure? [Y/N] and the file name prompt", async () => {
      const res = await send(comware, ["--json", target(comware), "--", "save"]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(
        res.stderr,
        /dialog: answered ".*Are you sure\? \[Y\/N\]:" \(\[Y\/N\]\) with "Y"/,
      );
      assert.match(res.stderr, /dialog: answered ".*press the enter key\):" .*with Enter/);
      const r = parseJsonReport(res.stdout);
      assert.equal(r.commands[0].status, "ok");
      assert.match(r.commands[0].output, /saved to device successfully\.\n$/);
    });

    await t.step("Cisco copy running-config startup-config: Destination filename", async () => {
      const res = await send(cisco, [target(cisco), "--", "copy running-config startup-config"]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stderr, /dialog: answered "Destination filename \[startup-config\]\?"/);
      assert.match(res.stdout, /Building configuration\.\.\.\n\[OK\]\n$/);
    });

    await t.step("a question nobody answers is session.dialog-unanswered, quoting it", async () => {
      const res = await send(comware, [
        "--json",
        "--command-timeout",
        "2",
        target(comware),
        "--",
        "license activate",
      ]);
      assert.equal(res.code, 15, res.stderr);
      const r = parseJsonReport(res.stdout);
      assert.equal(r.error.code, "session.dialog-unanswered");
      assert.match(r.error.message, /asked "Enter activation key:" and no answer rule matched/);
      assert.match(r.error.fix, /--answer 'REGEX=REPLY'/);
    });

    await t.step("--answer 'REGEX=REPLY' answers it; the reply is never shown", async () => {
      const reply = "K3Y-42=ok";
      const res = await send(comware, [
        "--json",
        "--answer",
        `activation key: ?$=${reply}`,
        target(comware),
        "--",
        "license activate",
      ]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stderr, /\(--answer rule 1\) with the rule's reply \(not shown\)/);
      // The question stays in the output (it is what the device printed); the reply is not.
      assert.equal(
        parseJsonReport(res.stdout).commands[0].output,
        "Enter activation key: \nLicense activated.\n",
      );
      assert.ok(!res.stdout.includes("K3Y") && !res.stderr.includes("K3Y"), "reply shown");
    });

    await t.step("a bad --answer rule is a usage error naming the rule, not its text", async () => {
      const res = await send(comware, ["--answer", "(unclosed=s3cr3t", target(comware), "--", "x"]);
      assert.equal(res.code, 2, res.stderr);
      assert.match(res.stderr, /--answer rule 1: not a regular expression/);
      assert.ok(!res.stderr.includes("s3cr3t"));
    });
  } finally {
    await comware.stop();
    await cisco.stop();
  }
});

Deno.test("sshtrace send --config runs lines in configuration mode, leaves it and saves with --save", async (t) => {
  await using tmp = await tempDir("sshtrace-send-config-");
  const comware = await startOldSwitch({ device: "comware" });
  const cisco = await startOldSwitch({ device: "cisco" });
  const send = (sw: OldSwitchHandle, args: string[]) =>
    runSshtrace(["send", "--legacy", ...BASE, ...args], {
      home: tmp.path,
      env: { PW: sw.password },
    });
  try {
    await t.step("Comware: system-view, the lines, return, save force", async () => {
      const res = await send(comware, [
        "--config",
        "--save",
        "--json",
        target(comware),
        "--",
        "interface GigabitEthernet1/0/1",
        "description uplink",
      ]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stderr, /config: entered configuration mode with "system-view"/);
      assert.match(res.stderr, /config: left configuration mode with "return"/);
      assert.match(res.stderr, /config: saved the configuration with "save force"/);
      const r = parseJsonReport(res.stdout);
      assert.deepEqual(r.commands.map((c: { status: string }) => c.status), ["ok", "ok"]);
    });

    await t.step("Cisco: a rejected line is marked, the rest run, exit 15", async () => {
      const res = await send(cisco, [
        "--config",
        "--save",
        "--json",
        target(cisco),
        "--",
        "interface Gi0/1",
        "descriptoin typo",
        "description uplink",
      ]);
      assert.equal(res.code, 15, res.stderr);
      assert.match(res.stderr, /entered configuration mode with "configure terminal"/);
      assert.match(res.stderr, /left configuration mode with "end"/);
      assert.match(res.stderr, /saved the configuration with "write memory"/);
      const r = parseJsonReport(res.stdout);
      assert.equal(r.error.code, "session.command-rejected");
      assert.deepEqual(r.commands.map((c: { status: string }) => c.status), [
        "ok",
        "rejected",
        "ok",
      ]);
      assert.equal(r.commands[1].errorLine, "% Invalid input detected at '^' marker.");
      // The (config)# prompt never leaks into the outputs.
      assert.ok(r.commands.every((c: { output: string }) => !c.output.includes("(config)")));
    });

    await t.step(
      "--save without --config, or --config on a Unix shell, is a usage error",
      async () => {
        const save = await send(cisco, ["--save", target(cisco), "--", "x"]);
        assert.equal(save.code, 2, save.stderr);
        assert.match(save.stderr, /--save needs --config/);
        const linux = await send(cisco, [
          "--config",
          "--device",
          "linux",
          target(cisco),
          "--",
          "x",
        ]);
        assert.equal(linux.code, 2, linux.stderr);
        assert.match(linux.stderr, /--device linux has no configuration mode/);
      },
    );
  } finally {
    await comware.stop();
    await cisco.stop();
  }
});

Deno.test("sshtrace send --log writes a timestamped transcript with the enable secret and --answer replies masked", async () => {
  await using tmp = await tempDir("sshtrace-send-log-");
  const secret = "en-Secret 9!";
  const reply = "K3Y-42=ok";
  const sw = await startOldSwitch({ device: "comware", enableSecret: secret });
  try {
    const log = `${tmp.path}/session.log`;
    const res = await runSshtrace([
      "send",
      "--legacy",
      ...BASE,
      "--json",
      "--enable",
      "--enable-secret-env",
      "EN",
      "--answer",
      `activation key: ?$=${reply}`,
      "--log",
      log,
      target(sw),
      "--",
      "display version",
      "license activate",
    ], { home: tmp.path, env: { PW: sw.password, EN: secret } });
    assert.equal(res.code, 0, res.stderr);
    const text = await Deno.readTextFile(log);
    const lines = text.trimEnd().split("\n");
    for (const line of lines) assert.match(line, /^\d{4}-\d\d-\d\dT[\d:.]+Z (>>|<<) /, line);
    assert.ok(lines.some((l) => / >> "display version\\r"$/.test(l)), text);
    assert.ok(lines.some((l) => / << ".*H3C Comware Platform Software/.test(l)), text);
    assert.equal(lines.filter((l) => / >> \[secret masked\]$/.test(l)).length, 2, text);
    for (const hidden of [secret, reply, "K3Y", sw.password]) {
      assert.ok(!text.includes(hidden), `the transcript shows ${hidden}`);
      assert.ok(!res.stdout.includes(hidden) && !res.stderr.includes(hidden), hidden);
    }
    assert.equal((await Deno.stat(log)).mode! & 0o777, 0o600);
  } finally {
    await sw.stop();
  }
});
