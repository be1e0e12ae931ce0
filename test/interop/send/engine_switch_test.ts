// The send engine against a real peer: the old-switch emulator (asyncssh). The engine's own tests
// on an in-memory shell are in test/unit/send/engine_test.ts.
import assert from "node:assert/strict";
import { connect } from "../../../lib/client.ts";
import { explainFailure } from "../../../lib/diagnose/explain.ts";
import { runShell, type SendOptions, sessionIo } from "../../../lib/send/engine.ts";
import { SshError } from "../../../lib/errors/mod.ts";
import { Tracer } from "../../../lib/trace.ts";
import { type OldSwitchHandle, startOldSwitch } from "../../helpers/old_switch.ts";

// ---------------------------------------------------------------------------------------------
// The real thing: the library against the old-switch emulator (asyncssh, SSH-1.99, legacy
// algorithms, keyboard-interactive, pty shell).
// ---------------------------------------------------------------------------------------------

async function sendToSwitch(sw: OldSwitchHandle, options: Partial<SendOptions>) {
  const tracer = new Tracer();
  const client = await connect({
    host: sw.host,
    port: sw.port,
    user: sw.user,
    legacy: true,
    strictHostKeyChecking: "no",
    knownHostsFiles: ["/dev/null"],
    tracer,
    auth: { password: { get: () => Promise.resolve(sw.password), fromUser: false } },
  });
  try {
    const session = await client.openSession({ term: "vt100", cols: 80, rows: 24 });
    await session.shell();
    const result = await runShell(sessionIo(session), {
      commands: ["display current-configuration"],
      hints: [client.transport.serverVersion?.line ?? "", client.auth.banner ?? ""],
      tracer,
      ...options,
    });
    return { result, client, tracer };
  } finally {
    await client.close();
  }
}

function assertFullConfig(output: string, expected: string) {
  assert.ok(expected.split("\n").length > 200, "the emulator's configuration is long");
  assert.equal(output, expected);
  assert.ok(!/More/.test(output));
  assert.ok(!output.includes("<H3C>"));
  for (const control of ["\b", "\x1b", "\r"]) assert.ok(!output.includes(control));
}

Deno.test("send over SSH: the emulator's Comware shell returns the whole configuration with paging turned off", async () => {
  const sw = await startOldSwitch();
  try {
    const expected = await sw.expected("display current-configuration");
    const { result, tracer } = await sendToSwitch(sw, {
      commands: ["display version", "display current-configuration"],
    });
    assert.equal(result.device, "comware");
    assert.match(result.deviceReason, /Comware/);
    assert.equal(result.prompt, "<H3C>");
    assert.equal(result.paging, "disabled");
    assert.match(result.commands[0].output, /^H3C Comware Platform Software\n/);
    assertFullConfig(result.commands[1].output, expected);
    assert.equal(result.commands[1].pagers, 0);
    assert.equal(result.loggedOut, true);
    const version = tracer.events.find((e) => e.type === "received" && e.stage === "version");
    assert.equal((version as { line?: string }).line, "SSH-1.99-Comware-5.20");
    const key = tracer.events.find((e) => e.type === "key" && e.stage === "hostkey");
    assert.deepEqual([(key as { algorithm?: string }).algorithm, (key as { bits?: number }).bits], [
      "ssh-rsa",
      1024,
    ]);
    const auth = tracer.events.find((e) => e.type === "success" && e.stage === "auth");
    assert.equal((auth as { method?: string }).method, "keyboard-interactive");
  } finally {
    await sw.stop();
  }
});

Deno.test("send over SSH: pagers are answered when the device preset's paging command is unknown", async () => {
  const sw = await startOldSwitch();
  try {
    const expected = await sw.expected("display current-configuration");
    const { result } = await sendToSwitch(sw, { device: "huawei" });
    assert.equal(result.paging, "answering-pagers");
    assertFullConfig(result.commands[0].output, expected);
    assert.equal(result.commands[0].pagers, Math.ceil((expected.split("\n").length - 1) / 24) - 1);
  } finally {
    await sw.stop();
  }
});

Deno.test("send over SSH: the prompt is still found after system-view changes it to [H3C]", async () => {
  const sw = await startOldSwitch();
  try {
    const { result } = await sendToSwitch(sw, {
      commands: ["system-view", "display version", "display nonsense"],
      logout: false,
    });
    assert.equal(result.prompt, "<H3C>");
    assert.equal(result.commands[0].output, "System View: return to User View with Ctrl+Z.\n");
    assert.match(result.commands[1].output, /^H3C Comware Platform Software\n/);
    assert.match(result.commands[2].output, /% Unrecognized command found at '\^' position\.\n$/);
    assert.ok(result.commands.every((c) => !c.output.includes("[H3C]")));
    assert.equal(result.loggedOut, false);
  } finally {
    await sw.stop();
  }
});

Deno.test("send over SSH: a Huawei emulator with ESC[42D erases, pagers answered", async () => {
  const sw = await startOldSwitch({ device: "huawei" });
  try {
    const expected = await sw.expected("display current-configuration");
    const { result } = await sendToSwitch(sw, { disablePaging: false });
    assert.equal(result.device, "huawei");
    assert.equal(result.prompt, "<HUAWEI>");
    assert.equal(result.commands[0].output, expected);
    assert.ok(result.commands[0].pagers > 5);
  } finally {
    await sw.stop();
  }
});

Deno.test("send over SSH: a Cisco emulator (' --More-- ') gives the running configuration", async () => {
  const sw = await startOldSwitch({ device: "cisco" });
  try {
    const expected = await sw.expected("show running-config");
    const { result } = await sendToSwitch(sw, {
      commands: ["show running-config"],
      disablePaging: false,
    });
    assert.equal(result.device, "cisco");
    assert.equal(result.prompt, "Switch#");
    assert.equal(result.commands[0].output, expected);
    assert.equal(result.loggedOut, true);
  } finally {
    await sw.stop();
  }
});

Deno.test("the emulator refuses exec, as old switches do", async () => {
  const sw = await startOldSwitch();
  const client = await connect({
    host: sw.host,
    port: sw.port,
    user: sw.user,
    legacy: true,
    strictHostKeyChecking: "no",
    knownHostsFiles: ["/dev/null"],
    auth: { password: { get: () => Promise.resolve(sw.password), fromUser: false } },
  });
  try {
    await assert.rejects(
      client.exec("display version"),
      (e: unknown) => e instanceof SshError && e.code === "session.exec-refused",
    );
  } finally {
    await client.close();
    await sw.stop();
  }
});

Deno.test("without legacy algorithms the emulator fails at kex (exit 12), naming what to enable", async () => {
  const sw = await startOldSwitch();
  const tracer = new Tracer();
  try {
    await assert.rejects(
      connect({
        host: sw.host,
        port: sw.port,
        user: sw.user,
        strictHostKeyChecking: "no",
        knownHostsFiles: ["/dev/null"],
        tracer,
        auth: { password: { get: () => Promise.resolve(sw.password), fromUser: false } },
      }),
      (e: unknown) => {
        assert.ok(e instanceof SshError);
        assert.equal(e.stage, "kex");
        assert.equal(e.code, "kex.no-common-kex");
        assert.equal(e.exitCode, 12);
        // What a person reads under the failure: the catalogue's fix names the algorithm.
        const why = explainFailure(e, tracer.events);
        assert.equal(why.exitCode, 12);
        assert.match(why.fix ?? "", /diffie-hellman-group1?4?-sha1|--legacy/);
        return true;
      },
    );
  } finally {
    await sw.stop();
  }
});
