/**
 * CheckHostIP as ssh(1) does it (sshconnect.c check_host_key): which addresses are checked, and
 * the host-key policy with the server's address: recorded when new (even under strict
 * checking), a differing key for the address refused under strict checking and only a warning
 * under StrictHostKeyChecking=no, ssh(1)'s DNS spoofing words when the host's key changed.
 */

import assert from "node:assert/strict";
import { explainFailure } from "../../../lib/diagnose/explain.ts";
import { SshError } from "../../../lib/errors/mod.ts";
import { hostIpToCheck, isLoopback } from "../../../lib/hostkeys/host_ip.ts";
import { hostKeyPolicy, type StrictMode } from "../../../lib/hostkeys/policy.ts";
import { fingerprintSha256 } from "../../../lib/algorithms/pubkey.ts";
import { Tracer } from "../../../lib/trace.ts";
import { A, B, KEY_A } from "../../helpers/known_hosts_fixture.ts";

Deno.test("hostIpToCheck() skips loopback addresses and a host named by its address, as ssh(1)", () => {
  assert.ok(isLoopback("127.0.0.1") && isLoopback("127.9.9.9") && isLoopback("::1"));
  assert.ok(isLoopback("::ffff:127.0.0.1"));
  assert.ok(!isLoopback("192.0.2.7") && !isLoopback("fd00::2"));
  assert.deepEqual(hostIpToCheck("sw1.example", "192.0.2.7:22"), { ip: "192.0.2.7" });
  assert.deepEqual(hostIpToCheck("sw1.example", "fd00::2:2222"), { ip: "fd00::2" });
  assert.ok("skipped" in hostIpToCheck("sw1.example", "127.0.0.1:22"));
  assert.ok("skipped" in hostIpToCheck("192.0.2.7", "192.0.2.7:22"));
});

async function run(
  lines: string[],
  mode: StrictMode,
  port = 2222,
): Promise<{ error: SshError | null; tracer: Tracer; text: string }> {
  const dir = await Deno.makeTempDir({ prefix: "sshtrace-hostip-" });
  const file = `${dir}/known_hosts`;
  await Deno.writeTextFile(file, lines.map((l) => l + "\n").join(""));
  const tracer = new Tracer();
  let error: SshError | null = null;
  try {
    await hostKeyPolicy({
      mode,
      host: "sw1.example",
      port,
      knownHostsFiles: [file],
      tracer,
      hostIp: { ip: "192.0.2.7", port },
    })({
      algorithm: "ssh-ed25519",
      blob: KEY_A,
      keyType: "ssh-ed25519",
      fingerprint: fingerprintSha256(KEY_A),
      md5: "MD5:00",
      bits: 256,
    });
  } catch (e) {
    assert.ok(e instanceof SshError, String(e));
    error = e;
  }
  const text = await Deno.readTextFile(file);
  await Deno.remove(dir, { recursive: true });
  return { error, tracer, text };
}

const note = (t: Tracer) => {
  const e = t.events.find((e) => e.type === "status");
  return e?.type === "status" ? e.note ?? "" : "";
};

Deno.test("CheckHostIP: a known host's new address is recorded, even under strict checking", async () => {
  const r = await run([`[sw1.example]:2222 ${A}`], "yes");
  assert.equal(r.error, null);
  assert.equal(r.text, `[sw1.example]:2222 ${A}\n[192.0.2.7]:2222 ${A}\n`);
  assert.match(note(r.tracer), /key for IP address '\[192\.0\.2\.7\]:2222' added to \S+:2/);
  // Known already: nothing written.
  const again = await run([`[sw1.example]:2222 ${A}`, `[192.0.2.7]:2222 ${A}`], "yes");
  assert.equal(again.error, null);
  assert.equal(again.text.split("\n").length, 3);
});

Deno.test("CheckHostIP: accept-new records the host and its address", async () => {
  const r = await run([], "accept-new", 22);
  assert.equal(r.error, null);
  assert.equal(r.text, `sw1.example ${A}\n192.0.2.7 ${A}\n`);
});

Deno.test("CheckHostIP: another key for the address refuses under strict checking, warns with no", async () => {
  const lines = [`[sw1.example]:2222 ${A}`, `[192.0.2.7]:2222 ${B}`];
  const strict = await run(lines, "yes");
  assert.equal(strict.error?.code, "hostkey.changed");
  assert.equal(strict.error?.details.address, true);
  assert.match(
    strict.error!.message,
    /differs from the key for the IP address '\[192\.0\.2\.7\]:2222'/,
  );
  const why = explainFailure(strict.error!, strict.tracer.events);
  assert.match(why.fix ?? "", /^ssh-keygen -R "\[192\.0\.2\.7\]:2222" -f \S+known_hosts/);
  assert.match(why.explanation, /for the server's address \[192\.0\.2\.7\]:2222 \(CheckHostIP\)/);
  assert.equal((await run(lines, "accept-new")).error?.code, "hostkey.changed");
  const lax = await run(lines, "no");
  assert.equal(lax.error, null);
  assert.match(
    note(lax.tracer),
    /^warning: the ssh-ed25519 host key .* differs from the key for the IP/,
  );
});

Deno.test("CheckHostIP: a changed host key says what the address's lines say (DNS spoofing)", async () => {
  const r = await run([`[sw1.example]:2222 ${B}`], "yes");
  assert.equal(r.error?.code, "hostkey.changed");
  assert.match(
    r.error!.message,
    /the key for the IP address '\[192\.0\.2\.7\]:2222' is unknown: DNS spoofing/,
  );
  // The address still has the old key too: both changed together, nothing more to say.
  const both = await run([`[sw1.example]:2222 ${B}`, `[192.0.2.7]:2222 ${B}`], "yes");
  assert.doesNotMatch(both.error!.message, /DNS spoofing/);
});
