/**
 * An imitation of MikroTik RouterOS: `[admin@MikroTik] > ` prompts (with the menu path in
 * them), no paging command (its `-- [Q quit|D dump|down]` pager is answered), `bad command
 * name` lines, and the `[y/N]` question of `/system reboot`.
 * @module
 */

import type { CliState, DeviceSpec } from "./types.ts";

function exportLines(s: CliState): string[] {
  const lines = ["# dec/07/2026 10:11:12 by RouterOS 6.49.7", `# model = RB4011iGS+`];
  lines.push("/interface ethernet");
  for (let i = 1; i <= 40; i++) lines.push(`set [ find default-name=ether${i} ] comment=port-${i}`);
  lines.push("/system identity", `set name=${s.hostname}`);
  return lines;
}

const PAGER = "-- [Q quit|D dump|down]";

export const ROUTEROS: DeviceSpec = {
  device: "routeros",
  hostname: "MikroTik",
  versionLine: "SSH-2.0-ROSSSH",
  banner: null,
  greeting: [
    "",
    "  MMM      MMM       KKK                          TTTTTTTTTTT      KKK",
    "  MMMM    MMMM       KKK                          TTTTTTTTTTT      KKK",
    "",
    "  MikroTik RouterOS 6.49.7 (c) 1999-2022       http://www.mikrotik.com/",
    "",
  ],
  startLevel: 15,
  prompt: (s) => `[${s.user}@${s.hostname}] ${s.config === null ? "" : `/${s.config}`}> `,
  pager: PAGER,
  erase: "\r\x1b[K",
  pagingOff: null,
  logout: ["/quit", "quit"],
  privilege: null,
  configLevel: 0,
  config: null,
  gated: [],
  error: (line) => [`bad command name ${line.split(" ")[0]!.replace(/^\//, "")} (line 1 column 1)`],
  commands: {
    "/system resource print": () => ({
      lines: ["             uptime: 1d2h3m", "            version: 6.49.7 (long-term)"],
    }),
    "/export": (s) => ({ lines: exportLines(s) }),
    "/system reboot": () => ({
      lines: [],
      dialog: {
        question: "Reboot, yes? [y/N]: ",
        answer: (a) => ({ lines: a.toLowerCase() === "y" ? ["system will reboot shortly"] : [] }),
      },
    }),
  },
};
