import assert from "node:assert/strict";
import { sanitize, toJson } from "../../../lib/render/sanitize.ts";
import { decodeText } from "../../../lib/wire/buffer.ts";

Deno.test("sanitize() shows ESC, OSC 52, BEL and CR as visible \\xNN escapes", () => {
  assert.equal(
    sanitize("a\x1b[2J\x1b]52;c;aGk=\x07\rFAKE"),
    "a\\x1b[2J\\x1b]52;c;aGk=\\x07\\x0dFAKE",
  );
  assert.equal(sanitize("\x00\x08\x7f"), "\\x00\\x08\\x7f");
});

Deno.test("sanitize() shows C1 controls, bidi controls and line separators visibly", () => {
  assert.equal(sanitize("\x9b31m\x85"), "\\x9b31m\\x85");
  assert.equal(
    sanitize("\u202aa\u202bb\u202cc\u202dd\u202ee\u2066f\u2067g\u2068h\u2069"),
    "\\u202aa\\u202bb\\u202cc\\u202dd\\u202ee\\u2066f\\u2067g\\u2068h\\u2069",
  );
  assert.equal(sanitize("\u200e\u200f\u061c\u2028\u2029"), "\\u200e\\u200f\\u061c\\u2028\\u2029");
});

Deno.test("sanitize() keeps printable UTF-8: CJK, accents, symbols, emoji, backslashes", () => {
  const text = "欢迎使用 交换机 <H3C> ünïcode ✓ 😀 C:\\path \\x1b";
  assert.equal(sanitize(text), text);
  assert.equal(sanitize(text, { multiline: true }), text);
});

Deno.test("sanitize() shows each byte that was not valid UTF-8 as \\xNN", () => {
  const decoded = decodeText(new Uint8Array([0x41, 0xfc, 0xc3, 0x42, 0xe6, 0xac]));
  assert.equal(sanitize(decoded), "A\\xfc\\xc3B\\xe6\\xac");
  assert.equal(sanitize("lone \ud800 \udfff"), "lone \\ud800 \\udfff");
});

Deno.test("sanitize() keeps newline and tab only in multi-line text, where only a lone CR shows", () => {
  assert.equal(sanitize("a\tb\nc"), "a\\x09b\\x0ac");
  assert.equal(
    sanitize("第一行\r\n\tline\rtwo\n", { multiline: true }),
    "第一行\n\tline\\x0dtwo\n",
  );
});

Deno.test("sanitize() output has nothing left to escape (applying it twice changes nothing)", () => {
  const nasty = "x\x1b]0;t\x07\r\n\x9b\u202e\udcff\u2066y";
  for (const multiline of [false, true]) {
    const once = sanitize(nasty, { multiline });
    assert.equal(sanitize(once, { multiline }), once);
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(once, /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
  }
});

Deno.test("toJson() escapes C1 and bidi controls as \\uXXXX, and the value parses back unchanged", () => {
  const value = { banner: "a\x9bb\x85\u202ec\u2066d\u2028e", esc: "\x1b[2J\x07\r", cjk: "交换机" };
  const json = toJson(value);
  assert.equal(
    json,
    '{"banner":"a\\u009bb\\u0085\\u202ec\\u2066d\\u2028e","esc":"\\u001b[2J\\u0007\\r","cjk":"交换机"}',
  );
  assert.deepEqual(JSON.parse(json), value);
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(json, /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]/);
});

Deno.test("toJson() indents like JSON.stringify and escapes keys too", () => {
  assert.equal(toJson({ a: [1] }, 2), JSON.stringify({ a: [1] }, null, 2));
  assert.equal(toJson({ "k\u202e": 1 }), '{"k\\u202e":1}');
  assert.equal(toJson("\udcff"), '"\\udcff"');
});
