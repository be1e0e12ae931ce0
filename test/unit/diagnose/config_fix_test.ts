import assert from "node:assert/strict";
import { configFix } from "../../../lib/diagnose/config_fix.ts";
import type { TraceEvent } from "../../../lib/trace.ts";

const block = (line: number, criteria: string, matched: boolean): TraceEvent => ({
  t: 0,
  stage: "config",
  type: "block",
  file: "/home/me/.ssh/config",
  line,
  kind: "Host",
  criteria,
  matched,
  pass: "first",
});
const value = (keyword: string, v: string, origin: string): TraceEvent => ({
  t: 0,
  stage: "config",
  type: "value",
  keyword,
  value: v,
  origin,
});
const resolving: TraceEvent = {
  t: 1,
  stage: "connect",
  type: "resolving",
  host: "10.0.0.7",
  port: 22,
};

Deno.test("configFix() puts the option under the most specific Host block that matched", () => {
  const events = [block(1, "*", true), block(4, "other", false), block(9, "sw-*", true)];
  assert.equal(
    configFix("-o KexAlgorithms=+diffie-hellman-group14-sha1", events),
    'add under "Host sw-*" (/home/me/.ssh/config:9):\n  KexAlgorithms +diffie-hellman-group14-sha1',
  );
});

Deno.test("configFix() says which line to change when the file already sets the keyword", () => {
  const events = [
    block(9, "sw-*", true),
    value("Ciphers", "aes128-ctr", "/home/me/.ssh/config:11"),
  ];
  assert.equal(
    configFix("-o Ciphers=+aes128-cbc -o MACs=+hmac-sha1", events),
    "change Ciphers at /home/me/.ssh/config:11 to: Ciphers +aes128-cbc\n" +
      'add under "Host sw-*" (/home/me/.ssh/config:9):\n  MACs +hmac-sha1',
  );
});

Deno.test("configFix() proposes a new Host block when none matched, and nothing without a config stage", () => {
  const events = [block(1, "*", true), resolving];
  assert.equal(
    configFix("-o HostKeyAlgorithms=+ssh-rsa", events),
    "add to ~/.ssh/config:\nHost 10.0.0.7\n  HostKeyAlgorithms +ssh-rsa",
  );
  assert.equal(configFix("-o HostKeyAlgorithms=+ssh-rsa", [resolving]), null);
  assert.equal(configFix("-p PORT", events), null);
  assert.equal(configFix(null, events), null);
  // A value given with -o is changed on the command line, not in a file.
  assert.match(
    configFix("-o Ciphers=+aes128-cbc", [
      block(2, "h", true),
      value("Ciphers", "x", "-o Ciphers=x"),
    ])!,
    /^add under "Host h"/,
  );
});
