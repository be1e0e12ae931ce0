import assert from "node:assert/strict";
import { Transcript } from "../../../lib/send/transcript.ts";
import { encodeCommand } from "../../../lib/send/prompt.ts";

Deno.test("Transcript renders typed and printed text with timestamps, secrets masked even when echoed", () => {
  let t = Date.parse("2026-12-07T05:00:00.000Z");
  const log = new Transcript(() => new Date(t += 10));
  log.received(encodeCommand("Router>"));
  log.sent(encodeCommand("enable\r"), false);
  log.received(encodeCommand("enable\r\nPassword: "));
  log.sent(encodeCommand("s3cr\u00e9t\r"), true);
  // A device that echoes the secret, split across two chunks.
  log.received(encodeCommand("s3c"));
  log.received(encodeCommand("r\u00e9t\r\nRouter#"));
  const text = log.text();
  assert.equal(
    text,
    [
      '2026-12-07T05:00:00.010Z << "Router>"',
      '2026-12-07T05:00:00.020Z >> "enable\\r"',
      '2026-12-07T05:00:00.030Z << "enable\\r\\nPassword: "',
      "2026-12-07T05:00:00.040Z >> [secret masked]",
      '2026-12-07T05:00:00.050Z << "[secret masked]\\r\\nRouter#"',
      "",
    ].join("\n"),
  );
  assert.ok(!text.includes("s3cr"));
});
