// The send engine against the lab's own old-switch shell (lib/lab/programs.ts): the `super`
// privilege step with its password, the `save` dialog, and configuration lines in system view.
import assert from "node:assert/strict";
import { startLabServer } from "../../../lib/lab/mod.ts";
import { SWITCH_SUPER_PASSWORD } from "../../../lib/lab/devices/mod.ts";
import { runShellOnClient } from "../../../lib/send/over_ssh.ts";
import { Transcript } from "../../../lib/send/transcript.ts";
import { SshError } from "../../../lib/errors/mod.ts";
import { connectLab, password, sharedHostKeys } from "../../helpers/lab.ts";

async function withLabSwitch(
  body: (client: Awaited<ReturnType<typeof connectLab>>) => Promise<void>,
): Promise<void> {
  const lab = await startLabServer({ profile: "old-switch", hostKeys: await sharedHostKeys() });
  const client = await connectLab(lab, {
    user: "admin",
    legacy: true,
    auth: { password: password("admin") },
  });
  try {
    await body(client);
  } finally {
    await client.close();
    await lab.stop();
  }
}

Deno.test("lab old switch: --enable (super), --config lines, --save answered, secret masked", async () => {
  await withLabSwitch(async (client) => {
    const transcript = new Transcript();
    const result = await runShellOnClient(client, {
      device: "comware",
      enable: true,
      enableSecret: () => Promise.resolve(SWITCH_SUPER_PASSWORD),
      config: true,
      save: true,
      transcript,
      commands: ["interface GigabitEthernet1/0/1", "description uplink"],
    });
    assert.equal(result.privilegeLevel, 3);
    assert.deepEqual(result.commands.map((c) => c.status), ["ok", "ok"]);
    const messages = client.tracer.events.map((e) => String((e as { message?: string }).message));
    assert.ok(messages.some((m) => /privilege: level 3 reached with "super"/.test(m)));
    assert.ok(messages.some((m) => /config: saved the configuration with "save force"/.test(m)));
    const log = transcript.text();
    assert.match(log, / >> \[secret masked\]\n/);
    for (const text of [log, JSON.stringify(client.tracer.events)]) {
      assert.ok(!text.includes(SWITCH_SUPER_PASSWORD));
    }
  });
});

Deno.test("lab old switch: the save dialog is answered, a wrong super password fails clearly", async () => {
  await withLabSwitch(async (client) => {
    const result = await runShellOnClient(client, { device: "comware", commands: ["save"] });
    assert.equal(result.commands[0]!.dialogs, 2);
    assert.match(result.commands[0]!.output, /saved to device successfully\.\n$/);
  });
  await withLabSwitch(async (client) => {
    await assert.rejects(
      runShellOnClient(client, {
        device: "comware",
        enable: true,
        enableSecret: () => Promise.resolve("wrong"),
        commands: ["display version"],
      }),
      (e: unknown) =>
        e instanceof SshError && e.code === "session.privilege-failed" &&
        e.details.reason === "wrong-secret" && /Password is wrong/.test(e.message),
    );
  });
});

Deno.test("lab old switch: --enable-level 3 types super 3 and reaches level 3", async () => {
  await withLabSwitch(async (client) => {
    const transcript = new Transcript();
    const result = await runShellOnClient(client, {
      device: "comware",
      enable: true,
      enableLevel: 3,
      enableSecret: () => Promise.resolve(SWITCH_SUPER_PASSWORD),
      transcript,
      commands: ["display version"],
    });
    assert.equal(result.privilegeLevel, 3);
    assert.match(transcript.text(), / >> "super 3\\r"/);
    const messages = client.tracer.events.map((e) => String((e as { message?: string }).message));
    assert.ok(messages.some((m) => m.startsWith('privilege: level 3 reached with "super 3"')));
  });
});
