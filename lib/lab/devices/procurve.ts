/**
 * An imitation of HPE ProCurve / Aruba-OS: a screen-clearing "Press any key to continue"
 * banner, the console menu (its `5. Command Line (CLI)` item), `HP-2530-24G# ` prompts with
 * `(config)` / `(vlan-10)` contexts, `no page`, the `-- MORE --` pager, `Invalid input:` lines
 * and the questions of `logout` (save the changed configuration? log out?).
 * @module
 */

import type { CliState, DeviceSpec, Reply } from "./types.ts";

const PAGER = "-- MORE --, next page: Space, next line: Enter, quit: Control-C";

const MENU = "\x1b[2J\x1b[1;1H" + [
  "===========================- CONSOLE - MANAGER MODE -============================",
  "                                    Main Menu",
  "",
  "   1. Status and Counters...",
  "   2. Switch Configuration...",
  "   3. Console Passwords...",
  "   4. Event Log",
  "   5. Command Line (CLI)",
  "   6. Reboot Switch",
  "   7. Download OS",
  "   0. Logout",
  "",
  " Provides the menu to display configuration, status, and counters.",
  " To select menu item, press item number, or highlight item and press <Enter>.",
].join("\r\n");

function runningConfig(s: CliState): string[] {
  const lines = [
    "",
    "Running configuration:",
    "",
    "; J9773A Configuration Editor; Created on release #YA.16.02.0012",
    "",
  ];
  lines.push(`hostname "${s.hostname}"`);
  for (let i = 1; i <= 24; i++) {
    lines.push(`interface ${i}`, `   name "port-${String(i).padStart(3, "0")}"`, "   exit");
  }
  return lines;
}

function logout(s: CliState): Reply {
  const out: Reply = {
    lines: [],
    dialog: {
      question: "Do you want to log out [y/n]? ",
      answer: (a) => (a.toLowerCase() === "y" ? { lines: [], close: true } : { lines: [] }),
    },
  };
  if (!s.changed) return out;
  return {
    lines: [],
    dialog: { question: "Do you want to save current configuration [y/n/^C]? ", answer: () => out },
  };
}

export const PROCURVE: DeviceSpec = {
  device: "procurve",
  hostname: "HP-2530-24G",
  versionLine: "SSH-2.0-Mocana SSH 6.3",
  banner: null,
  anyKey:
    "\x1b[2J\x1b[1;1HHP J9773A 2530-24G-PoEP Switch\r\nSoftware revision YA.16.02.0012\r\n\r\n" +
    "(C) Copyright 2017 Hewlett Packard Enterprise Development LP\r\n\r\nPress any key to continue",
  menu: { screen: MENU, cliKey: "5" },
  greeting: ["", "Your previous successful login (as manager) was on Mon Dec  7 09:00:00 2026", ""],
  startLevel: 15,
  prompt: (s) =>
    `${s.hostname}${s.config === null ? "" : s.config === "" ? "(config)" : `(${s.config})`}# `,
  pager: PAGER,
  erase: "\r\x1b[K",
  pagingOff: { command: "no page", reply: [] },
  logout: ["logout", "exit"],
  logoutDialog: logout,
  privilege: null,
  configLevel: 0,
  config: {
    enter: "configure terminal",
    enterReply: [],
    leave: { end: [] },
    words: {
      vlan: (args) => `vlan-${args}`,
      name: null,
      untagged: null,
      tagged: null,
      hostname: null,
      interface: (a) => `eth-${a}`,
    },
  },
  gated: [],
  error: (line) => [`Invalid input: ${line.split(" ").at(-1)}`],
  commands: {
    "show version": () => ({
      lines: [
        "Image stamp:    /ws/swbuildm/rel_york_qaoff/code/build/lvm(swbuildm_rel_york_qaoff_rel_york)",
        "                YA.16.02.0012",
      ],
    }),
    "show running-config": (s) => ({ lines: runningConfig(s) }),
    "write memory": (s) => {
      s.changed = false;
      return { lines: [] };
    },
  },
};
