// Every `send` device preset driven end to end over SSH through the real client, against the lab's
// device imitations (lib/lab/devices/, profiles `device-*`): `--device auto` detection from the
// version line, banner, greeting and prompt; the paging command or the vendor's pager; the
// privilege step with its secret (and a wrong one); a dialog; configuration mode with an error
// line (or an error line in exec mode for devices without one).
import assert from "node:assert/strict";
import { startLabServer } from "../../../lib/lab/mod.ts";
import {
  DEVICE_SPECS,
  LAB_ENABLE_SECRET,
  type LabDeviceName,
} from "../../../lib/lab/devices/mod.ts";
import type { CliState } from "../../../lib/lab/devices/types.ts";
import { runShellOnClient } from "../../../lib/send/over_ssh.ts";
import type { SendOptions, SendResult } from "../../../lib/send/types.ts";
import { type DeviceName, DEVICES } from "../../../lib/send/devices.ts";
import { parseAnswer } from "../../../lib/send/dialogs.ts";
import { SshError } from "../../../lib/errors/mod.ts";
import type { Client } from "../../../lib/client.ts";
import { connectLab, password, sharedHostKeys } from "../../helpers/lab.ts";

interface DeviceCase {
  profile: string;
  kind: LabDeviceName;
  device: DeviceName;
  /** A command whose output is longer than a page. */
  long: string;
  paging: "disabled" | "answering-pagers";
  /** The level `--enable` reaches (devices with a privilege step). */
  level?: number;
  /** A command that opens a dialog, the --answer rules it needs, and how many it asks. */
  dialog: { command: string; answers?: string[]; count: number };
  /** Configuration lines: one accepted, one rejected (with the device's error line). */
  config?: { good: string; bad: string; errorLine: RegExp };
  /** A command the device rejects in exec mode. */
  bad: { command: string; errorLine: RegExp };
}

const CASES: DeviceCase[] = [
  {
    profile: "device-comware",
    kind: "comware7",
    device: "comware",
    long: "display current-configuration",
    paging: "disabled",
    level: 15,
    dialog: { command: "save", count: 2 },
    config: { good: "interface GigabitEthernet1/0/1", bad: "bogus", errorLine: /% Unrecognized/ },
    bad: { command: "display bogus", errorLine: /% Unrecognized command/ },
  },
  {
    profile: "device-huawei",
    kind: "huawei",
    device: "huawei",
    long: "display current-configuration",
    paging: "disabled",
    level: 15,
    dialog: { command: "save", count: 1 },
    config: { good: "sysname HUAWEI", bad: "bogus", errorLine: /^Error: Unrecognized/ },
    bad: { command: "display bogus", errorLine: /^Error:/ },
  },
  {
    profile: "device-cisco",
    kind: "cisco",
    device: "cisco",
    long: "show running-config",
    paging: "disabled",
    level: 15,
    dialog: { command: "copy running-config startup-config", count: 1 },
    config: { good: "interface GigabitEthernet0/1", bad: "bogus", errorLine: /% Invalid input/ },
    bad: { command: "show bogus", errorLine: /% Invalid input/ },
  },
  {
    profile: "device-asa",
    kind: "asa",
    device: "asa",
    long: "show running-config",
    paging: "disabled",
    level: 15,
    dialog: {
      command: "copy running-config startup-config",
      answers: ["Source filename \\[running-config\\]\\?="],
      count: 2,
    },
    config: { good: "hostname asa", bad: "bogus", errorLine: /^ERROR: % Invalid input/ },
    bad: { command: "show bogus", errorLine: /ERROR: % Invalid/ },
  },
  {
    profile: "device-eos",
    kind: "eos",
    device: "eos",
    long: "show running-config",
    paging: "disabled",
    level: 15,
    dialog: { command: "write erase", count: 1 },
    config: { good: "interface Ethernet1", bad: "bogus", errorLine: /^% Invalid input/ },
    bad: { command: "show bogus", errorLine: /% Invalid input/ },
  },
  {
    profile: "device-os10",
    kind: "os10",
    device: "os10",
    long: "show running-configuration",
    paging: "disabled",
    dialog: { command: "delete startup-configuration", count: 1 },
    config: { good: "interface ethernet1/1/1", bad: "bogus", errorLine: /^% Error:/ },
    bad: { command: "show bogus", errorLine: /% Error: Unrecognized/ },
  },
  {
    profile: "device-junos",
    kind: "junos",
    device: "junos",
    long: "show configuration",
    paging: "disabled",
    dialog: { command: "request system reboot", count: 1 },
    config: { good: "set system host-name mx480", bad: "set bogus", errorLine: /^syntax error/ },
    bad: { command: "show bogus", errorLine: /syntax error/ },
  },
  {
    profile: "device-routeros",
    kind: "routeros",
    device: "routeros",
    long: "/export",
    paging: "answering-pagers",
    dialog: { command: "/system reboot", count: 1 },
    bad: { command: "/bogus", errorLine: /^bad command name bogus/ },
  },
  {
    profile: "device-fortios",
    kind: "fortios",
    device: "fortios",
    long: "show full-configuration",
    paging: "answering-pagers",
    dialog: { command: "execute reboot", count: 1 },
    bad: { command: "show bogus", errorLine: /^command parse error/ },
  },
  {
    profile: "device-exos",
    kind: "exos",
    device: "exos",
    long: "show configuration",
    paging: "disabled",
    dialog: { command: "save", count: 1 },
    bad: { command: "show bogus", errorLine: /^%% Invalid input/ },
  },
  {
    profile: "device-procurve",
    kind: "procurve",
    device: "procurve",
    long: "show running-config",
    paging: "disabled",
    dialog: { command: "write memory", count: 0 },
    config: { good: "vlan 10", bad: "bogus", errorLine: /^Invalid input: bogus/ },
    bad: { command: "show bogus", errorLine: /^Invalid input/ },
  },
];

/** What the device holds for `command` (unpaged), as the engine should return it. */
function expected(kind: LabDeviceName, command: string): string {
  const spec = DEVICE_SPECS[kind];
  const state: CliState = {
    hostname: spec.hostname,
    user: "admin",
    level: 15,
    config: null,
    count: 0,
    changed: false,
  };
  return spec.commands[command]!(state).lines.join("\n") + "\n";
}

type Options = Omit<SendOptions, "hints" | "tracer">;

async function withDevice(
  c: DeviceCase,
  body: (run: (o: Options) => Promise<SendResult & { client: Client }>) => Promise<void>,
): Promise<void> {
  const lab = await startLabServer({ profile: c.profile, hostKeys: await sharedHostKeys() });
  const clients: Client[] = [];
  try {
    await body(async (o) => {
      const client = await connectLab(lab, {
        user: "admin",
        auth: { password: password("admin") },
      });
      clients.push(client);
      const result = await runShellOnClient(client, { settleMs: 100, ...o });
      return Object.assign({ client }, result);
    });
    assert.deepEqual(lab.errors, []);
  } finally {
    for (const c of clients) await c.close().catch(() => {});
    await lab.stop();
  }
}

const messages = (client: Client) =>
  client.tracer.events.map((e) => String((e as { message?: string }).message));

for (const c of CASES) {
  const label = DEVICES[c.device].label;
  Deno.test(`lab ${c.profile}: --device auto finds ${label}, paging, the full output`, async () => {
    await withDevice(c, async (run) => {
      // The long command needs the privileged level where the device has a step for it.
      const r = await run({
        commands: [c.long],
        enable: c.level !== undefined,
        enableLevel: c.level,
        enableSecret: () => Promise.resolve(LAB_ENABLE_SECRET),
      });
      assert.equal(r.device, c.device, r.deviceReason);
      assert.equal(r.paging, c.paging);
      assert.equal(r.commands[0]!.output, expected(c.kind, c.long));
      assert.equal(r.commands[0]!.status, "ok");
      if (c.paging === "answering-pagers") assert.ok(r.commands[0]!.pagers > 0);
      assert.equal(r.loggedOut, true);
      assert.ok(messages(r.client).some((m) => /detected from/.test(m)));
      assert.ok(messages(r.client).some((m) => m.startsWith(`device auto: prompt `)));
    });
  });

  Deno.test(`lab ${c.profile}: a dialog, and the device's error line fails the run`, async () => {
    await withDevice(c, async (run) => {
      const answers = (c.dialog.answers ?? []).map((a, i) => parseAnswer(a, i));
      const r = await run({
        device: c.device,
        commands: [c.dialog.command],
        enable: c.level !== undefined,
        enableSecret: () => Promise.resolve(LAB_ENABLE_SECRET),
        answers: answers.map((a) => typeof a === "string" ? assert.fail(a) : a),
      });
      assert.equal(r.commands[0]!.dialogs, c.dialog.count);
      assert.equal(r.commands[0]!.status, "ok");
      assert.equal(r.loggedOut, true);
      await assert.rejects(
        run({ device: c.device, commands: [c.bad.command] }),
        (e: unknown) => {
          assert.ok(e instanceof SshError, String(e));
          assert.equal(e.code, "session.command-rejected");
          assert.equal(e.stage, "session");
          assert.match(String(e.details.errorLine), c.bad.errorLine);
          return true;
        },
      );
    });
  });

  if (c.config) {
    const config = c.config;
    Deno.test(`lab ${c.profile}: --config runs the lines and reports the rejected one`, async () => {
      await withDevice(c, async (run) => {
        await assert.rejects(
          run({
            device: c.device,
            config: true,
            enable: c.level !== undefined,
            enableSecret: () => Promise.resolve(LAB_ENABLE_SECRET),
            commands: [config.good, config.bad],
          }),
          (e: unknown) => {
            assert.ok(e instanceof SshError, String(e));
            assert.equal(e.code, "session.command-rejected");
            assert.deepEqual(e.details.rejected, [2]);
            assert.match(String(e.details.errorLine), config.errorLine);
            return true;
          },
        );
      });
    });
  }

  if (c.level !== undefined) {
    const level = c.level;
    Deno.test(`lab ${c.profile}: --enable reaches level ${level}; a wrong secret fails`, async () => {
      await withDevice(c, async (run) => {
        const r = await run({
          device: "auto",
          enable: true,
          enableLevel: level,
          enableSecret: () => Promise.resolve(LAB_ENABLE_SECRET),
          commands: [c.long],
        });
        assert.equal(r.privilegeLevel, level);
        assert.equal(r.commands[0]!.status, "ok");
        assert.ok(
          messages(r.client).some((m) => m.startsWith(`privilege: level ${level} reached`)),
        );
        // Without the step the device refuses the command, and the result says the prompt is
        // not privileged (the diagnosis then names --enable).
        await assert.rejects(
          run({ device: c.device, commands: [c.long] }),
          (e: unknown) => e instanceof SshError && e.code === "session.command-rejected",
        );
        await assert.rejects(
          run({
            device: c.device,
            enable: true,
            enableSecret: () => Promise.resolve("not the secret"),
            commands: [c.long],
          }),
          (e: unknown) =>
            e instanceof SshError && e.code === "session.privilege-failed" &&
            e.stage === "session" && e.details.reason === "wrong-secret",
        );
      });
    });
  }
}

const byProfile = (profile: string) => CASES.find((c) => c.profile === profile)!;

Deno.test("lab: a wrong --device is noticed at once and the right one named", async () => {
  // Another prompt style: fails without waiting out the prompt limit, suggesting junos.
  await withDevice(byProfile("device-junos"), async (run) => {
    const started = performance.now();
    await assert.rejects(run({ device: "cisco", commands: ["show version"] }), (e: unknown) => {
      assert.ok(e instanceof SshError, String(e));
      assert.equal(e.code, "session.prompt-not-found");
      assert.equal(e.details.suggested, "junos");
      return true;
    });
    assert.ok(performance.now() - started < 5000);
  });
  // The same prompt style: the run goes on, and the trace names the device the texts name.
  for (
    const [profile, given, named, command] of [
      ["device-huawei", "comware", "huawei", "display version"],
      ["device-procurve", "linux", "procurve", "show version"],
    ] as const
  ) {
    await withDevice(byProfile(profile), async (run) => {
      const r = await run({ device: given, commands: [command] });
      assert.equal(r.commands[0]!.status, "ok");
      assert.ok(
        messages(r.client).some((m) =>
          m.includes(`names`) && m.endsWith(`--device ${named} (or auto) may fit better`)
        ),
        messages(r.client).join("\n"),
      );
    });
  }
});

Deno.test("lab: --enable-level asks for that level; a level the device lacks fails clearly", async () => {
  await withDevice(byProfile("device-huawei"), async (run) => {
    const r = await run({
      device: "huawei",
      enable: true,
      enableLevel: 3,
      enableSecret: () => Promise.resolve(LAB_ENABLE_SECRET),
      commands: ["display version"],
    });
    assert.equal(r.privilegeLevel, 3);
    assert.ok(
      messages(r.client).some((m) => m.startsWith('privilege: level 3 reached with "super 3"')),
    );
    await assert.rejects(
      run({
        device: "huawei",
        enable: true,
        enableLevel: 16,
        enableSecret: () => Promise.resolve(LAB_ENABLE_SECRET),
        commands: ["display version"],
      }),
      (e: unknown) => {
        assert.ok(e instanceof SshError, String(e));
        assert.equal(e.code, "session.privilege-failed");
        assert.equal(e.details.reason, "wrong-level");
        assert.equal(e.details.command, "super 16");
        assert.match(e.message, /refused level 16/);
        return true;
      },
    );
  });
});
