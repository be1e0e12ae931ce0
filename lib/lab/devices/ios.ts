/**
 * Imitations of IOS-style CLIs: Cisco IOS (`Switch>` / `Switch#`), Cisco ASA (`asa/pri/act>`),
 * Arista EOS (`leaf1>`) and Dell OS10 (`OS10#`): `enable [LEVEL]` with a secret, `configure
 * terminal` with `(config-if)` prompts, each vendor's pager, error lines and dialogs.
 * @module
 */

import {
  backspaceErase,
  caretLine,
  type CliState,
  type ConfigSpec,
  type DeviceSpec,
  type PrivilegeSpec,
  type Reply,
} from "./types.ts";

/** A running configuration of `ports` interfaces (more than a page). */
function runningConfig(s: CliState, port: (i: number) => string): string[] {
  const lines = ["Building configuration...", "", "Current configuration : 9999 bytes", "!"];
  lines.push(`hostname ${s.hostname}`, "!");
  for (let i = 1; i <= 24; i++) {
    lines.push(`interface ${port(i)}`, ` description port-${String(i).padStart(3, "0")}`, "!");
  }
  lines.push("end");
  return lines;
}

function iosPrompt(context: (config: string) => string) {
  return (s: CliState) =>
    s.hostname + (s.config === null ? "" : `(${context(s.config)})`) + (s.level > 1 ? "#" : ">");
}

function configTerminal(ifContext: string, reply: string[]): ConfigSpec {
  return {
    enter: "configure terminal",
    enterReply: reply,
    leave: { end: [] },
    words: {
      interface: () => ifContext,
      hostname: null,
      description: null,
      shutdown: null,
      no: null,
      switchport: null,
      ip: null,
      vlan: () => "config-vlan",
    },
  };
}

function enable(again: string[], tries: number, refused: string[]): PrivilegeSpec {
  return {
    command: "enable",
    min: 0,
    max: 15,
    defaultLevel: 15,
    secretPrompt: "Password: ",
    reached: () => [],
    tries,
    again,
    refused,
  };
}

const IOS_VERSION = [
  "Cisco IOS Software, C2960 Software (C2960-LANBASEK9-M), Version 15.0(2)SE11, RELEASE SOFTWARE (fc3)",
  "Copyright (c) 1986-2017 by Cisco Systems, Inc.",
];

/** Cisco IOS: starts at `Switch>`, `enable` asks up to three times, then `% Bad secrets`. */
export const CISCO: DeviceSpec = {
  device: "cisco",
  hostname: "Switch",
  versionLine: "SSH-2.0-Cisco-1.25",
  banner: null,
  greeting: [""],
  startLevel: 1,
  prompt: iosPrompt((c) => c === "" ? "config" : c),
  pager: " --More-- ",
  erase: backspaceErase(10),
  pagingOff: { command: "terminal length 0", reply: [] },
  logout: ["exit", "logout", "quit"],
  privilege: enable([], 3, ["% Bad secrets", ""]),
  configLevel: 15,
  config: configTerminal("config-if", [
    "Enter configuration commands, one per line.  End with CNTL/Z.",
  ]),
  gated: ["show running-config", "write memory", "copy running-config startup-config"],
  error: (line, prompt) => [caretLine(line, prompt), "% Invalid input detected at '^' marker.", ""],
  commands: {
    "show version": (s) => ({ lines: [...IOS_VERSION, `${s.hostname} uptime is 1 day`] }),
    "show running-config": (s) => ({ lines: runningConfig(s, (i) => `GigabitEthernet0/${i}`) }),
    "write memory": () => ({ lines: ["Building configuration...", "[OK]"] }),
    "copy running-config startup-config": () => ({
      lines: [],
      dialog: {
        question: "Destination filename [startup-config]? ",
        answer: () => ({ lines: ["Building configuration...", "[OK]"] }),
      },
    }),
  },
};

/** Cisco ASA: `asa/pri/act>`, `<--- More --->`, `terminal pager 0`, `ERROR: %` lines. */
export const ASA: DeviceSpec = {
  ...CISCO,
  device: "asa",
  hostname: "asa/pri/act",
  versionLine: "SSH-2.0-Cisco-1.25",
  banner: null,
  pager: "<--- More --->",
  erase: "\r" + " ".repeat(14) + "\r",
  pagingOff: { command: "terminal pager 0", reply: [] },
  privilege: enable(["Invalid password"], 3, ["Invalid password", "% Access denied."]),
  config: configTerminal("config-if", []),
  error: (
    line,
    prompt,
  ) => [caretLine(line, prompt), "ERROR: % Invalid input detected at '^' marker."],
  commands: {
    ...CISCO.commands,
    "show version": () => ({
      lines: ["Cisco Adaptive Security Appliance Software Version 9.8(4)", "", "asa up 1 day"],
    }),
    "show running-config": (s) => ({ lines: runningConfig(s, (i) => `GigabitEthernet0/${i}`) }),
    // The source is asked first (no built-in answer: a caller's --answer rule), then the target.
    "copy running-config startup-config": () => ({
      lines: [],
      dialog: {
        question: "Source filename [running-config]? ",
        answer: () => ({
          lines: [],
          dialog: {
            question: "Destination filename [startup-config]? ",
            answer: () => ({ lines: ["Cryptochecksum: 1234abcd 5678ef90", "[OK]"] }),
          },
        }),
      },
    }),
  },
};

/** Arista EOS: `leaf1>`, `Pagination disabled.`, `% Invalid input`, `write erase` confirm. */
export const EOS: DeviceSpec = {
  ...CISCO,
  device: "eos",
  hostname: "leaf1",
  versionLine: "SSH-2.0-OpenSSH_7.8",
  banner: "Arista Networks EOS lab switch: authorised access only\r\n",
  prompt: iosPrompt((c) => c === "" ? "config" : c === "config-if" ? "config-if-Et1" : c),
  pagingOff: { command: "terminal length 0", reply: ["Pagination disabled."] },
  privilege: enable([], 1, ["% Access denied"]),
  config: configTerminal("config-if", []),
  error: () => ["% Invalid input"],
  commands: {
    ...CISCO.commands,
    "show version": () => ({
      lines: ["Arista DCS-7050TX-64-R", "Software image version: 4.24.2F", "Architecture: i686"],
    }),
    "show running-config": (s) => ({ lines: runningConfig(s, (i) => `Ethernet${i}`) }),
    "write erase": () => ({
      lines: [],
      dialog: {
        question: "Proceed with erasing startup configuration? [confirm]",
        answer: () => ({ lines: [] }),
      },
    }),
  },
};

/** Dell OS10: the admin logs in at `OS10#` (no enable step), `--more--`, `% Error:` lines. */
export const OS10: DeviceSpec = {
  ...CISCO,
  device: "os10",
  hostname: "OS10",
  versionLine: "SSH-2.0-OpenSSH_7.4",
  banner: null,
  greeting: ["Dell EMC Networking OS10 Enterprise", ""],
  startLevel: 15,
  prompt: iosPrompt((c) => c === "" ? "config" : c),
  pager: "--more--",
  erase: backspaceErase(8),
  privilege: null,
  configLevel: 1,
  config: configTerminal("conf-if-eth1/1/1", []),
  error: () => ["% Error: Unrecognized command."],
  commands: {
    "show version": () => ({
      lines: [
        "Dell EMC Networking OS10 Enterprise",
        "OS Version: 10.5.2.3",
        "Build Version: 10.5.2.3.258",
      ],
    }),
    "show running-configuration": (s) => ({
      lines: runningConfig(s, (i) => `ethernet1/1/${i}`),
    }),
    "write memory": () => ({ lines: [] }),
    "delete startup-configuration": (): Reply => ({
      lines: [],
      dialog: {
        question: "Proceed to delete startup-configuration? [yes/no]:",
        answer: (a) => ({ lines: a === "yes" ? [] : ["Aborted."] }),
      },
    }),
  },
};
