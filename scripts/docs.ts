/**
 * Generates the catalogue table of docs/failures.md from the failure catalogue
 * (lib/diagnose/catalogue/): one row per code with its stage, exit code, cause and the fix for
 * each audience. The "Reproduced by" column names the reproduction table row (test/lab/diagnose/,
 * test/interop/diagnose/) that reproduces the code; test/unit/diagnose/reproduce_coverage_test.ts
 * passes its own column when run with `SSHTRACE_WRITE_DOCS=1`, otherwise the column is kept as the
 * file has it.
 *
 * ```sh
 * deno task docs          # rewrite docs/failures.md
 * deno task docs --check  # exit 1 when the committed file is not current
 * ```
 * @module
 */

// deno-lint-ignore-file no-console -- a script run by hand: it reports on stderr

import { CATALOGUE } from "../lib/diagnose/catalogue/mod.ts";
import { EXIT_CODES, exitCodeFor, STAGES } from "../lib/types.ts";

/** docs/failures.md. */
export const FAILURES_DOC = new URL("../docs/failures.md", import.meta.url);

const HEADER = [
  "Code",
  "Stage",
  "Exit",
  "Cause",
  "sshtrace fix",
  "OpenSSH fix",
  "Library fix",
  "Reproduced by",
];

/** Splits a Markdown table row into trimmed cells (no `|` appears escaped in this table). */
export function cells(row: string): string[] {
  return row.trim().replace(/^\||\|$/g, "").split("|").map((c) => c.trim());
}

/** The "Reproduced by" cells of a failures document, by code. */
export function reproducedCells(markdown: string): Map<string, string> {
  const lines = markdown.split("\n");
  const header = lines.findIndex((l) => /^\| Code\s+\|/.test(l));
  const out = new Map<string, string>();
  if (header < 0) return out;
  const column = cells(lines[header]!).indexOf("Reproduced by");
  if (column < 0) return out;
  for (let i = header + 2; i < lines.length && lines[i]!.startsWith("|"); i++) {
    const c = cells(lines[i]!);
    const code = /^`(.+)`$/.exec(c[0] ?? "")?.[1];
    if (code) out.set(code, c[column] ?? "");
  }
  return out;
}

/** A table cell: one line, no `|`, an em dash for nothing. */
function cell(text: string | null | undefined): string {
  if (text === null || text === undefined || text === "") return "—";
  return text.replace(/\s*\n\s*/g, " ").replaceAll("|", "/");
}

function stageAndExit(code: string): [string, string] {
  const e = CATALOGUE[code]!;
  if (e.stage !== "any") return [e.stage, String(EXIT_CODES[e.stage])];
  const stages = e.stages ?? STAGES;
  const exits = [...new Set(stages.map((s) => exitCodeFor(s, code)))].sort((a, b) => a - b);
  const exit = exits.length === 1 ? String(exits[0]) : `${exits[0]}–${exits.at(-1)}`;
  const where = e.stages ? e.stages.join(" or ") : "the stage it happened in";
  return [where, exit];
}

/** The catalogue table (unformatted Markdown), with `reproducedBy(code)` in its last column. */
export function failuresTable(reproducedBy: (code: string) => string): string {
  const row = (c: string[]) => `| ${c.join(" | ")} |`;
  const lines = [row(HEADER), row(HEADER.map(() => "---"))];
  for (const [code, e] of Object.entries(CATALOGUE)) {
    const [stage, exit] = stageAndExit(code);
    lines.push(row([
      `\`${code}\``,
      stage,
      exit,
      cell(e.title + (e.securityCost ? ` (cost: ${e.securityCost})` : "")),
      cell(e.fix),
      cell(e.opensshFix),
      cell(e.libraryFix),
      cell(reproducedBy(code)),
    ]));
  }
  return lines.join("\n");
}

/** Formats Markdown as `deno fmt` does (the committed file is formatted). */
export async function formatMarkdown(markdown: string): Promise<string> {
  const fmt = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext", "md", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    cwd: new URL("..", import.meta.url).pathname,
  }).spawn();
  const writer = fmt.stdin.getWriter();
  await writer.write(new TextEncoder().encode(markdown));
  await writer.close();
  const out = await fmt.output();
  if (!out.success) throw new Error(`deno fmt failed: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

/**
 * docs/failures.md as it should be: `current` with its catalogue table regenerated. The
 * "Reproduced by" cells come from `reproducedBy`, else from `current`.
 */
export async function failuresDoc(
  current: string,
  reproducedBy?: (code: string) => string,
): Promise<string> {
  const kept = reproducedCells(current);
  const by = reproducedBy ?? ((code: string) => kept.get(code) ?? "");
  const lines = current.split("\n");
  const start = lines.findIndex((l) => /^\| Code\s+\|/.test(l));
  if (start < 0) throw new Error("docs/failures.md has no catalogue table (| Code | ...)");
  let end = start;
  while (end < lines.length && lines[end]!.startsWith("|")) end++;
  const table = failuresTable(by);
  return await formatMarkdown([...lines.slice(0, start), table, ...lines.slice(end)].join("\n"));
}

if (import.meta.main) {
  const current = await Deno.readTextFile(FAILURES_DOC);
  const next = await failuresDoc(current);
  if (Deno.args.includes("--check")) {
    if (next !== current) {
      console.error("docs/failures.md is not current: run `deno task docs`");
      Deno.exit(1);
    }
  } else if (next !== current) {
    await Deno.writeTextFile(FAILURES_DOC, next);
    console.error("docs/failures.md rewritten");
  }
}
