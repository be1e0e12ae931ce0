/**
 * One `check --login` run over a CSV whose rows differ in everything `send` needs: vendor
 * (`device`, or `auto`), login and enable credentials by reference, `enable_level`, commands,
 * and jump host — most rows behind a real OpenSSH sshd as the bastion (one login to it for the
 * whole fleet), one straight, one the bastion itself by exec — against the lab's device
 * imitations (lib/lab/devices/). A row with a wrong enable secret fails alone, at stage session.
 */

import assert from "node:assert/strict";
import type { HostReport } from "../../../lib/check/check.ts";
import { runCheck } from "../../../lib/cli/check.ts";
import { emptySettings } from "../../../lib/config/options.ts";
import { type LabServer, startLabServer } from "../../../lib/lab/mod.ts";
import { DEVICE_SPECS } from "../../../lib/lab/devices/mod.ts";
import { sharedHostKeys } from "../../helpers/lab.ts";
import { ensureTestUser, startSshd } from "../../helpers/sshd.ts";
import { tempDir } from "../../helpers/tools.ts";

/** What a device imitation holds for `command` (as `send` returns it), in bytes. */
function expectedBytes(kind: keyof typeof DEVICE_SPECS, commands: string[]): number {
  const spec = DEVICE_SPECS[kind];
  const state = {
    hostname: spec.hostname,
    user: "admin",
    level: 15,
    config: null,
    count: 0,
    changed: false,
  };
  const text = commands.map((c) => spec.commands[c]!(state).lines.join("\n") + "\n").join("");
  return new TextEncoder().encode(text).length;
}

Deno.test("check --login: rows of different vendors, credentials and jump hosts in one run", async () => {
  const user = await ensureTestUser();
  await using dir = await tempDir("sshtrace-fleet-jump-");
  const bastion = await startSshd({ logLevel: "INFO" });
  const hostKeys = await sharedHostKeys();
  const labs: LabServer[] = [];
  const lab = async (profile: string, name: string, pass: string, enableSecret?: string) => {
    const server = await startLabServer({
      profile,
      hostKeys,
      users: [{ name, password: pass }],
      ...(enableSecret ? { config: { enableSecret } } : {}),
    });
    labs.push(server);
    return server.port;
  };
  try {
    const cisco = await lab("device-cisco", "netops", "cisco pw 1", "cisco en 1");
    const huawei = await lab("device-huawei", "admin", "huawei pw 2", "huawei super 2");
    const junos = await lab("device-junos", "admin", "junos pw 3");
    const procurve = await lab("device-procurve", "admin", "procurve pw 4");
    const eos = await lab("device-eos", "admin", "eos pw 5", "eos en 5");
    const files = {
      huaweiPw: `${dir.path}/huawei.pw`,
      huaweiSuper: `${dir.path}/huawei.super`,
    };
    await Deno.writeTextFile(files.huaweiPw, "huawei pw 2\n");
    await Deno.writeTextFile(files.huaweiSuper, "huawei super 2\n");
    const via = `${user.name}@127.0.0.1:${bastion.port}`;
    const inv = `${dir.path}/fleet.csv`;
    await Deno.writeTextFile(
      inv,
      [
        "host,port,user,device,jump,password_env,password_file,enable_secret_env," +
        "enable_secret_file,enable_level,commands",
        `127.0.0.1,${cisco},netops,cisco,${via},PW_CISCO,,EN_CISCO,,,show running-config`,
        `127.0.0.1,${huawei},admin,auto,${via},,${files.huaweiPw},,${files.huaweiSuper},15,` +
        "display current-configuration",
        `127.0.0.1,${junos},admin,junos,none,PW_JUNOS,,,,,show configuration;show version`,
        `127.0.0.1,${procurve},admin,auto,${via},PW_PROCURVE,,,,,show running-config`,
        `127.0.0.1,${bastion.port},${user.name},,none,,,,,,echo fleet-ok`,
        `127.0.0.1,${eos},admin,eos,${via},PW_EOS,,EN_WRONG,,,show running-config`,
      ].join("\n") + "\n",
    );
    const env: Record<string, string> = {
      BASTION_PW: user.password,
      PW_CISCO: "cisco pw 1",
      EN_CISCO: "cisco en 1",
      PW_JUNOS: "junos pw 3",
      PW_PROCURVE: "procurve pw 4",
      PW_EOS: "eos pw 5",
      EN_WRONG: "not the eos secret",
    };
    for (const [k, v] of Object.entries(env)) Deno.env.set(k, v);
    const settings = emptySettings();
    settings.strictHostKeyChecking = "no";
    settings.userKnownHostsFile = `${dir.path}/known_hosts`;
    settings.preferredAuthentications = ["password", "keyboard-interactive"];
    let out = "";
    let err = "";
    const code = await runCheck({
      inventoryPath: inv,
      flags: { login: true, json: true, passwordEnv: "BASTION_PW", log: `${dir.path}/logs` },
      settings,
      timeoutMs: 10_000,
      writeOut: (t) => (out += t),
      writeErr: (t) => (err += t),
      tty: false,
    }).finally(() => {
      for (const k of Object.keys(env)) Deno.env.delete(k);
    });
    const hosts = JSON.parse(out).hosts as HostReport[];
    const summary = hosts.map((h) => [h.ok, h.command?.via, h.error?.code ?? null]);
    assert.deepEqual(summary, [
      [true, "send", null],
      [true, "send", null],
      [true, "send", null],
      [true, "send", null],
      [true, "exec", null],
      [false, undefined, "session.privilege-failed"],
    ], err);
    assert.equal(code, 15);
    const [c, h, j, p, b] = hosts;
    assert.equal(c!.command!.stdoutBytes, expectedBytes("cisco", ["show running-config"]));
    assert.equal(
      h!.command!.stdoutBytes,
      expectedBytes("huawei", ["display current-configuration"]),
    );
    assert.equal(
      j!.command!.stdoutBytes,
      expectedBytes("junos", ["show configuration", "show version"]),
    );
    assert.equal(p!.command!.stdoutBytes, expectedBytes("procurve", ["show running-config"]));
    assert.equal(b!.command!.stdoutHead, "fleet-ok\n");
    assert.equal(b!.command!.exitStatus, 0);
    // The huawei row asked for its enable_level; the rows behind the bastion shared one login
    // to it (the other login is the exec row's own).
    const huaweiLog = await Deno.readTextFile(`${dir.path}/logs/127.0.0.1_${huawei}.log`);
    assert.match(huaweiLog, / >> "super 15\\r"/);
    const logins = (await bastion.waitForLog(/Accepted password[\s\S]*Accepted password/))
      .match(/Accepted password/g);
    assert.equal(logins?.length, 2);
    const logs = await Promise.all(
      [cisco, huawei, junos, procurve, eos].map((port) =>
        Deno.readTextFile(`${dir.path}/logs/127.0.0.1_${port}.log`)
      ),
    );
    for (const secret of [...Object.values(env), "huawei pw 2", "huawei super 2"]) {
      for (const text of [out, err, ...logs]) assert.ok(!text.includes(secret), secret);
    }
  } finally {
    for (const server of labs) await server.stop();
    await bastion.stop();
  }
});
