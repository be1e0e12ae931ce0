/**
 * The README's demo (`deno task demo`): starts sshtrace's own lab SSH server on 127.0.0.1 (no
 * SSH server needs to be installed) and runs sshtrace against it: a probe with its security
 * grade, a login that runs a command, an old switch reached with --legacy and `send`, and a
 * failure explained. The servers stop at the end.
 */
// deno-lint-ignore-file no-console
import { startLabServer } from "../lib/lab/mod.ts";

const modern = await startLabServer({ profile: "modern" });
const oldSwitch = await startLabServer({ profile: "old-switch" });
const main = new URL("../main.ts", import.meta.url).pathname;

async function sshtrace(title: string, args: string[], env: Record<string, string> = {}) {
  console.log(`\n\x1b[1m### ${title}\x1b[0m\n$ sshtrace ${args.map(quote).join(" ")}\n`);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", main, ...args],
    stdin: "null",
    env: { RUST_BACKTRACE: "0", ...env },
  }).spawn();
  const { code } = await child.status;
  console.log(`\n(exit status ${code})`);
}

function quote(arg: string): string {
  return /^[\w@.:/=+,-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

const noKnownHosts = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"];
try {
  console.log(
    `sshtrace's lab server runs on 127.0.0.1:${modern.port} (modern) and ` +
      `127.0.0.1:${oldSwitch.port} (an old Comware switch). Password for demo: demo.`,
  );
  await sshtrace("1. Probe: every stage and decision, no credentials, and a grade", [
    "probe",
    `demo@127.0.0.1:${modern.port}`,
  ]);
  await sshtrace(
    "2. Log in with a password (from an environment variable) and run a command",
    [
      ...noKnownHosts,
      "--password-env",
      "DEMO_PASSWORD",
      `demo@127.0.0.1:${modern.port}`,
      "uname -a; whoami",
    ],
    { DEMO_PASSWORD: "demo" },
  );
  await sshtrace(
    "3. An old switch: legacy algorithms as an explicit opt-in, commands through its shell",
    [
      "send",
      "--legacy",
      ...noKnownHosts,
      "--password-env",
      "DEMO_PASSWORD",
      `admin@127.0.0.1:${oldSwitch.port}`,
      "--",
      "display version",
    ],
    { DEMO_PASSWORD: "admin" },
  );
  await sshtrace("4. The same switch without --legacy: what broke, why, and what to type", [
    "probe",
    `admin@127.0.0.1:${oldSwitch.port}`,
  ]);
} finally {
  await modern.stop();
  await oldSwitch.stop();
}
