import assert from "node:assert/strict";
import {
  binary,
  cleanOutput,
  decodeOutput,
  findPagerAtEnd,
  fromBinary,
  lastLine,
  learnedPromptMatcher,
  matchPrompt,
  stripEcho,
  stripPagers,
  stripTrailingPrompt,
} from "../../../lib/send/prompt.ts";
import { findErrorLine, privilegedPrompt } from "../../../lib/send/devices.ts";
import { detectDevice, hintedDevice } from "../../../lib/send/detect.ts";

const bytes = (text: string) => fromBinary(text);

Deno.test("matchPrompt() recognises each vendor's prompt style and its host name", () => {
  const cases: [string, string, string | null][] = [
    ["<H3C>", "bracket", "H3C"],
    ["[H3C]", "bracket", "H3C"],
    ["<HUAWEI>", "bracket", "HUAWEI"],
    ["[~HUAWEI]", "bracket", "HUAWEI"],
    ["[*CE6850-1]", "bracket", "CE6850-1"],
    ["[H3C-Ethernet1/0/1]", "bracket", "H3C-Ethernet1/0/1"],
    ["Switch>", "cisco", "Switch"],
    ["Switch#", "cisco", "Switch"],
    ["core-sw1(config-if)#", "cisco", "core-sw1"],
    ["admin@mx480> ", "junos", "admin@mx480"],
    ["admin@mx480# ", "junos", "admin@mx480"],
    ["user@host:~$ ", "shell", null],
    ["# ", "shell", null],
    ["$ ", "shell", null],
    ["bash-5.1# ", "shell", null],
  ];
  for (const [line, style, name] of cases) {
    const m = matchPrompt(line);
    assert.ok(m, `${JSON.stringify(line)} should be a prompt`);
    assert.equal(m.style, style, line);
    assert.equal(m.name, name, line);
  }
});

Deno.test("matchPrompt() does not take configuration or output lines for prompts", () => {
  for (
    const line of [
      "#",
      " sysname H3C",
      "interface Ethernet1/0/1",
      "!",
      " return",
      "Building configuration...",
      "  ---- More ----",
      "Interface  IP-Address  OK? Method Status  Protocol",
      "<H3C> display version",
      "Switch# show run",
    ]
  ) {
    assert.equal(matchPrompt(line), null, JSON.stringify(line));
  }
});

Deno.test("matchPrompt() only tries the styles it is given", () => {
  assert.equal(matchPrompt("Switch#", ["bracket"]), null);
  assert.equal(matchPrompt("<H3C>", ["cisco", "shell"]), null);
  assert.equal(matchPrompt("<H3C>", ["bracket"])?.name, "H3C");
});

Deno.test("learnedPromptMatcher() follows the device into other modes but not other hosts", () => {
  const comware = learnedPromptMatcher(matchPrompt("<H3C>")!);
  assert.equal(comware("<H3C>"), "strong");
  assert.equal(comware("[H3C]"), "strong");
  assert.equal(comware("[H3C-Ethernet1/0/1]"), "strong");
  assert.equal(comware("<H3C2>"), "weak");
  assert.equal(comware(" sysname H3C"), null);
  const cisco = learnedPromptMatcher(matchPrompt("Switch#")!);
  assert.equal(cisco("Switch>"), "strong");
  assert.equal(cisco("Switch(config)#"), "strong");
  assert.equal(cisco("Router#"), "weak");
  assert.equal(cisco("Switch"), null);
  const shell = learnedPromptMatcher(matchPrompt("me@box:~$ ")!);
  assert.equal(shell("me@box:~$ "), "strong");
  assert.equal(shell("me@box:/tmp$ "), "weak");
});

Deno.test("lastLine() drops colour escapes and everything before the last line break", () => {
  const raw = "line one\r\n\x1b[01;32mme@box\x1b[00m:\x1b[01;34m~\x1b[00m$ ";
  assert.equal(lastLine(raw), "me@box:~$ ");
  assert.equal(lastLine("output\r\n\r<H3C>"), "<H3C>");
});

Deno.test("findPagerAtEnd() sees each pager prompt only while it waits at the end", () => {
  for (
    const pager of [
      "  ---- More ----",
      " --More-- ",
      "-- More --",
      "-- MORE --, next page: Space, next line: Enter, quit: Control-C",
      "<--- More --->",
      "---(more)---",
      "---(more 42%)---",
      "Press any key to continue",
    ]
  ) {
    const found = findPagerAtEnd(`line 1\r\nline 2\r\n${pager}`);
    assert.ok(found, pager);
    assert.equal(found.text, pager.trim());
    assert.equal(findPagerAtEnd(`line 1\r\n${pager}\r\nline 2\r\n`), null, pager);
  }
  assert.equal(findPagerAtEnd("interface Ethernet1/0/3"), null);
});

Deno.test("stripPagers() removes Comware's pager and its backspace erase, keeping the next line's indent", () => {
  // H3C Comware 5: 16 BS, 16 blanks, 16 BS, then the next line (which starts with a blank).
  const bs = "\b".repeat(16);
  const raw = "interface Ethernet1/0/3\r\n  ---- More ----" + bs + " ".repeat(16) + bs +
    " description port-003\r\n";
  assert.equal(stripPagers(raw), "interface Ethernet1/0/3\r\n description port-003\r\n");
});

Deno.test("stripPagers() removes Comware's ESC[16D and Huawei's ESC[42D erase sequences", () => {
  const comware = "a\r\n  ---- More ----\x1b[16D                \x1b[16D b\r\n";
  assert.equal(stripPagers(comware), "a\r\n b\r\n");
  const huawei = "a\r\n  ---- More ----\x1b[42D" + " ".repeat(42) + "\x1b[42D#\r\n";
  assert.equal(stripPagers(huawei), "a\r\n#\r\n");
});

Deno.test("stripPagers() removes Cisco IOS ' --More-- ' with its backspaces, and Junos' CR erase", () => {
  const bs = "\b".repeat(9);
  const cisco = "!\r\n --More-- " + bs + "         " + bs + "interface FastEthernet0/2\r\n";
  assert.equal(stripPagers(cisco), "!\r\ninterface FastEthernet0/2\r\n");
  const junos = "x\n---(more 33%)---\r" + " ".repeat(40) + "\rset y\n";
  assert.equal(stripPagers(junos), "x\nset y\n");
});

Deno.test("stripEcho() removes the echoed command, even typed with a correction", () => {
  assert.equal(
    stripEcho("display version\r\nH3C Comware\r\n", "display version"),
    "H3C Comware\r\n",
  );
  assert.equal(
    stripEcho("display verx\b \bsion\r\nout\r\n", "display version"),
    "out\r\n",
  );
  // No echo (echo off): nothing is removed.
  assert.equal(stripEcho("H3C Comware\r\nmore\r\n", "display version"), "H3C Comware\r\nmore\r\n");
  // A long command wrapped over two lines by the terminal.
  assert.equal(
    stripEcho(
      "display interface Ether\r\nnet1/0/1 brief\r\nout\r\n",
      "display interface Ethernet1/0/1 brief",
    ),
    "out\r\n",
  );
});

Deno.test("stripTrailingPrompt() removes only a final prompt line", () => {
  const isPrompt = (l: string) => matchPrompt(l) !== null;
  assert.equal(stripTrailingPrompt("a\r\nb\r\n<H3C>", isPrompt), "a\r\nb\r\n");
  assert.equal(stripTrailingPrompt("a\r\nb\r\n", isPrompt), "a\r\nb\r\n");
  assert.equal(stripTrailingPrompt("<H3C>", isPrompt), "");
});

Deno.test("cleanOutput() turns a raw paged Comware transcript into the plain output bytes", () => {
  const bs = "\b".repeat(16);
  const raw = bytes(
    "display current-configuration\r\n#\r\n sysname H3C\r\n  ---- More ----" + bs +
      " ".repeat(16) + bs + "#\r\n return\r\n<H3C>",
  );
  const out = cleanOutput(raw, { command: "display current-configuration" });
  assert.equal(binary(out), "#\n sysname H3C\n#\n return\n");
});

Deno.test("cleanOutput() keeps non-UTF-8 bytes untouched", () => {
  // "你好" in GBK, then an invalid UTF-8 byte sequence.
  const raw = new Uint8Array([
    ...bytes("display x\r\n"),
    0xc4,
    0xe3,
    0xba,
    0xc3,
    0x0d,
    0x0a,
    ...bytes("<H3C>"),
  ]);
  const out = cleanOutput(raw, { command: "display x" });
  assert.deepEqual([...out], [0xc4, 0xe3, 0xba, 0xc3, 0x0a]);
  assert.equal(decodeOutput(out, "gbk"), "你好\n");
  assert.ok(decodeOutput(out).includes("\ufffd"));
});

Deno.test("detectDevice() uses the prompt style, then the vendor named in the version line", () => {
  const p = (line: string) => matchPrompt(line)!;
  assert.equal(detectDevice(p("<H3C>"), ["SSH-1.99-Comware-5.20"]).device, "comware");
  assert.equal(detectDevice(p("<HUAWEI>"), ["SSH-2.0-HUAWEI-1.5"]).device, "huawei");
  assert.equal(detectDevice(p("<sw1>"), ["Huawei Versatile Routing Platform"]).device, "huawei");
  const guessed = detectDevice(p("<sw1>"), ["SSH-2.0-"]);
  assert.equal(guessed.device, "comware");
  assert.match(guessed.reason, /guessed/);
  assert.equal(detectDevice(p("Switch#"), ["SSH-1.99-Cisco-1.25"]).device, "cisco");
  assert.equal(detectDevice(p("admin@mx480> "), ["SSH-2.0-OpenSSH_7.5"]).device, "junos");
  assert.equal(detectDevice(p("me@box:~$ "), ["SSH-2.0-OpenSSH_9.2"]).device, "linux");
  assert.equal(hintedDevice(["nothing here"]), null);
});

Deno.test("findErrorLine() knows each vendor's 'command not understood' reply but not Comware's info", () => {
  const rejected = (text: string) => assert.notEqual(findErrorLine(text), null, text);
  rejected(" % Unrecognized command found at '^' position.");
  rejected("Error: Unrecognized command found at '^' position.");
  rejected("% Invalid input detected at '^' marker.");
  rejected("syntax error, expecting <command>.");
  assert.equal(
    findErrorLine(
      " % Screen-length configuration is disabled for current user.\n",
    ),
    null,
  );
  assert.equal(
    findErrorLine(
      "Info: The configuration takes effect on the current user terminal interface only.\n",
    ),
    null,
  );
});

Deno.test("findErrorLine() returns each vendor's error line, or the line after a lone ^ marker", () => {
  const cases: [string, string][] = [
    // Comware
    [
      "              ^\n % Unrecognized command found at '^' position.\n",
      "% Unrecognized command found at '^' position.",
    ],
    [
      " % Incomplete command found at '^' position.\n",
      "% Incomplete command found at '^' position.",
    ],
    [
      " % Too many parameters found at '^' position.\n",
      "% Too many parameters found at '^' position.",
    ],
    [" % Wrong parameter found at '^' position.\n", "% Wrong parameter found at '^' position."],
    // Huawei VRP
    [
      "Error: Unrecognized command found at '^' position.\n",
      "Error: Unrecognized command found at '^' position.",
    ],
    [
      "Error: Incomplete command found at '^' position.\n",
      "Error: Incomplete command found at '^' position.",
    ],
    // Cisco IOS / Arista EOS
    [
      "         ^\n% Invalid input detected at '^' marker.\n\n",
      "% Invalid input detected at '^' marker.",
    ],
    ["% Incomplete command.\n", "% Incomplete command."],
    ['% Ambiguous command:  "sh"\n', '% Ambiguous command:  "sh"'],
    ["% Bad secrets\n", "% Bad secrets"],
    ["% Authorization failed.\n", "% Authorization failed."],
    // Junos
    [
      "                ^\nsyntax error, expecting <command>.\n",
      "syntax error, expecting <command>.",
    ],
    ["unknown command.\n", "unknown command."],
    ["error: configuration check-out failed\n", "error: configuration check-out failed"],
    // A vendor whose message we do not know: the line under the marker
    ["   ^\nBad command.\n", "Bad command."],
  ];
  for (const [output, line] of cases) assert.equal(findErrorLine(output), line, output);
  // Ordinary output is not an error, even with % or "error" inside a line.
  for (
    const output of [
      "%Apr 26 12:00:00:123 2000 H3C SHELL/4/LOGIN: admin logged in\n",
      "Input errors: 0, CRC: 0\n",
      "  100% done\n",
      "",
    ]
  ) assert.equal(findErrorLine(output), null, output);
});

Deno.test("privilegedPrompt() reads the IOS level from > and #; other vendors do not tell", () => {
  assert.equal(privilegedPrompt("cisco", "Router>"), false);
  assert.equal(privilegedPrompt("cisco", "Router#"), true);
  assert.equal(privilegedPrompt("cisco", "Router(config)#"), true);
  assert.equal(privilegedPrompt("junos", "admin@mx480>"), null);
  assert.equal(privilegedPrompt("comware", "<H3C>"), null);
});

Deno.test("cleanOutput() drops bash's bracketed-paste switches (ESC[?2004l\\r, ESC[?2004h) and the echo", () => {
  // What bash 5.2 on Debian sends for `echo one` (captured from OpenSSH sshd).
  const raw = fromBinary(
    "echo one\r\n\x1b[?2004l\rone\r\n\x1b[?2004hsshtrace-test@vm:~$ ",
  );
  assert.equal(binary(cleanOutput(raw, { command: "echo one" })), "one\n");
  // A command without output.
  const empty = fromBinary("true\r\n\x1b[?2004l\r\x1b[?2004hme@vm:~$ ");
  assert.equal(binary(cleanOutput(empty, { command: "true" })), "");
  // Other escapes in the output stay (colours are the command's own bytes).
  const colour = fromBinary("ls\r\n\x1b[?2004l\r\x1b[0;34mdir\x1b[0m\r\n\x1b[?2004h$ ");
  assert.equal(binary(cleanOutput(colour, { command: "ls" })), "\x1b[0;34mdir\x1b[0m\n");
});

Deno.test("detectDevice() lists its evidence; a legacy-only KEXINIT makes a `# ` prompt a switch", async () => {
  const { kexHint, contradiction } = await import("../../../lib/send/detect.ts");
  const p = (line: string) => matchPrompt(line)!;
  const lists = (kex: string[]) => ({
    kex,
    hostKey: [],
    cipherC2S: [],
    cipherS2C: [],
    macC2S: [],
    macS2C: [],
    compressionC2S: [],
    compressionS2C: [],
  });
  const legacy = kexHint(lists(["diffie-hellman-group1-sha1", "diffie-hellman-group14-sha1"]))!;
  assert.match(legacy.text, /^legacy-only offer/);
  const openssh = kexHint(lists(["curve25519-sha256", "kex-strict-s-v00@openssh.com"]))!;
  assert.match(openssh.text, /openssh-style offer \(kex-strict-s-v00@openssh\.com\)/);
  assert.equal(kexHint(lists(["curve25519-sha256"])), null);

  const sw = detectDevice(p("HP-2530# "), [{ source: "version line", text: "SSH-2.0-" }, legacy]);
  assert.equal(sw.device, "procurve");
  assert.match(sw.reason, /legacy-only KEXINIT/);
  assert.equal(detectDevice(p("HP-2530# "), ["SSH-2.0-", openssh]).device, "linux");
  const eos = detectDevice(p("leaf1>"), [
    { source: "version line", text: "SSH-2.0-OpenSSH_7.8" },
    { source: "login banner", text: "Arista Networks EOS lab switch" },
    openssh,
  ]);
  assert.equal(eos.device, "eos");
  assert.deepEqual(eos.evidence, [
    'prompt "leaf1>": cisco style (asa, eos, os10, cisco)',
    'version line "SSH-2.0-OpenSSH_7.8" names Unix (prompt does not fit)',
    'login banner "Arista Networks EOS lab switch" names Arista EOS',
    'KEXINIT "openssh-style offer (kex-strict-s-v00@openssh.com)" names Unix (prompt does not fit)',
  ]);

  // A given device the server's texts contradict (same prompt style): the named one; OpenSSH
  // contradicts only a Unix --device.
  assert.equal(contradiction("comware", p("<HUAWEI>"), ["SSH-2.0-HUAWEI-1.5"])?.device, "huawei");
  assert.equal(contradiction("eos", p("leaf1>"), ["SSH-2.0-OpenSSH_7.8"]), null);
  assert.equal(
    contradiction("linux", p("HP-2530# "), [{ source: "greeting", text: "HP J9773A 2530" }])
      ?.device,
    "procurve",
  );
});

Deno.test("learnedPromptMatcher() knows a switch's shell-style prompt in its modes; a Unix one stays weak", () => {
  const sw = learnedPromptMatcher(matchPrompt("HP-2530-24G# ")!);
  assert.equal(sw("HP-2530-24G(config)# "), "strong");
  assert.equal(sw("HP-2530-24G(vlan-10)# "), "strong");
  assert.equal(sw("other# "), "weak");
  const unix = learnedPromptMatcher(matchPrompt("me@box:~$ ")!);
  assert.equal(unix("me@box:~$ "), "strong");
  assert.equal(unix("me@box:/tmp$ "), "weak");
});
