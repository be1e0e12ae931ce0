/**
 * `sshtrace check INVENTORY`: the CLI side of fleet checks — credentials for `--login`, the
 * live progress line (TTY) or plain per-host lines, the summary table, `--json`, `--ndjson` and
 * `--junit FILE`. The engine is lib/check/check.ts.
 * @module
 */

import type { Signer } from "../auth/types.ts";
import { type ConnectFlags, passwordSource, signerLoader } from "./connect.ts";
import { Tracer } from "../trace.ts";
import { env, writeErr as stderrWrite, writeOut as stdoutWrite } from "./output.ts";
import { platform } from "../platform/mod.ts";
import { interruptOnCtrlC } from "./tty.ts";
import { parsePort, type Settings, usageError } from "../config/options.ts";
import { checkFleet, type CheckResult, type HostReport } from "../check/check.ts";
import { readInventory } from "../check/inventory.ts";
import { toJunitXml } from "../check/junit.ts";
import { createPalette, useColor } from "../render/color.ts";
import { sanitize, toJson } from "../render/sanitize.ts";

/** Flags of `sshtrace check` (main.ts's option table: camelCase long names). */
export interface CheckFlags {
  /** Print one JSON object at the end (ok, exitCode, summary, hosts, sharedHostKeys). */
  json?: true;
  /** Print each host's report as one JSON line as it completes. */
  ndjson?: true;
  /** Write JUnit XML to this file. */
  junit?: string;
  /** Hosts checked at once (default 32). */
  concurrency?: string;
  /**
   * Log in instead of probing. NOTE for main.ts: a boolean switch here; the user name comes
   * from `-o User=` / the inventory (the common `-l, --login <user>` clashes with it).
   */
  login?: true;
  /** With `login`: run this command on every host. */
  command?: string;
  identity?: string[];
  passwordEnv?: string;
  passwordFile?: string;
  passphraseEnv?: string;
  passphraseFile?: string;
  legacy?: true;
  verbose?: number;
  /** No progress lines; the table lists only failed hosts. */
  quiet?: true;
  /** Check every host's offer against this policy (a file or `builtin:NAME`). */
  policy?: string;
  /** List the hosts whose offer differs from the majority's. */
  drift?: true;
}

export interface RunCheckInput {
  inventoryPath: string;
  flags: CheckFlags;
  settings: Settings;
  /** Limit for every network wait of one host, in milliseconds. */
  timeoutMs: number;
  /** Where text goes (tests inject these); default stdout / stderr. */
  writeOut?: (text: string) => void;
  writeErr?: (text: string) => void;
  /** Progress on a terminal (`\r` updates); default: stderr is a terminal. */
  tty?: boolean;
}

/** Key files and agent keys, loaded once for the whole fleet (never prompts). */
function fleetSigners(settings: Settings, flags: CheckFlags): () => Promise<Signer[]> {
  const load = signerLoader(new Tracer(), settings, flags as ConnectFlags, true);
  let loaded: Promise<Signer[]> | null = null;
  return () => (loaded ??= load());
}

function parseConcurrency(text: string | undefined): number {
  if (text === undefined) return 32;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 4096) {
    throw usageError(`invalid --concurrency "${text}": expected a whole number 1-4096`);
  }
  return Number(text);
}

/** The cells of one table row (every cell sanitized: most hold text from the peer). */
export function tableRow(h: HostReport): string[] {
  const reason = h.ok ? "" : sanitize(h.error?.message ?? "");
  return [
    h.target,
    h.ok ? "ok" : "FAIL",
    h.failedStage ?? "",
    reason.length > 70 ? reason.slice(0, 69) + "…" : reason,
    h.kex?.algorithm ?? "-",
    h.kex?.cipher.c2s ?? "-",
    h.grade?.letter ?? "-",
    String(h.ms),
  ].map((cell) => sanitize(cell));
}

const HEADERS = ["HOST", "OK", "STAGE", "REASON", "KEX", "CIPHER", "GRADE", "MS"];

/** The summary table, counts and shared host keys, as text. */
export function formatSummary(
  result: CheckResult,
  options: { quiet?: boolean; color?: boolean } = {},
): string {
  const p = createPalette(options.color ?? false);
  const hosts = options.quiet ? result.hosts.filter((h) => !h.ok) : result.hosts;
  const rows = hosts.map(tableRow);
  const widths = HEADERS.map((hd, c) => Math.max(hd.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    cells.map((
      cell,
      c,
    ) => (c === cells.length - 1 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join("  ").trimEnd();
  const out: string[] = [];
  if (rows.length) {
    out.push(line(HEADERS));
    for (const r of rows) {
      const text = line(r);
      out.push(r[1] === "ok" ? text : p.red(text));
    }
    out.push("");
  }
  const s = result.summary;
  const stages = Object.entries(s.byStage).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`);
  const rate = result.ms > 0 ? (s.total / (result.ms / 1000)).toFixed(1) : "-";
  out.push(
    `${s.total} hosts: ${s.passed} passed, ${s.failed} failed` +
      (stages.length ? ` (${stages.join(", ")})` : "") +
      ` in ${(result.ms / 1000).toFixed(1)} s (${rate} hosts/s); exit ${result.exitCode}`,
  );
  for (const k of result.sharedHostKeys) {
    out.push(`shared host key ${k.fingerprint}: ${k.hosts.map((h) => sanitize(h)).join(", ")}`);
  }
  return out.join("\n") + "\n";
}

function progressText(done: number, total: number, failed: number, startedMs: number): string {
  const width = 24;
  const filled = Math.round((done / Math.max(total, 1)) * width);
  const secs = (performance.now() - startedMs) / 1000;
  const rate = secs > 0 ? (done / secs).toFixed(1) : "0.0";
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total}  ` +
    `${done - failed} ok, ${failed} failed  ${rate} hosts/s`;
}

/**
 * Runs `sshtrace check` and returns the process exit code: 0 when every host passed, else the
 * fleet's code (see {@link fleetExitCode}); a bad inventory or flag throws a `usage` error
 * (exit 2, reported by main.ts).
 */
export async function runCheck(input: RunCheckInput): Promise<number> {
  const { flags, settings } = input;
  const writeOut = input.writeOut ?? stdoutWrite;
  const writeErr = input.writeErr ?? stderrWrite;
  const tty = input.tty ?? platform.stderr.isTerminal();
  const concurrency = parseConcurrency(flags.concurrency);
  if (flags.command !== undefined && !flags.login) {
    throw usageError(
      "--command needs --login",
      { expected: "--login with --command (and credentials: -i KEY, an agent, --password-env)" },
    );
  }
  if (settings.port !== undefined) parsePort(String(settings.port));
  const entries = await readInventory(input.inventoryPath);
  const home = env("HOME") ?? ".";
  const knownHostsFiles = [
    (settings.userKnownHostsFile ?? `${home}/.ssh/known_hosts`).replace(/^~(?=\/|$)/, home),
    "/etc/ssh/ssh_known_hosts",
  ];
  const strict = settings.strictHostKeyChecking;
  const password = flags.login ? await passwordSource(flags as ConnectFlags, true) : null;
  const machine = flags.json || flags.ndjson;
  const total = entries.length;
  const started = performance.now();
  let done = 0;
  let failed = 0;
  let lastDraw = 0;
  const drawProgress = (force: boolean) => {
    const now = performance.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    writeErr(`\r${progressText(done, total, failed, started)}\x1b[K`);
  };
  // Ctrl-C stops the hosts under way (each closes its connection) and fails the rest at once.
  const interrupt = interruptOnCtrlC();
  const result = await checkFleet(entries, {
    signal: interrupt.signal,
    concurrency,
    timeoutMs: input.timeoutMs,
    login: flags.login ?? false,
    command: flags.command,
    user: settings.user,
    port: settings.port,
    legacy: flags.legacy ?? false,
    algorithms: settings.algorithms,
    requiredRsaSize: settings.requiredRsaSize,
    knownHostsFiles,
    strictHostKeyChecking: strict === "ask" || strict === "report" ? "yes" : strict,
    auth: flags.login
      ? {
        methods: settings.preferredAuthentications,
        signers: fleetSigners(settings, flags),
        password,
        kbdInteractive: null,
        batchMode: true,
      }
      : undefined,
    onResult: (_i, report) => {
      done++;
      if (!report.ok) failed++;
      if (flags.ndjson) writeOut(toJson(report) + "\n");
      if (flags.quiet) return;
      if (tty) drawProgress(done === total);
      else {
        const n = String(done).padStart(String(total).length);
        writeErr(
          `[${n}/${total}] ${sanitize(report.target)}: ` +
            (report.ok
              ? `ok (${report.ms} ms)`
              : `FAIL at ${report.failedStage}: ${sanitize(report.error?.message ?? "")}`) +
            "\n",
        );
      }
    },
  }).finally(interrupt.dispose);
  if (tty && !flags.quiet) writeErr("\n");
  const color = useColor(machine ? tty : (input.writeOut ? false : platform.stdout.isTerminal()));
  const summary = formatSummary(result, { quiet: flags.quiet, color });
  if (machine) writeErr(summary);
  else writeOut(summary);
  if (flags.json) {
    writeOut(
      toJson(
        {
          ok: result.ok,
          exitCode: result.exitCode,
          summary: result.summary,
          hosts: result.hosts,
          sharedHostKeys: result.sharedHostKeys,
          ms: result.ms,
        },
        2,
      ) + "\n",
    );
  }
  let exitCode = result.exitCode;
  if (flags.policy || flags.drift) {
    const { loadPolicy } = await import("./deep.ts");
    const { driftText, fleetDrift } = await import("../doctor/drift.ts");
    const policy = flags.policy ? await loadPolicy(flags.policy) : null;
    const drift = fleetDrift(result.hosts, policy);
    (machine ? writeErr : writeOut)(driftText(drift, policy));
    if (exitCode === 0 && drift.some((d) => d.policyFailures.length)) exitCode = 3;
  }
  if (flags.junit) {
    const xml = toJunitXml(result, { suiteName: `sshtrace check ${input.inventoryPath}` });
    try {
      await platform.writeTextFile(flags.junit, xml);
    } catch (e) {
      throw usageError(`cannot write the JUnit file ${flags.junit}: ${(e as Error).message}`);
    }
  }
  return exitCode;
}
