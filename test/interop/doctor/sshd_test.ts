/**
 * The doctor against a real OpenSSH sshd with forced legacy algorithm lists: the ladder finds
 * the smallest legacy set, and the Host block it writes works with OpenSSH's own `ssh -F`
 * (which fails against the same server without it).
 */

import assert from "node:assert/strict";
import { hostBlock, opensshOptions } from "../../../lib/doctor/forms.ts";
import { runDoctor } from "../../../lib/doctor/ladder.ts";
import { loadPrivateKeyFile } from "../../../lib/keys/private_key.ts";
import { ensureTestUser, SSH_KEYGEN, type SshdOptions, startSshd } from "../../helpers/sshd.ts";
import { run, tempDir } from "../../helpers/tools.ts";

const SSH = "/usr/bin/ssh";

const CASES: { name: string; server: SshdOptions; add: Record<string, string[]> }[] = [
  {
    name: "only diffie-hellman-group14-sha1 and aes128-cbc",
    server: { kex: "diffie-hellman-group14-sha1", ciphers: "aes128-cbc" },
    add: { kex: ["diffie-hellman-group14-sha1"], cipher: ["aes128-cbc"] },
  },
  {
    name: "only ssh-rsa host key signatures and hmac-sha1",
    server: {
      hostKeyTypes: ["rsa"],
      hostKeyAlgorithms: "ssh-rsa",
      ciphers: "aes128-ctr",
      macs: "hmac-sha1",
    },
    add: { hostKey: ["ssh-rsa"], mac: ["hmac-sha1"] },
  },
];

Deno.test("doctor finds the legacy set an sshd needs and its Host block works with ssh -F", async (t) => {
  const user = await ensureTestUser();
  await using dir = await tempDir("sshtrace-doctor-");
  const key = `${dir.path}/id_ed25519`;
  const gen = await run(SSH_KEYGEN, ["-t", "ed25519", "-q", "-N", "", "-f", key]);
  assert.equal(gen.code, 0, gen.stderr);
  const pub = (await Deno.readTextFile(`${key}.pub`)).trim();
  const signer = await loadPrivateKeyFile(key);
  for (const c of CASES) {
    await t.step(c.name, async () => {
      const sshd = await startSshd({ ...c.server, authorizedKeys: [pub] });
      try {
        const report = await runDoctor({
          connect: {
            host: sshd.host,
            port: sshd.port,
            user: user.name,
            timeoutMs: 5000,
            strictHostKeyChecking: "no",
            knownHostsFiles: [],
            auth: { signers: () => Promise.resolve([signer]), methods: ["publickey"] },
          },
          goal: "command",
          command: "true",
        });
        const tried = report.rungs.filter((r) => r.outcome !== "skipped");
        assert.deepEqual(tried.map((r) => [r.rung, r.outcome]), [
          ["modern", "failed"],
          ["legacy-set", "ok"],
        ]);
        assert.deepEqual(report.working?.add, c.add);

        const config = `${dir.path}/config`;
        await Deno.writeTextFile(
          config,
          hostBlock(report.working!, { host: sshd.host, port: sshd.port, user: user.name }),
        );
        const ssh = (file: string, extra: string[] = []) =>
          run(SSH, [
            "-F",
            file,
            ...extra,
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "IdentitiesOnly=yes",
            "-i",
            key,
            ...(file === "/dev/null" ? ["-p", String(sshd.port), "-l", user.name] : []),
            sshd.host,
            "true",
          ]);
        const without = await ssh("/dev/null");
        assert.notEqual(without.code, 0, "OpenSSH's defaults alone do not work");
        const withBlock = await ssh(config);
        assert.equal(withBlock.code, 0, `${await Deno.readTextFile(config)}\n${withBlock.stderr}`);
        // The same settings as -o options (scrapli's system transport passes these).
        const options = opensshOptions(report.working!).flatMap((o) => ["-o", o]);
        const withOptions = await ssh("/dev/null", options);
        assert.equal(withOptions.code, 0, `${options.join(" ")}\n${withOptions.stderr}`);
      } finally {
        await sshd.stop();
      }
    });
  }
});
