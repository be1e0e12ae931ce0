// The catalogue's explanation of a failure from a real OpenSSH sshd (the rest of the catalogue's
// tests need nothing but Deno: test/unit/diagnose/catalogue_test.ts).
import assert from "node:assert/strict";
import { openTransport } from "../../../lib/client/open_transport.ts";
import { explainFailure } from "../../../lib/diagnose/explain.ts";
import { SshError } from "../../../lib/errors/mod.ts";
import { Tracer } from "../../../lib/trace.ts";
import { startSshd } from "../../helpers/sshd.ts";

// ---------------------------------------------------------------------------------------------
// Against a real server

Deno.test("explainFailure() of a real legacy-only sshd names group14-sha1 for --kex", async () => {
  const sshd = await startSshd({
    hostKeyTypes: ["rsa"],
    kex: "diffie-hellman-group1-sha1,diffie-hellman-group14-sha1",
    ciphers: "aes128-cbc,3des-cbc",
    macs: "hmac-sha1,hmac-md5",
    hostKeyAlgorithms: "ssh-rsa",
  });
  const tracer = new Tracer();
  try {
    let error: unknown = null;
    try {
      const t = await openTransport({
        host: sshd.host,
        port: sshd.port,
        tracer,
        knownHostsFiles: ["/dev/null"],
        strictHostKeyChecking: "no",
        timeoutMs: 5000,
      });
      t.close();
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof SshError, `expected a failure, got ${error}`);
    assert.equal(error.code, "kex.no-common-kex");
    const x = explainFailure(error, tracer.events);
    assert.equal(x.exitCode, 12);
    assert.match(x.fix ?? "", /^--kex \+diffie-hellman-group14-sha1 /);
    assert.match(x.opensshFix ?? "", /^-o KexAlgorithms=\+diffie-hellman-group14-sha1 /);
  } finally {
    await sshd.stop();
  }
});
