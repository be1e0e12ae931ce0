/**
 * An imitation of Fortinet FortiOS: `FGT60E # ` prompts (`FGT60E (global) # ` in a context), a
 * version line that names no vendor (FortiOS sends random text), no per-session paging command
 * (`--More-- ` answered), `Unknown action` / `command parse error` lines and the `(y/n)`
 * question of `execute reboot`.
 * @module
 */

import type { CliState, DeviceSpec } from "./types.ts";

function fullConfiguration(s: CliState): string[] {
  const lines = [
    "#config-version=FGT60E-6.4.9-FW-build1966-220421:opmode=0:vdom=0",
    "config system global",
  ];
  lines.push(`    set hostname "${s.hostname}"`, "end", "config system interface");
  for (let i = 1; i <= 20; i++) {
    lines.push(
      `    edit "port${i}"`,
      `        set alias "port-${String(i).padStart(3, "0")}"`,
      "    next",
    );
  }
  lines.push("end");
  return lines;
}

const PAGER = "--More-- ";

export const FORTIOS: DeviceSpec = {
  device: "fortios",
  hostname: "FGT60E",
  versionLine: "SSH-2.0-WpdBaqvX",
  banner: null,
  greeting: [],
  startLevel: 15,
  prompt: (s) => `${s.hostname}${s.config === null || s.config === "" ? "" : ` (${s.config})`} # `,
  pager: PAGER,
  erase: "\r" + " ".repeat(PAGER.length) + "\r",
  pagingOff: null,
  logout: ["exit"],
  privilege: null,
  configLevel: 0,
  config: null,
  gated: [],
  error: (line) =>
    /^(?:get|show|execute|config)\s/.test(line)
      ? [`command parse error before '${line.split(" ").at(-1)}'`, "Command fail. Return code -61"]
      : ["Unknown action 0"],
  commands: {
    "get system status": (s) => ({
      lines: ["Version: FortiGate-60E v6.4.9,build1966,220421 (GA)", `Hostname: ${s.hostname}`],
    }),
    "show full-configuration": (s) => ({ lines: fullConfiguration(s) }),
    "execute reboot": () => ({
      lines: ["This operation will reboot the system !"],
      dialog: {
        question: "Do you want to continue? (y/n)",
        answer: (a) => ({
          lines: a === "y" ? ["", "System is rebooting..."] : ["", "Command aborted."],
        }),
      },
    }),
  },
};
