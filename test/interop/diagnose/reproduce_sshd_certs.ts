/**
 * Host certificate failures reproduced by OpenSSH sshd presenting certificates made with
 * `ssh-keygen -s CA -h`: one server whose ed25519 key has a good certificate, ecdsa an expired
 * one and rsa one valid only from next year; a second whose certificate lists no principal. The
 * client picks one with `-o HostKeyAlgorithms=<type>-cert-v01@openssh.com`; known_hosts holds
 * `@cert-authority` and `@revoked` lines, never the plain keys, so each failure is the
 * certificate's (ssh(1) would go on with the plain key, which is unknown).
 */
import { ensureTestUser, type SshdHandle, startSshd } from "../../helpers/sshd.ts";
import { certifyHostKey, makeCa } from "../../helpers/host_certs.ts";
import { tempDir } from "../../helpers/tools.ts";
import { cli, cliSeen, reproductionTable } from "../../helpers/reproduce.ts";

export const SSHD_CERTS = reproductionTable({
  name: "OpenSSH sshd with host certificates: each certificate failure has its own code",
  async setup() {
    await ensureTestUser();
    const dir = await tempDir("sshtrace-hostcerts-");
    const ca = await makeCa(dir.path, "host_ca");
    const otherCa = await makeCa(dir.path, "other_ca");
    const good = await certifyHostKey(dir.path, ca.path, "ed25519", "good", {
      principals: "127.0.0.1,localhost",
      validity: "-5m:+1h",
      serial: 7,
    });
    const expired = await certifyHostKey(dir.path, ca.path, "ecdsa", "expired", {
      principals: "127.0.0.1",
      validity: "20200101:20200102",
      serial: 8,
    });
    const future = await certifyHostKey(dir.path, ca.path, "rsa", "future", {
      principals: "127.0.0.1",
      validity: "+52w:+53w",
      serial: 9,
    });
    const servers: SshdHandle[] = [];
    const sshd = await startSshd({
      config: [good, expired, future].map((c) => `HostCertificate ${c}`),
    });
    servers.push(sshd);
    const noPrincipals = await certifyHostKey(dir.path, ca.path, "ed25519", "nobody", {
      principals: "",
      validity: "-5m:+1h",
      serial: 10,
    });
    const bare = await startSshd({
      hostKeyTypes: ["ed25519"],
      config: [`HostCertificate ${noPrincipals}`],
    });
    servers.push(bare);
    const knownHosts = `${dir.path}/known_hosts`;
    /** `sshtrace --json --batch` with these known_hosts lines, strict, one certificate type. */
    const connectWith = async (
      lines: string[],
      certType: string,
      args: string[],
      port = sshd.port,
    ) => {
      await Deno.writeTextFile(knownHosts, lines.join("\n") + "\n");
      return await cli([
        "--json",
        "--batch",
        "--timeout",
        "5",
        "-o",
        `UserKnownHostsFile=${knownHosts}`,
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        `HostKeyAlgorithms=${certType}-cert-v01@openssh.com`,
        ...args,
        `nobody@127.0.0.1:${port}`,
        "true",
      ]);
    };
    return {
      ctx: { sshd, bare, ca, otherCa, connectWith },
      async teardown() {
        for (const s of servers) await s.stop();
        await dir[Symbol.asyncDispose]();
      },
    };
  },
  rows: [
    {
      name: "a certificate from a CA no @cert-authority line trusts is hostkey.cert-unknown-ca",
      reproduces: [{
        code: "hostkey.cert-unknown-ca",
        by:
          "CLI: connect with @cert-authority for another CA in known_hosts (sshd HostCertificate)",
      }],
      async run({ otherCa, connectWith }, expect) {
        const r = await connectWith([`@cert-authority * ${otherCa.pub}`], "ssh-ed25519", []);
        expect(cliSeen(r), {
          code: "hostkey.cert-unknown-ca",
          stage: "hostkey",
          fix: /@cert-authority/,
          says: /no @cert-authority line for this host lists the CA SHA256:/,
        });
      },
    },
    {
      name: "an expired certificate is hostkey.cert-expired, with the clock in the explanation",
      reproduces: [{
        code: "hostkey.cert-expired",
        by: "CLI: connect to sshd presenting a certificate valid 2020-01-01..2020-01-02",
      }],
      async run({ ca, connectWith }, expect) {
        const r = await connectWith(
          [`@cert-authority * ${ca.pub}`],
          "ecdsa-sha2-nistp256",
          [],
        );
        expect(cliSeen(r), {
          code: "hostkey.cert-expired",
          stage: "hostkey",
          fix: null,
          opensshFix: null,
          says: /expired: valid until 2020-01-02.*this machine's clock/,
        });
      },
    },
    {
      name: "a certificate valid from next year is hostkey.cert-not-yet-valid",
      reproduces: [{
        code: "hostkey.cert-not-yet-valid",
        by: "CLI: connect to sshd presenting a certificate valid from next year",
      }],
      async run({ ca, connectWith }, expect) {
        const r = await connectWith([`@cert-authority * ${ca.pub}`], "rsa-sha2-512", []);
        expect(cliSeen(r), {
          code: "hostkey.cert-not-yet-valid",
          stage: "hostkey",
          fix: /clock/,
          says: /not yet valid: valid from/,
        });
      },
    },
    {
      name: "a HostKeyAlias the certificate does not list is hostkey.cert-principal",
      reproduces: [{
        code: "hostkey.cert-principal",
        by: "CLI: connect -o HostKeyAlias=other.example to sshd whose certificate lists 127.0.0.1",
      }],
      async run({ ca, connectWith }, expect) {
        const r = await connectWith(
          [`@cert-authority * ${ca.pub}`],
          "ssh-ed25519",
          ["-o", "HostKeyAlias=other.example"],
        );
        expect(cliSeen(r), {
          code: "hostkey.cert-principal",
          stage: "hostkey",
          fix: /HostKeyAlias/,
          says:
            /"other\.example" is not among the certificate's principals \(127\.0\.0\.1, localhost\)/,
        });
      },
    },
    {
      name: "a certificate with no principal is hostkey.cert-invalid",
      reproduces: [{
        code: "hostkey.cert-invalid",
        by: "CLI: connect to sshd presenting a certificate made without -n (no principals)",
      }],
      async run({ bare, ca, connectWith }, expect) {
        const r = await connectWith(
          [`@cert-authority * ${ca.pub}`],
          "ssh-ed25519",
          [],
          bare.port,
        );
        expect(cliSeen(r), {
          code: "hostkey.cert-invalid",
          stage: "hostkey",
          fix: null,
          says: /lists no principals/,
        });
      },
    },
    {
      name: "a CA marked @revoked is hostkey.ca-revoked, naming the line",
      reproduces: [{
        code: "hostkey.ca-revoked",
        by: "CLI: connect with the CA both @cert-authority and @revoked in known_hosts (sshd)",
      }],
      async run({ ca, connectWith }, expect) {
        const r = await connectWith(
          [`@cert-authority * ${ca.pub}`, `@revoked * ${ca.pub}`],
          "ssh-ed25519",
          [],
        );
        expect(cliSeen(r), {
          code: "hostkey.ca-revoked",
          stage: "hostkey",
          fix: null,
          says: /marked @revoked.*known_hosts:2/,
        });
      },
    },
  ],
});
