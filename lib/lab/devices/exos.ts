/**
 * An imitation of Extreme EXOS: prompts numbered per command (`X460-48t.3 # `, `* X460-48t.4 # `
 * once the configuration changed), `disable clipaging`, the `Press <SPACE> to continue` pager,
 * `%% Invalid input` lines and the `(y/N)` question of `save`.
 * @module
 */

import { caretLine, type CliState, type DeviceSpec } from "./types.ts";

function configuration(): string[] {
  const lines = ["#", "# Module devmgr configuration.", "#"];
  for (let i = 1; i <= 48; i++) lines.push(`configure ports ${i} display-string port-${i}`);
  return lines;
}

const PAGER = "Press <SPACE> to continue or <Q> to quit:";

export const EXOS: DeviceSpec = {
  device: "exos",
  hostname: "X460-48t",
  versionLine: "SSH-2.0-OpenSSH_7.3",
  banner: "ExtremeXOS (X460-48t) version 16.2.5.4\r\n",
  greeting: [""],
  startLevel: 15,
  prompt: (s: CliState) => `${s.changed ? "* " : ""}${s.hostname}.${s.count + 1} # `,
  pager: PAGER,
  erase: "\r" + " ".repeat(PAGER.length) + "\r",
  pagingOff: { command: "disable clipaging", reply: [] },
  logout: ["exit", "logout", "quit"],
  privilege: null,
  configLevel: 0,
  config: null,
  gated: [],
  error: (line, prompt) => [caretLine(line, prompt), "%% Invalid input detected at '^' marker."],
  commands: {
    "show version": () => ({
      lines: [
        "Switch      : 800548-00-01 1537G-00001 Rev 1.0",
        "Image   : ExtremeXOS version 16.2.5.4",
      ],
    }),
    "show configuration": () => ({ lines: configuration() }),
    "create vlan v10": (s) => {
      s.changed = true;
      return { lines: [] };
    },
    "save": (s) => ({
      lines: [],
      dialog: {
        question: "Do you want to save configuration to primary.cfg and overwrite it? (y/N) ",
        answer: (a) => {
          if (a.toLowerCase() !== "y") return { lines: ["Save configuration cancelled."] };
          s.changed = false;
          return { lines: ["Saving configuration on master ....... done!"] };
        },
      },
    }),
  },
};
