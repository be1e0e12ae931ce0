// deno-lint-ignore-file no-console
/**
 * Check devices on a management network reached through a bastion: one login to the bastion,
 * reused for every device behind it; each device logged in with the same key and `COMMAND` run,
 * or the stage (and hop) where it failed printed.
 *
 *     deno run -A examples/behind_bastion.ts ~/.ssh/id_ed25519 admin@bastion:22 "show version" \
 *       admin@10.0.0.1 10.0.0.2:2222
 */
import { checkFleet, loadPrivateKeyFile, parseInventory, sanitize } from "../lib/mod.ts";

const [keyFile, bastion, command, ...targets] = Deno.args;
if (!keyFile || !bastion || !command || targets.length === 0) {
  console.error(
    "usage: behind_bastion.ts KEYFILE [user@]bastion[:port] COMMAND [user@]host[:port]...",
  );
  Deno.exit(2);
}
const key = await loadPrivateKeyFile(keyFile);
const result = await checkFleet(parseInventory(targets.join("\n"), "command line"), {
  jump: bastion, // ProxyJump syntax: several hops as a,b,c
  login: true,
  command,
  strictHostKeyChecking: "accept-new",
  auth: { signers: () => Promise.resolve([key]) },
});
for (const host of result.hosts) {
  if (host.ok) console.log(`${host.target}: ok\n${host.command?.stdoutHead.trimEnd() ?? ""}`);
  // The message may quote a server's words as sent: sanitize() before printing it.
  else {console.log(
      `${host.target}: failed at ${host.failedStage}: ${sanitize(host.error!.message)}`,
    );}
}
Deno.exit(result.exitCode);
