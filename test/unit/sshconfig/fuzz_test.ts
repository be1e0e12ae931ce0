/**
 * Property-based test of the ssh_config reader: any text, built from the pieces that matter
 * (keywords, quotes, `=`, `#`, `%` tokens, patterns, Include and Match lines), either resolves or
 * fails with an SshConfigError naming a file and line; never another exception.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { KEYWORDS } from "../../../lib/sshconfig/keywords.ts";
import { resolveConfig } from "../../../lib/sshconfig/resolve.ts";
import { SshConfigError } from "../../../lib/sshconfig/types.ts";
import { memoryIo } from "../../helpers/sshconfig_io.ts";

const USER = "/home/me/.ssh/config";
const keyword = fc.constantFrom(...[...KEYWORDS.values()].map((k) => k.name), "Bogus", "");
const word = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom(
    "yes",
    "no",
    "none",
    "22",
    "1G",
    "1h",
    "*",
    "!x",
    "web?",
    "%h",
    "%z",
    "%",
    "~",
    "~/x",
    '"a b',
    '"a b"',
    "'q'",
    "\\ ",
    "#",
    "=",
    "all",
    "final",
    "canonical",
    "host",
    "exec",
    "+aes128-ctr",
    "-hmac-sha1",
    "-umac-64@openssh.com",
    "-umac*",
    "^ssh-rsa",
    "inc",
    "config",
    "*.conf",
    "\0",
    "\r",
  ),
);
const line = fc.tuple(
  keyword,
  fc.array(word, { maxLength: 4 }),
  fc.constantFrom(" ", "=", " = ", "\t"),
)
  .map(([k, args, sep]) => `${k}${sep}${args.join(" ")}`);
const file = fc.array(line, { maxLength: 12 }).map((l) => l.join("\n"));

Deno.test("any configuration resolves or fails with an SshConfigError at file:line", () => {
  fc.assert(
    fc.property(file, file, (main, inc) => {
      try {
        resolveConfig(
          { host: "web1" },
          memoryIo({ [USER]: main, "/home/me/.ssh/inc": inc, "/home/me/.ssh/a.conf": inc }),
        );
      } catch (e) {
        assert.ok(e instanceof SshConfigError, String(e));
        assert.ok(e.file.length > 0);
        assert.ok(e.line >= 0);
      }
    }),
    { numRuns: 2000 },
  );
});
