/**
 * The benchmarks' server (internal): a real OpenSSH sshd from the test harness (LogLevel ERROR),
 * the test user with a fresh ed25519 key authorised, and a known_hosts file for it, all in one
 * temporary directory that {@link BenchServer.stop} removes.
 * @module
 */

import {
  ensureTestUser,
  SSH_KEYGEN,
  type SshdHandle,
  type SshdOptions,
  startSshd,
} from "../test/helpers/sshd.ts";
import { run } from "../test/helpers/tools.ts";

export interface BenchServer {
  sshd: SshdHandle;
  user: string;
  /** The private key file (its `.pub` is authorised). */
  key: string;
  knownHosts: string;
  dir: string;
  stop(): Promise<void>;
}

/**
 * Starts sshd; `config` adds sshd_config lines, `options` other sshd options (the binary, a
 * forced kex). Needs root (sshd, test user).
 */
export async function startBenchServer(
  prefix: string,
  config: string[] = [],
  options: Pick<SshdOptions, "sshd" | "kex"> = {},
): Promise<BenchServer> {
  const user = await ensureTestUser();
  const dir = await Deno.makeTempDir({ prefix });
  await Deno.chmod(dir, 0o755);
  const key = `${dir}/id_ed25519`;
  const gen = await run(SSH_KEYGEN, ["-t", "ed25519", "-q", "-N", "", "-C", "bench", "-f", key]);
  if (gen.code !== 0) throw new Error(`ssh-keygen failed: ${gen.stderr}`);
  const pub = (await Deno.readTextFile(`${key}.pub`)).trim();
  const sshd = await startSshd({
    hostKeyTypes: ["ed25519"],
    authorizedKeys: [pub],
    logLevel: "ERROR",
    config,
    ...options,
  });
  const knownHosts = `${dir}/known_hosts`;
  await Deno.writeTextFile(knownHosts, `[127.0.0.1]:${sshd.port} ${sshd.hostKeys.ed25519.pub}\n`);
  return {
    sshd,
    user: user.name,
    key,
    knownHosts,
    dir,
    async stop() {
      await sshd.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
