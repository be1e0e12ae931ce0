/**
 * Builds the machine-readable report (`--json`) from the trace events of one run. The field
 * names are a contract: they may be extended, never renamed or removed. Anything the run did not
 * reach is null.
 * @module
 */

import { explainLoaded } from "../diagnose/explainer.ts";
import { isAeadCipher } from "../algorithms/names.ts";
import type { AttemptResult } from "../auth/userauth.ts";
import type { SshError } from "../errors/mod.ts";
import type { TraceEvent } from "../trace.ts";
import type { AlgorithmLists, Category, Decision, HostKeyStatus, Stage } from "../types.ts";

/** A value per direction (client to server, server to client). */
export interface Directional {
  c2s: string | null;
  s2c: string | null;
}

export interface Report {
  ok: boolean;
  exitCode: number;
  failedStage: Stage | "usage" | null;
  error: {
    stage: Stage | "usage";
    code: string;
    message: string;
    /**
     * One-line cause, plain explanation and the fix for each audience: sshtrace flags, OpenSSH
     * option, library options (`ConnectOptions` as an object literal).
     */
    title: string;
    explanation: string;
    fix: string | null;
    opensshFix: string | null;
    /**
     * The OpenSSH fix as ssh_config lines under the Host block that matched (file:line), when
     * the run read a configuration and the fix is an option change.
     */
    configFix?: string;
    libraryFix: string | null;
    /** What the fix costs in security, when it weakens crypto. */
    securityCost: string | null;
    /** The named cause the failure's pattern shows (`mtu-stall`...), when one does. */
    cause?: string;
    /** What the trace showed for that cause. */
    evidence?: string[];
  } | null;
  /** Security grade of the server's offer (probe), or null. */
  grade: {
    letter: string;
    score: number;
    reasons: { deduction: number; reason: string; algorithms: string[] }[];
    /** What the grade could not check (the host key's size...): empty when complete. */
    partial: string[];
  } | null;
  /** Stages that were slow for their kind, with the likely reason. */
  slow: { stage: Stage; ms: number; why: string }[];
  /**
   * How ssh_config was read (stage `config`), or null when the run read none (a library call):
   * the files read, the Host/Match lines evaluated, each value not at its default with its
   * origin (`-o ...`, a flag, `file:line`), and the warnings.
   */
  config: {
    files: { path: string; found: boolean; pass: string; includedFrom: string | null }[];
    blocks: { at: string; kind: string; criteria: string; matched: boolean; pass: string }[];
    values: { keyword: string; value: string; origin: string }[];
    warnings: { at: string; keyword: string; problem: string }[];
  } | null;
  server: {
    host: string;
    port: number;
    versionLine: string | null;
    protocol: string | null;
    software: string | null;
    preVersionLines: string[] | null;
    /** Ids of the server quirks that applied (see docs/quirks.md). */
    quirks: string[];
  };
  kex: {
    algorithm: string | null;
    hostKeyAlgorithm: string | null;
    cipher: Directional;
    /** `"<implicit>"` for a direction whose cipher is AEAD. */
    mac: Directional;
    compression: Directional;
    strict: boolean | null;
    client: AlgorithmLists | null;
    server: AlgorithmLists | null;
    legacy: { category: Category; algorithm: string; risk: string }[];
    /** Which library does the packet crypto: `openssl` (libcrypto via FFI) or `node`. */
    cryptoBackend: { name: "openssl" | "node"; detail: string } | null;
    /** Which implementation computed a hybrid kex's post-quantum KEM: `wasm` (liboqs) or `js`. */
    kemBackend: { algorithm: string; name: "wasm" | "js"; detail: string } | null;
  } | null;
  hostKey: {
    type: string | null;
    fingerprint: string | null;
    md5: string | null;
    status: HostKeyStatus | null;
    bits: number | null;
    file: string | null;
    line: number | null;
  } | null;
  auth: {
    user: string | null;
    /** The methods the server said can continue (its latest USERAUTH_FAILURE). */
    methods: string[] | null;
    banner: string | null;
    attempts: { method: string; detail: string; result: AttemptResult }[];
    success: boolean;
  } | null;
  timings: Partial<Record<Stage, number>>;
  /**
   * Time per channel and stage (`session#0`, `data#1`), when a run used channels: two
   * concurrent commands on one connection each keep their own.
   */
  channelTimings?: Record<string, number>;
}

export interface ReportContext {
  host: string;
  port: number;
  user?: string;
  error: SshError | null;
  timings: Partial<Record<Stage, number>>;
  /** The tracer's per-channel timings ({@link Report.channelTimings}). */
  channelTimings?: Record<string, number>;
  /** Overrides the exit code (default: the error's, or 0). */
  exitCode?: number;
}

/** The MAC shown for a direction whose cipher authenticates by itself. */
export const IMPLICIT_MAC = "<implicit>";

export { isAeadCipher };

type EventOf<T extends TraceEvent["type"]> = Extract<TraceEvent, { type: T }>;

function first<T extends TraceEvent["type"]>(
  events: readonly TraceEvent[],
  type: T,
): EventOf<T> | null {
  return (events.find((e) => e.type === type) as EventOf<T> | undefined) ?? null;
}

/**
 * The report of a probe (`probe()`'s result, lib/client.ts): what `sshtrace probe --json`
 * prints.
 */
export function probeReport(result: {
  error: SshError | null;
  target: { host: string; port: number; user: string };
  timings: Partial<Record<Stage, number>>;
  events: readonly TraceEvent[];
}): Report {
  return buildReport(result.events, {
    ...result.target,
    error: result.error,
    timings: result.timings,
  });
}

/** Builds the report for one run from its events and outcome. */
export function buildReport(events: readonly TraceEvent[], context: ReportContext): Report {
  const { error } = context;
  const reached = (stage: Stage) => events.some((e) => e.stage === stage);
  return {
    ok: error === null,
    exitCode: context.exitCode ?? error?.exitCode ?? 0,
    failedStage: error?.stage ?? null,
    error: error ? errorPart(error, events) : null,
    grade: gradePart(events),
    slow: events.filter((e): e is EventOf<"slow"> => e.type === "slow").map((e) => ({
      stage: e.stage,
      ms: e.ms,
      why: e.why,
    })),
    config: reached("config") ? configPart(events) : null,
    server: serverPart(events, context, reached("version")),
    kex: reached("kex") ? kexPart(events) : null,
    hostKey: reached("hostkey") ? hostKeyPart(events) : null,
    auth: reached("auth") ? authPart(events, context.user ?? null) : null,
    timings: { ...context.timings },
    ...(context.channelTimings && Object.keys(context.channelTimings).length
      ? { channelTimings: { ...context.channelTimings } }
      : {}),
  };
}

function errorPart(
  error: SshError,
  events: readonly TraceEvent[],
): NonNullable<Report["error"]> {
  const x = explainLoaded(error, events);
  return {
    stage: error.stage,
    code: error.code,
    message: error.message,
    title: x.title,
    explanation: x.explanation,
    fix: x.fix,
    opensshFix: x.opensshFix,
    ...(x.configFix ? { configFix: x.configFix } : {}),
    libraryFix: x.libraryFix,
    securityCost: x.securityCost,
    ...(x.cause ? { cause: x.cause, evidence: x.evidence } : {}),
  };
}

function configPart(events: readonly TraceEvent[]): NonNullable<Report["config"]> {
  const of = <T extends "file" | "block" | "value" | "warning">(type: T) =>
    events.filter((e): e is EventOf<T> => e.stage === "config" && e.type === type);
  return {
    files: of("file").map((e) => ({
      path: e.path,
      found: e.found,
      pass: e.pass,
      includedFrom: e.includedFrom ? `${e.includedFrom.file}:${e.includedFrom.line}` : null,
    })),
    blocks: of("block").map((e) => ({
      at: `${e.file}:${e.line}`,
      kind: e.kind,
      criteria: e.criteria,
      matched: e.matched,
      pass: e.pass,
    })),
    values: of("value").map((e) => ({ keyword: e.keyword, value: e.value, origin: e.origin })),
    warnings: of("warning").map((e) => ({
      at: `${e.file}:${e.line}`,
      keyword: e.keyword,
      problem: e.problem,
    })),
  };
}

function gradePart(events: readonly TraceEvent[]): Report["grade"] {
  const g = first(events, "grade");
  return g
    ? { letter: g.letter, score: g.score, reasons: g.reasons, partial: g.partial ?? [] }
    : null;
}

function serverPart(events: readonly TraceEvent[], context: ReportContext, reached: boolean) {
  const received = first(events, "received");
  return {
    host: context.host,
    port: context.port,
    versionLine: received?.line ?? null,
    protocol: received?.protocol ?? null,
    software: received?.software ?? null,
    preVersionLines: reached
      ? events.filter((e): e is EventOf<"pre-version-line"> => e.type === "pre-version-line")
        .map((e) => e.line)
      : null,
    quirks: events.filter((e): e is EventOf<"quirk"> => e.type === "quirk").map((e) => e.id),
  };
}

function kexPart(events: readonly TraceEvent[]): NonNullable<Report["kex"]> {
  const negotiated = first(events, "negotiated");
  const decisions = new Map<Category, Decision>();
  for (const d of negotiated?.decisions ?? []) decisions.set(d.category, d);
  const chosen = (c: Category) => decisions.get(c)?.chosen ?? null;
  const cipher = { c2s: chosen("cipherC2S"), s2c: chosen("cipherS2C") };
  const mac = {
    c2s: isAeadCipher(cipher.c2s) ? IMPLICIT_MAC : chosen("macC2S"),
    s2c: isAeadCipher(cipher.s2c) ? IMPLICIT_MAC : chosen("macS2C"),
  };
  const legacy: NonNullable<Report["kex"]>["legacy"] = [];
  for (const d of decisions.values()) {
    if (d.chosen !== null && d.legacyRisk) {
      legacy.push({ category: d.category, algorithm: d.chosen, risk: d.legacyRisk });
    }
  }
  return {
    algorithm: chosen("kex"),
    hostKeyAlgorithm: chosen("hostKey"),
    cipher,
    mac,
    compression: { c2s: chosen("compressionC2S"), s2c: chosen("compressionS2C") },
    strict: negotiated?.strict ?? null,
    client: first(events, "kexinit-sent")?.lists ?? null,
    server: first(events, "kexinit-received")?.lists ?? null,
    legacy,
    cryptoBackend: ((b) => b ? { name: b.backend, detail: b.detail } : null)(
      first(events, "crypto-backend"),
    ),
    kemBackend: ((b) => b ? { algorithm: b.algorithm, name: b.backend, detail: b.detail } : null)(
      first(events, "kem-backend"),
    ),
  };
}

function hostKeyPart(events: readonly TraceEvent[]): NonNullable<Report["hostKey"]> {
  const key = first(events, "key");
  const status = first(events, "status");
  return {
    type: key?.keyType ?? null,
    fingerprint: key?.fingerprint ?? null,
    md5: key?.md5 ?? null,
    status: status?.status ?? null,
    bits: key?.bits ?? null,
    file: status?.file ?? null,
    line: status?.line ?? null,
  };
}

function authPart(events: readonly TraceEvent[], user: string | null): NonNullable<Report["auth"]> {
  const attempts: NonNullable<Report["auth"]>["attempts"] = [];
  let methods: string[] | null = null;
  const banners: string[] = [];
  let success = false;
  // The latest attempt of `method` still waiting for its answer.
  const pending = (method: string) => {
    for (let i = attempts.length - 1; i >= 0; i--) {
      if (attempts[i].method === method && attempts[i].result === "no reply") return attempts[i];
    }
    return null;
  };
  for (const e of events) {
    if (e.stage !== "auth") continue;
    switch (e.type) {
      case "attempt":
        attempts.push({ method: e.method, detail: e.detail, result: "no reply" });
        break;
      case "failure": {
        methods = [...e.canContinue];
        const a = pending(e.method);
        if (a) a.result = e.partialSuccess ? "partial" : "failure";
        break;
      }
      case "success": {
        success = true;
        const a = pending(e.method);
        if (a) a.result = "success";
        break;
      }
      case "banner":
        banners.push(e.text);
        break;
    }
  }
  return {
    user,
    methods,
    banner: banners.length ? banners.join("") : null,
    attempts,
    success,
  };
}
