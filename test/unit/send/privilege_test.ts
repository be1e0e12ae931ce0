import assert from "node:assert/strict";
import { DEVICES } from "../../../lib/send/devices.ts";
import { type PrivilegeShell, raisePrivilege } from "../../../lib/send/privilege.ts";
import { SshError } from "../../../lib/errors/mod.ts";

/** A scripted shell: each reply in turn, recording what was typed and traced. */
function scripted(replies: { text?: string; line: string; secret?: boolean }[]) {
  const typed: string[] = [];
  const infos: string[] = [];
  const shell: PrivilegeShell = {
    line: (text) => {
      typed.push(text);
      return Promise.resolve();
    },
    reply: () => {
      const r = replies.shift();
      if (!r) throw new Error("no more replies");
      return Promise.resolve({ text: r.text ?? "", line: r.line, secret: r.secret ?? false });
    },
    info: (m) => infos.push(m),
  };
  return { shell, typed, infos };
}

const SECRET = "s3cret enable";
const secret = () => Promise.resolve(SECRET);

Deno.test("raisePrivilege() types enable, answers Password: and reads level 15 from Router#", async () => {
  const s = scripted([{ line: "Password: ", secret: true }, { line: "Router#" }]);
  const r = await raisePrivilege(s.shell, DEVICES.cisco, secret, "Router>");
  assert.deepEqual(r, { level: 15, prompt: "Router#" });
  assert.deepEqual(s.typed, ["enable", SECRET]);
  assert.ok(s.infos.some((m) => /level 15 reached with "enable"/.test(m)));
  assert.ok(s.infos.every((m) => !m.includes(SECRET)), "the secret is never traced");
});

Deno.test("raisePrivilege() reads Comware's and VRP's level from the super reply", async () => {
  const comware = scripted([{ line: " Password:", secret: true }, {
    text: " User privilege level is 3, and only those commands can be used\n",
    line: "<H3C>",
  }]);
  assert.equal((await raisePrivilege(comware.shell, DEVICES.comware, secret, "<H3C>"))?.level, 3);
  const vrp = scripted([{ line: "Password:", secret: true }, {
    text: "Now user privilege is level 15, and only those commands whose level is ...\n",
    line: "<HUAWEI>",
  }]);
  assert.equal((await raisePrivilege(vrp.shell, DEVICES.huawei, secret, "<HUAWEI>"))?.level, 15);
});

Deno.test("raisePrivilege() needs no step on Junos and says so", async () => {
  const s = scripted([]);
  assert.equal(await raisePrivilege(s.shell, DEVICES.junos, secret, "admin@mx>"), null);
  assert.deepEqual(s.typed, []);
  assert.match(s.infos[0]!, /needs no step/);
});

async function failsWith(
  run: Promise<unknown>,
  reason: string,
  message: RegExp,
): Promise<void> {
  await assert.rejects(run, (e: unknown) => {
    assert.ok(e instanceof SshError);
    assert.equal(e.code, "session.privilege-failed");
    assert.equal(e.details.reason, reason);
    assert.match(e.message, message);
    assert.ok(!e.message.includes(SECRET) && !JSON.stringify(e.details).includes(SECRET));
    return true;
  });
}

Deno.test("raisePrivilege() fails on a wrong secret, answering IOS's re-prompts empty", async () => {
  const s = scripted([
    { line: "Password: ", secret: true },
    { line: "Password: ", secret: true },
    { line: "Password: ", secret: true },
    { text: "% Bad secrets\n\n", line: "Router>" },
  ]);
  await failsWith(
    raisePrivilege(s.shell, DEVICES.cisco, secret, "Router>"),
    "wrong-secret",
    /"enable": the Cisco IOS device refused the secret \("% Bad secrets"\)/,
  );
  assert.deepEqual(s.typed, ["enable", SECRET, "", ""]);
});

Deno.test("raisePrivilege() fails without a secret, leaving the prompt with an empty line", async () => {
  const s = scripted([{ line: "Password: ", secret: true }, { line: "Router>" }]);
  await failsWith(
    raisePrivilege(s.shell, DEVICES.cisco, () => Promise.resolve(null), "Router>"),
    "no-secret",
    /asked for a secret and none was given/,
  );
  assert.deepEqual(s.typed, ["enable", ""]);
});

Deno.test("raisePrivilege() fails when the level does not change (no secret asked)", async () => {
  const s = scripted([{ text: "% Authorization failed.\n", line: "Router>" }]);
  await failsWith(
    raisePrivilege(s.shell, DEVICES.cisco, secret, "Router>"),
    "not-raised",
    /did not raise the level \("% Authorization failed\."\)/,
  );
});

Deno.test("raisePrivilege() with a level: super 15 reached; another level reported fails as wrong-level", async () => {
  const { explainFailure } = await import("../../../lib/diagnose/explain.ts");
  const ok = scripted([
    { line: " Password:", secret: true },
    { text: " Now user privilege is level 15, and only those commands ...\n", line: "<HUAWEI>" },
  ]);
  const r = await raisePrivilege(ok.shell, DEVICES.huawei, secret, "<HUAWEI>", 15);
  assert.equal(r?.level, 15);
  assert.deepEqual(ok.typed, ["super 15", SECRET]);
  assert.ok(ok.infos.some((m) => m.startsWith('privilege: level 15 reached with "super 15"')));

  const other = scripted([
    { line: " Password:", secret: true },
    { text: " User privilege level is 3, and only those commands can be used\n", line: "<H3C>" },
  ]);
  const e = await raisePrivilege(other.shell, DEVICES.comware, secret, "<H3C>", 2)
    .then(() => assert.fail("expected a failure"), (e: unknown) => e as SshError);
  assert.equal(e.code, "session.privilege-failed");
  assert.equal(e.details.reason, "wrong-level");
  assert.equal(e.details.reached, 3);
  assert.match(e.message, /reached level 3, not the level 2 asked for/);
  assert.ok(!e.message.includes(SECRET));
  const x = explainFailure(e, []);
  assert.match(x.title, /`super 2` did not reach level 2/);
  assert.match(x.fix ?? "", /--enable-level with a level the device has/);

  // A level the firmware lacks: an error line before any secret prompt.
  const refused = scripted([
    { text: "            ^\n % Wrong parameter found at '^' position.\n", line: "<H3C>" },
  ]);
  const f = await raisePrivilege(refused.shell, DEVICES.comware, secret, "<H3C>", 15)
    .then(() => assert.fail("expected a failure"), (e: unknown) => e as SshError);
  assert.equal(f.details.reason, "wrong-level");
  assert.match(
    f.message,
    /refused level 15 \(" % Wrong parameter|refused level 15 \("% Wrong parameter/,
  );
});
