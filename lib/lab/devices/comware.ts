/**
 * Imitations of H3C / HPE Comware (5: the old-switch profile, `<H3C>`; 7 in an RBM pair,
 * `RBM_P<FW-01>`) and Huawei VRP (`<HUAWEI>`): `---- More ----` paging, `screen-length`, `super
 * [LEVEL]` with a secret, system view with `[name-context]` prompts, the `save` dialogs.
 * @module
 */

import { COMWARE_GREETING, comwareOutput } from "../comware_output.ts";
import {
  backspaceErase,
  caretLine,
  type CliState,
  type ConfigSpec,
  type DeviceSpec,
  type PrivilegeSpec,
  type Reply,
} from "./types.ts";

const PAGER = "  ---- More ----";

/** System view: the lines the lab accepts, and the views they open. */
const SYSTEM_VIEW: ConfigSpec = {
  enter: "system-view",
  enterReply: ["System View: return to User View with Ctrl+Z."],
  leave: { return: [], quit: [] },
  words: {
    interface: (args) => args.replace(/\s+/g, ""),
    vlan: (args) => `vlan${args}`,
    description: null,
    port: null,
    shutdown: null,
    undo: null,
    ip: null,
    sysname: null,
  },
};

function bracketPrompt(prefix: string) {
  return (s: CliState) =>
    prefix +
    (s.config === null
      ? `<${s.hostname}>`
      : `[${s.hostname}${s.config === "" ? "" : `-${s.config}`}]`);
}

function comwareSuper(max: number, defaultLevel: number): PrivilegeSpec {
  return {
    command: "super",
    min: 0,
    max,
    defaultLevel,
    secretPrompt: " Password:",
    reached: (level) => [
      ` User privilege level is ${level}, and only those commands can be used`,
      ` registered at or below level ${level}.`,
    ],
    tries: 1,
    again: [],
    refused: [" % Password is wrong."],
  };
}

/** Comware's `save`: are you sure, then the file name (Enter keeps it). */
function comwareSave(): Reply {
  const saved = [
    " Validating file. Please wait....",
    " Configuration is saved to device successfully.",
  ];
  return {
    lines: [],
    dialog: {
      question: " The current configuration will be written to the device. Are you sure? [Y/N]:",
      answer: (sure) =>
        sure.toUpperCase() !== "Y" ? { lines: [] } : {
          lines: [],
          dialog: {
            question: " Please input the file name(*.cfg)[flash:/startup.cfg]\r\n" +
              "(To leave the existing filename unchanged, press the enter key):",
            answer: () => ({ lines: saved }),
          },
        },
    },
  };
}

function comwareCommands(): DeviceSpec["commands"] {
  const display = (c: string) => (s: CliState): Reply => ({ lines: comwareOutput(c, s.hostname)! });
  return {
    "display version": display("display version"),
    "display current-configuration": display("display current-configuration"),
    "display interface brief": display("display interface brief"),
    "save": comwareSave,
    "save force": () => ({
      lines: [
        " Validating file. Please wait....",
        " Configuration is saved to device successfully.",
      ],
    }),
  };
}

/** The old-switch profile's Comware 5: levels 0-3, `super` reaches 3, nothing gated. */
export const COMWARE5: DeviceSpec = {
  device: "comware",
  hostname: "H3C",
  versionLine: "SSH-1.99-Comware-5.20.105",
  banner: null,
  greeting: COMWARE_GREETING,
  startLevel: 1,
  prompt: bracketPrompt(""),
  pager: PAGER,
  erase: backspaceErase(PAGER.length),
  pagingOff: {
    command: "screen-length disable",
    reply: [" % Screen-length configuration is disabled for current user."],
  },
  logout: ["quit"],
  privilege: comwareSuper(3, 3),
  configLevel: 0,
  config: SYSTEM_VIEW,
  gated: [],
  error: (
    line,
    prompt,
  ) => [caretLine(line, prompt), " % Unrecognized command found at '^' position."],
  commands: comwareCommands(),
};

/**
 * Comware 7 on one firewall of an RBM pair: `RBM_P<FW-01>` prompts, levels 0-15 (`super`
 * reaches 15), system view and `display current-configuration` gated at level 2.
 */
export const COMWARE7: DeviceSpec = {
  ...COMWARE5,
  hostname: "FW-01",
  versionLine: "SSH-2.0-Comware-7.1.064",
  greeting: [
    "",
    "******************************************************************************",
    "* Copyright (c) 2004-2021 New H3C Technologies Co., Ltd. All rights reserved.*",
    "******************************************************************************",
    "",
  ],
  prompt: bracketPrompt("RBM_P"),
  erase: `\x1b[16D${" ".repeat(16)}\x1b[16D`,
  privilege: comwareSuper(15, 15),
  configLevel: 2,
  gated: ["display current-configuration", "save", "save force"],
};

const VRP_VERSION = [
  "Huawei Versatile Routing Platform Software",
  "VRP (R) software, Version 5.170 (S5720 V200R011C10SPC600)",
  "Copyright (C) 2000-2018 HUAWEI TECH CO., LTD",
  "HUAWEI S5720-28X-SI-AC Routing Switch uptime is 0 week, 1 day, 2 hours, 3 minutes",
];

/** Huawei VRP: `super [LEVEL]` (0-15, default 3), `save` asks `[Y/N]`. */
export const HUAWEI: DeviceSpec = {
  ...COMWARE5,
  device: "huawei",
  hostname: "HUAWEI",
  versionLine: "SSH-2.0-HUAWEI-1.5",
  greeting: [
    "",
    "Info: The max number of VTY users is 5, and the number",
    "      of current VTY users on line is 1.",
    "      The current login time is 2026-12-07 10:11:12.",
  ],
  pager: PAGER,
  erase: `\x1b[42D${" ".repeat(42)}\x1b[42D`,
  pagingOff: {
    command: "screen-length 0 temporary",
    reply: ["Info: The configuration takes effect on the current user terminal interface only."],
  },
  privilege: {
    command: "super",
    min: 0,
    max: 15,
    defaultLevel: 3,
    secretPrompt: " Password:",
    reached: (level) => [
      ` Now user privilege is level ${level}, and only those commands whose level is equal to` +
      " or less than this level can be used.",
      " Privilege note: 0-VISIT, 1-MONITOR, 2-SYSTEM, 3-MANAGE",
    ],
    tries: 1,
    again: [],
    refused: ["Error: Password is wrong."],
  },
  configLevel: 2,
  gated: ["display current-configuration", "save"],
  error: (
    line,
    prompt,
  ) => [caretLine(line, prompt), "Error: Unrecognized command found at '^' position."],
  commands: {
    ...comwareCommands(),
    "display version": () => ({ lines: VRP_VERSION }),
    "save": () => ({
      lines: ["The current configuration will be written to the device."],
      dialog: {
        question: "Are you sure to continue?[Y/N]:",
        answer: (a) =>
          a.toUpperCase() === "Y"
            ? {
              lines: [
                "Now saving the current configuration to the slot 0.",
                "Save the configuration successfully.",
              ],
            }
            : { lines: [] },
      },
    }),
  },
};
