/**
 * The hostile-server suite: the real client against every fault profile of the lab server.
 * Each test checks what a correct client does (the profile's `expect`): the stage and error code,
 * the exit code of that stage, a readable message without a stack trace, and an end within the
 * time limit (timeoutMs 1500, so 4 s at most) — or success where carrying on is right.
 */

import assert from "node:assert/strict";
import {
  FAULT_PROFILES,
  type FaultProfile,
  findFault,
  type HostKeys,
  startLabServer,
} from "../../lib/lab/mod.ts";
import { DISCONNECT_REASONS } from "../../lib/wire/messages.ts";
import type { SshError } from "../../lib/errors/mod.ts";
import { EXIT_CODES } from "../../lib/types.ts";
import { sanitize } from "../../lib/render/sanitize.ts";
import { runSshtrace } from "../helpers/cli.ts";
import { connectLab, decode, sharedHostKeys, traceError } from "../helpers/lab.ts";

/**
 * Profiles whose correct outcome the client does not reach yet: each is a client bug, reported
 * with a reproduction (run `sshtrace lab --profile NAME`, then sshtrace against it). Their
 * tests are left out until the client is fixed; remove the entry then. The `expect` of each
 * profile says what the fixed client must do.
 */
const AWAITING_CLIENT_FIX: Readonly<Record<string, string>> = {};

const TIMEOUT_MS = 1500;
const LIMIT_MS = 4000;

/** True for text a person can read on one line: no control characters, no stack trace. */
function readable(message: string): boolean {
  if (message.length < 10 || message.length > 400) return false;
  if (/\n\s+at |\bat file:|Error: |\[object |undefined/.test(message)) return false;
  for (const c of message) {
    const code = c.charCodeAt(0);
    if (code < 0x20 || code === 0x7f) return false;
  }
  return true;
}

/** Connects as demo/demo, runs `echo hi` and closes; reports what happened and how long. */
async function attempt(fault: FaultProfile, keys: HostKeys) {
  const lab = await startLabServer({ profile: fault.name, hostKeys: keys });
  const start = performance.now();
  try {
    let error: SshError | null = null;
    let result: { stdout: string; status: number | null } | null = null;
    try {
      const client = await connectLab(lab, { timeoutMs: TIMEOUT_MS, ...fault.client });
      try {
        const r = await client.exec("echo hi");
        result = { stdout: decode(r.stdout), status: r.exit.status };
      } finally {
        await client.close();
      }
    } catch (e) {
      error = (await traceError(Promise.reject(e))).error;
    }
    return { error, result, ms: performance.now() - start, serverErrors: lab.errors };
  } finally {
    await lab.stop();
  }
}

async function check(fault: FaultProfile): Promise<void> {
  const { error, result, ms, serverErrors } = await attempt(fault, await sharedHostKeys());
  assert.ok(ms < LIMIT_MS, `took ${Math.round(ms)} ms`);
  assert.deepEqual(serverErrors, [], "the lab server itself did not fail");
  const expect = fault.expect;
  if ("success" in expect) {
    assert.equal(error, null, error?.message);
    assert.equal(result?.stdout, "hi\n");
    assert.equal(result?.status, expect.exitStatus ?? 0);
    return;
  }
  assert.ok(error, "the client failed");
  assert.equal(error.stage, expect.stage, `${error.code}: ${error.message}`);
  assert.equal(error.code, expect.code, error.message);
  assert.equal(error.exitCode, EXIT_CODES[expect.stage]);
  // As a person sees it: the message may quote the server (hostile-text profiles), and is
  // sanitized wherever it is printed.
  const shown = sanitize(error.message);
  assert.ok(readable(shown), `readable message: ${JSON.stringify(shown)}`);
}

for (const fault of FAULT_PROFILES) {
  if (Object.hasOwn(AWAITING_CLIENT_FIX, fault.name)) continue;
  const outcome = "success" in fault.expect
    ? "the client carries on"
    : `the client stops at ${fault.expect.stage} with ${fault.expect.code}`;
  Deno.test(`fault ${fault.name}: ${outcome}`, () => check(fault));
}

for (let code = 1; code <= 15; code++) {
  Deno.test(`fault disconnect:${code}: the client reports ${DISCONNECT_REASONS[code]}`, async () => {
    const fault = findFault(`disconnect:${code}`)!;
    await check(fault);
    const { error } = await attempt(fault, await sharedHostKeys());
    assert.equal(error?.details.reasonCode, code);
    assert.ok(
      error?.message.includes(`${DISCONNECT_REASONS[code]} (${code})`),
      error?.message,
    );
  });
}

Deno.test("every fault profile is tested above or listed with the client bug it shows", () => {
  const names = FAULT_PROFILES.map((f) => f.name);
  for (const name of Object.keys(AWAITING_CLIENT_FIX)) {
    assert.ok(names.includes(name), `${name} is a fault profile`);
  }
  const tested = names.filter((n) => !Object.hasOwn(AWAITING_CLIENT_FIX, n));
  assert.ok(tested.length >= 30, `${tested.length} fault profiles tested`);
});

Deno.test("the sshtrace CLI explains a bad host key signature with exit 12 and no stack", async () => {
  const lab = await startLabServer({ profile: "bad-signature", hostKeys: await sharedHostKeys() });
  try {
    const r = await runSshtrace(
      [
        "--timeout",
        "2",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        `demo@127.0.0.1:${lab.port}`,
        "echo hi",
      ],
      { timeoutMs: 30_000 },
    );
    assert.equal(r.code, EXIT_CODES.kex, r.stderr);
    assert.match(r.stderr, /signature over the key exchange does not verify/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    assert.equal(r.stdout, "");
  } finally {
    await lab.stop();
  }
});
