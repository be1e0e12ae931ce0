/**
 * The benchmark's server: a real OpenSSH sshd from the test harness (MaxStartups 1000, LogLevel
 * ERROR), the test user with a fresh ed25519 key authorised, and a known_hosts file for it.
 * Prints one JSON line {port, user, key, knownHosts, dir} on stdout, then runs until stdin
 * closes or SIGTERM/SIGINT arrives, and stops sshd.
 *
 *   deno run -A bench/sshd_server.ts
 * @module
 */

import { startBenchServer } from "./_server.ts";

const server = await startBenchServer("sshtrace-bench-", ["MaxSessions 100"]);
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
const info = { port: sshd.port, user, key, knownHosts, dir };
await Deno.stdout.write(new TextEncoder().encode(JSON.stringify(info) + "\n"));
// Run until stdin reaches its end (the caller closed it or exited).
for await (const _ of Deno.stdin.readable) {
  // ignore input
}
await stop();
