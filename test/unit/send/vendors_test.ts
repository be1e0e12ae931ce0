// Each device preset driven through its own prompts and pager by the in-memory scripted shell:
// detection (--device auto) from the prompt and the server's texts, paging, output cleaning.
import assert from "node:assert/strict";
import { runShell } from "../../../lib/send/engine.ts";
import { matchPrompt } from "../../../lib/send/prompt.ts";
import { type DeviceName, DEVICES, findErrorLine } from "../../../lib/send/devices.ts";
import { FakeShell, type FakeShellOptions } from "../../helpers/fake_shell.ts";

const LINES = Array.from({ length: 60 }, (_, i) => `line ${String(i + 1).padStart(2, "0")}`);
const TEXT = LINES.join("\n") + "\n";

interface VendorCase {
  device: DeviceName;
  /** The version line / banner that names the vendor (empty: the prompt alone tells). */
  hint: string;
  shell: Omit<FakeShellOptions, "outputs">;
  command: string;
  /** The command's output reaches the engine through the pager (no paging command known). */
  pagesAnswered: boolean;
  /** Prompts of this vendor in other modes that must still be recognised. */
  otherPrompts: string[];
  /** An error line of this vendor. */
  errorLine: string;
}

const bs = (n: number) => "\b".repeat(n) + " ".repeat(n) + "\b".repeat(n);

const CASES: VendorCase[] = [
  {
    device: "routeros",
    hint: "SSH-2.0-ROSSSH",
    shell: {
      prompt: "[admin@MikroTik] > ",
      pager: "-- [Q quit|D dump|down]",
      erase: "\r\x1b[K",
      logout: "/quit",
    },
    command: "/export",
    pagesAnswered: true,
    otherPrompts: ["[admin@MikroTik] /interface> ", "[admin@MikroTik] /ip address> "],
    errorLine: "bad command name expor (line 1 column 2)",
  },
  {
    device: "fortios",
    hint: "SSH-2.0-FortiSSH_1.0",
    shell: { prompt: "FGT60E # ", pager: "--More-- ", erase: "\r         \r", logout: "exit" },
    command: "show full-configuration",
    pagesAnswered: true,
    otherPrompts: ["FGT60E (root) # ", "FGT60E (global) # ", "FGT60E $ "],
    errorLine: "command parse error before 'nonsense'",
  },
  {
    device: "exos",
    hint: "ExtremeXOS (X460-48t) version 16.2.5.4",
    shell: {
      prompt: "X460-48t.1 # ",
      pager: "Press <SPACE> to continue or <Q> to quit:",
      erase: "\r" + " ".repeat(42) + "\r",
      pagingOff: { command: "disable clipaging", reply: [] },
      logout: "exit",
    },
    command: "show configuration",
    pagesAnswered: false,
    otherPrompts: ["* X460-48t.2 # ", "X460-48t.3 > "],
    errorLine: "%% Invalid input detected at '^' marker.",
  },
  {
    device: "asa",
    hint: "",
    shell: {
      prompt: "asa/pri/act> ".trimEnd(),
      pager: "<--- More --->",
      erase: "\r" + " ".repeat(14) + "\r",
      pagingOff: { command: "terminal pager 0", reply: [] },
      logout: "exit",
    },
    command: "show running-config",
    pagesAnswered: false,
    otherPrompts: ["asa/pri/act#", "asa/pri/act(config)#"],
    errorLine: "ERROR: % Invalid input detected at '^' marker.",
  },
  {
    device: "eos",
    hint: "Arista Networks EOS",
    shell: {
      prompt: "leaf1>",
      pager: " --More-- ",
      erase: bs(10),
      pagingOff: { command: "terminal length 0", reply: ["Pagination disabled."] },
      logout: "exit",
    },
    command: "show version",
    pagesAnswered: false,
    otherPrompts: ["leaf1#", "leaf1(config)#", "leaf1(config-if-Et1)#"],
    errorLine: "% Invalid input",
  },
  {
    device: "os10",
    hint: "Dell EMC Networking OS10 Enterprise",
    shell: {
      prompt: "OS10#",
      pager: "--more--",
      erase: bs(8),
      pagingOff: { command: "terminal length 0", reply: [] },
      logout: "exit",
    },
    command: "show running-configuration",
    pagesAnswered: false,
    otherPrompts: ["OS10(config)#", "OS10(conf-if-eth1/1/1)#"],
    errorLine: "% Error: Unrecognized command.",
  },
  {
    device: "comware",
    hint: "SSH-2.0-Comware-7.1.064",
    shell: {
      prompt: "RBM_P<FW-01>",
      pager: "  ---- More ----",
      erase: "\x1b[16D" + " ".repeat(16) + "\x1b[16D",
      pagingOff: { command: "screen-length disable", reply: [] },
      logout: "quit",
    },
    command: "display current-configuration",
    pagesAnswered: false,
    otherPrompts: ["RBM_P[FW-01]", "RBM_S<FW-01>", "[FW-01-GigabitEthernet1/0/1]"],
    errorLine: " % Unrecognized command found at '^' position.",
  },
];

for (const c of CASES) {
  const preset = DEVICES[c.device];
  Deno.test(`the ${preset.label} preset: --device auto finds it, paging, prompts and error lines`, async () => {
    const shell = new FakeShell({ ...c.shell, outputs: { [c.command]: LINES }, chunk: 5 });
    const result = await runShell(shell, {
      settleMs: 50,
      logoutTimeoutMs: 500,
      commands: [c.command],
      hints: c.hint ? [c.hint] : [],
    });
    assert.equal(result.device, c.device, result.deviceReason);
    assert.equal(result.commands[0]!.output, TEXT);
    assert.equal(result.commands[0]!.status, "ok");
    assert.equal(result.paging, c.pagesAnswered ? "answering-pagers" : "disabled");
    if (c.pagesAnswered) assert.ok(result.commands[0]!.pagers > 0);
    else assert.equal(result.commands[0]!.pagers, 0);
    assert.equal(result.loggedOut, true);
    assert.equal(shell.lines.at(-1), preset.logout);
    // The first prompt and the other modes' prompts are this vendor's style.
    for (const prompt of [c.shell.prompt, ...c.otherPrompts]) {
      assert.ok(preset.styles.includes(matchPrompt(prompt)?.style!), prompt);
    }
    assert.notEqual(findErrorLine(c.errorLine + "\n"), null, c.errorLine);
  });
}

Deno.test("detection tells ASA from IOS by its prompt, EXOS from FortiOS by the banner", async () => {
  const run = (prompt: string, hints: string[]) =>
    runShell(new FakeShell({ prompt, outputs: {}, logout: "exit" }), {
      settleMs: 50,
      logoutTimeoutMs: 300,
      commands: [],
      hints,
    });
  assert.equal((await run("fw/sec/stby>", ["SSH-2.0-Cisco-1.25"])).device, "asa");
  assert.equal((await run("Router>", ["SSH-2.0-Cisco-1.25"])).device, "cisco");
  assert.equal((await run("X670.1 # ", ["ExtremeXOS"])).device, "exos");
  assert.equal((await run("FGT # ", [])).device, "fortios");
});

Deno.test("a wrong --device is noticed at the first prompt and the right one suggested", async () => {
  const { SshError } = await import("../../../lib/errors/mod.ts");
  const { explainFailure } = await import("../../../lib/diagnose/explain.ts");
  const shell = new FakeShell({ prompt: "Router#", outputs: {}, logout: "exit" });
  const started = performance.now();
  await assert.rejects(
    runShell(shell, { settleMs: 50, commands: ["show version"], device: "comware" }),
    (e: unknown) => {
      assert.ok(e instanceof SshError);
      assert.equal(e.code, "session.prompt-not-found");
      assert.equal(e.details.suggested, "cisco");
      assert.match(e.message, /"Router#" is not of H3C \/ HPE Comware .* looks like Cisco IOS/);
      assert.equal(explainFailure(e, []).fix, "--device cisco (or --device auto)");
      return true;
    },
  );
  // Once the shell is quiet, not after the 15 s prompt limit.
  assert.ok(performance.now() - started < 2000);
  assert.deepEqual(shell.lines, []);
  shell.close();
});

Deno.test("the HPE ProCurve / Aruba-OS preset: the Press any key banner, then its prompt and paging", async () => {
  const shell = new FakeShell({
    anyKey: "\x1b[2J\x1b[1;1HHP J9773A 2530-24G-PoEP Switch\r\nSoftware revision YA.16.02\r\n\r\n" +
      "Press any key to continue",
    greeting: "\r\nYour previous successful login was on Mon Dec  7 2026\r\n",
    prompt: "HP-2530-24G# ",
    outputs: { "show running-config": LINES, "show nonsense": ["Invalid input: nonsense"] },
    pager: "-- MORE --, next page: Space, next line: Enter, quit: Control-C",
    erase: "\r\x1b[K",
    pagingOff: { command: "no page", reply: [] },
    logout: "logout",
    chunk: 7,
  });
  const result = await runShell(shell, {
    settleMs: 50,
    logoutTimeoutMs: 500,
    commands: ["show running-config"],
    hints: ["SSH-2.0-Mocana SSH 6.3"],
  });
  assert.equal(result.device, "procurve", result.deviceReason);
  assert.equal(result.prompt, "HP-2530-24G#");
  assert.equal(shell.lines[0], '<key " ">');
  assert.equal(result.paging, "disabled");
  assert.equal(result.commands[0]!.output, TEXT);
  for (const prompt of ["HP-2530-24G# ", "HP-2530-24G(config)# ", "HP-2530-24G(vlan-10)# "]) {
    assert.equal(matchPrompt(prompt, DEVICES.procurve.styles)?.style, "shell", prompt);
  }
  assert.notEqual(findErrorLine("Invalid input: nonsense\n"), null);
});

Deno.test("--config on Junos: configure, the lines at the # prompt, commit and-quit", async () => {
  const { Tracer } = await import("../../../lib/trace.ts");
  const shell = new FakeShell({
    prompt: "admin@mx480> ",
    outputs: {
      "configure": ["Entering configuration mode", "", "[edit]"],
      "set system host-name mx480": ["", "[edit]"],
      "set bogus": ["               ^", "syntax error.", "", "[edit]"],
      "commit and-quit": ["commit complete", "Exiting configuration mode"],
    },
    modes: { "configure": "admin@mx480# ", "commit and-quit": "admin@mx480> " },
    pagingOff: { command: "set cli screen-length 0", reply: ["Screen length set to 0"] },
    logout: "exit",
  });
  const tracer = new Tracer();
  const result = await runShell(shell, {
    settleMs: 50,
    logoutTimeoutMs: 500,
    config: true,
    commands: ["set system host-name mx480", "set bogus"],
    hints: ["SSH-2.0-OpenSSH_7.5 Junos"],
    tracer,
  });
  assert.equal(result.device, "junos");
  assert.deepEqual(shell.lines, [
    "set cli screen-length 0",
    "configure",
    "set system host-name mx480",
    "set bogus",
    "commit and-quit",
    "exit",
  ]);
  assert.deepEqual(result.commands.map((c) => [c.status, c.errorLine]), [
    ["ok", null],
    ["rejected", "syntax error."],
  ]);
  assert.ok(result.commands.every((c) => !c.output.includes("admin@mx480#")));
  const messages = tracer.events.map((e) => String((e as { message?: string }).message));
  assert.ok(messages.some((m) => /config: entered configuration mode with "configure"/.test(m)));
  assert.ok(messages.some((m) => /config: left configuration mode with "commit and-quit"/.test(m)));
});
