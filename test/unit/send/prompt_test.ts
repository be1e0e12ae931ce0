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
import { detectDevice, hintedDevice, REJECTED_REPLY } from "../../../lib/send/devices.ts";

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

Deno.test("REJECTED_REPLY knows each vendor's 'command not understood' reply but not Comware's info", () => {
  assert.match(" % Unrecognized command found at '^' position.", REJECTED_REPLY);
  assert.match("Error: Unrecognized command found at '^' position.", REJECTED_REPLY);
  assert.match("% Invalid input detected at '^' marker.", REJECTED_REPLY);
  assert.match("syntax error, expecting <command>.", REJECTED_REPLY);
  assert.doesNotMatch(
    " % Screen-length configuration is disabled for current user.",
    REJECTED_REPLY,
  );
  assert.doesNotMatch(
    "Info: The configuration takes effect on the current user terminal interface only.",
    REJECTED_REPLY,
  );
});
