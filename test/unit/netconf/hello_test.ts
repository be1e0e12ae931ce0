import assert from "node:assert/strict";
import { parseHello } from "../../../lib/netconf/hello.ts";

Deno.test("parseHello() reads the session id and capabilities, with or without a prefix", () => {
  assert.deepEqual(
    parseHello(
      '<?xml version="1.0"?><nc:hello xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0">' +
        "<nc:capabilities><nc:capability> urn:ietf:params:netconf:base:1.0 </nc:capability>" +
        "<nc:capability>urn:ietf:params:netconf:base:1.1</nc:capability></nc:capabilities>" +
        "<nc:session-id>42</nc:session-id></nc:hello>",
    ),
    {
      sessionId: 42,
      capabilities: ["urn:ietf:params:netconf:base:1.0", "urn:ietf:params:netconf:base:1.1"],
      base11: true,
    },
  );
  assert.equal(parseHello("% Unknown command"), null);
  assert.equal(parseHello("<hello><capabilities></capabilities></hello>"), null);
  assert.equal(
    parseHello("<hello><capabilities><capability>x</capability></capabilities></hello>")
      ?.sessionId,
    null,
  );
});
