/**
 * Fleet checks: probe (or log in to) every host of an inventory with a bounded worker pool,
 * each host with its own {@link Tracer}, and sum the verdicts up. One host's failure never
 * affects another: every outcome, even an unexpected bug, becomes that host's report.
 * Never prints; the CLI glue (lib/cli/check.ts) renders.
 * @module
 */

import { concatBytes } from "../wire/buffer.ts";
import { BastionPool } from "./bastions.ts";
import type { AuthOptions } from "../auth/userauth.ts";
import type { ListCategory } from "../algorithms/registry.ts";
import { type Client, connect, probe } from "../client.ts";
import { defaultUser } from "../client/default_user.ts";
import type { StrictMode } from "../hostkeys/policy.ts";
import { buildReport, probeReport, type Report } from "../render/report.ts";
import { openStage, runLifecycle, StopReason, toTraceError } from "../run.ts";
import { loadExplainer } from "../diagnose/explainer.ts";
import { DEVICE_NAMES, type DeviceChoice } from "../send/devices.ts";
import { Tracer } from "../trace.ts";
import { SshError } from "../errors/mod.ts";
import { EXIT_CODES, INTERRUPTED_EXIT_CODE, type Stage, STAGES } from "../types.ts";
import type { InventoryEntry } from "./inventory.ts";
import type { TranscriptSink } from "../send/transcript.ts";
import { hostSecrets } from "./credentials.ts";

/** The output of `--command`, summed up (the full output is not kept). */
export interface CommandSummary {
  command: string;
  /**
   * How it ran: `exec` (a session channel's exec request), or `send` (typed into a pty shell at
   * the prompt, for inventory lines whose `device` is a switch preset or `auto`; no exit status).
   */
  via: "exec" | "send";
  exitStatus: number | null;
  exitSignal: string | null;
  stdoutBytes: number;
  stderrBytes: number;
  /** The first 200 characters of stdout (decoded as UTF-8, control characters kept). */
  stdoutHead: string;
  /** The first 200 characters of stderr. */
  stderrHead: string;
  /** `send`: the line by which the device rejected the command, else null. */
  errorLine: string | null;
}

/** One host's outcome: the report contract plus where it came from. */
export type HostReport = Report & {
  /** 0-based position in the inventory. */
  index: number;
  /** The inventory target as written, and its `file:line`. */
  target: string;
  source: string;
  device: string | null;
  extra: Record<string, string>;
  /** Wall time for this host, milliseconds. */
  ms: number;
  /** Set when `--command` ran (also when it exited non-zero). */
  command: CommandSummary | null;
  /** What `afterLogin` returned (e.g. `check --fetch`: the file copied), else null. */
  fetch?: Record<string, unknown> | null;
};

/** Options of {@link checkFleet}. */
export interface CheckOptions {
  /** Hosts checked at the same time. @default 32 */
  concurrency?: number;
  /** Limit for every network wait of one host, in milliseconds. @default 10000 */
  timeoutMs?: number;
  /**
   * Hard limit for one host's whole check; past it the host's connection is closed, the host
   * fails at the stage it was in with code `<stage>.deadline` and the pool moves on.
   * @default 3 × timeoutMs (+ 5 s with login)
   */
  hostDeadlineMs?: number;
  /** Log in (credentials from `auth`) instead of probing. @default false */
  login?: boolean;
  /**
   * With `login`: run this command; a non-zero exit status fails the host at stage `session`
   * (`session.command-failed`; stage `data` is for broken connections), and so does a command a
   * switch rejects (`session.command-rejected`).
   */
  command?: string;
  /**
   * With `login`: runs on the logged-in client after the command, e.g. a file copy
   * (`check --fetch`); what it returns is the host's `fetch`; a throw fails the host at the
   * error's stage.
   */
  afterLogin?: (client: Client, entry: InventoryEntry) => Promise<Record<string, unknown>>;
  /** With `login`: authentication sources (no prompts: give keys, agent, or a password source). */
  auth?: Omit<AuthOptions, "user" | "probeOnly" | "host">;
  /** Default user for entries without one. @default $USER */
  user?: string;
  /** Default port for entries without one. @default 22 */
  port?: number;
  /** Offer legacy algorithms (an entry's own `legacy` column wins). @default false */
  legacy?: boolean;
  /** Algorithm list edits, as for probe/connect. */
  algorithms?: Partial<Record<ListCategory, string[]>>;
  /** The smallest RSA host key accepted (OpenSSH's RequiredRSASize). @default 1024 */
  requiredRsaSize?: number;
  /** known_hosts files (probe: status only; login: enforced). */
  knownHostsFiles?: string[];
  /** With `login`: host key policy (`ask` is not possible in a fleet check). @default "yes" */
  strictHostKeyChecking?: Exclude<StrictMode, "ask">;
  /**
   * With `command`: a transcript for host `index` (what was typed and printed; see
   * lib/send/transcript.ts), or undefined for none. The caller writes it, e.g. in `onResult`.
   */
  transcript?: (index: number) => TranscriptSink | undefined;
  /** Called as each host completes (in completion order), e.g. for progress and NDJSON. */
  onResult?: (index: number, report: HostReport) => void;
  /** Called when a host starts. */
  onStart?: (index: number, entry: InventoryEntry) => void;
  /**
   * Jump hosts (ProxyJump syntax) for every entry without its own `jump` column; each distinct
   * chain is connected once (authenticated with `auth`, host keys checked against
   * `knownHostsFiles`) and reused by every host behind it.
   */
  jump?: string;
  /** Cancels the check: hosts under way fail with `<stage>.aborted`, the rest with `connect.aborted`. */
  signal?: AbortSignal;
}

/** Hosts that presented the same host key. */
export interface SharedHostKey {
  fingerprint: string;
  /** Distinct `host:port` labels, in inventory order. */
  hosts: string[];
  /** 0-based inventory positions of every entry with this key. */
  entries: number[];
}

export interface CheckSummary {
  total: number;
  passed: number;
  failed: number;
  /** Failed hosts per failing stage (every stage listed, zero when none). */
  byStage: Record<Stage | "usage", number>;
}

export interface CheckResult {
  ok: boolean;
  exitCode: number;
  summary: CheckSummary;
  /** One report per inventory entry, in inventory order. */
  hosts: HostReport[];
  sharedHostKeys: SharedHostKey[];
  /** Wall time of the whole check, milliseconds. */
  ms: number;
}

const decoder = new TextDecoder();

/**
 * The `send` device for an inventory `device` value naming a switch (comware, huawei, cisco,
 * junos, or auto), else null: such hosts often refuse exec, so `--command` goes through a shell.
 */
export function sendDeviceFor(device: string | null): DeviceChoice | null {
  const name = device?.trim().toLowerCase() ?? "";
  if (name === "auto") return "auto";
  return name !== "linux" && (DEVICE_NAMES as readonly string[]).includes(name)
    ? name as DeviceChoice
    : null;
}

/** What `check --login --command` keeps of each exec output: its head, and the transcript's. */
const KEPT_OUTPUT = 1024 * 1024;

function head(bytes: Uint8Array): string {
  return decoder.decode(bytes.subarray(0, 800)).slice(0, 200);
}

/**
 * The fleet's exit code: 0 when every host passed; when all failed hosts failed at one stage,
 * that stage's code (10 connect … 16 data); when they failed at different stages, the code of
 * the earliest stage any host failed at (so it does not depend on inventory order); 130 when
 * the check was interrupted (Ctrl-C).
 */
export function fleetExitCode(
  reports: (Pick<Report, "ok" | "failedStage"> & { error?: Report["error"] })[],
): number {
  let best: number | null = null;
  for (const r of reports) {
    if (r.ok) continue;
    if (r.error?.code.endsWith(".interrupted")) return INTERRUPTED_EXIT_CODE;
    const code = EXIT_CODES[r.failedStage ?? "data"];
    if (best === null || code < best) best = code;
  }
  return best ?? 0;
}

/** Groups hosts by host key fingerprint; keeps keys seen on at least two distinct host:port. */
export function findSharedHostKeys(hosts: HostReport[]): SharedHostKey[] {
  const byKey = new Map<string, { labels: string[]; entries: number[] }>();
  for (const h of hosts) {
    const fp = h.hostKey?.fingerprint;
    if (!fp) continue;
    const label = `${h.server.host}:${h.server.port}`;
    const group = byKey.get(fp) ?? { labels: [], entries: [] };
    if (!group.labels.includes(label)) group.labels.push(label);
    group.entries.push(h.index);
    byKey.set(fp, group);
  }
  return [...byKey.entries()]
    .filter(([, g]) => g.labels.length >= 2)
    .map(([fingerprint, g]) => ({ fingerprint, hosts: g.labels, entries: g.entries }));
}

function emptyByStage(): Record<Stage | "usage", number> {
  const out = { usage: 0 } as Record<Stage | "usage", number>;
  for (const s of STAGES) out[s] = 0;
  return out;
}

interface HostContext {
  /** The jump chains of the check (when any entry goes through one). */
  bastions?: BastionPool;
  entry: InventoryEntry;
  index: number;
  options: CheckOptions;
  tracer: Tracer;
  /** Aborts at the host's deadline (or when the whole check is cancelled). */
  signal: AbortSignal;
}

/** What probe and login share for one host: the target, the trace and the algorithm policy. */
function baseOptions(ctx: HostContext, host: string, port: number, user: string) {
  const { entry, options, tracer, signal } = ctx;
  const jump = entry.jump ?? options.jump;
  const via = jump && jump.toLowerCase() !== "none" ? ctx.bastions : undefined;
  // The host's own ssh_config (connection options, not credentials or the host key policy).
  const { signers: _s, methods: _m, strictHostKeyChecking: _k, ...own } = entry.overrides ?? {};
  return {
    timeoutMs: options.timeoutMs ?? 10_000,
    algorithms: entry.algorithms ?? options.algorithms,
    requiredRsaSize: options.requiredRsaSize,
    knownHostsFiles: options.knownHostsFiles,
    ...own,
    ...(via ? { tunnel: via.tunnel(jump!, host, port) } : {}),
    host,
    port,
    user,
    tracer,
    signal,
    legacy: entry.legacy ?? options.legacy ?? false,
  };
}

async function loginHost(ctx: HostContext, host: string, port: number, user: string) {
  const { options, tracer, entry } = ctx;
  let command: CommandSummary | null = null;
  let fetch: Record<string, unknown> | null = null;
  const outcome = await runLifecycle({ tracer, signal: ctx.signal, grade: true }, async (run) => {
    const base = baseOptions(ctx, host, port, user);
    // The inventory line's own credentials win over the fleet's.
    const own = await hostSecrets(entry.credentials);
    const mine = entry.overrides ?? {};
    const client = await connect({
      ...base,
      signal: run.signal,
      strictHostKeyChecking: mine.strictHostKeyChecking ?? options.strictHostKeyChecking ??
        "yes",
      auth: {
        batchMode: true,
        ...options.auth,
        ...(mine.signers ? { signers: mine.signers } : {}),
        ...(mine.methods ? { methods: mine.methods } : {}),
        ...(own.password ? { password: own.password } : {}),
        ...(own.signers ? { signers: own.signers } : {}),
        legacy: base.legacy,
      },
    });
    run.closeOnStop(() => client.transport.close());
    const device = sendDeviceFor(entry.device);
    const commands = entry.commands ??
      (options.command !== undefined ? [options.command] : null);
    const transcript = commands ? options.transcript?.(ctx.index) : undefined;
    let failure: SshError | null = null;
    if (commands && device !== null) {
      const timeoutMs = options.timeoutMs ?? 10_000;
      const { runShellOnClient } = await import("../send/over_ssh.ts");
      const outputs: Uint8Array[] = [];
      let errorLine: string | null = null;
      const summarize = (): CommandSummary => {
        const all = concatBytes(...outputs);
        return {
          command: commands.join("; "),
          via: "send",
          exitStatus: null,
          exitSignal: null,
          stdoutBytes: all.length,
          stderrBytes: 0,
          stdoutHead: head(all),
          stderrHead: "",
          errorLine,
        };
      };
      // The summary is kept from onCommand: a rejected command fails the run, output kept.
      await runShellOnClient(client, {
        commands,
        device,
        promptTimeoutMs: timeoutMs,
        commandTimeoutMs: timeoutMs,
        transcript,
        enable: own.enableSecret !== undefined,
        enableLevel: entry.enableLevel ?? undefined,
        enableSecret: own.enableSecret,
        onCommand: (c) => {
          outputs.push(c.bytes);
          errorLine ??= c.errorLine;
          command = summarize();
        },
      }).catch((e) => {
        if (e instanceof SshError && e.code === "session.command-rejected") failure = e;
        else throw e;
      });
    } else if (commands) {
      const line = commands.join("; ");
      transcript?.sent(new TextEncoder().encode(`exec ${line}\n`), false);
      // Only a head is reported: the rest of what a host prints is counted, not kept.
      const { stdout, stderr, stdoutBytes, stderrBytes, exit } = await client.exec(line, {
        keepBytes: KEPT_OUTPUT,
      });
      transcript?.received(stdout);
      transcript?.received(stderr);
      command = {
        command: line,
        via: "exec",
        exitStatus: exit.status,
        exitSignal: exit.signal?.name ?? null,
        stdoutBytes,
        stderrBytes,
        stdoutHead: head(stdout),
        stderrHead: head(stderr),
        errorLine: null,
      };
      if (exit.status !== 0) {
        const how = exit.signal
          ? `was killed by signal ${exit.signal.name}`
          : `exited with status ${exit.status}`;
        failure = new SshError("session", "session.command-failed", `the command ${how}`, {
          exitStatus: exit.status,
          exitSignal: exit.signal?.name ?? null,
        });
      }
    }
    if (options.afterLogin && failure === null) fetch = await options.afterLogin(client, entry);
    await client.close();
    if (failure) throw failure;
  });
  return { report: outcome.report({ host, port, user }), command, fetch };
}

type Outcome = {
  report: Report;
  command: CommandSummary | null;
  fetch?: Record<string, unknown> | null;
};

async function checkHost(ctx: HostContext): Promise<Outcome> {
  const { entry, options } = ctx;
  const host = entry.connectHost ?? entry.host;
  const port = entry.port ?? options.port ?? 22;
  const user = entry.user ?? options.user ?? defaultUser();
  if (options.login) return await loginHost(ctx, host, port, user);
  const report = probeReport(await probe(baseOptions(ctx, host, port, user)));
  return { report, command: null };
}

/**
 * Runs one host with a hard deadline that closes its connection and fails it at the stage it
 * was in; anything thrown becomes that host's failed report.
 */
async function runHost(
  ctx: Omit<HostContext, "signal">,
  fleetSignal: AbortSignal | undefined,
): Promise<HostReport> {
  const { entry, index, options, tracer } = ctx;
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadlineMs = options.hostDeadlineMs ??
    (3 * timeoutMs + (options.login ? 5000 : 0));
  const port = entry.port ?? options.port ?? 22;
  const user = entry.user ?? options.user ?? defaultUser();
  const deadline = new AbortController();
  const timer = setTimeout(() => {
    deadline.abort(
      new StopReason(
        "deadline",
        `the check of this host did not finish within ${deadlineMs / 1000} s`,
        { deadlineMs },
      ),
    );
  }, deadlineMs);
  const signal = fleetSignal ? AbortSignal.any([fleetSignal, deadline.signal]) : deadline.signal;
  let outcome: Outcome;
  try {
    outcome = await checkHost({ ...ctx, signal });
  } catch (e) {
    const error = toTraceError(e, openStage(tracer));
    await loadExplainer();
    outcome = {
      report: buildReport(tracer.events, {
        host: entry.host,
        port,
        user,
        error,
        timings: tracer.timings,
      }),
      command: null,
    };
  } finally {
    clearTimeout(timer);
  }
  const report: HostReport = {
    ...outcome.report,
    index,
    target: entry.target,
    source: entry.source,
    device: entry.device,
    extra: entry.extra,
    ms: Math.round(performance.now() - started),
    command: outcome.command,
    fetch: outcome.fetch ?? null,
  };
  return report;
}

/**
 * Checks every inventory entry: by default a probe (connect, version, key exchange, host key
 * status, offered auth methods); with `login` a full login and, with `command`, an exec.
 * Reports come back in inventory order; `onResult` sees each as it completes.
 *
 * @example
 * ```ts
 * import { checkFleet } from "./lib/check/check.ts";
 * import { readInventory } from "./lib/check/inventory.ts";
 * const result = await checkFleet(await readInventory("switches.csv"), { timeoutMs: 5000 });
 * for (const h of result.hosts) console.log(h.target, h.ok ? "ok" : h.failedStage);
 * ```
 */
export async function checkFleet(
  entries: InventoryEntry[],
  options: CheckOptions = {},
): Promise<CheckResult> {
  const started = performance.now();
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 32));
  const hosts: HostReport[] = new Array(entries.length);
  const bastions = options.jump || entries.some((e) => e.jump)
    ? new BastionPool({
      timeoutMs: options.timeoutMs,
      algorithms: options.algorithms,
      legacy: options.legacy,
      requiredRsaSize: options.requiredRsaSize,
      knownHostsFiles: options.knownHostsFiles,
      strictHostKeyChecking: options.strictHostKeyChecking ?? "yes",
      auth: { batchMode: true, ...options.auth },
    }, options.user ?? defaultUser())
    : undefined;
  let next = 0;
  const worker = async () => {
    while (next < entries.length) {
      const index = next++;
      const entry = entries[index]!;
      options.onStart?.(index, entry);
      const report = await runHost(
        { entry, index, options, tracer: new Tracer(), bastions },
        options.signal,
      );
      hosts[index] = report;
      try {
        options.onResult?.(index, report);
      } catch {
        // a failing callback must not stop the fleet
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, entries.length) }, worker));
  } finally {
    await bastions?.close();
  }
  const byStage = emptyByStage();
  let passed = 0;
  for (const h of hosts) {
    if (h.ok) passed++;
    else byStage[h.failedStage ?? "data"]++;
  }
  const exitCode = fleetExitCode(hosts);
  return {
    ok: exitCode === 0,
    exitCode,
    summary: { total: hosts.length, passed, failed: hosts.length - passed, byStage },
    hosts,
    sharedHostKeys: findSharedHostKeys(hosts),
    ms: Math.round(performance.now() - started),
  };
}
