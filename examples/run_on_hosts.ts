// deno-lint-ignore-file no-console
/**
 * Run one command on a list of hosts with a key file and print each host's output or the stage
 * where it failed.
 *
 *     deno run -A examples/run_on_hosts.ts ~/.ssh/id_ed25519 "uname -a" admin@10.0.0.1 10.0.0.2:2222
 */
import { connect, loadPrivateKeyFile, sanitize, SshError } from "../lib/mod.ts";

const [keyFile, command, ...targets] = Deno.args;
if (!keyFile || !command || targets.length === 0) {
  console.error("usage: run_on_hosts.ts KEYFILE COMMAND [user@]host[:port]...");
  Deno.exit(2);
}
const key = await loadPrivateKeyFile(keyFile);
for (const target of targets) {
  const m = /^(?:([^@]+)@)?([^:]+)(?::(\d+))?$/.exec(target);
  if (!m) {
    console.error(`${target}: not [user@]host[:port]`);
    continue;
  }
  try {
    const client = await connect({
      host: m[2]!,
      port: Number(m[3] ?? 22),
      user: m[1],
      strictHostKeyChecking: "accept-new",
      auth: { signers: () => Promise.resolve([key]), batchMode: true },
    });
    const { stdout, exit } = await client.exec(command);
    await client.close();
    console.log(`${target}: exit ${exit.status}\n${new TextDecoder().decode(stdout).trimEnd()}`);
  } catch (e) {
    // The message may quote the server's words as sent: sanitize() before printing them.
    if (e instanceof SshError) {
      console.log(`${target}: failed at ${e.stage}: ${sanitize(e.message)}`);
    } else throw e;
  }
}
