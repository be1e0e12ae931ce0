/**
 * The failure catalogue's entries for reading ssh_config and `-o` (stage `config`, exit 2, like
 * usage: nothing was sent).
 * @module
 */

import { num, str } from "./_helpers.ts";
import type { StageEntries } from "./types.ts";

/** Catalogue entries of this stage, keyed by error code. */
export const CONFIG = {
  "config.invalid": {
    stage: "config",
    title: "the ssh_config file could not be read",
    explanation: "A line of the configuration (a file OpenSSH would read too, or -F FILE) is " +
      "malformed or has a value OpenSSH would reject; sshtrace stops before connecting, as ssh " +
      "does.",
    fix: "correct the line named above, then check with: sshtrace -G -v HOST",
    opensshFix: "ssh -G HOST",
    refine: (c) => {
      const file = str(c.details, "file");
      const line = num(c.details, "line");
      if (!file || !line) return {};
      return { fix: `correct ${file} line ${line}, then check with: sshtrace -G -v HOST` };
    },
  },
  "config.refused": {
    stage: "config",
    title: "the configuration asks for something sshtrace does not do",
    explanation: "A keyword of the configuration (or -o) asks for a feature sshtrace does not " +
      "have; rather than connect without it, sshtrace stops before sending anything.",
    fix: "remove the keyword for this host, or run sshtrace with -F FILE naming a configuration " +
      "without it",
    opensshFix: null,
    refine: (c) => {
      const keyword = str(c.details, "keyword");
      const origin = str(c.details, "origin");
      if (!keyword || !origin) return {};
      return origin.startsWith("-o ") ? { fix: `leave out ${origin}` } : {
        fix: `remove or comment out "${keyword}" at ${origin} for this host, or give ` +
          "sshtrace -F FILE with a configuration without it",
      };
    },
  },
} satisfies StageEntries<"config">;
