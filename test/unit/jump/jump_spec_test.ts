/** The ProxyJump / -J parser (lib/config/jump_spec.ts): OpenSSH's forms, and bad input refused. */

import assert from "node:assert/strict";
import { hopText, MAX_HOPS, parseJumpSpec } from "../../../lib/config/jump_spec.ts";
import { SshError } from "../../../lib/errors/mod.ts";

function refused(text: string, message: RegExp): void {
  assert.throws(() => parseJumpSpec(text), (e: unknown) => {
    assert.ok(e instanceof SshError);
    assert.equal(e.code, "usage.invalid");
    assert.equal(e.exitCode, 2);
    assert.match(e.message, message);
    return true;
  });
}

Deno.test("parseJumpSpec() reads [user@]host[:port] entries, first hop first", () => {
  assert.deepEqual(parseJumpSpec("admin@bastion:2222,core"), [
    { user: "admin", host: "bastion", port: 2222 },
    { user: null, host: "core", port: null },
  ]);
});

Deno.test("parseJumpSpec() reads ssh:// URLs, bracketed IPv6 and spaces around commas", () => {
  assert.deepEqual(parseJumpSpec("ssh://ops@[2001:db8::1]:22/ , 10.0.0.1"), [
    { user: "ops", host: "2001:db8::1", port: 22 },
    { user: null, host: "10.0.0.1", port: null },
  ]);
});

Deno.test("parseJumpSpec() takes none (any case) as no jump host", () => {
  assert.deepEqual(parseJumpSpec("none"), []);
  assert.deepEqual(parseJumpSpec("NONE"), []);
});

Deno.test("parseJumpSpec() refuses empty entries, bad ports, URL paths and long chains", () => {
  refused("a,,b", /jump host 2 of "a,,b" is empty/);
  refused("", /jump host 1 .* is empty/);
  refused("bastion:0", /invalid port 0/);
  refused("bastion:ssh", /invalid port "ssh"/);
  refused("ssh://bastion/x", /has a path/);
  refused("@bastion", /empty user name/);
  refused(Array(MAX_HOPS + 1).fill("h").join(","), new RegExp(`at most ${MAX_HOPS}`));
  assert.equal(parseJumpSpec(Array(MAX_HOPS).fill("h").join(",")).length, MAX_HOPS);
});

Deno.test("hopText() writes a hop as user@host:port with only the parts given", () => {
  assert.equal(hopText({ host: "bastion" }), "bastion");
  assert.equal(hopText({ host: "::1", port: 22, user: "ops" }), "ops@[::1]:22");
});
