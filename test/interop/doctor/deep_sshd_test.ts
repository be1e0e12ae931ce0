/** `probe --deep` against OpenSSH sshd: every host key (as ssh-keyscan sees them), every algorithm. */

import assert from "node:assert/strict";
import { deepProbe } from "../../../lib/doctor/deep.ts";
import { fingerprintSha256 } from "../../../lib/algorithms/pubkey.ts";
import { startSshd } from "../../helpers/sshd.ts";

Deno.test("deep probe of sshd: its three host keys with their fingerprints, CBC refused unless listed", async () => {
  const sshd = await startSshd({
    hostKeyTypes: ["ed25519", "ecdsa", "rsa"],
    ciphers: "aes128-ctr,aes256-gcm@openssh.com,aes128-cbc",
  });
  try {
    const r = await deepProbe({ host: sshd.host, port: sshd.port, knownHostsFiles: [] });
    assert.equal(r.vendor, "OpenSSH");
    const byType = new Map(r.hostKeys.map((k) => [k.keyType, k]));
    assert.equal(byType.get("ssh-ed25519")?.sha256, fingerprintSha256(sshd.hostKeys.ed25519.blob));
    assert.equal(byType.get("ssh-rsa")?.sha256, fingerprintSha256(sshd.hostKeys.rsa.blob));
    assert.equal(byType.get("ssh-rsa")?.bits, 3072);
    assert.equal(byType.get("ecdsa-sha2-nistp256")?.bits, 256);
    assert.deepEqual(
      r.alone.cipher?.map((x) => [x.name, x.accepted]),
      [["aes128-ctr", true], ["aes256-gcm@openssh.com", true], ["aes128-cbc", true]],
    );
    // OpenSSH never returns a group under 2048 bits, whatever is asked.
    assert.equal(r.gexSizes.length, 4, JSON.stringify(r.gexSizes));
    assert.ok(
      r.gexSizes.every((g) => g.bits !== null && g.bits >= 2048),
      JSON.stringify(r.gexSizes),
    );
    assert.equal(r.strictKex, true);
    assert.equal(r.terrapin.exposed, false);
    assert.ok(r.grade && r.grade.partial.length === 0, JSON.stringify(r.grade));
    assert.ok(r.grade.reasons.some((x) => /CBC/.test(x)));
  } finally {
    await sshd.stop();
  }
});
