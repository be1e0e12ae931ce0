import assert from "node:assert/strict";
import { argvSplit, splitConfigLine } from "../../../lib/sshconfig/lexer.ts";

const line = (text: string) => {
  const r = splitConfigLine(text);
  return r.kind === "line" ? [r.keyword, ...r.args] : r.kind;
};

Deno.test("splitConfigLine() accepts key value, key=value and key = value", () => {
  assert.deepEqual(line("Port 22"), ["Port", "22"]);
  assert.deepEqual(line("Port=22"), ["Port", "22"]);
  assert.deepEqual(line("  Port = 22  "), ["Port", "22"]);
  assert.deepEqual(line("\tPort\t22\r"), ["Port", "22"]);
  assert.deepEqual(line("SendEnv LANG LC_*"), ["SendEnv", "LANG", "LC_*"]);
});

Deno.test("splitConfigLine() skips blank lines and comments, and ends a line at a # word", () => {
  assert.equal(line(""), "empty");
  assert.equal(line("   "), "empty");
  assert.equal(line("# Host x"), "empty");
  assert.equal(line("  #Port 1"), "empty");
  assert.deepEqual(line("Port 22 # the default"), ["Port", "22"]);
  assert.deepEqual(line("HostName a#b"), ["HostName", "a#b"]);
});

Deno.test("splitConfigLine() reports a keyword without argument and an open quote", () => {
  assert.deepEqual(splitConfigLine("Port"), {
    kind: "error",
    problem: "no-argument",
    keyword: "Port",
  });
  assert.deepEqual(splitConfigLine("Port ="), {
    kind: "error",
    problem: "no-argument",
    keyword: "Port",
  });
  assert.equal(
    (splitConfigLine('IdentityFile "a b') as { problem: string }).problem,
    "invalid-quotes",
  );
});

Deno.test("argvSplit() follows OpenSSH's quoting and escapes", () => {
  assert.deepEqual(argvSplit('"a b" c'), ["a b", "c"]);
  assert.deepEqual(argvSplit("'a \"b\"' c"), ['a "b"', "c"]);
  assert.deepEqual(argvSplit('x"y z"w'), ["xy zw"]);
  assert.deepEqual(argvSplit("a\\ b c"), ["a b", "c"]);
  assert.deepEqual(argvSplit('a\\"b'), ['a"b']);
  assert.deepEqual(argvSplit("a\\\\b"), ["a\\b"]);
  assert.deepEqual(argvSplit("a\\nb"), ["a\\nb"], "an unknown escape stays");
  assert.deepEqual(argvSplit('""'), [""]);
  assert.deepEqual(argvSplit("a # b"), ["a"]);
  assert.deepEqual(argvSplit("a # b", false), ["a", "#", "b"]);
  assert.equal(argvSplit("'open"), undefined);
});
