/**
 * A legacy-only OpenSSH sshd: each missing algorithm is named, one category at a time, and the
 * combined fix logs in.
 */
import assert from "node:assert/strict";
import { ensureTestUser, startSshd } from "../../helpers/sshd.ts";
import { tempDir } from "../../helpers/tools.ts";
import { cli, cliSeen, reproductionTable, userKey } from "../../helpers/reproduce.ts";

/** The table: one row per step; `reproduces` lists the catalogue codes each row proves. */
export const SSHD_LEGACY = reproductionTable({
  name: "legacy-only OpenSSH sshd: each missing algorithm is named, and the proposed fixes work",
  async setup() {
    const user = await ensureTestUser();
    const dir = await tempDir("sshtrace-repro-legacy-");
    const rsa = await userKey(dir.path, "rsa", "rsa");
    const sshd = await startSshd({
      hostKeyTypes: ["rsa"],
      kex: "diffie-hellman-group14-sha1",
      hostKeyAlgorithms: "ssh-rsa",
      ciphers: "aes128-cbc",
      macs: "hmac-sha1",
      authorizedKeys: [rsa.pub],
      logLevel: "INFO",
    });
    const target = `${user.name}@127.0.0.1:${sshd.port}`;
    const kex = ["--kex", "+diffie-hellman-group14-sha1"];
    const hostkeys = ["--hostkeys", "+ssh-rsa"];
    const ciphers = ["--ciphers", "+aes128-cbc"];
    const macs = ["--macs", "+hmac-sha1"];
    const probeSshd = (args: string[]) =>
      cli(["probe", "--json", "--timeout", "5", ...args, target]);
    /** The fix the first row reads from the report, for the last row to try. */
    const found = { combinedFix: "" };
    return {
      ctx: { user, dir, rsa, sshd, target, kex, hostkeys, ciphers, macs, probeSshd, found },
      async teardown() {
        await sshd.stop();
        await dir.cleanup();
      },
    };
  },
  rows: [
    {
      name: "the default offer is kex.no-common-kex, with the fix for every list",
      reproduces: [{
        code: "kex.no-common-kex",
        by: "CLI: probe a legacy-only sshd (default offer)",
      }],
      async run({ probeSshd, found }, expect) {
        const seen = cliSeen(await probeSshd([]));
        expect(seen, {
          code: "kex.no-common-kex",
          stage: "kex",
          fix:
            /^--kex \+diffie-hellman-group14-sha1 --hostkeys \+ssh-rsa --ciphers \+aes128-cbc --macs \+hmac-sha1$/,
          opensshFix:
            /^-o KexAlgorithms=\+diffie-hellman-group14-sha1 -o HostKeyAlgorithms=\+ssh-rsa -o Ciphers=\+aes128-cbc -o MACs=\+hmac-sha1$/,
        });
        found.combinedFix = seen.fix!;
      },
    },
    {
      name: "only the host key algorithm missing is kex.no-common-hostKey",
      reproduces: [{
        code: "kex.no-common-hostKey",
        by: "CLI: probe a legacy-only sshd with --kex/--ciphers/--macs enabled",
      }],
      async run({ kex, ciphers, macs, probeSshd }, expect) {
        const seen = cliSeen(await probeSshd([...kex, ...ciphers, ...macs]));
        expect(seen, {
          code: "kex.no-common-hostKey",
          stage: "kex",
          fix: /^--hostkeys \+ssh-rsa$/,
          opensshFix: /^-o HostKeyAlgorithms=\+ssh-rsa$/,
        });
      },
    },
    {
      name: "only the cipher missing is kex.no-common-cipherC2S",
      reproduces: [{
        code: "kex.no-common-cipherC2S",
        by: "CLI: probe a legacy-only sshd with --kex/--hostkeys/--macs enabled",
      }],
      async run({ kex, hostkeys, macs, probeSshd }, expect) {
        const seen = cliSeen(await probeSshd([...kex, ...hostkeys, ...macs]));
        expect(seen, {
          code: "kex.no-common-cipherC2S",
          stage: "kex",
          fix: /^--ciphers \+aes128-cbc$/,
          opensshFix: /^-o Ciphers=\+aes128-cbc$/,
        });
      },
    },
    {
      name: "only the MAC missing is kex.no-common-macC2S",
      reproduces: [{
        code: "kex.no-common-macC2S",
        by: "CLI: probe a legacy-only sshd with --kex/--hostkeys/--ciphers enabled",
      }],
      async run({ kex, hostkeys, ciphers, probeSshd }, expect) {
        const seen = cliSeen(await probeSshd([...kex, ...hostkeys, ...ciphers]));
        expect(seen, {
          code: "kex.no-common-macC2S",
          stage: "kex",
          fix: /^--macs \+hmac-sha1$/,
          opensshFix: /^-o MACs=\+hmac-sha1$/,
        });
      },
    },
    {
      name: "the combined fix negotiates and logs in",
      reproduces: [],
      async run({ rsa, target, found }, _expect) {
        assert.ok(found.combinedFix, "the first step ran");
        const r = await cli([
          "--timeout",
          "5",
          "-o",
          "StrictHostKeyChecking=no",
          "--batch",
          ...found.combinedFix.split(" "),
          "-i",
          rsa.path,
          target,
          "echo logged-in",
        ]);
        assert.equal(r.code, 0, `the combined fix works: ${r.stderr.slice(-400)}`);
        assert.equal(r.stdout, "logged-in\n");
      },
    },
  ],
});
