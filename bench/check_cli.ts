/**
 * `sshtrace check` for the benchmark while main.ts has no `check` subcommand yet: parses
 * `[--concurrency N] [--timeout S] INVENTORY` and calls runCheck() like main.ts will.
 *
 *   deno run -A bench/check_cli.ts --concurrency 32 hosts.txt
 * @module
 */

import { runCheck } from "../lib/cli/check.ts";
import { emptySettings } from "../lib/config/options.ts";

const args = [...Deno.args];
let concurrency = "32";
let timeout = 10;
let inventory = "";
while (args.length) {
  const a = args.shift()!;
  if (a === "--concurrency") concurrency = args.shift()!;
  else if (a === "--timeout") timeout = Number(args.shift());
  else inventory = a;
}
Deno.exit(
  await runCheck({
    inventoryPath: inventory,
    flags: { concurrency, quiet: true },
    settings: emptySettings(),
    timeoutMs: timeout * 1000,
  }),
);
