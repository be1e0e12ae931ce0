/**
 * `sshtrace netconf` against the old-switch emulator with its netconf subsystem: the hello
 * exchange and capabilities, a refused subsystem, and a server that answers with no hello.
 */

import assert from "node:assert/strict";
import { parseJsonReport, runSshtrace } from "../../helpers/cli.ts";
import { startOldSwitch } from "../../helpers/old_switch.ts";
import { tempDir } from "../../helpers/tools.ts";

Deno.test("sshtrace netconf exchanges hellos and prints the capabilities", async (t) => {
  await using tmp = await tempDir("sshtrace-netconf-");
  const hello = await startOldSwitch({ netconf: "hello" });
  const garbage = await startOldSwitch({ netconf: "garbage" });
  const plain = await startOldSwitch();
  const netconf = (sw: typeof hello, args: string[]) =>
    runSshtrace([
      "netconf",
      "--legacy",
      "-o",
      "StrictHostKeyChecking=no",
      "--password-env",
      "PW",
      ...args,
      `${sw.user}@127.0.0.1:${sw.port}`,
    ], { home: tmp.path, env: { PW: sw.password } });
  try {
    await t.step("the capabilities on stdout, the exchange traced at stage session", async () => {
      const res = await netconf(hello, []);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(
        res.stdout,
        [
          "urn:ietf:params:netconf:base:1.0",
          "urn:ietf:params:netconf:base:1.1",
          "urn:ietf:params:netconf:capability:writable-running:1.0",
          "http://www.h3c.com/netconf/base:1.0",
          "",
        ].join("\n"),
      );
      assert.match(res.stderr, /subsystem netconf started/);
      assert.match(res.stderr, /netconf: server <hello>: session-id 7, 4 capabilities, base:1\.1/);
      const json = parseJsonReport((await netconf(hello, ["--json"])).stdout);
      assert.deepEqual([json.netconf.sessionId, json.netconf.base11], [7, true]);
    });

    await t.step(
      "sshtrace -s HOST netconf pipes stdin and stdout through the subsystem",
      async () => {
        const res = await runSshtrace([
          "--legacy",
          "-o",
          "StrictHostKeyChecking=no",
          "--password-env",
          "PW",
          "-s",
          `${hello.user}@127.0.0.1:${hello.port}`,
          "netconf",
        ], {
          home: tmp.path,
          env: { PW: hello.password },
          stdin: '<hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"/>]]>]]>',
        });
        assert.equal(res.code, 0, res.stderr);
        assert.match(res.stdout, /<session-id>7<\/session-id><\/hello>\]\]>\]\]>$/);
        assert.match(res.stderr, /subsystem netconf started/);
        const refused = await runSshtrace([
          "--legacy",
          "-o",
          "StrictHostKeyChecking=no",
          "--password-env",
          "PW",
          "-s",
          "--json",
          `${plain.user}@127.0.0.1:${plain.port}`,
          "netconf",
        ], { home: tmp.path, env: { PW: plain.password } });
        assert.equal(refused.code, 15, refused.stderr);
        assert.equal(parseJsonReport(refused.stdout).error.code, "session.subsystem-refused");
      },
    );

    await t.step("a server without the subsystem: session.subsystem-refused, exit 15", async () => {
      const res = await netconf(plain, ["--json"]);
      assert.equal(res.code, 15, res.stderr);
      const r = parseJsonReport(res.stdout);
      assert.equal(r.error.code, "session.subsystem-refused");
      assert.match(r.error.fix, /-p 830/);
    });

    await t.step("a first message that is no <hello>: session.netconf-bad-hello", async () => {
      const res = await netconf(garbage, ["--json"]);
      assert.equal(res.code, 15, res.stderr);
      const r = parseJsonReport(res.stdout);
      assert.equal(r.error.code, "session.netconf-bad-hello");
      assert.match(r.error.explanation, /% Unknown command: netconf/);
      assert.match(res.stderr, /✗ session [\d.]+ ms\n[\s\S]*failed at stage session/);
    });
  } finally {
    await hello.stop();
    await garbage.stop();
    await plain.stop();
  }
});
