/** The doctor against lab servers that take only ssh-rsa (SHA-1) user signatures. */

import assert from "node:assert/strict";
import { loadPrivateKeyFile } from "../../../lib/keys/private_key.ts";
import { paramikoDisabled } from "../../../lib/doctor/forms.ts";
import { runDoctor } from "../../../lib/doctor/ladder.ts";
import { type LabConfig, startLabServer } from "../../../lib/lab/mod.ts";
import { sharedHostKeys } from "../../helpers/lab.ts";
import { userKey } from "../../helpers/reproduce.ts";
import { tempDir } from "../../helpers/tools.ts";

const CASES: [string, Partial<LabConfig>, string][] = [
  ["no server-sig-algs, ssh-rsa verified only", { extInfo: false }, "auth.rsa-sha2-refused"],
  ["server-sig-algs naming only ssh-rsa", {}, "auth.no-signature-algorithm"],
];

for (const [name, config, code] of CASES) {
  Deno.test(`doctor: ${name} (${code}) logs in with ssh-rsa signatures`, async () => {
    await using dir = await tempDir("sshtrace-doctor-rsa-");
    const rsa = await userKey(dir.path, "rsa", "rsa");
    const blob = Uint8Array.from(atob(rsa.pub.split(" ")[1]!), (c) => c.charCodeAt(0));
    const lab = await startLabServer({
      hostKeys: await sharedHostKeys(),
      config: {
        ...config,
        serverSigAlgs: ["ssh-rsa"],
        users: [{ name: "demo", authorizedKeys: [blob] }],
        authMethods: ["publickey"],
      },
    });
    try {
      const signer = await loadPrivateKeyFile(rsa.path);
      const report = await runDoctor({
        connect: {
          host: lab.host,
          port: lab.port,
          user: "demo",
          timeoutMs: 3000,
          strictHostKeyChecking: "no",
          knownHostsFiles: [],
          auth: { signers: () => Promise.resolve([signer]), methods: ["publickey"] },
        },
        goal: "command",
        command: "echo hi",
      });
      const tried = report.rungs.filter((r) => r.outcome !== "skipped");
      assert.deepEqual(tried.map((r) => [r.rung, r.outcome, r.code]), [
        ["modern", "failed", code],
        ["rsa-sha1", "ok", null],
      ]);
      // The named cause: the modern attempt's failure shows it, the working rung confirms it.
      assert.equal(tried[0]!.cause, "rsa-sha1-required");
      assert.equal(report.confirmed, "rsa-sha1-required");
      assert.deepEqual(paramikoDisabled(report.working!), {
        pubkeys: ["rsa-sha2-512", "rsa-sha2-256"],
      });
    } finally {
      await lab.stop();
    }
  });
}
