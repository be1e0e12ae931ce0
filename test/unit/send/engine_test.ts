import assert from "node:assert/strict";
import { runShell, type SendOptions } from "../../../lib/send/engine.ts";
import type { ShellIo } from "../../../lib/send/shell_io.ts";
import { rejectionError } from "../../../lib/send/over_ssh.ts";
import { explainFailure } from "../../../lib/diagnose/explain.ts";
import { binary } from "../../../lib/send/prompt.ts";
import { FakeShell, type FakeShellOptions } from "../../helpers/fake_shell.ts";
import { SshError } from "../../../lib/errors/mod.ts";
import { Tracer } from "../../../lib/trace.ts";

const CONFIG = [
  "#",
  " sysname H3C",
  "#",
  ...Array.from({ length: 60 }, (_, i) => [
    `interface Ethernet1/0/${i + 1}`,
    ` description port-${String(i + 1).padStart(3, "0")}`,
    "#",
  ]).flat(),
  "return",
];
const configText = CONFIG.join("\n") + "\n";

const COMWARE_ERASE = "\b".repeat(16) + " ".repeat(16) + "\b".repeat(16);

function comwareShell(extra: Partial<FakeShellOptions> = {}): FakeShell {
  return new FakeShell({
    prompt: "<H3C>",
    greeting: "\r\n* Copyright (c) 2004-2010 Hangzhou H3C Tech. Co., Ltd. *\r\n",
    outputs: {
      "display current-configuration": CONFIG,
      "display version": ["H3C Comware Platform Software", "Comware Software, Version 5.20"],
    },
    pagingOff: {
      command: "screen-length disable",
      reply: [" % Screen-length configuration is disabled for current user."],
    },
    erase: COMWARE_ERASE,
    chunk: 7,
    ...extra,
  });
}

const fast: Partial<SendOptions> = { settleMs: 50, logoutTimeoutMs: 500 };

Deno.test("runShell() detects Comware, turns paging off and returns each command's output", async () => {
  const shell = comwareShell();
  const tracer = new Tracer();
  const result = await runShell(shell, {
    ...fast,
    commands: ["display version", "display current-configuration"],
    hints: ["SSH-1.99-Comware-5.20"],
    tracer,
  });
  assert.equal(result.device, "comware");
  assert.equal(result.prompt, "<H3C>");
  assert.equal(result.paging, "disabled");
  assert.match(result.greeting, /Hangzhou H3C/);
  assert.equal(result.loggedOut, true);
  assert.deepEqual(shell.lines, [
    "screen-length disable",
    "display version",
    "display current-configuration",
    "quit",
  ]);
  assert.equal(
    result.commands[0].output,
    "H3C Comware Platform Software\nComware Software, Version 5.20\n",
  );
  assert.equal(result.commands[1].command, "display current-configuration");
  assert.equal(result.commands[1].output, configText);
  assert.equal(binary(result.commands[1].bytes), configText);
  assert.equal(result.commands[1].pagers, 0);
  assert.ok(result.commands.every((c) => c.ms >= 0));
  // Trace events: stage session, type info, without command text or output.
  const infos = tracer.events.filter((e) => e.stage === "session");
  assert.ok(infos.length >= 4);
  for (const e of infos) {
    assert.equal(e.type, "info");
    const message = (e as { message: string }).message;
    assert.ok(!message.includes("display current-configuration"), message);
    assert.ok(!message.includes("sysname"), message);
  }
  assert.ok(
    infos.some((e) =>
      /paging turned off with "screen-length disable"/.test(
        String((e as { message: string }).message),
      )
    ),
  );
});

Deno.test("runShell() answers Comware pagers when the paging command is refused", async () => {
  // Told it is Huawei: `screen-length 0 temporary` is unknown to this Comware shell.
  const shell = comwareShell({ chunk: 5 });
  const tracer = new Tracer();
  const result = await runShell(shell, {
    ...fast,
    device: "huawei",
    commands: ["display current-configuration"],
    tracer,
  });
  assert.equal(result.device, "huawei");
  assert.equal(result.paging, "answering-pagers");
  assert.equal(shell.lines[0], "screen-length 0 temporary");
  const cmd = result.commands[0];
  assert.equal(cmd.output, configText);
  assert.equal(cmd.pagers, Math.ceil(CONFIG.length / 24) - 1);
  // Each pager was answered with exactly one space.
  assert.equal(shell.sent.filter((s) => s === " ").length, cmd.pagers);
  assert.ok(
    tracer.events.some((e) =>
      /did not accept "screen-length 0 temporary"/.test(String((e as { message?: string }).message))
    ),
  );
});

Deno.test("runShell() drives a Cisco IOS shell with ' --More-- ' and backspace erases", async () => {
  const bs = "\b".repeat(9);
  const shell = new FakeShell({
    prompt: "Switch#",
    greeting: "\r\n",
    outputs: { "show running-config": CONFIG },
    pager: " --More-- ",
    erase: bs + " ".repeat(9) + bs,
    logout: "exit",
    unknown: ["         ^", "% Invalid input detected at '^' marker.", ""],
    chunk: 3,
  });
  const result = await runShell(shell, {
    ...fast,
    commands: ["show running-config"],
    disablePaging: false,
  });
  assert.equal(result.device, "cisco");
  assert.equal(result.paging, "answering-pagers");
  assert.equal(result.commands[0].output, configText);
  assert.ok(result.commands[0].pagers > 0);
  assert.equal(shell.lines.at(-1), "exit");
  assert.equal(result.loggedOut, true);
});

Deno.test("runShell() strips Huawei's ESC[42D pager erase", async () => {
  const erase = "\x1b[42D" + " ".repeat(42) + "\x1b[42D";
  const shell = new FakeShell({
    prompt: "<HUAWEI>",
    outputs: { "display current-configuration": CONFIG },
    erase,
    chunk: 4,
  });
  const result = await runShell(shell, {
    ...fast,
    commands: ["display current-configuration"],
    hints: ["SSH-2.0-HUAWEI-1.5"],
  });
  assert.equal(result.device, "huawei");
  assert.equal(result.commands[0].output, configText);
});

Deno.test("runShell() keeps raw bytes and decodes the output with replacement or a named encoding", async () => {
  const gbk = "\xc4\xe3\xba\xc3"; // 你好 in GBK
  const shell = comwareShell({ outputs: { "display gbk": [gbk, "\xff\xfe"] } });
  const result = await runShell(shell, { ...fast, commands: ["display gbk"] });
  assert.deepEqual([...result.commands[0].bytes], [0xc4, 0xe3, 0xba, 0xc3, 10, 0xff, 0xfe, 10]);
  assert.ok(result.commands[0].output.includes("\ufffd"));
  const shell2 = comwareShell({ outputs: { "display gbk": [gbk] } });
  const result2 = await runShell(shell2, { ...fast, commands: ["display gbk"], encoding: "gbk" });
  assert.equal(result2.commands[0].output, "你好\n");
});

Deno.test("runShell() recognises a plain Unix shell prompt once the shell is quiet", async () => {
  const shell = new FakeShell({
    prompt: "me@box:~$ ",
    greeting: "Last login: today\r\n",
    outputs: { "uname": ["Linux"] },
    logout: "exit",
  });
  const result = await runShell(shell, { ...fast, commands: ["uname"] });
  assert.equal(result.device, "linux");
  assert.equal(result.prompt, "me@box:~$");
  assert.equal(result.commands[0].output, "Linux\n");
  assert.equal(result.paging, "answering-pagers");
});

Deno.test("runShell() fails with session.send-timeout naming the command and what it last saw", async () => {
  const shell = comwareShell({ hang: ["display slow"] });
  await assert.rejects(
    runShell(shell, { ...fast, commands: ["display slow"], commandTimeoutMs: 300 }),
    (e: unknown) => {
      assert.ok(e instanceof SshError);
      assert.equal(e.stage, "session");
      assert.equal(e.code, "session.send-timeout");
      assert.equal(e.exitCode, 15);
      assert.match(e.message, /"display slow"/);
      assert.match(e.message, /0\.3 s/);
      assert.match(e.message, /working\.\.\./);
      return true;
    },
  );
  shell.close();
});

Deno.test("runShell() fails with session.prompt-not-found after pressing Enter once", async () => {
  const shell = new FakeShell({ prompt: "Login incorrect, try later", outputs: {} });
  await assert.rejects(
    runShell(shell, { ...fast, commands: ["x"], promptTimeoutMs: 400, nudgeMs: 100 }),
    (e: unknown) => {
      assert.ok(e instanceof SshError);
      assert.equal(e.code, "session.prompt-not-found");
      assert.match(e.message, /within 0\.4 s/);
      assert.match(e.message, /Login incorrect/);
      return true;
    },
  );
  assert.deepEqual(shell.sent, ["\r"]);
  shell.close();
});

Deno.test("runShell() says when the shell closes in the middle of a command", async () => {
  const shell = comwareShell({ die: ["reboot"] });
  await assert.rejects(
    runShell(shell, { ...fast, commands: ["reboot"] }),
    (e: unknown) =>
      e instanceof SshError && e.code === "session.shell-closed" &&
      /"reboot"/.test(e.message),
  );
});

Deno.test("runShell() waits for a prompt given as a pattern", async () => {
  const shell = new FakeShell({
    prompt: "OLT-3 >> ",
    greeting: "\r\n",
    outputs: { "show ver": ["1.0"] },
    logout: "exit",
  });
  const result = await runShell(shell, {
    ...fast,
    device: "linux",
    promptPattern: /^OLT-3 >> $/,
    commands: ["show ver"],
  });
  assert.equal(result.prompt, "OLT-3 >>");
  assert.equal(result.commands[0].output, "1.0\n");
});

Deno.test("runShell() hands each completed command to onCommand before a later one times out", async () => {
  const shell = comwareShell({ hang: ["display slow"] });
  const seen: { index: number; output: string; status: string }[] = [];
  await assert.rejects(
    runShell(shell, {
      ...fast,
      commands: ["display version", "display slow", "display version"],
      commandTimeoutMs: 300,
      onCommand: (c, index) => seen.push({ index, output: c.output, status: c.status }),
    }),
    (e: unknown) => e instanceof SshError && e.code === "session.send-timeout",
  );
  assert.deepEqual(seen, [{
    index: 0,
    output: "H3C Comware Platform Software\nComware Software, Version 5.20\n",
    status: "ok",
  }]);
  shell.close();
});

Deno.test("runShell() marks a command the device rejected, quoting its error line, and carries on", async () => {
  const shell = new FakeShell({
    prompt: "Router>",
    greeting: "\r\n",
    outputs: { "show version": ["Cisco IOS Software, Version 15.2"] },
    pagingOff: { command: "terminal length 0", reply: [] },
    logout: "exit",
    unknown: ["         ^", "% Invalid input detected at '^' marker.", ""],
  });
  const tracer = new Tracer();
  const result = await runShell(shell, {
    ...fast,
    commands: ["show running-config", "show version"],
    tracer,
  });
  assert.equal(result.device, "cisco");
  assert.equal(result.privileged, false);
  assert.deepEqual(result.commands.map((c) => [c.status, c.errorLine]), [
    ["rejected", "% Invalid input detected at '^' marker."],
    ["ok", null],
  ]);
  assert.equal(result.commands[1].output, "Cisco IOS Software, Version 15.2\n");
  assert.ok(
    tracer.events.some((e) =>
      /command 1\/2: .*rejected by the device: "% Invalid input detected/.test(
        String((e as { message?: string }).message),
      )
    ),
  );
  const error = rejectionError(result);
  assert.ok(error);
  assert.equal(error.code, "session.command-rejected");
  assert.equal(error.exitCode, 15);
  assert.deepEqual(error.details.rejected, [1]);
  assert.equal(error.details.privileged, false);
  assert.match(error.message, /rejected command 1 of 2 \("show running-config"/);
  assert.match(explainFailure(error, tracer.events).fix ?? "", /--enable/);
});

Deno.test("runShell() does not read a Unix shell's output as error lines", async () => {
  const shell = new FakeShell({
    prompt: "me@box:~$ ",
    outputs: { "grep -r x": ["error: nothing", "% Invalid input detected at '^' marker."] },
    logout: "exit",
  });
  const result = await runShell(shell, { ...fast, commands: ["grep -r x"] });
  assert.equal(result.device, "linux");
  assert.equal(result.commands[0].status, "ok");
  assert.equal(rejectionError(result), null);
});

Deno.test("runShell() stops reading past maxOutputBytes and fails with session.output-too-large", async () => {
  let typed = "";
  let produced = 0;
  let wake: (() => void) | null = null;
  const io: ShellIo = {
    write(bytes) {
      typed += new TextDecoder().decode(bytes);
      wake?.();
      return Promise.resolve();
    },
    async *read() {
      yield new TextEncoder().encode("Welcome\r\n<H3C>");
      while (!typed.includes("display logbuffer")) await new Promise<void>((r) => (wake = r));
      // A command whose output never ends (or a hostile server): 64 KiB chunks without a prompt.
      const chunk = new Uint8Array(64 * 1024).fill(0x61);
      for (;;) {
        produced += chunk.length;
        yield chunk;
      }
    },
  };
  const limit = 1024 * 1024;
  let caught: unknown = null;
  try {
    await runShell(io, {
      commands: ["display logbuffer"],
      device: "comware",
      disablePaging: false,
      logout: false,
      maxOutputBytes: limit,
    });
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof SshError, String(caught));
  assert.equal(caught.code, "session.output-too-large");
  assert.equal(caught.stage, "session");
  assert.equal(caught.details.command, "display logbuffer");
  assert.equal(caught.details.limitBytes, limit);
  assert.match(
    caught.message,
    /more than 1048576 bytes after "display logbuffer" without a prompt/,
  );
  // Reading stopped at the limit: the source was not drained further.
  assert.ok(produced <= limit + 2 * 64 * 1024, `${produced} bytes produced`);
});

Deno.test("runShell(): a greeting longer than maxOutputBytes fails before the first prompt", async () => {
  const io: ShellIo = {
    write: () => Promise.resolve(),
    async *read() {
      for (;;) yield new TextEncoder().encode("banner line without end\r\n".repeat(1000));
    },
  };
  let caught: unknown = null;
  try {
    await runShell(io, { commands: ["x"], device: "auto", maxOutputBytes: 256 * 1024 });
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof SshError, String(caught));
  assert.equal(caught.code, "session.output-too-large");
  assert.equal(caught.details.command, null);
  assert.match(caught.message, /before its first prompt/);
});
