/**
 * sshtrace against Debian's dropbear 2022.83 (dropbear-bin): probe, password login with exec and
 * exit status, public key login through ~/.ssh/authorized_keys, a 16 MiB download checksum, and
 * every algorithm dropbear offers that sshtrace implements, each forced from the client side.
 */

import assert from "node:assert/strict";
import { allNames, type ListCategory } from "../../lib/algorithms/registry.ts";
import {
  commandOutput,
  emptyHome,
  type Json,
  MiB,
  parseJsonReport,
  randomWithChecksum,
  runSshtrace,
} from "../helpers/cli.ts";
import { ensureTestUser, SSH_KEYGEN } from "../helpers/sshd.ts";
import { run, tempDir } from "../helpers/tools.ts";
import { startDropbear } from "../helpers/dropbear.ts";

/**
 * Runs the CLI with the password in $PW and an empty HOME; output text is kept only under 1 MiB,
 * the hashes and lengths always.
 */
const sshtrace = (home: string, args: string[], password = "") =>
  runSshtrace(args, { home, env: { PW: password }, textLimit: MiB });

/**
 * Adds `line` to the user's ~/.ssh/authorized_keys (dropbear has no AuthorizedKeysFile option)
 * with the ownership and modes dropbear insists on; returns a function that takes it out again.
 */
async function authorize(
  user: { name: string; home: string },
  line: string,
): Promise<() => Promise<void>> {
  const dir = `${user.home}/.ssh`;
  const file = `${dir}/authorized_keys`;
  const uid = Number((await run("id", ["-u", user.name])).stdout.trim());
  await Deno.mkdir(dir, { recursive: true });
  // dropbear refuses files or directories writable by group or others, or owned by another user.
  await Deno.chown(dir, uid, null);
  await Deno.chmod(dir, 0o700);
  let before: string | null = null;
  try {
    before = await Deno.readTextFile(file);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const prefix = before === null || before === "" || before.endsWith("\n")
    ? before ?? ""
    : `${before}\n`;
  await Deno.writeTextFile(file, `${prefix}${line}\n`);
  await Deno.chown(file, uid, null);
  await Deno.chmod(file, 0o600);
  return async () => {
    const now = await Deno.readTextFile(file).catch(() => "");
    const kept = now.split("\n").filter((l) => l !== line && l !== "");
    if (kept.length === 0 && before === null) await Deno.remove(file).catch(() => {});
    else await Deno.writeTextFile(file, kept.map((l) => `${l}\n`).join(""));
  };
}

/** Category of the report's `kex.server` lists, the CLI flag forcing it, the report field. */
const FORCE: { list: string; category: ListCategory; flag: string }[] = [
  { list: "kex", category: "kex", flag: "--kex" },
  { list: "hostKey", category: "hostKey", flag: "--hostkeys" },
  { list: "cipherC2S", category: "cipher", flag: "--ciphers" },
  { list: "macC2S", category: "mac", flag: "--macs" },
  { list: "compressionC2S", category: "compression", flag: "" },
];

Deno.test("sshtrace works with dropbear 2022.83: probe, logins, data and each common algorithm", async (t) => {
  const user = await ensureTestUser();
  await using tmp = await tempDir("sshtrace-dropbear-");
  const home = await emptyHome(tmp.path);
  const server = await startDropbear(tmp.path);
  const target = `${user.name}@127.0.0.1:${server.port}`;
  const base = ["-o", "StrictHostKeyChecking=no", "--password-env", "PW"];
  let serverLists: Record<string, string[]> | null = null;
  try {
    await t.step(
      "probe reads dropbear's version, its algorithm lists and its auth methods",
      async () => {
        const res = await sshtrace(home, ["probe", "--json", target]);
        assert.equal(res.code, 0, res.stderr);
        const r = parseJsonReport(res.stdout);
        assert.equal(r.server.versionLine, "SSH-2.0-dropbear_2022.83");
        assert.equal(r.server.software, "dropbear_2022.83");
        assert.deepEqual([...r.auth.methods].sort(), ["password", "publickey"]);
        const lists = r.kex.server;
        assert.ok(lists.kex.includes("curve25519-sha256"), lists.kex.join(","));
        // dropbear signals its support for strict kex and its own kex-guess extension.
        assert.ok(lists.kex.includes("kex-strict-s-v00@openssh.com"));
        assert.equal(r.kex.strict, true);
        // All four host keys were loaded.
        for (
          const alg of ["ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-256", "ssh-rsa", "ssh-dss"]
        ) {
          assert.ok(lists.hostKey.includes(alg), `${alg} in ${lists.hostKey.join(",")}`);
        }
        serverLists = lists;
      },
    );

    await t.step("password login runs a command and returns its exit status", async () => {
      const res = await sshtrace(
        home,
        [...base, "--json", target, "echo hello-dropbear; exit 7"],
        user.password,
      );
      assert.equal(res.code, 7, res.stderr);
      assert.equal(commandOutput(res.stdout), "hello-dropbear\n");
      const r = parseJsonReport(res.stdout);
      assert.equal(r.auth.success, true);
      const last = r.auth.attempts.at(-1);
      assert.equal(last.method, "password");
      assert.equal(last.result, "success");
      await server.waitForLog(/Password auth succeeded for 'sshtrace-test'/);
    });

    await t.step(
      "public key login through ~/.ssh/authorized_keys (no password given)",
      async () => {
        const key = `${tmp.path}/id_ed25519`;
        const gen = await run(SSH_KEYGEN, [
          "-t",
          "ed25519",
          "-q",
          "-N",
          "",
          "-C",
          "sshtrace-dropbear",
          "-f",
          key,
        ]);
        assert.equal(gen.code, 0, gen.stderr);
        const pub = (await Deno.readTextFile(`${key}.pub`)).trim();
        const unauthorize = await authorize(user, pub);
        try {
          const res = await sshtrace(home, [
            "-o",
            "StrictHostKeyChecking=no",
            "--batch",
            "-i",
            key,
            "--json",
            target,
            "echo key-ok",
          ]);
          assert.equal(res.code, 0, `${res.stderr}\n${server.logs()}`);
          assert.equal(commandOutput(res.stdout), "key-ok\n");
          const r = parseJsonReport(res.stdout);
          const last = r.auth.attempts.at(-1);
          assert.equal(last.method, "publickey");
          assert.equal(last.result, "success");
          assert.equal(r.auth.attempts.some((a: Json) => a.method === "password"), false);
          await server.waitForLog(
            /Pubkey auth succeeded for 'sshtrace-test' with (ssh-)?ed25519 key/i,
          );
        } finally {
          await unauthorize();
        }
        assert.equal(
          (await Deno.readTextFile(`${user.home}/.ssh/authorized_keys`).catch(() => "")).includes(
            pub,
          ),
          false,
        );
      },
    );

    await t.step(
      "16 MiB downloaded arrive with the checksum dropbear's side computed",
      async () => {
        const size = 16 * MiB;
        const res = await sshtrace(home, [
          ...base,
          target,
          randomWithChecksum(size),
        ], user.password);
        assert.equal(res.code, 0, res.stderr);
        assert.equal(res.stdoutBytes, size);
        assert.match(res.stderr, new RegExp(`^${res.stdoutSha}  -$`, "m"));
      },
    );

    // One step per algorithm dropbear offers and sshtrace implements, forced from our side.
    await t.step(
      "every algorithm dropbear offers that sshtrace implements works when forced",
      async (t2) => {
        assert.ok(serverLists, "the probe step ran");
        const lists = serverLists as Record<string, string[]>;
        const tried: string[] = [];
        const skipped: string[] = [];
        for (const { list, category, flag } of FORCE) {
          const ours = allNames(category);
          for (const alg of lists[list]!) {
            if (!ours.includes(alg)) {
              skipped.push(alg);
              continue;
            }
            if (category === "compression" && alg === "none") continue; // every run above
            tried.push(alg);
            await t2.step(`${category} ${alg}`, async () => {
              const force = category === "compression" ? ["-C"] : category === "mac"
                // A non-AEAD cipher, or the MAC would be implicit.
                ? [flag, alg, "--ciphers", "aes128-ctr"]
                : [flag, alg];
              const res = await sshtrace(
                home,
                ["--legacy", ...force, ...base, "--json", target, `echo ok-${alg}`],
                user.password,
              );
              assert.equal(res.code, 0, res.stderr);
              assert.equal(commandOutput(res.stdout), `ok-${alg}\n`);
              const k = parseJsonReport(res.stdout).kex;
              const chosen = {
                kex: [k.algorithm],
                hostKey: [k.hostKeyAlgorithm],
                cipher: [k.cipher.c2s, k.cipher.s2c],
                mac: [k.mac.c2s, k.mac.s2c],
                compression: [k.compression.c2s, k.compression.s2c],
              }[category];
              for (const c of chosen) assert.equal(c, alg);
            });
          }
        }
        // What dropbear offers beyond sshtrace: only its extension markers.
        assert.deepEqual(
          skipped.sort(),
          ["kex-strict-s-v00@openssh.com", "kexguess2@matt.ucc.asn.au"],
          `not implemented: ${skipped.join(", ")}`,
        );
        assert.ok(tried.length >= 15, `tried ${tried.join(", ")}`);
      },
    );
  } finally {
    await server.stop();
  }
});
