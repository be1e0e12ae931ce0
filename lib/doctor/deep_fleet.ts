/**
 * A deep probe of every host of an inventory (`check --deep`): at most `concurrency` hosts at
 * once, each a {@link deepProbe}; rows that name the same server (host and port) share one
 * PerSourcePenalties pacer, so a fleet run does not get its own address blocked. Never throws
 * for a host's failure; never prints.
 * @module
 */

import type { ListCategory } from "../algorithms/registry.ts";
import { deepProbe, type DeepProbeOptions, type DeepProbeResult } from "./deep.ts";
import { PenaltyPacer } from "./penalty.ts";

/** One inventory row as the deep probe needs it. */
export interface DeepFleetEntry {
  /** The row as written (`[user@]host[:port]`). */
  target: string;
  /** Where it came from (`file:line`). */
  source: string;
  host: string;
  port: number;
  user?: string;
  legacy?: boolean;
  algorithms?: Partial<Record<ListCategory, string[]>>;
}

/** One host's deep probe, in inventory order. */
export interface DeepFleetHost {
  index: number;
  target: string;
  source: string;
  result: DeepProbeResult;
}

export interface DeepFleetOptions
  extends Omit<DeepProbeOptions, "host" | "port" | "user" | "pacer" | "tracer"> {
  /** Hosts probed at once. @default 8 */
  concurrency?: number;
  /** Called as each host completes (progress). */
  onResult?: (host: DeepFleetHost) => void;
}

export interface DeepFleetResult {
  hosts: DeepFleetHost[];
  /** Wall time of the whole run. */
  ms: number;
  /** Connections made, all hosts together. */
  connections: number;
}

/** Deep-probes every entry, `concurrency` at a time. */
export async function deepFleet(
  entries: readonly DeepFleetEntry[],
  options: DeepFleetOptions = {},
): Promise<DeepFleetResult> {
  const started = performance.now();
  const { concurrency: wanted, onResult, ...probeOptions } = options;
  const concurrency = Math.max(1, Math.floor(wanted ?? 8));
  const pacers = new Map<string, PenaltyPacer>();
  const pacerFor = (host: string, port: number) => {
    const key = `${host}:${port}`;
    let p = pacers.get(key);
    if (!p) {
      p = new PenaltyPacer({ budgetS: options.penaltyBudgetS, sleep: options.sleep });
      pacers.set(key, p);
    }
    return p;
  };
  const hosts: DeepFleetHost[] = new Array(entries.length);
  let next = 0;
  const worker = async () => {
    while (next < entries.length && !options.signal?.aborted) {
      const index = next++;
      const e = entries[index]!;
      const result = await deepProbe({
        ...probeOptions,
        host: e.host,
        port: e.port,
        user: e.user,
        legacy: e.legacy ?? probeOptions.legacy,
        algorithms: e.algorithms ?? probeOptions.algorithms,
        pacer: pacerFor(e.host, e.port),
      });
      const host = { index, target: e.target, source: e.source, result };
      hosts[index] = host;
      onResult?.(host);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, entries.length) }, worker));
  const done = hosts.filter((h) => h !== undefined);
  return {
    hosts: done,
    ms: Math.round(performance.now() - started),
    connections: done.reduce((n, h) => n + h.result.connections, 0),
  };
}
