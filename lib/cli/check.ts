/**
 * `sshtrace check INVENTORY`: the CLI side of fleet checks — credentials for `--login`, the
 * live progress line (TTY) or plain per-host lines, the summary table, `--json`, `--ndjson` and
 * `--junit FILE`. The engine is lib/check/check.ts.
 * @module
 */

import { parseJumpSpec } from "../config/jump_spec.ts";
import { knownHostsFilesOf } from "./connection_options.ts";

export { refuseUnusedByCheck } from "./check_config.ts";
import type { ConnectFlags } from "./connect.ts";
import { passwordSource } from "./credentials.ts";
import { env, writeErr as stderrWrite, writeOut as stdoutWrite } from "./output.ts";
import { platform } from "../platform/mod.ts";
import { interruptOnCtrlC } from "./tty.ts";
import { parsePort, type Settings, usageError } from "../config/options.ts";
import type { SshConfig } from "../sshconfig/resolve.ts";
import { configureEntries, fleetSigners } from "./check_config.ts";
import { checkFleet, type CheckResult, type HostReport } from "../check/check.ts";
import { type InventoryEntry, readInventory } from "../check/inventory.ts";
import type { Client } from "../client.ts";
import { type PolicyHost, toJunitXml } from "../check/junit.ts";
import { Transcript } from "../send/transcript.ts";
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
  /** Jump hosts for every host without its own `jump` column (ProxyJump syntax). */
  jump?: string;
  /** With `login`: copy this remote file from every host into `dest`/<host>/. */
  fetch?: string;
  /** With `fetch`: the directory of the copies (default `.`). */
  dest?: string;
  /** With `fetch`: flush each copy to disk before its rename (as `get --fsync`). */
  fsync?: true;
  identity?: string[];
  passwordEnv?: string;
  passwordFile?: string;
  passphraseEnv?: string;
  passphraseFile?: string;
  legacy?: true;
  verbose?: number;
  /** No progress lines; the table lists only failed hosts. */
  quiet?: true;
  /** With `command`: write a transcript per host into this directory. */
  log?: string;
  /** Check every host's offer against this policy (a file or `builtin:NAME`). */
  policy?: string;
  /** List the hosts whose offer differs from the majority's. */
  drift?: true;
  /** A deep probe of every host (probe --deep), 8 at once unless --concurrency says. */
  deep?: true;
}

/** `DIR/<host>.log` (`<host>_<port>.log` off port 22; `-N` for the N-th entry of a repeat). */
export function transcriptNames(entries: { host: string; port: number | null }[]): string[] {
  const seen = new Map<string, number>();
  return entries.map((e) => {
    const base = (e.port && e.port !== 22 ? `${e.host}_${e.port}` : e.host)
      .replace(/[^\w.-]/g, "_");
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return `${base}${n > 1 ? `-${n}` : ""}.log`;
  });
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
  /**
   * The ssh_config of one inventory target (`[user@]host[:port]` as written), as a connection to
   * it would read it; without it, entries are taken as written.
   */
  configFor?: (target: string) => { config: SshConfig; settings: Settings };
}

/**
 * `--fetch PATH --dest DIR`: each host's copy of PATH goes to DIR/<host>/ (DIR/<host>_<port>/
 * for another port than the default), through a temporary name as for `get` (flushed to disk
 * before the rename with `--fsync`).
 */
function fetchInto(
  remote: string,
  dest: string,
  defaultPort: number,
  fsync: boolean,
): (client: Client, entry: InventoryEntry) => Promise<Record<string, unknown>> {
  return async (client, entry) => {
    const port = entry.port ?? defaultPort;
    const dir = `${dest.replace(/\/+$/, "") || "/"}/${entry.host}${port === 22 ? "" : `_${port}`}`;
    // The transfer modules are loaded only for --fetch.
    const [{ copy }, { local, localFiles }] = await Promise.all([
      import("../transfer/copy.ts"),
      import("../transfer/local.ts"),
    ]);
    await local("create directory", dir, () => localFiles.mkdir(dir, { recursive: true }));
    const r = await copy(client, { direction: "get", remote, local: dir, fsync });
    client.tracer.end("transfer");
    return {
      path: r.files[0]?.local ?? null,
      protocol: r.protocol,
      bytes: r.bytes,
      durationMs: r.durationMs,
    };
  };
}

function parseConcurrency(text: string | undefined): number {
  if (text === undefined) return 32;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 4096) {
    throw usageError(`invalid --concurrency "${text}": expected a whole number 1-4096`);
  }
  return Number(text);
}

function cut(text: string, max: number): string {
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

/**
 * The `--command` cells of a host: its remote exit status (`-` when it did not run; `send` has
 * none: `sent`, or `rejected`) and the first non-empty line of its output (stdout, else stderr).
 */
export function commandCells(h: HostReport): [string, string] {
  const c = h.command;
  if (!c) return ["-", ""];
  const exit = c.via === "send"
    ? (c.errorLine === null ? "sent" : "rejected")
    : c.exitSignal
    ? `signal ${c.exitSignal}`
    : String(c.exitStatus ?? "-");
  const text = c.errorLine ?? (c.stdoutHead.trim() ? c.stdoutHead : c.stderrHead);
  const first = text.split("\n").map((l) => l.trim()).find((l) => l !== "") ?? "";
  return [exit, cut(sanitize(first), 40)];
}

/**
 * The cells of one table row (every cell sanitized: most hold text from the peer); with
 * `command`, the exit status and output head of `--command` before the timing.
 */
export function tableRow(h: HostReport, command = false): string[] {
  const reason = h.ok ? "" : sanitize(h.error?.message ?? "");
  return [
    h.target,
    h.ok ? "ok" : "FAIL",
    h.failedStage ?? "",
    cut(reason, 70),
    h.kex?.algorithm ?? "-",
    h.kex?.cipher.c2s ?? "-",
    h.grade?.letter ?? "-",
    ...(command ? commandCells(h) : []),
    String(h.ms),
  ].map((cell) => sanitize(cell));
}

const HEADERS = ["HOST", "OK", "STAGE", "REASON", "KEX", "CIPHER", "GRADE", "MS"];
const COMMAND_HEADERS = [
  "HOST",
  "OK",
  "STAGE",
  "REASON",
  "KEX",
  "CIPHER",
  "GRADE",
  "EXIT",
  "OUTPUT",
  "MS",
];

/** The summary table, counts and shared host keys, as text. */
export function formatSummary(
  result: CheckResult,
  options: { quiet?: boolean; color?: boolean } = {},
): string {
  const p = createPalette(options.color ?? false);
  const hosts = options.quiet ? result.hosts.filter((h) => !h.ok) : result.hosts;
  const command = result.hosts.some((h) => h.command !== null);
  const headers = command ? COMMAND_HEADERS : HEADERS;
  const rows = hosts.map((h) => tableRow(h, command));
  const widths = headers.map((hd, c) => Math.max(hd.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    cells.map((
      cell,
      c,
    ) => (c === cells.length - 1 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join("  ").trimEnd();
  const out: string[] = [];
  if (rows.length) {
    out.push(line(headers));
    for (const r of rows) {
      const text = line(r);
      out.push(r[1] === "ok" ? text : p.red(text));
    }
    out.push("");
  }
  // What to try, per failed host (the diagnosis' fix: lib/diagnose words it).
  const hints = result.hosts.filter((h) => !h.ok && h.error?.fix);
  for (const h of hints) out.push(`${sanitize(h.target)}: try ${sanitize(h.error!.fix!)}`);
  if (hints.length) out.push("");
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
  if (flags.fetch !== undefined && !flags.login) {
    throw usageError("--fetch needs --login", {
      expected: "--login with --fetch (and credentials: -i KEY, an agent, --password-env)",
    });
  }
  if (flags.dest !== undefined && flags.fetch === undefined) {
    throw usageError("--dest goes with --fetch");
  }
  if (flags.fsync && flags.fetch === undefined) throw usageError("--fsync goes with --fetch");
  if (settings.port !== undefined) parsePort(String(settings.port));
  const read = await readInventory(input.inventoryPath);
  const entries = input.configFor ? configureEntries(read, input.configFor, writeErr, flags) : read;
  if (
    flags.log !== undefined && flags.command === undefined && !entries.some((e) => e.commands)
  ) {
    throw usageError("--log needs --command or a commands column (it records the commands)");
  }
  if (flags.deep) {
    const refused = (["login", "command", "fetch", "log", "drift", "ndjson"] as const)
      .filter((f) => flags[f] !== undefined);
    if (refused.length) throw usageError(`--deep does not go with --${refused[0]}`);
    const { runDeepInventory } = await import("./deep.ts");
    const interrupt = interruptOnCtrlC();
    try {
      return await runDeepInventory({
        entries: entries.map((e) => ({
          target: e.target,
          source: e.source,
          host: e.connectHost ?? e.host,
          port: e.port ?? settings.port ?? 22,
          user: e.user ?? settings.user,
          legacy: e.legacy ?? flags.legacy ?? false,
          algorithms: e.algorithms,
        })),
        inventoryPath: input.inventoryPath,
        concurrency: flags.concurrency === undefined ? 8 : concurrency,
        timeoutMs: input.timeoutMs,
        legacy: flags.legacy ?? false,
        algorithms: settings.algorithms,
        json: flags.json ?? false,
        policy: flags.policy,
        junit: flags.junit,
        signal: interrupt.signal,
        progress: tty && !flags.quiet ? writeErr : undefined,
        writeOut,
      });
    } finally {
      interrupt.dispose();
    }
  }
  const logs = new Map<number, Transcript>();
  const names = transcriptNames(entries);
  if (flags.log !== undefined) {
    try {
      await platform.mkdir(flags.log, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw usageError(`cannot create the log directory ${flags.log}: ${(e as Error).message}`);
    }
  }
  const pendingLogs: Promise<void>[] = [];
  const home = env("HOME") ?? ".";
  const knownHostsFiles = knownHostsFilesOf(settings, home);
  const strict = settings.strictHostKeyChecking;
  // Credentials serve the logins and the jump hosts (a probe behind a bastion logs in to it).
  const jumping = flags.jump !== undefined || entries.some((e) => e.jump);
  if (flags.jump !== undefined) parseJumpSpec(flags.jump);
  const credentials = flags.login || jumping;
  const password = credentials ? await passwordSource(flags as ConnectFlags, true) : null;
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
    ...(flags.fetch === undefined ? {} : {
      afterLogin: fetchInto(
        flags.fetch,
        flags.dest ?? ".",
        settings.port ?? 22,
        flags.fsync ?? false,
      ),
      // A copy takes longer than a probe: one more minute for each host.
      hostDeadlineMs: 3 * input.timeoutMs + 65_000,
    }),
    user: settings.user,
    port: settings.port,
    legacy: flags.legacy ?? false,
    algorithms: settings.algorithms,
    requiredRsaSize: settings.requiredRsaSize,
    knownHostsFiles,
    strictHostKeyChecking: strict === "ask" || strict === "report" ? "yes" : strict,
    jump: flags.jump,
    auth: credentials
      ? {
        methods: settings.preferredAuthentications,
        signers: fleetSigners(settings, flags),
        password,
        kbdInteractive: null,
        batchMode: true,
      }
      : undefined,
    transcript: flags.log === undefined ? undefined : (index) => {
      const t = new Transcript();
      logs.set(index, t);
      return t;
    },
    onResult: (index, report) => {
      const log = logs.get(index);
      if (log && flags.log !== undefined) {
        logs.delete(index);
        pendingLogs.push(
          platform.writeTextFile(`${flags.log}/${names[index]}`, log.text(), { mode: 0o600 })
            .catch((e) => {
              writeErr(`cannot write the transcript ${names[index]}: ${(e as Error).message}\n`);
            }),
        );
      }
      done++;
      if (!report.ok) failed++;
      if (flags.ndjson) writeOut(toJson(report) + "\n");
      // Progress only on a terminal (a log or a pipe gets the table at the end).
      if (!flags.quiet && tty) drawProgress(done === total);
    },
  }).finally(interrupt.dispose);
  await Promise.all(pendingLogs);
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
  let policyHosts: { name: string; hosts: PolicyHost[] } | undefined;
  if (flags.policy || flags.drift) {
    const { loadPolicy } = await import("./deep.ts");
    const { driftText, fleetDrift, policyResults } = await import("../doctor/drift.ts");
    const policy = flags.policy ? await loadPolicy(flags.policy) : null;
    const drift = fleetDrift(result.hosts, policy);
    (machine ? writeErr : writeOut)(driftText(drift, policy));
    if (exitCode === 0 && drift.some((d) => d.policyFailures.length)) exitCode = 3;
    if (policy) policyHosts = { name: policy.name, hosts: policyResults(result.hosts, policy) };
  }
  if (flags.junit) {
    const xml = toJunitXml(result, {
      suiteName: `sshtrace check ${input.inventoryPath}`,
      policy: policyHosts,
    });
    try {
      await platform.writeTextFile(flags.junit, xml);
    } catch (e) {
      throw usageError(`cannot write the JUnit file ${flags.junit}: ${(e as Error).message}`);
    }
  }
  return exitCode;
}
