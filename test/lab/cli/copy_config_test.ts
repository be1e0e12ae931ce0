/**
 * `get`, `put` and `doctor` read ssh_config as a login does: a Host alias's Port and User, the
 * `config` stage with -v, and a keyword sshtrace does not do stops them before any connection.
 * A copy ignores (and traces) what scp and sftp override on their ssh's command line.
 */

import assert from "node:assert/strict";
import { type LabServer, startLabServer } from "../../../lib/lab/mod.ts";
import { emptyHome, type Json, parseJsonReport, runSshtrace } from "../../helpers/cli.ts";
import { sharedHostKeys } from "../../helpers/lab.ts";
import { tempDir } from "../../helpers/tools.ts";

/** A lab server, a HOME without keys, and a configuration with aliases for the lab. */
async function withLab(
  body: (lab: LabServer, dir: string, config: string, home: string) => Promise<void>,
): Promise<void> {
  const lab = await startLabServer({ profile: "modern", hostKeys: await sharedHostKeys() });
  await using dir = await tempDir("sshtrace-copy-config-");
  try {
    const home = await emptyHome(dir.path);
    const config = `${dir.path}/config`;
    await Deno.writeTextFile(
      config,
      [
        "Host lab-box",
        "  HostName 127.0.0.1",
        `  Port ${lab.port}`,
        "  User demo",
        // scp and sftp run ssh with -oForwardX11=no: no refusal for a copy.
        "  ForwardX11 yes",
        "  SetEnv SSHTRACE_COPY=yes",
        "Host refused-box",
        "  HostName 127.0.0.1",
        `  Port ${lab.port}`,
        "  User demo",
        "  AddKeysToAgent yes",
        "Host *",
        "  StrictHostKeyChecking no",
        "  UserKnownHostsFile /dev/null",
        "",
      ].join("\n"),
    );
    await body(lab, dir.path, config, home);
  } finally {
    await lab.stop();
  }
}

const PASSWORD = { LAB_PASSWORD: "demo" };

Deno.test("get and put: a configuration keyword sshtrace refuses stops the copy before any connection", async () => {
  await withLab(async (lab, dir, config, home) => {
    const copies = [
      ["get", "refused-box:/etc/motd", `${dir}/motd`],
      ["put", config, "refused-box:/tmp/x"],
    ];
    for (const args of copies) {
      const r = await runSshtrace(
        [args[0]!, "--json", "-F", config, "--password-env", "LAB_PASSWORD", ...args.slice(1)],
        { home, env: PASSWORD },
      );
      assert.equal(r.code, 2, r.stderr);
      const error = parseJsonReport(r.stdout).error;
      assert.equal(error.code, "config.refused");
      assert.equal(error.stage, "config");
      assert.match(
        error.message,
        new RegExp(`${config}:11: AddKeysToAgent yes: .*nothing was sent`),
      );
      assert.match(r.stderr, /remove or comment out "AddKeysToAgent"/);
    }
    assert.equal(lab.connections, 0, "the lab saw no connection");
  });
});

Deno.test("get: a Host alias's Port and User are used, -v shows the config stage, SetEnv is sent", async () => {
  await withLab(async (lab, dir, config, home) => {
    const r = await runSshtrace(
      ["get", "-v", "--json", "-F", config, "--password-env", "LAB_PASSWORD", "lab-box:/x", dir],
      { home, env: PASSWORD },
    );
    // The lab has neither SFTP nor scp: the copy fails at stage transfer, after the login.
    assert.equal(lab.connections, 1);
    const report = parseJsonReport(r.stdout);
    assert.equal(report.error?.stage, "transfer", r.stderr);
    assert.equal(report.server.port, lab.port);
    assert.equal(report.auth.user, "demo");
    const origin = (k: string) => report.config.values.find((v: Json) => v.keyword === k)?.origin;
    assert.equal(origin("Port"), `${config}:3`);
    assert.equal(origin("User"), `${config}:4`);
    assert.match(r.stderr, /── config ─ ssh_config and options/);
    assert.match(r.stderr, new RegExp(`matched +${config}:1 Host lab-box`));
    assert.match(
      r.stderr,
      new RegExp(
        `ForwardX11 yes \\(${config}:5\\) is not used by a copy: scp and sftp run ssh ` +
          "with -oForwardX11=no",
      ),
    );
    // As ssh does for scp and sftp: the environment goes with the copy's session.
    assert.match(r.stderr, /environment SSHTRACE_COPY: accepted/);
  });
});

Deno.test("doctor: a configuration keyword sshtrace refuses is its finding, and nothing is tried", async () => {
  await withLab(async (lab, _dir, config, home) => {
    const r = await runSshtrace(["doctor", "-F", config, "refused-box"], { home });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stdout, /Nothing tried: a login would send nothing/);
    assert.match(
      r.stdout,
      /the configuration asks for something sshtrace does not do \(config\.refused\)/,
    );
    assert.match(r.stdout, new RegExp(`evidence: configuration: ${config}:11: AddKeysToAgent yes`));
    assert.match(r.stdout, /try: remove or comment out "AddKeysToAgent"/);
    const j = await runSshtrace(["doctor", "--json", "-F", config, "refused-box"], { home });
    assert.equal(j.code, 2, j.stderr);
    const report = JSON.parse(j.stdout);
    assert.deepEqual(report.rungs, []);
    assert.equal(report.causes[0].code, "config.refused");
    assert.equal(lab.connections, 0, "the lab saw no connection");
  });
});
