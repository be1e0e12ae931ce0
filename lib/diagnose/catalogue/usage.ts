/**
 * The failure catalogue's entries for command-line and option errors (stage `usage`, exit 2).
 * @module
 */

import { libraryOptions } from "../audiences.ts";
import { str, strings } from "./_helpers.ts";
import type { StageEntries } from "./types.ts";

/** Catalogue entries of this stage, keyed by error code. */
export const USAGE = {
  "usage.invalid": {
    stage: "usage",
    title: "invalid command line or option",
    explanation: "A flag, -o option or target could not be understood; nothing was sent.",
    fix: "sshtrace --help",
    opensshFix: null,
    refine: (c) => {
      const supported = strings(c.details, "supported");
      if (supported.length) return { fix: `supported: ${supported.join(", ")}` };
      const expected = str(c.details, "expected");
      return expected ? { fix: `expected: ${expected}` } : {};
    },
  },
  "usage.unknown-terminal-mode": {
    stage: "usage",
    title: "unknown terminal mode name",
    explanation: "Terminal modes are the names of RFC 4254 §8 (ECHO, ICANON, TTY_OP_ISPEED...).",
    fix: "use a mode name from RFC 4254 §8",
    opensshFix: null,
  },
  "usage.invalid-terminal-mode": {
    stage: "usage",
    title: "invalid terminal mode value",
    explanation: "Each terminal mode takes a whole number from 0 to 4294967295.",
    fix: "give the mode a whole number value",
    opensshFix: null,
  },
  "usage.invalid-keepalive": {
    stage: "usage",
    title: "invalid keepalive setting",
    explanation: "ServerAliveInterval must be a positive number of seconds and " +
      "ServerAliveCountMax a whole number.",
    fix: "-o ServerAliveInterval=30 -o ServerAliveCountMax=3",
    opensshFix: "-o ServerAliveInterval=30 -o ServerAliveCountMax=3",
    libraryFix: libraryOptions({ keepalive: { intervalMs: 30_000, countMax: 3 } }),
  },
  "usage.invalid-channel-option": {
    stage: "usage",
    title: "invalid channel window or packet size",
    explanation: "Channel window and maximum packet sizes are whole numbers of bytes from 1 to " +
      "4294967295.",
    fix: "give a size such as 32768",
    opensshFix: null,
  },
} satisfies StageEntries<"usage">;
