/**
 * Readers for an error's `details` and the trace, and words shared by several stages' entries.
 * Private to the catalogue folder.
 * @module
 */

import type { ErrorDetails } from "../../errors/mod.ts";
import type { TraceEvent } from "../../trace.ts";
import type { Decision } from "../../types.ts";
import type { FailureContext, Refinement } from "./types.ts";

// ---------------------------------------------------------------------------------------------
// Small readers for `details` (they come from other layers: trust nothing about their shape).

export function str(d: ErrorDetails, key: string): string | null {
  const v = d[key];
  return typeof v === "string" && v !== "" ? v : null;
}

export function num(d: ErrorDetails, key: string): number | null {
  const v = d[key];
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

export function strings(d: ErrorDetails, key: string): string[] {
  const v = d[key];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

export function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function list(names: readonly string[]): string {
  return names.length ? names.join(", ") : "(nothing)";
}

/** The trace's `connect` target, if the trace has one. */
export function targetOf(events: readonly TraceEvent[]): { host: string; port: number } | null {
  for (const e of events) {
    if (e.type === "resolving" || e.type === "connected") return { host: e.host, port: e.port };
  }
  return null;
}

/**
 * Server software that offers file transfer only (SFTP, sometimes SCP), never a shell or
 * commands, by the software field of its version line (ProFTPD's mod_sftp, managed file
 * transfer products, cloud SFTP endpoints).

/** The decisions of the latest `negotiated` event, or []. */
export function negotiatedDecisions(events: readonly TraceEvent[]): Decision[] {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (e.type === "negotiated") return e.decisions;
  }
  return [];
}

/** Whether the trace shows a rekey (the failure then happened after the session was up). */
export function duringRekey(events: readonly TraceEvent[]): boolean {
  return events.some((e) => e.type === "rekey");
}

/** For every command: `--port` is the port flag of all of them (get/put's `-p` preserves). */
export const CHECK_PORT = "--port PORT with the port SSH really listens on (usually 22)";
export const LEGACY_COST =
  "legacy algorithms (SHA-1, CBC, 3DES, MD5) are weaker; enable only the one needed";
export const VERIFY_FIRST = "accepting a host key without verifying it out of band defeats the " +
  "protection against someone intercepting the connection";

/** Messages a flood is made of, as the trace's summaries name them. */
const FLOOD_KINDS: Record<string, string> = {
  debug: "DEBUG",
  ignore: "IGNORE",
  banner: "USERAUTH_BANNER",
  unimplemented: "UNIMPLEMENTED",
};

/**
 * A timeout at a stage the server flooded (thousands of messages the trace summed up): the
 * server was not slow, it sent the wrong thing without end; a longer limit would not help.
 */
export function refineFlood(c: FailureContext): Refinement {
  let count = 0;
  const kinds = new Set<string>();
  for (const e of c.events) {
    if (e.type !== "suppressed" || e.stage !== c.stage || !(e.of in FLOOD_KINDS)) continue;
    count += e.count;
    kinds.add(FLOOD_KINDS[e.of]!);
  }
  if (count < 1000) return {};
  const names = [...kinds].join(" and ");
  return {
    title: `the server flooded stage ${c.stage} with ${names} messages instead of completing it`,
    explanation: `More than ${count} ${names} messages arrived and the stage never completed: ` +
      "a broken server, or something on the path injecting messages (before the key exchange " +
      "they are not encrypted). sshtrace counted them without keeping them and gave up at the " +
      "stage's time limit.",
    fix: "check the server and the network path; a longer --timeout does not help",
    opensshFix: null,
    libraryFix: null,
  };
}
