import assert from "node:assert/strict";
import { matchHostLine, matchPatternList } from "../../../lib/sshconfig/pattern.ts";
import { ExpandError, percentExpand, tildeExpand } from "../../../lib/sshconfig/tokens.ts";

Deno.test("matchPatternList() takes comma lists where a matching !pattern vetoes", () => {
  assert.equal(matchPatternList("web1", "web*,db*", true), "match");
  assert.equal(matchPatternList("web1", "web*,!web1", true), "negated");
  assert.equal(matchPatternList("web2", "web*,!web1", true), "match");
  assert.equal(matchPatternList("x", "!web1", true), "none", "a negation alone never matches");
  assert.equal(matchPatternList("web1", "WEB?", true), "match", "host patterns in lower case");
  assert.equal(matchPatternList("Root", "root", false), "none", "user names keep their case");
});

Deno.test("matchHostLine() matches each pattern alone; a matching !pattern wins", () => {
  assert.deepEqual(matchHostLine("a.lab", ["*.lab", "!b.lab"]), { matched: true, by: "*.lab" });
  assert.deepEqual(matchHostLine("b.lab", ["*.lab", "!b.lab"]), { matched: false, by: "!b.lab" });
  assert.deepEqual(matchHostLine("c", ["a", "b"]), { matched: false });
  assert.deepEqual(matchHostLine("a,b", ["a,b"]), { matched: true, by: "a,b" }, "no comma lists");
  assert.deepEqual(matchHostLine("FOO", ["foo"]), { matched: false }, "Host is case-sensitive");
});

Deno.test("percentExpand() replaces tokens and %%, and refuses unknown ones", () => {
  assert.equal(percentExpand("%r@%h:%p %%", { r: "me", h: "x", p: "22" }), "me@x:22 %");
  assert.throws(() => percentExpand("%z", {}), (e) => e instanceof ExpandError && e.what === "z");
  assert.throws(() => percentExpand("50%", {}), ExpandError);
});

Deno.test("tildeExpand() expands ~ and ~/ and the current user's ~name only", () => {
  assert.equal(tildeExpand("~/.ssh/x", "/home/me", "me"), "/home/me/.ssh/x");
  assert.equal(tildeExpand("~", "/home/me", "me"), "/home/me");
  assert.equal(tildeExpand("~me/x", "/home/me", "me"), "/home/me/x");
  assert.equal(tildeExpand("/a/~", "/home/me", "me"), "/a/~");
  assert.throws(() => tildeExpand("~bob/x", "/home/me", "me"), ExpandError);
});
