import assert from "node:assert/strict";
import {
  BUILT_IN_DIALOGS,
  findDialog,
  looksLikeQuestion,
  parseAnswer,
} from "../../../lib/send/dialogs.ts";

Deno.test("findDialog() answers each vendor's usual dialog with its built-in reply", () => {
  const cases: [string, string][] = [
    [" The current configuration will be written to the device. Are you sure? [Y/N]:", "Y"],
    ["Delete flash:/test.cfg?[Y/N]:", "Y"],
    ["Do you want to save the configuration? [yes,no] ", "yes"],
    ["Warning: The system will reboot. Continue? [yes/no]:", "yes"],
    ["Do you want to continue (y/n)? ", "y"],
    ["Proceed with reload? [confirm]", ""],
    ["Destination filename [startup-config]? ", ""],
    ["(To leave the existing filename unchanged, press the enter key):", ""],
  ];
  for (const [line, reply] of cases) {
    assert.equal(findDialog(line, BUILT_IN_DIALOGS)?.reply, reply, line);
  }
  for (const line of ["<H3C>", "Router#", "", "  ---- More ----", "[Y/N] in the middle of text."]) {
    assert.equal(findDialog(line, BUILT_IN_DIALOGS), null, line);
  }
});

Deno.test("parseAnswer() splits REGEX=REPLY at the first unescaped =, the caller's rules first", () => {
  const rule = parseAnswer("key\\=value: ?$=s3=cret", 0);
  assert.ok(typeof rule !== "string");
  assert.equal(rule.pattern.source, "key=value: ?$");
  assert.equal(rule.reply, "s3=cret");
  assert.equal(rule.label, "--answer rule 1");
  assert.equal(rule.masked, true);
  const yes = parseAnswer("\\[Y/N\\]:$=N", 1);
  assert.ok(typeof yes !== "string");
  assert.equal(findDialog("Are you sure? [Y/N]:", [yes, ...BUILT_IN_DIALOGS])?.reply, "N");
  assert.match(String(parseAnswer("no-equals-sign", 0)), /expected REGEX=REPLY/);
  assert.match(String(parseAnswer("=reply", 0)), /expected REGEX=REPLY/);
  assert.match(String(parseAnswer("(=x", 0)), /not a regular expression/);
});

Deno.test("looksLikeQuestion() tells a waiting question from a lost prompt", () => {
  for (const line of ["Enter activation key: ", "Overwrite? ", "Choose [1-3]", "Go (y/n)"]) {
    assert.ok(looksLikeQuestion(line), line);
  }
  for (const line of ["working...", "", ":", "100%"]) assert.ok(!looksLikeQuestion(line), line);
});
