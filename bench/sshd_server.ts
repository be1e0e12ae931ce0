/**
 * The benchmark's server: a real OpenSSH sshd from the test harness (MaxStartups 1000, LogLevel
 * ERROR), the test user with a fresh ed25519 key authorised, and a known_hosts file for it.
 * Prints one JSON line {port, user, key, knownHosts, dir} on stdout, then runs until stdin
 * closes or SIGTERM/SIGINT arrives, and stops sshd.
 *
 *   deno run -A bench/sshd_server.ts
 * @module
 */

import { ensureTestUser, SSH_KEYGEN, startSshd } from "../test/helpers/sshd.ts";
import { run } from "../test/helpers/tools.ts";

const user = await ensureTestUser();
const dir = await Deno.makeTempDir({ prefix: "sshtrace-bench-" });
await Deno.chmod(dir, 0o755);
const key = `${dir}/id_ed25519`;
const gen = await run(SSH_KEYGEN, ["-t", "ed25519", "-q", "-N", "", "-C", "bench", "-f", key]);
if (gen.code !== 0) throw new Error(`ssh-keygen failed: ${gen.stderr}`);
const pub = (await Deno.readTextFile(`${key}.pub`)).trim();
const sshd = await startSshd({
  hostKeyTypes: ["ed25519"],
  authorizedKeys: [pub],
  logLevel: "ERROR",
  config: ["MaxSessions 100"],
});
const knownHosts = `${dir}/known_hosts`;
await Deno.writeTextFile(knownHosts, `[127.0.0.1]:${sshd.port} ${sshd.hostKeys.ed25519.pub}\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await sshd.stop();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  Deno.exit(0);
};
Deno.addSignalListener("SIGTERM", stop);
Deno.addSignalListener("SIGINT", stop);
const info = { port: sshd.port, user: user.name, key, knownHosts, dir };
await Deno.stdout.write(new TextEncoder().encode(JSON.stringify(info) + "\n"));
// Run until stdin reaches its end (the caller closed it or exited).
for await (const _ of Deno.stdin.readable) {
  // ignore input
}
await stop();
