/**
 * The README's demo: starts a throwaway OpenSSH sshd on 127.0.0.1 (its own host keys, a key made
 * for this run), then shows sshtrace probing it, logging in to run a command, and explaining a
 * failure. Everything it makes lives in a temporary folder that is removed at the end.
 */
// deno-lint-ignore-file no-console
import { startSshd } from "../test/helpers/sshd.ts";
import { run, tempDir } from "../test/helpers/tools.ts";

const user = Deno.env.get("USER") ?? "root";
await using dir = await tempDir("sshtrace-demo-");
const key = `${dir.path}/id_ed25519`;
await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "sshtrace-demo", "-f", key]);
const pub = (await Deno.readTextFile(`${key}.pub`)).trim();
const sshd = await startSshd({ authorizedKeys: [pub], logLevel: "INFO" });
const target = `${user}@127.0.0.1:${sshd.port}`;
const knownHosts = `${dir.path}/known_hosts`;

async function sshtrace(title: string, args: string[]): Promise<void> {
  console.log(`\n\x1b[1m### ${title}\x1b[0m\n$ sshtrace ${args.join(" ")}\n`);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../main.ts", import.meta.url).pathname, ...args],
    stdin: "null",
    env: { RUST_BACKTRACE: "0" },
  }).spawn();
  const { code } = await child.status;
  console.log(`\n(exit status ${code})`);
}

try {
  console.log(`A throwaway OpenSSH server is listening on 127.0.0.1:${sshd.port}.`);
  await sshtrace("1. Probe: every stage, no credentials", ["probe", target]);
  await sshtrace("2. Log in with a key and run a command", [
    "-i",
    key,
    "-o",
    "StrictHostKeyChecking=accept-new",
    "-o",
    `UserKnownHostsFile=${knownHosts}`,
    target,
    "uname -sr; echo logged in as $(id -un)",
  ]);
  await sshtrace("3. A failure, explained: a client that only offers a key exchange the server refuses", [
    "probe",
    "--kex",
    "diffie-hellman-group1-sha1",
    target,
  ]);
} finally {
  await sshd.stop();
}
