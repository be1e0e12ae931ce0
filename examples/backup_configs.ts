// deno-lint-ignore-file no-console
/**
 * Back up one file (e.g. a switch's startup configuration) from several hosts into
 * DIR/<host>/, over SFTP when the host has it and SCP otherwise, and print each host's result.
 *
 *     deno run -A examples/backup_configs.ts ~/.ssh/id_ed25519 flash:/startup.cfg backups \
 *       admin@10.0.0.1 10.0.0.2:2222
 */
import { connect, copy, loadPrivateKeyFile, sanitize, SshError } from "../lib/mod.ts";

const [keyFile, remotePath, dir, ...targets] = Deno.args;
if (!keyFile || !remotePath || !dir || targets.length === 0) {
  console.error("usage: backup_configs.ts KEYFILE REMOTE_PATH DIR [user@]host[:port]...");
  Deno.exit(2);
}
const key = await loadPrivateKeyFile(keyFile);
for (const target of targets) {
  const m = /^(?:([^@]+)@)?([^:]+)(?::(\d+))?$/.exec(target);
  if (!m) {
    console.error(`${target}: not [user@]host[:port]`);
    continue;
  }
  const host = m[2]!;
  await Deno.mkdir(`${dir}/${host}`, { recursive: true });
  try {
    const client = await connect({
      host,
      port: Number(m[3] ?? 22),
      user: m[1],
      strictHostKeyChecking: "accept-new",
      auth: { signers: () => Promise.resolve([key]), batchMode: true },
    });
    const r = await copy(client, { direction: "get", remote: remotePath, local: `${dir}/${host}` });
    await client.close();
    console.log(`${target}: ${r.bytes} bytes over ${r.protocol} to ${r.files[0]?.local}`);
  } catch (e) {
    // The message may quote the server's words as sent: sanitize() before printing them.
    if (e instanceof SshError) {
      console.log(`${target}: failed at ${e.stage}: ${sanitize(e.message)}`);
    } else throw e;
  }
}
