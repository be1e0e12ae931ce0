/**
 * An imitation of Juniper Junos: `admin@mx480> ` operational and `admin@mx480# ` configuration
 * prompts with `[edit]` lines, `---(more)---` paging, `set cli screen-length 0`, `syntax error`
 * lines, `commit and-quit`, and the `[yes,no] (no)` confirmation of `request system reboot`.
 * @module
 */

import type { CliState, DeviceSpec } from "./types.ts";

function configuration(s: CliState): string[] {
  const lines = [`## Last commit: 2026-12-07 10:11:12 UTC by ${s.user}`, "version 18.4R1.8;"];
  lines.push("system {", `    host-name ${s.hostname};`, "}", "interfaces {");
  for (let i = 0; i < 24; i++) {
    lines.push(
      `    ge-0/0/${i} {`,
      `        description port-${String(i + 1).padStart(3, "0")};`,
      "    }",
    );
  }
  lines.push("}");
  return lines;
}

const PAGER = "---(more)---";

export const JUNOS: DeviceSpec = {
  device: "junos",
  hostname: "mx480",
  versionLine: "SSH-2.0-OpenSSH_7.5",
  banner: null,
  greeting: ["--- JUNOS 18.4R1.8 built 2018-12-17 03:30:15 UTC", ""],
  startLevel: 15,
  prompt: (s) => `${s.user}@${s.hostname}${s.config === null ? ">" : "#"} `,
  pager: PAGER,
  erase: "\r" + " ".repeat(PAGER.length) + "\r",
  pagingOff: { command: "set cli screen-length 0", reply: ["Screen length set to 0"] },
  logout: ["exit", "quit"],
  privilege: null,
  configLevel: 0,
  config: {
    enter: "configure",
    enterReply: ["Entering configuration mode", "", "[edit]"],
    leave: {
      "commit and-quit": ["commit complete", "Exiting configuration mode"],
      "exit configuration-mode": ["Exiting configuration mode"],
    },
    words: { set: null, delete: null, edit: null, show: null },
    lineReply: ["", "[edit]"],
    reject: /^(?:set|delete) (?!system|interfaces|vlans|protocols)/,
  },
  gated: [],
  error: (line, prompt) =>
    line.split(" ").length > 1 && /^(?:set|delete|show|request) /.test(line)
      ? [" ".repeat(prompt.length + line.indexOf(" ") + 1) + "^", "syntax error.", ""]
      : [" ".repeat(prompt.length) + "^", "unknown command."],
  commands: {
    "show version": (s) => ({
      lines: [`Hostname: ${s.hostname}`, "Model: mx480", "Junos: 18.4R1.8"],
    }),
    "show configuration": (s) => ({ lines: configuration(s) }),
    "request system reboot": () => ({
      lines: [],
      dialog: {
        question: "Reboot the system ? [yes,no] (no) ",
        answer: (a) => ({ lines: a === "yes" ? ["", "Shutdown NOW!", "[pid 4242]"] : [] }),
      },
    }),
  },
};
