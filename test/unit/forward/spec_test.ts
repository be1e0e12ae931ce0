/** The -L / LocalForward parser (lib/forward/spec.ts): ssh(1)'s forms, and bad input refused. */

import assert from "node:assert/strict";
import { forwardText, parseForwardSpec } from "../../../lib/forward/spec.ts";
import { SshError } from "../../../lib/errors/mod.ts";

function refused(text: string, message: RegExp): void {
  assert.throws(() => parseForwardSpec(text), (e: unknown) => {
    assert.ok(e instanceof SshError);
    assert.equal(e.code, "usage.invalid");
    assert.match(e.message, message);
    return true;
  });
}

Deno.test("parseForwardSpec() binds to loopback unless an address is given", () => {
  assert.deepEqual(parseForwardSpec("8080:intranet:80"), {
    bindHost: "127.0.0.1",
    bindPort: 8080,
    host: "intranet",
    port: 80,
  });
  assert.equal(parseForwardSpec("localhost:8080:intranet:80").bindHost, "127.0.0.1");
  assert.equal(parseForwardSpec("*:8080:intranet:80").bindHost, "0.0.0.0");
  assert.equal(parseForwardSpec(":8080:intranet:80").bindHost, "0.0.0.0");
  assert.equal(parseForwardSpec("10.1.1.1:8080:intranet:80").bindHost, "10.1.1.1");
});

Deno.test("parseForwardSpec() reads IPv6 in brackets, / separators, LocalForward's space, port 0", () => {
  assert.deepEqual(parseForwardSpec("[::1]:8080:[2001:db8::7]:22"), {
    bindHost: "::1",
    bindAddress: "::1",
    bindPort: 8080,
    host: "2001:db8::7",
    port: 22,
  });
  assert.deepEqual(parseForwardSpec("8080/2001:db8::7/22"), {
    bindHost: "127.0.0.1",
    bindPort: 8080,
    host: "2001:db8::7",
    port: 22,
  });
  assert.deepEqual(parseForwardSpec("8080 intranet:80"), parseForwardSpec("8080:intranet:80"));
  assert.equal(parseForwardSpec("0:intranet:80").bindPort, 0);
});

Deno.test("parseForwardSpec() reads the Unix-socket forms as OpenSSH (a field with / is a path)", () => {
  assert.deepEqual(parseForwardSpec("/tmp/l.sock:intranet:80"), {
    bindHost: "",
    bindPort: 0,
    bindPath: "/tmp/l.sock",
    host: "intranet",
    port: 80,
  });
  assert.deepEqual(parseForwardSpec("8080:/run/x.sock"), {
    bindHost: "127.0.0.1",
    bindPort: 8080,
    host: "",
    port: 0,
    path: "/run/x.sock",
  });
  assert.deepEqual(parseForwardSpec("*:8080:/run/x.sock"), {
    bindHost: "0.0.0.0",
    bindAddress: "*",
    bindPort: 8080,
    host: "",
    port: 0,
    path: "/run/x.sock",
  });
  assert.deepEqual(parseForwardSpec("/tmp/l.sock:/run/x.sock", "-R"), {
    bindHost: "",
    bindPort: 0,
    bindPath: "/tmp/l.sock",
    host: "",
    port: 0,
    path: "/run/x.sock",
  });
  // LocalForward's two-argument form, and the text traces and ssh -G use.
  assert.deepEqual(
    parseForwardSpec("/tmp/l.sock /run/x.sock"),
    parseForwardSpec("/tmp/l.sock:/run/x.sock"),
  );
  assert.equal(forwardText(parseForwardSpec("/tmp/l.sock:h:80")), "/tmp/l.sock → h:80");
  assert.equal(
    forwardText(parseForwardSpec("0:/run/x.sock"), 4000),
    "127.0.0.1:4000 → /run/x.sock",
  );
});

Deno.test("parseForwardSpec() refuses bad ports, missing parts, bad socket forms and stray brackets", () => {
  refused("8080:intranet", /expected \[bind_address:\]port:host:hostport/);
  refused("a:b:c:d:e", /expected/);
  refused("70000:h:80", /invalid -L listen port 70000/);
  refused("8080:h:x", /invalid -L port to connect to "x"/);
  refused("8080::80", /host to connect to is empty/);
  refused("/tmp/sock:h", /expected \/listen\.sock:host:hostport/);
  refused("/tmp/sock", /expected \/listen\.sock/);
  refused("1:/a.sock:/b.sock", /expected \/listen\.sock/);
  refused(`/tmp/${"s".repeat(110)}:h:80`, /longer than 107 bytes/);
  refused("[::1:8080:h:80", /expected/);
});

Deno.test("GatewayPorts (-g) widens only a -L/-D given no bind address, as OpenSSH's client", async () => {
  const { parseDynamicSpec } = await import("../../../lib/forward/spec.ts");
  const g = { gatewayPorts: true };
  assert.equal(parseForwardSpec("8080:intranet:80", "-L", g).bindHost, "0.0.0.0");
  // An explicit address is the user's choice: GatewayPorts neither widens nor narrows it.
  assert.equal(parseForwardSpec("127.0.0.1:8080:intranet:80", "-L", g).bindHost, "127.0.0.1");
  assert.equal(parseForwardSpec("localhost:8080:intranet:80", "-L", g).bindHost, "127.0.0.1");
  assert.equal(parseForwardSpec("*:8080:intranet:80").bindHost, "0.0.0.0");
  assert.equal(parseDynamicSpec("1080", "-D", g).bindHost, "0.0.0.0");
  assert.equal(parseDynamicSpec("localhost:1080", "-D", g).bindHost, "127.0.0.1");
  // -R's bind address is the server's business: kept as written for the request.
  assert.equal(parseForwardSpec("8080:h:80", "-R", g).bindAddress, undefined);
  assert.equal(parseForwardSpec("*:8080:h:80", "-R").bindAddress, "*");
  assert.equal(parseForwardSpec(":8080:h:80", "-R").bindAddress, "");
});

Deno.test("forwardText() names a forward as bind:port → host:port", () => {
  assert.equal(forwardText(parseForwardSpec("0:h:80"), 41234), "127.0.0.1:41234 → h:80");
  assert.equal(forwardText(parseForwardSpec("[::1]:1:[::2]:2")), "[::1]:1 → [::2]:2");
});

Deno.test("parseDynamicSpec() reads -D [bind_address:]port, loopback by default", async () => {
  const { parseDynamicSpec } = await import("../../../lib/forward/spec.ts");
  assert.deepEqual(parseDynamicSpec("1080"), { bindHost: "127.0.0.1", bindPort: 1080 });
  assert.deepEqual(parseDynamicSpec("*:1080"), { bindHost: "0.0.0.0", bindPort: 1080 });
  assert.deepEqual(parseDynamicSpec("[::1]:0"), { bindHost: "::1", bindPort: 0 });
  assert.throws(() => parseDynamicSpec("a:b:c"), /expected \[bind_address:\]port/);
  assert.throws(() => parseDynamicSpec("socks"), /invalid -D listen port "socks"/);
});
