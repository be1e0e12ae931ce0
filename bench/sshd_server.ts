/**
 * The benchmark's server: a real OpenSSH sshd from the test harness (MaxStartups 1000, LogLevel
 * ERROR), the test user with a fresh ed25519 key authorised, and a known_hosts file for it.
 * Prints one JSON line {port, user, key, knownHosts, dir} on stdout, then runs until stdin
 * closes or SIGTERM/SIGINT arrives, and stops sshd.
 *
 *   deno run -A bench/sshd_server.ts [--openssh99] [--kex NAME]
 *
 * `--openssh99`: an OpenSSH >= 9.9 sshd (the system's, or OpenSSH 10 built into .cache/);
 * `--kex NAME`: the server offers only that key exchange. The JSON line then also has `sshd`
 * (the binary) and `version` (its `sshd -V`).
 * @module
 */

import { openssh99Sshd } from "../test/helpers/sshd.ts";
import { startBenchServer } from "./_server.ts";

const kexAt = Deno.args.indexOf("--kex");
const server = await startBenchServer("sshtrace-bench-", ["MaxSessions 100"], {
  ...(Deno.args.includes("--openssh99") ? { sshd: await openssh99Sshd() } : {}),
  ...(kexAt >= 0 ? { kex: Deno.args[kexAt + 1]! } : {}),
});
const { sshd, user, key, knownHosts, dir } = server;

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await server.stop();
  Deno.exit(0);
};
Deno.addSignalListener("SIGTERM", stop);
Deno.addSignalListener("SIGINT", stop);
const info = {
  port: sshd.port,
  user,
  key,
  knownHosts,
  dir,
  sshd: sshd.sshd,
  version: sshd.version.text,
};
await Deno.stdout.write(new TextEncoder().encode(JSON.stringify(info) + "\n"));
// Run until stdin reaches its end (the caller closed it or exited).
for await (const _ of Deno.stdin.readable) {
  // ignore input
}
await stop();
