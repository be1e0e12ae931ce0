/**
 * Reproducing failure catalogue entries for real: what a failure looked like (from the library or
 * the CLI's `--json` report), the assertion against what the catalogue promises, the CLI as a
 * subprocess, and the declarative tables (one per server kind) with their runner.
 *
 * A table is static data: its rows name the catalogue codes they reproduce, so the coverage test
 * (test/unit/diagnose/reproduce_coverage_test.ts) and docs/failures.md's "Reproduced by" column
 * read the tables without running them, and each table runs alone (and under `--filter`).
 */

import assert from "node:assert/strict";
import { CATALOGUE } from "../../lib/diagnose/catalogue/mod.ts";
import { explainFailure } from "../../lib/diagnose/explain.ts";
import type { SshError } from "../../lib/errors/mod.ts";
import type { Tracer } from "../../lib/trace.ts";
import { exitCodeFor, type Stage } from "../../lib/types.ts";
import { delay } from "./raw_servers.ts";
import { expectTraceError } from "./scripted_server.ts";
import { requireTool, run } from "./tools.ts";

export const ROOT = new URL("../..", import.meta.url).pathname;

// ---------------------------------------------------------------------------------------------
// Recording and checking reproductions

/** The catalogue entry a code is explained by: the exact code, else its `*.suffix` entry. */
export function catalogueKey(code: string): string {
  if (Object.hasOwn(CATALOGUE, code)) return code;
  return `*${code.slice(code.indexOf("."))}`;
}

/** What a failure looked like, from the library or the CLI's `--json` report. */
export interface Seen {
  stage: string;
  code: string;
  exitCode: number;
  message: string;
  explanation: string;
  fix: string | null;
  opensshFix: string | null;
}

export interface Want {
  /** The catalogue key this step reproduces (defaults to `code`). */
  entry?: string;
  code: string;
  stage: Stage | "usage";
  /** Must match the fix; `null`: the entry has no sshtrace fix. */
  fix: RegExp | null;
  /** Must match the OpenSSH fix when given; `null`: there is none. */
  opensshFix?: RegExp | null;
  /** Must match the message or the explanation when given. */
  says?: RegExp;
}

/** Asserts a failure against what the catalogue promises. */
export function expectFailure(step: string, seen: Seen, want: Want): void {
  const context = `${step}: ${seen.code}: ${seen.message}`;
  assert.equal(seen.code, want.code, context);
  assert.equal(seen.stage, want.stage, context);
  assert.equal(seen.exitCode, exitCodeFor(want.stage, want.code), context);
  const entry = want.entry ?? want.code;
  assert.equal(catalogueKey(seen.code), entry, `${context}: explained by ${entry}`);
  if (want.fix === null) assert.equal(seen.fix, null, `${context}: fix`);
  else assert.match(seen.fix ?? "", want.fix, `${context}: fix`);
  if (want.opensshFix === null) assert.equal(seen.opensshFix, null, `${context}: OpenSSH fix`);
  else if (want.opensshFix) assert.match(seen.opensshFix ?? "", want.opensshFix, context);
  if (want.says) assert.match(`${seen.message} ${seen.explanation}`, want.says, context);
}

/** Awaits `promise`, which must reject with an SshError. */
export async function failure(promise: Promise<unknown>): Promise<SshError> {
  return (await expectTraceError(promise)).error;
}

/** A library failure as the catalogue explains it (with the trace, as the CLI does). */
export function explained(error: SshError, tracer?: Tracer): Seen {
  const why = explainFailure(error, tracer?.events ?? []);
  return {
    stage: why.stage,
    code: why.code,
    exitCode: why.exitCode,
    message: why.message,
    explanation: why.explanation,
    fix: why.fix,
    opensshFix: why.opensshFix,
  };
}

// ---------------------------------------------------------------------------------------------
// The CLI as a subprocess

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The `--json` report, when one was printed. */
  report: Record<string, unknown> | null;
}

let cliHome: string | null = null;

/** The clean HOME the CLI runs with (no keys, agent or known_hosts of the machine), made once. */
export async function cliHomeDir(): Promise<string> {
  if (cliHome === null) {
    const home = await Deno.makeTempDir({ prefix: "sshtrace-repro-home-" });
    cliHome = home;
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(home, { recursive: true });
      } catch {
        // best effort at exit
      }
    });
  }
  return cliHome;
}

/** Runs `main.ts ARGS` with a clean HOME (no keys, agent or known_hosts of the machine). */
export async function cli(
  args: string[],
  options: { env?: Record<string, string>; stdin?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  const home = await cliHomeDir();
  const r = await run(Deno.execPath(), ["run", "-A", "main.ts", ...args], {
    cwd: ROOT,
    env: {
      RUST_BACKTRACE: "0",
      NO_COLOR: "1",
      HOME: home,
      SSH_AUTH_SOCK: "",
      ...options.env,
    },
    stdin: options.stdin,
    timeoutMs: options.timeoutMs ?? 20_000,
  });
  let report: Record<string, unknown> | null = null;
  const start = r.stdout.indexOf("{");
  if (start >= 0) {
    try {
      report = JSON.parse(r.stdout.slice(start));
    } catch {
      report = null;
    }
  }
  return { code: r.code, stdout: r.stdout, stderr: r.stderr, report };
}

/**
 * The failure of a CLI run with `--json`: its `error` object and the process exit code (for
 * `check`, host `host` of the report).
 */
export function cliSeen(r: CliResult, host?: number): Seen {
  const report = host === undefined
    ? r.report
    : (r.report?.hosts as Record<string, unknown>[] | undefined)?.[host];
  const error = report?.error as Record<string, unknown> | undefined;
  assert.ok(error, `a JSON report with an error (exit ${r.code}): ${r.stderr.slice(-600)}`);
  assert.equal(report?.exitCode ?? r.code, r.code, "the report's exit code is the process's");
  return {
    stage: String(error.stage),
    code: String(error.code),
    exitCode: r.code,
    message: String(error.message),
    explanation: String(error.explanation ?? ""),
    fix: (error.fix as string | null) ?? null,
    opensshFix: (error.opensshFix as string | null) ?? null,
  };
}

/** Escapes text for use inside a RegExp. */
export function re(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Makes an unencrypted user key with ssh-keygen; returns its path and public line. */
export async function userKey(dir: string, name: string, type: "ed25519" | "rsa") {
  const path = `${dir}/${name}`;
  const args = type === "rsa" ? ["-t", "rsa", "-b", "2048"] : ["-t", "ed25519"];
  const r = await run(requireTool("/usr/bin/ssh-keygen"), [
    ...args,
    "-q",
    "-N",
    "",
    "-C",
    name,
    "-f",
    path,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const pub = (await Deno.readTextFile(`${path}.pub`)).trim().split(/\s+/).slice(0, 2).join(" ");
  return { path, pub };
}

/** Polls until `check()` holds (at most `ms`). */
export async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (!check()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

// ---------------------------------------------------------------------------------------------
// The tables and their runner

/** A catalogue code a row reproduces, and how (the "Reproduced by" cell of docs/failures.md). */
export interface Reproduction {
  /** The code the failure has. */
  code: string;
  /** The catalogue entry that explains it, when not `code` itself (a `*.suffix` entry). */
  entry?: string;
  /** How it is reproduced, in words: the command or call, and the server. */
  by: string;
}

/** Checks one failure against the next {@link Reproduction} of its row. */
export type Expect = (seen: Seen, want: Want) => void;

/** One step: what it reproduces (static data), and how (run against the table's context). */
export interface Row<C> {
  name: string;
  /** The reproductions `run` checks, in order, one `expect` call each. */
  reproduces: Reproduction[];
  run(ctx: C, expect: Expect): Promise<void>;
}

/** The rows for one server kind, with the server's setup (run once for all rows). */
export interface ReproductionTable<C> {
  /** The test's name. */
  name: string;
  setup(): Promise<{ ctx: C; teardown(): Promise<void> }>;
  rows: Row<C>[];
}

/** Declares a table; the context type comes from `setup`. */
export function reproductionTable<C>(table: ReproductionTable<C>): ReproductionTable<C> {
  return table;
}

/** The catalogue entry a reproduction proves. */
export function entryOf(r: Reproduction): string {
  return r.entry ?? r.code;
}

/** The "Reproduced by" cell for a reproduction. */
export function reproducedBy(r: Reproduction): string {
  return entryOf(r) === r.code ? r.by : `${r.by} (${r.code})`;
}

/** Registers a table as one Deno test with a step per row. */
export function reproduceTable<C>(table: ReproductionTable<C>): void {
  Deno.test(table.name, async (t) => {
    const { ctx, teardown } = await table.setup();
    try {
      for (const row of table.rows) {
        await t.step(row.name, async () => {
          const pending = [...row.reproduces];
          await row.run(ctx, (seen, want) => {
            const r = pending.shift();
            assert.ok(r, `${row.name}: checks ${want.code}, which its row does not declare`);
            assert.equal(want.entry ?? want.code, entryOf(r), "the row declares this entry");
            if (r.entry === undefined) {
              assert.equal(want.code, r.code, "the row declares this code");
            }
            expectFailure(r.by, seen, want);
          });
          assert.deepEqual(pending.map((p) => p.code), [], `${row.name}: declared, never checked`);
        });
      }
    } finally {
      await teardown();
    }
  });
}
