/**
 * Check a fleet and write one CSV row per host (inventory order) to stdout:
 * host,ok,failedStage,reason,kex,cipher,ms. Exits with the fleet's exit code.
 *
 *     deno run -A examples/fleet_check_csv.ts switches.txt > results.csv
 *
 * The inventory is plain text (`[user@]host[:port]` per line) or CSV with a `host` column.
 */
import { checkFleet, readInventory, sanitize } from "../lib/mod.ts";

/**
 * Quotes a CSV field when it holds a comma, quote or line break. Text from servers is sanitized
 * first (controls shown as `\x1b`...), so printing the file cannot drive a terminal.
 */
function csv(value: string | number | boolean | null | undefined): string {
  const text = value === null || value === undefined ? "" : sanitize(String(value));
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const [inventoryPath] = Deno.args;
if (!inventoryPath) {
  Deno.stderr.writeSync(new TextEncoder().encode("usage: fleet_check_csv.ts INVENTORY\n"));
  Deno.exit(2);
}
const entries = await readInventory(inventoryPath);
const result = await checkFleet(entries, { concurrency: 32, timeoutMs: 5000 });
const rows = ["host,ok,failedStage,reason,kex,cipher,ms"];
for (const h of result.hosts) {
  rows.push(
    [
      h.target,
      h.ok,
      h.failedStage,
      h.error?.message,
      h.kex?.algorithm,
      h.kex?.cipher.c2s,
      h.ms,
    ].map(csv).join(","),
  );
}
await Deno.stdout.write(new TextEncoder().encode(rows.join("\n") + "\n"));
Deno.exit(result.exitCode);
