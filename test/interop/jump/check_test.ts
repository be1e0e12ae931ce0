/**
 * Fleet checks through a jump host (`checkFleet` with the inventory's `jump` column or `jump`
 * for all; `sshtrace check --jump`): one login to the bastion (real sshd) reused for every host
 * behind it, per-host results as without one, a closed port behind the bastion failing only its
 * host, and a bastion that refuses the login failing each host behind it, naming the bastion.
 */

import assert from "node:assert/strict";
import { checkFleet } from "../../../lib/check/check.ts";
import { parseInventory } from "../../../lib/check/inventory.ts";
import { runSshtrace } from "../../helpers/cli.ts";
import { password } from "../../helpers/lab.ts";
import { ensureTestUser, startSshd } from "../../helpers/sshd.ts";
import { freePort, tempDir } from "../../helpers/tools.ts";

Deno.test("check through a jump host: one bastion login for the fleet behind it", async (t) => {
  const user = await ensureTestUser();
  const dir = await tempDir("sshtrace-jump-check-");
  const bastion = await startSshd({ logLevel: "INFO" });
  const a = await startSshd();
  const b = await startSshd();
  try {
    const knownHosts = `${dir.path}/known_hosts`;
    await Deno.writeTextFile(
      knownHosts,
      [bastion, a, b].map((s) => `[127.0.0.1]:${s.port} ${s.hostKeys.ed25519.pub}\n`).join(""),
    );
    const closed = freePort();
    const via = `${user.name}@127.0.0.1:${bastion.port}`;
    const inventory = [
      "host,port,user,jump",
      `127.0.0.1,${a.port},${user.name},${via}`,
      `127.0.0.1,${b.port},${user.name},${via}`,
      `127.0.0.1,${closed},${user.name},${via}`,
    ].join("\n");
    const options = {
      knownHostsFiles: [knownHosts],
      timeoutMs: 10_000,
      auth: { password: password(user.password), methods: ["password"] },
    };

    await t.step("--login with a command: every host behind one bastion connection", async () => {
      const result = await checkFleet(parseInventory(inventory, "fleet.csv"), {
        ...options,
        login: true,
        command: "echo ok",
      });
      assert.deepEqual(result.hosts.map((h) => h.ok), [true, true, false]);
      assert.equal(result.hosts[0]!.command?.stdoutHead, "ok\n");
      const third = result.hosts[2]!;
      assert.equal(third.error?.code, "connect.jump-refused");
      assert.match(third.error!.message, /refused the tunnel .*connect failed/);
      const logins = (await bastion.waitForLog(/Accepted password/)).match(/Accepted password/g);
      assert.equal(logins?.length, 1, "one login to the bastion for the whole fleet");
    });

    await t.step("probe behind the bastion (jump for all): methods and host keys", async () => {
      const entries = parseInventory(`127.0.0.1:${a.port}\n127.0.0.1:${b.port}\n`, "hosts.txt");
      const result = await checkFleet(entries, { ...options, jump: via });
      assert.deepEqual(result.hosts.map((h) => h.ok), [true, true]);
      assert.ok(result.hosts[0]!.auth?.methods?.includes("password"));
    });

    await t.step("a bastion refusing the login fails each host, naming the bastion", async () => {
      const entries = parseInventory(`127.0.0.1:${a.port}\n127.0.0.1:${b.port}\n`, "hosts.txt");
      const result = await checkFleet(entries, {
        ...options,
        jump: via,
        auth: { password: password("wrong password"), methods: ["password"] },
      });
      for (const h of result.hosts) {
        assert.equal(h.ok, false);
        assert.equal(h.failedStage, "auth");
        assert.match(h.error!.message, /^hop 1 of 2 \(127\.0\.0\.1:\d+\) failed at stage auth/);
      }
    });

    await t.step("sshtrace check --jump from the command line", async () => {
      const file = `${dir.path}/hosts.txt`;
      await Deno.writeTextFile(file, `${user.name}@127.0.0.1:${a.port}\n`);
      const r = await runSshtrace(
        [
          "check",
          file,
          "--json",
          "--jump",
          via,
          "--password-env",
          "PW",
          "-o",
          `UserKnownHostsFile=${knownHosts}`,
          "-o",
          "PreferredAuthentications=password",
        ],
        { home: dir.path, env: { PW: user.password }, timeoutMs: 60_000 },
      );
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.equal(JSON.parse(r.stdout).hosts[0].ok, true);
    });
  } finally {
    for (const s of [b, a, bastion]) await s.stop().catch(() => {});
    await dir.cleanup();
  }
});
