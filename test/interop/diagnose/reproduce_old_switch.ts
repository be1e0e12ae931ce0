/** The asyncssh old-switch emulator (H3C Comware 5): a wrong password and a refused exec. */
import assert from "node:assert/strict";
import { startOldSwitch } from "../../helpers/old_switch.ts";
import { cli, cliSeen, reproductionTable } from "../../helpers/reproduce.ts";

/** The table: one row per step; `reproduces` lists the catalogue codes each row proves. */
export const OLD_SWITCH = reproductionTable({
  name: "asyncssh old switch: a wrong password and an exec request fail as a switch fails",
  async setup() {
    const sw = await startOldSwitch();
    const target = `${sw.user}@127.0.0.1:${sw.port}`;
    const env = { PW: sw.password, WRONG: "not the password" };
    const ssh = (args: string[], command: string[]) =>
      cli([
        "--json",
        "--timeout",
        "5",
        "-o",
        "StrictHostKeyChecking=no",
        "--legacy",
        ...args,
        target,
        ...command,
      ], { env });
    return {
      ctx: { sw, target, env, ssh },
      async teardown() {
        await sw.stop();
      },
    };
  },
  rows: [
    {
      name: "a wrong password at the Password: prompt is auth.kbdint-failed",
      reproduces: [{
        code: "auth.kbdint-failed",
        by: "CLI: connect --legacy --password-env WRONG to the asyncssh old switch",
      }],
      async run({ ssh }, expect) {
        const seen = cliSeen(await ssh(["--password-env", "WRONG"], ["display version"]));
        expect(seen, {
          code: "auth.kbdint-failed",
          stage: "auth",
          fix: /USER@HOST.*--password-env VAR/,
          opensshFix: /-o PreferredAuthentications=keyboard-interactive -l USER/,
        });
      },
    },
    {
      name: "a command (exec) is session.exec-refused suggesting sshtrace send",
      reproduces: [{
        code: "session.exec-refused",
        by: "CLI: connect --legacy to the asyncssh old switch with a command (exec)",
      }],
      async run({ target, env, ssh }, expect) {
        const seen = cliSeen(await ssh(["--password-env", "PW"], ["display version"]));
        expect(seen, {
          code: "session.exec-refused",
          stage: "session",
          fix: /^sshtrace send \[user@\]HOST -- 'COMMAND'/,
          opensshFix: /-tt/,
        });
        const sent = await cli([
          "send",
          "--timeout",
          "5",
          "-o",
          "StrictHostKeyChecking=no",
          "--legacy",
          "--password-env",
          "PW",
          target,
          "--",
          "display version",
        ], { env });
        assert.equal(sent.code, 0, `the fix works: ${sent.stderr.slice(-400)}`);
      },
    },
    {
      name: "show running-config at a user-level Switch> prompt is session.command-rejected",
      reproduces: [{
        code: "session.command-rejected",
        by: "CLI: send --legacy to the asyncssh old switch (cisco, enable secret) at Switch>",
      }],
      async run({ env }, expect) {
        const sw = await startOldSwitch({ device: "cisco", enableSecret: "s3cret-enable" });
        try {
          const seen = cliSeen(
            await cli([
              "send",
              "--json",
              "--timeout",
              "5",
              "-o",
              "StrictHostKeyChecking=no",
              "--legacy",
              "--password-env",
              "PW",
              `${sw.user}@127.0.0.1:${sw.port}`,
              "--",
              "show running-config",
            ], { env: { ...env, PW: sw.password } }),
          );
          expect(seen, {
            code: "session.command-rejected",
            stage: "session",
            fix: /--enable/,
            opensshFix: null,
          });
        } finally {
          await sw.stop();
        }
      },
    },
    {
      name: "a question no --answer rule matches is session.dialog-unanswered",
      reproduces: [{
        code: "session.dialog-unanswered",
        by: "CLI: send -- 'license activate' to the asyncssh old switch (Enter activation key:)",
      }],
      async run({ target, env }, expect) {
        const seen = cliSeen(
          await cli([
            "send",
            "--json",
            "--timeout",
            "5",
            "--command-timeout",
            "2",
            "-o",
            "StrictHostKeyChecking=no",
            "--legacy",
            "--password-env",
            "PW",
            target,
            "--",
            "license activate",
          ], { env }),
        );
        expect(seen, {
          code: "session.dialog-unanswered",
          stage: "session",
          fix: /--answer 'REGEX=REPLY'/,
          opensshFix: null,
        });
      },
    },
    {
      name: "netconf to a switch without the subsystem is session.subsystem-refused",
      reproduces: [{
        code: "session.subsystem-refused",
        by: "CLI: netconf --legacy to the asyncssh old switch (subsystems refused)",
      }],
      async run({ target, env }, expect) {
        const seen = cliSeen(
          await cli([
            "netconf",
            "--json",
            "--timeout",
            "5",
            "-o",
            "StrictHostKeyChecking=no",
            "--legacy",
            "--password-env",
            "PW",
            target,
          ], { env }),
        );
        expect(seen, {
          code: "session.subsystem-refused",
          stage: "session",
          fix: /-p 830/,
          opensshFix: null,
        });
      },
    },
    {
      name: "a netconf subsystem answering without a <hello> is session.netconf-bad-hello",
      reproduces: [{
        code: "session.netconf-bad-hello",
        by: "CLI: netconf --legacy to the asyncssh old switch (--netconf garbage)",
      }],
      async run({ env }, expect) {
        const sw = await startOldSwitch({ netconf: "garbage" });
        try {
          const seen = cliSeen(
            await cli([
              "netconf",
              "--json",
              "--timeout",
              "5",
              "-o",
              "StrictHostKeyChecking=no",
              "--legacy",
              "--password-env",
              "PW",
              `${sw.user}@127.0.0.1:${sw.port}`,
            ], { env: { ...env, PW: sw.password } }),
          );
          expect(seen, {
            code: "session.netconf-bad-hello",
            stage: "session",
            fix: /NETCONF is enabled/,
            opensshFix: null,
          });
        } finally {
          await sw.stop();
        }
      },
    },
    {
      name: "a wrong enable secret for send --enable is session.privilege-failed",
      reproduces: [{
        code: "session.privilege-failed",
        by: "CLI: send --enable with a wrong secret to the asyncssh old switch (cisco)",
      }],
      async run({ env }, expect) {
        const sw = await startOldSwitch({ device: "cisco", enableSecret: "s3cret-enable" });
        try {
          const seen = cliSeen(
            await cli([
              "send",
              "--json",
              "--timeout",
              "5",
              "-o",
              "StrictHostKeyChecking=no",
              "--legacy",
              "--password-env",
              "PW",
              "--enable",
              "--enable-secret-env",
              "WRONG",
              `${sw.user}@127.0.0.1:${sw.port}`,
              "--",
              "show version",
            ], { env: { ...env, PW: sw.password } }),
          );
          expect(seen, {
            code: "session.privilege-failed",
            stage: "session",
            fix: /--enable-secret-env VAR/,
            opensshFix: null,
          });
        } finally {
          await sw.stop();
        }
      },
    },
  ],
});
