/**
 * Stages that were slow for their kind: thresholds per stage as data, read against the run's
 * timings and trace. Pure functions; no fix text (that is the failure catalogue's, which a
 * successful run does not load).
 * @module
 */

import type { TraceEvent } from "../trace.ts";
import type { Stage } from "../types.ts";

/** A stage that took longer than is normal for its kind. */
export interface SlowStage {
  stage: Stage;
  ms: number;
  /** The limit it went over. */
  thresholdMs: number;
  why: string;
}

/** What the trace tells a slow-stage rule. */
export interface SlowContext {
  /** Bits of the Diffie-Hellman group used, when a finite-field DH method ran. */
  dhBits: number | null;
  /** The negotiated key exchange method. */
  kex: string | null;
  /** Whether a password or keyboard-interactive attempt was made (a person may have typed). */
  prompted: boolean;
}

/** One rule: a stage over `overMs` (and matching `when`) is pointed out with `why`. */
export interface SlowRule {
  stage: Stage;
  overMs: number;
  when?: (ctx: SlowContext) => boolean;
  why: string | ((ctx: SlowContext, ms: number) => string);
}

/** Thresholds per stage, as data; the first matching rule of a stage wins. */
export const SLOW_STAGE_RULES: readonly SlowRule[] = [
  {
    stage: "connect",
    overMs: 1000,
    why: "slow TCP connect: a long or congested path, or a firewall that delays the handshake",
  },
  {
    stage: "version",
    overMs: 1000,
    why: "slow banner: often reverse DNS on the server (it looks up the client's address " +
      "before greeting; OpenSSH `UseDNS no`), or an overloaded server",
  },
  {
    stage: "kex",
    overMs: 2000,
    when: (c) => (c.dhBits ?? 0) >= 4096,
    why: (c) =>
      `slow key exchange: a ${c.dhBits}-bit Diffie-Hellman group is heavy for a small CPU ` +
      "(old switches take seconds); --kex ^curve25519-sha256 or a 2048-bit group is much faster",
  },
  {
    stage: "kex",
    overMs: 2000,
    why: "slow key exchange: the server is slow to compute its side (small CPU) or busy",
  },
  {
    stage: "auth",
    overMs: 3000,
    when: (c) => !c.prompted,
    why: "slow authentication: the server waits on PAM, LDAP, RADIUS or TACACS+, or on a " +
      "reverse DNS lookup (OpenSSH `UseDNS`)",
  },
  {
    stage: "auth",
    overMs: 3000,
    why: "slow authentication (includes any time spent typing at a prompt): otherwise the " +
      "server waits on PAM, LDAP, RADIUS or TACACS+, or on reverse DNS",
  },
  {
    stage: "session",
    overMs: 2000,
    why: "slow session start: the server may run a heavy login profile or mount the home " +
      "directory (NFS)",
  },
];

const NAMED_DH_BITS: Record<string, number> = {
  "diffie-hellman-group1-sha1": 1024,
  "diffie-hellman-group14-sha1": 2048,
  "diffie-hellman-group14-sha256": 2048,
  "diffie-hellman-group16-sha512": 4096,
  "diffie-hellman-group18-sha512": 8192,
};

/** Reads what the rules need from the trace. */
export function slowContext(events: readonly TraceEvent[]): SlowContext {
  let dhBits: number | null = null;
  let kex: string | null = null;
  let prompted = false;
  for (const e of events) {
    if (e.type === "negotiated") {
      kex = e.decisions.find((d) => d.category === "kex")?.chosen ?? kex;
      if (kex && NAMED_DH_BITS[kex]) dhBits = NAMED_DH_BITS[kex]!;
    } else if (e.type === "exchange") {
      const m = /DH group of (\d+) bits|sent an? (\d+)-bit group/.exec(e.detail);
      if (m) dhBits = Number(m[1] ?? m[2]);
    } else if (
      e.type === "attempt" && (e.method === "password" || e.method === "keyboard-interactive")
    ) {
      prompted = true;
    }
  }
  return { dhBits, kex, prompted };
}

/**
 * The stages that were slow for their kind (thresholds in {@link SLOW_STAGE_RULES}), in stage
 * order. `timings` are milliseconds per stage (the tracer's `timings`).
 */
export function slowStages(
  timings: Partial<Record<Stage, number>>,
  events: readonly TraceEvent[] = [],
): SlowStage[] {
  const ctx = slowContext(events ?? []);
  const out: SlowStage[] = [];
  for (const stage of Object.keys(timings ?? {}) as Stage[]) {
    const ms = timings[stage];
    if (typeof ms !== "number" || !Number.isFinite(ms)) continue;
    const rule = SLOW_STAGE_RULES.find((r) =>
      r.stage === stage && ms > r.overMs && (!r.when || r.when(ctx))
    );
    if (!rule) continue;
    out.push({
      stage,
      ms,
      thresholdMs: rule.overMs,
      why: typeof rule.why === "string" ? rule.why : rule.why(ctx, ms),
    });
  }
  const order: Stage[] = ["connect", "version", "kex", "hostkey", "auth", "session", "data"];
  return out.sort((a, b) => order.indexOf(a.stage) - order.indexOf(b.stage));
}
