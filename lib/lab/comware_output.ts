/**
 * What the lab's Comware imitation prints: its login greeting and the unpaged output of the
 * `display` commands it knows.
 * @module
 */

export const COMWARE_GREETING = [
  "",
  "******************************************************************************",
  "* Copyright (c) 2004-2010 Hangzhou H3C Tech. Co., Ltd. All rights reserved.  *",
  "* Without the owner's prior written consent,                                 *",
  "* no decompiling or reverse-engineering shall be allowed.                    *",
  "******************************************************************************",
  "",
];

/** The unpaged output of a Comware `display` command, or null for an unknown command. */
export function comwareOutput(command: string, hostname: string): string[] | null {
  const c = command.split(/\s+/).join(" ");
  if (c === "display version") {
    return [
      "H3C Comware Platform Software",
      "Comware Software, Version 5.20.105, Release 1808P21",
      "Copyright (c) 2004-2010 Hangzhou H3C Tech. Co., Ltd. All rights reserved.",
      `${hostname} S5120-28C-EI uptime is 0 week, 1 day, 2 hours, 3 minutes`,
    ];
  }
  if (c === "display current-configuration") {
    const lines = ["#", " version 5.20.105, Release 1808P21", "#", ` sysname ${hostname}`, "#"];
    for (const vlan of [1, 10, 11, 12, 13]) lines.push(`vlan ${vlan}`, "#");
    for (let i = 1; i <= 48; i++) {
      lines.push(
        `interface GigabitEthernet1/0/${i}`,
        ` description port-${String(i).padStart(3, "0")}`,
        ` port access vlan ${10 + (i % 4)}`,
        "#",
      );
    }
    lines.push(" user-interface vty 0 4", "  authentication-mode scheme", "#", "return");
    return lines;
  }
  if (c === "display interface brief") {
    const lines = [
      "The brief information of interface(s) under bridge mode:",
      "Interface            Link      Speed        Duplex   Link-type  PVID",
    ];
    for (let i = 1; i <= 8; i++) {
      lines.push(`GE1/0/${String(i).padEnd(14)} UP        1G(a)        full(a)  access     1`);
    }
    return lines;
  }
  return null;
}
