/**
 * The command-line word splitter (`parseArgv` in lib/cli/parse_argv.ts) on a small option table:
 * every form of option and value, `--`, positional words among options, the pass-through of a
 * login's remote command, and odd or hostile words. lib/cli/args.ts's tests cover the words it
 * makes of the problems (test/unit/cli/args_test.ts).
 */

import assert from "node:assert/strict";
import type { OptionSpec } from "../../../lib/cli/commands.ts";
import { type ArgvProblem, parseArgv, type ParsedArgv } from "../../../lib/cli/parse_argv.ts";

const PORT = { short: "p", long: "port", value: "<port>", help: "" } as const;
const OPTION = {
  short: "o",
  long: "option",
  value: "<Key=Value>",
  repeat: true,
  help: "",
} as const;
const KEX = { long: "kex", value: "<list>", help: "" } as const;
const JSON_ = { long: "json", help: "" } as const;
const VERBOSE = { short: "v", long: "verbose", count: true, help: "" } as const;
const QUIET = { short: "q", long: "quiet", help: "" } as const;
const C = { short: "C", help: "" } as const;
const F = { short: "F", value: "<file>", help: "" } as const;
const TABLE: readonly OptionSpec[] = [PORT, OPTION, KEX, JSON_, VERBOSE, QUIET, C, F];

/** The options given as `[term, value]` pairs (`["p", "22"]`, `["v"]`) and the rest. */
function split(args: string[], passThrough = false) {
  const r: ParsedArgv = parseArgv(args, TABLE, passThrough);
  return {
    uses: r.uses.map((u) => {
      const name = u.option.short ?? u.option.long!;
      return u.value === undefined ? [name] : [name, u.value];
    }),
    positionals: r.positionals,
    problem: r.problem,
  };
}

/** Asserts `args` parse without a problem to these options and positional words. */
function ok(args: string[], uses: string[][], positionals: string[], passThrough = false) {
  const r = split(args, passThrough);
  assert.equal(r.problem, undefined, `${JSON.stringify(args)}: ${JSON.stringify(r.problem)}`);
  assert.deepEqual(r.uses, uses, JSON.stringify(args));
  assert.deepEqual(r.positionals, positionals, JSON.stringify(args));
}

/** The problem `args` have. */
const problemOf = (args: string[]): ArgvProblem | undefined => split(args).problem;

Deno.test("parseArgv() reads --name value and --name=value, -p 22 and -p22", () => {
  for (const args of [["--port", "22"], ["--port=22"], ["-p", "22"], ["-p22"]]) {
    ok(args, [["p", "22"]], []);
  }
  ok(["--port=a=b"], [["p", "a=b"]], []);
  ok(["--port="], [["p", ""]], []);
  ok(["-p="], [["p", "="]], []);
  ok(["--kex", "x", "-F", "f", "-Fg"], [["kex", "x"], ["F", "f"], ["F", "g"]], []);
});

Deno.test("parseArgv() reads grouped switches, ending with an option that takes a value", () => {
  ok(["-vvv"], [["v"], ["v"], ["v"]], []);
  ok(["-qv", "-Cq"], [["q"], ["v"], ["C"], ["q"]], []);
  ok(["-vp", "22", "h"], [["v"], ["p", "22"]], ["h"]);
  ok(["-vp22", "h"], [["v"], ["p", "22"]], ["h"]);
  // The value is the rest of the word, whatever it holds.
  ok(["-pvq"], [["p", "vq"]], []);
  ok(["-vop=1"], [["v"], ["o", "p=1"]], []);
});

Deno.test("parseArgv() keeps every use in order: counts and repeats are made of them", () => {
  ok(
    ["-o", "A=1", "-v", "--option=B=2", "--verbose", "-oC=3", "-vp", "1", "--port", "2"],
    [["o", "A=1"], ["v"], ["o", "B=2"], ["v"], ["o", "C=3"], ["v"], ["p", "1"], ["p", "2"]],
    [],
  );
});

Deno.test("parseArgv() takes the next word as the value even when it starts with - or is empty", () => {
  ok(["--kex", "-x", "h"], [["kex", "-x"]], ["h"]);
  ok(["-p", "-1", "h"], [["p", "-1"]], ["h"]);
  ok(["-p", "--json", "h"], [["p", "--json"]], ["h"]);
  ok(["-p", "--", "h"], [["p", "--"]], ["h"]);
  ok(["-p", "", "h"], [["p", ""]], ["h"]);
  ok(["-F", "", "h"], [["F", ""]], ["h"]);
  ok(["-vF", "-", "h"], [["v"], ["F", "-"]], ["h"]);
});

Deno.test("parseArgv() takes -- as the end of the options, and - and the empty word as positional", () => {
  ok(["-v", "--", "-p", "1", "--"], [["v"]], ["-p", "1", "--"]);
  ok(["--"], [], []);
  ok(["-", "", "-v"], [["v"]], ["-", ""]);
});

Deno.test("parseArgv() reads options before, between and after positional words", () => {
  ok(["a", "-v", "b", "--json", "c", "-p1"], [["v"], ["json"], ["p", "1"]], ["a", "b", "c"]);
});

Deno.test("parseArgv() with passThrough: the second positional word and all after it are positional", () => {
  ok(["-v", "host", "-q", "ls", "-la", "-v", "--"], [["v"], ["q"]], [
    "host",
    "ls",
    "-la",
    "-v",
    "--",
  ], true);
  ok(["host", "--", "-x"], [], ["host", "-x"], true);
  ok(["host", "", "-v"], [], ["host", "", "-v"], true);
});

Deno.test("parseArgv() names an unknown option as written, and reads on (help may come later)", () => {
  assert.deepEqual(problemOf(["--bogus", "h"]), {
    kind: "unknown option",
    name: "--bogus",
    word: "--bogus",
  });
  assert.deepEqual(problemOf(["--bogus=1"]), {
    kind: "unknown option",
    name: "--bogus",
    word: "--bogus=1",
  });
  assert.deepEqual(problemOf(["-vZq"]), { kind: "unknown option", name: "-Z", word: "-vZq" });
  // The first problem is kept; the words after it are still read.
  const r = split(["-Z", "--bad", "-v", "h"]);
  assert.deepEqual(r.problem, { kind: "unknown option", name: "-Z", word: "-Z" });
  assert.deepEqual(r.uses, [["v"]]);
  assert.deepEqual(r.positionals, ["h"]);
  // No abbreviations, no case folding, no --no- negation.
  for (const name of ["--jso", "--JSON", "--no-json", "--Port"]) {
    assert.equal(problemOf([name])?.kind, "unknown option", name);
  }
});

Deno.test("parseArgv() gives an option without a long name only its short form", () => {
  assert.deepEqual(problemOf(["--C"]), { kind: "unknown option", name: "--C", word: "--C" });
  assert.deepEqual(problemOf(["--F=x"]), { kind: "unknown option", name: "--F", word: "--F=x" });
  assert.deepEqual(problemOf(["--F", "x"]), { kind: "unknown option", name: "--F", word: "--F" });
});

Deno.test("parseArgv() refuses a value given to a switch", () => {
  assert.deepEqual(problemOf(["--json=1"]), {
    kind: "unexpected value",
    option: JSON_,
    name: "--json",
  });
  assert.deepEqual(problemOf(["--verbose="]), {
    kind: "unexpected value",
    option: VERBOSE,
    name: "--verbose",
  });
  // In a group, the next letter is an option of its own.
  assert.deepEqual(problemOf(["-C=1"]), { kind: "unknown option", name: "-=", word: "-C=1" });
});

Deno.test("parseArgv() reports a missing value at the end, over any earlier problem", () => {
  for (const args of [["-p"], ["h", "--port"], ["-vp"], ["--bogus", "-p"], ["-F"]]) {
    const option = args.at(-1) === "-F" ? F : PORT;
    assert.deepEqual(problemOf(args), { kind: "missing value", option }, JSON.stringify(args));
  }
  assert.deepEqual(problemOf(["-qvo"]), { kind: "missing value", option: OPTION });
});

Deno.test("parseArgv() on odd words: ---x, --=x, -=, a dash in a group, unicode", () => {
  assert.deepEqual(problemOf(["---x"]), { kind: "unknown option", name: "---x", word: "---x" });
  assert.deepEqual(problemOf(["---"]), { kind: "unknown option", name: "---", word: "---" });
  assert.deepEqual(problemOf(["--=x"]), { kind: "unknown option", name: "--=x", word: "--=x" });
  assert.deepEqual(problemOf(["--="]), { kind: "unknown option", name: "--=", word: "--=" });
  assert.deepEqual(problemOf(["-="]), { kind: "unknown option", name: "-=", word: "-=" });
  // `-v-` is not `-v --`.
  assert.deepEqual(problemOf(["-v-", "h"]), { kind: "unknown option", name: "--", word: "-v-" });
  // A whole code point, not half of a surrogate pair.
  assert.deepEqual(problemOf(["-v😀"]), { kind: "unknown option", name: "-😀", word: "-v😀" });
  assert.deepEqual(problemOf(["-é"]), { kind: "unknown option", name: "-é", word: "-é" });
  assert.deepEqual(problemOf(["--émoji=😀"]), {
    kind: "unknown option",
    name: "--émoji",
    word: "--émoji=😀",
  });
  ok(["-p😀", "--kex=é", "ünï", "😀"], [["p", "😀"], ["kex", "é"]], ["ünï", "😀"]);
  ok(["h\n\u0000\u001b[31m"], [], ["h\n\u0000\u001b[31m"]);
  assert.equal(problemOf(["-\u0000"])?.kind, "unknown option");
});

Deno.test("parseArgv() on very long words and very many words stays linear", () => {
  const long = "x".repeat(1_000_000);
  ok(["--kex", long, `-p${long}`, long], [["kex", long], ["p", long]], [long]);
  assert.deepEqual(problemOf([`--${long}`]), {
    kind: "unknown option",
    name: `--${long}`,
    word: `--${long}`,
  });
  const group = `-${"v".repeat(200_000)}`;
  assert.equal(split([group]).uses.length, 200_000);
  const many = Array.from({ length: 200_000 }, (_, i) => (i % 2 ? "-v" : "w"));
  const r = split(many);
  assert.equal(r.uses.length, 100_000);
  assert.equal(r.positionals.length, 100_000);
  // With passThrough, the rest after the command starts is taken as it is.
  assert.equal(split(["h", "c", ...many], true).positionals.length, 200_002);
});

Deno.test("parseArgv() on an empty command line and an empty table", () => {
  ok([], [], []);
  assert.deepEqual(parseArgv(["a", "--", "-b"], []), { uses: [], positionals: ["a", "-b"] });
  assert.deepEqual(parseArgv(["-a"], []).problem, {
    kind: "unknown option",
    name: "-a",
    word: "-a",
  });
});
