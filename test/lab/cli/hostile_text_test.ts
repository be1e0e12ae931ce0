/**
 * Peer text never drives the user's terminal: the sshtrace CLI against the lab's hostile-text
 * profiles (terminal escapes, an OSC 52 clipboard write, BEL, a CR overwrite, a C1 CSI and bidi
 * overrides in the pre-version lines, version comment, banner, keyboard-interactive name,
 * instruction and prompt, a DEBUG message, an exit-signal message, a DISCONNECT, a channel open
 * failure and a password change prompt). Nothing unsafe reaches stderr or the JSON/NDJSON on
 * stdout, the text is there in escaped form, and Chinese stays readable. The prompts are checked
 * in a real terminal (tmux), byte for byte as sshtrace wrote them.
 */

import assert from "node:assert/strict";
import { HOSTILE_TEXT } from "../../../lib/lab/faults/mod.ts";
import { type LabServer, startLabServer } from "../../../lib/lab/mod.ts";
import { emptyHome, runSshtrace } from "../../helpers/cli.ts";
import { Pane, sshtraceScript } from "../../helpers/tmux.ts";
import { tempDir } from "../../helpers/tools.ts";
import { sharedHostKeys } from "../../helpers/lab.ts";

/** What must never reach a terminal raw: C0 but tab/newline, DEL, C1, bidi, separators, U+FFFD. */
const UNSAFE =
  // deno-lint-ignore no-control-regex
  /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufffd]/;

/** The hostile text as the terminal shows it. */
const ESCAPED = [
  "欢迎\\x1b[2J\\x1b]52;c;c3NoIHB3bmVk\\x07\\x0dFAKE\\x9b31m\\u202eevil\\u2066交换机",
];

function assertSafe(text: string, what: string): void {
  const m = UNSAFE.exec(text);
  assert.equal(
    m,
    null,
    `${what} holds U+${m?.[0].charCodeAt(0).toString(16).padStart(4, "0")} at ${m?.index}: ` +
      JSON.stringify(text.slice(Math.max(0, (m?.index ?? 0) - 40), (m?.index ?? 0) + 40)),
  );
}

async function withLab<T>(profile: string, body: (lab: LabServer) => Promise<T>): Promise<T> {
  const lab = await startLabServer({ profile, hostKeys: await sharedHostKeys() });
  try {
    return await body(lab);
  } finally {
    await lab.stop();
  }
}

const PROFILES: { profile: string; exit: number; shows: string[] }[] = [
  {
    profile: "hostile-text",
    exit: 0,
    shows: [
      "preamble",
      "server    SSH-2.0-Lab_1.0 \\x1b[2J",
      "\\u2066交换机\\xff\\xc3\n", // the DEBUG message: invalid UTF-8 bytes shown as \xNN
      "banner",
      "killed by signal",
    ],
  },
  { profile: "hostile-text-disconnect", exit: 14, shows: ["the server disconnected"] },
  { profile: "hostile-text-open-failure", exit: 15, shows: ["refused to open a session channel"] },
  { profile: "hostile-text-password-change", exit: 14, shows: ["changed before logging in"] },
];

for (const { profile, exit, shows } of PROFILES) {
  Deno.test(`lab ${profile}: the trace, the failure box and the JSON carry no terminal control`, async () => {
    await using tmp = await tempDir("sshtrace-hostile-");
    const home = await emptyHome(tmp.path);
    const r = await withLab(profile, (lab) =>
      runSshtrace([
        "-v",
        "--ndjson",
        "--json",
        "--password-env",
        "PW",
        "--timeout",
        "5",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        `demo@${lab.host}:${lab.port}`,
        "echo",
        "hi",
      ], { home, env: { PW: "demo" } }));
    assert.equal(r.code, exit, r.stderr);
    assertSafe(r.stderr, "stderr");
    for (const text of [...ESCAPED, ...shows]) assert.ok(r.stderr.includes(text), text);
    // stdout: the session's own data first (untouched), then NDJSON events and the report.
    assertSafe(r.stdout, "stdout");
    assert.ok(r.stdout.includes("\\u009b31m\\u202eevil\\u2066交换机"), r.stdout.slice(0, 400));
    const report = JSON.parse(r.stdout.slice(r.stdout.lastIndexOf("\n{\n") + 1));
    assert.equal(report.exitCode, exit);
    if (profile === "hostile-text") {
      assert.match(r.stdout, /^hi$/m, "the session's data");
      assert.ok(r.stdout.includes('交换机\\udcff\\udcc3"'), "JSON keeps invalid bytes, escaped");
      assert.equal(report.auth.banner, `${HOSTILE_TEXT}\r\n第二行\tok\r\n`, "JSON keeps the text");
    }
  });
}

Deno.test("lab hostile-text: keyboard-interactive name, instruction and prompt reach a terminal escaped", async () => {
  await using tmp = await tempDir("sshtrace-hostile-tty-");
  const home = await emptyHome(tmp.path);
  const capture = `${tmp.path}/pane-output`;
  await withLab("hostile-text", async (lab) => {
    const script = sshtraceScript([
      "-q",
      "-o",
      "StrictHostKeyChecking=no",
      "-o",
      "UserKnownHostsFile=/dev/null",
      `demo@${lab.host}:${lab.port}`,
      "echo",
      "hi",
    ], { home, exitFile: `${tmp.path}/exit`, sttyFile: `${tmp.path}/stty` });
    // A moment first, so that the pane's output is recorded from sshtrace's first byte.
    const pane = await Pane.start(`sleep 0.5; ${script}`);
    try {
      await pane.recordOutput(capture);
      await pane.waitFor(/交换机: ?$/m, 20_000);
      await pane.type("demo");
      await pane.waitFor(/SSHTRACE-EXITED code=0/);
    } finally {
      await pane.kill();
    }
  });
  // The bytes written to the terminal (line ends as CR LF, or CR CR LF after a raw-mode prompt).
  // Deno itself may clear
  // its progress line (ESC [0G ESC [2K ESC [J) before sshtrace starts: checked from there on.
  const raw = await Deno.readTextFile(capture);
  const text = raw.replace(/\r+\n/g, "\n");
  for (const seq of ["\x1b[2J", "\x1b]52", "\x07", "\rFAKE", "\x9b", "\u202e", "\u2066"]) {
    assert.ok(!text.includes(seq), `${JSON.stringify(seq)} reached the terminal raw: ${raw}`);
  }
  assertSafe(text.slice(text.indexOf("欢迎")), "the terminal output");
  const shown = ESCAPED[0]!;
  assert.ok(text.includes(`${shown}\n${shown}\nline 2\nPassword ${shown}: \nhi\n`), raw);
});
