/**
 * Peak memory of a fleet check whose hosts flood and trickle: lab servers running the flood
 * profiles (DEBUG before KEXINIT, IGNORE during kex, USERAUTH_BANNER, a trickled version line)
 * and one well-behaved server, an inventory of N entries cycling over them, and
 * `sshtrace check` run under /usr/bin/time for its maximum resident set size.
 *
 *   deno run -A bench/flood_check.ts [--hosts 500] [--concurrency 16] [--timeout 2]
 *
 * Too slow for CI on 2 cores (about a minute); the number it prints is in README.md.
 * @module
 */

import { startLabServer } from "../lib/lab/mod.ts";

const PROFILES = [
  "debug-flood-kexinit",
  "kex-never-completes",
  "banner-flood",
  "trickle-version",
  "modern",
];

const args = [...Deno.args];
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1]! : fallback;
};
const hosts = Number(opt("--hosts", "500"));
const concurrency = opt("--concurrency", "16");
const timeout = opt("--timeout", "2");

const labs = await Promise.all(PROFILES.map((profile) => startLabServer({ profile })));
const dir = await Deno.makeTempDir({ prefix: "sshtrace-flood-check-" });
try {
  const inventory = `${dir}/hosts.txt`;
  const lines = Array.from(
    { length: hosts },
    (_, i) => `demo@127.0.0.1:${labs[i % labs.length]!.port}`,
  );
  await Deno.writeTextFile(inventory, lines.join("\n") + "\n");
  const root = new URL("..", import.meta.url).pathname;
  const out = await new Deno.Command("/usr/bin/time", {
    args: [
      "-f",
      "%M %e",
      Deno.execPath(),
      "run",
      "-A",
      "main.ts",
      "check",
      "-q",
      "--concurrency",
      concurrency,
      "--timeout",
      timeout,
      "-o",
      "UserKnownHostsFile=/dev/null",
      inventory,
    ],
    cwd: root,
    env: { RUST_BACKTRACE: "0", NO_COLOR: "1" },
    stdout: "null",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr).trimEnd().split("\n");
  const [kb, seconds] = stderr.at(-1)!.split(" ").map(Number);
  // deno-lint-ignore no-console
  console.log(
    `check of ${hosts} hosts (${PROFILES.join(", ")}), concurrency ${concurrency}, ` +
      `--timeout ${timeout}: peak RSS ${(kb! / 1024).toFixed(0)} MiB ` +
      `(${((kb! * 1024) / 1e6).toFixed(0)} MB), ${seconds} s, exit ${out.code}`,
  );
} finally {
  await Promise.all(labs.map((lab) => lab.stop()));
  await Deno.remove(dir, { recursive: true });
}
