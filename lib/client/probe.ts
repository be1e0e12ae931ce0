/**
 * `probe()`: a server's version, key exchange, host key status and offered authentication
 * methods, without credentials. Its own module so the probe command loads no connection-layer,
 * forwarding, jump-host or SFTP code. Emits trace events through the caller's tracer; never prints.
 * @module
 */

import { authenticate, type AuthResult } from "../auth/userauth.ts";
import { requestService } from "../auth/service.ts";
import type { SshError } from "../errors/mod.ts";
import type { Stage } from "../types.ts";
import { runLifecycle } from "../run.ts";
import { type TraceEvent, Tracer } from "../trace.ts";
import type { ServerVersion } from "../transport/version.ts";
import type { Transport } from "../transport/transport.ts";
import { type ClientOptions, defaultUser, openTransport } from "./open_transport.ts";
import type { ConnectOptions } from "../client.ts";
import type { JumpChain } from "../jump/chain.ts";

/** Options of {@link probe}: a device behind jump hosts is probed through them. */
export type ProbeOptions =
  & Omit<ClientOptions, "strictHostKeyChecking" | "ask">
  & Pick<ConnectOptions, "jump" | "onHop">;

/**
 * What a probe found. Parts the probe did not reach are null; the trace holds the rest (every
 * negotiation decision, the host key and its status). `probeReport()` (lib/render/report.ts)
 * turns it into the JSON report.
 */
export interface ProbeResult {
  ok: boolean;
  /** The staged failure (also the trace's `error` event), or null. */
  error: SshError | null;
  target: { host: string; port: number; user: string };
  /** The server's version line, parsed. */
  serverVersion: ServerVersion | null;
  /** The answer to the `none` request: the methods offered, the banner. */
  auth: AuthResult | null;
  /** Milliseconds per stage. */
  timings: Partial<Record<Stage, number>>;
  /** The trace of the probe, diagnosis events (grade, slow stages) included. */
  events: readonly TraceEvent[];
}

/**
 * Probes a server without credentials: connect, version, key exchange, host key status (never
 * written), then the `none` authentication request to learn the offered methods and banner.
 * Never throws: a failure is the result's `error`.
 *
 * @example
 * ```ts
 * const result = await probe({ host: "127.0.0.1", port: 2222, signal: AbortSignal.timeout(5000) });
 * console.log(result.serverVersion?.software, result.auth?.methods);
 * ```
 */
export async function probe(options: ProbeOptions): Promise<ProbeResult> {
  const tracer = options.tracer ?? new Tracer();
  const user = options.user ?? defaultUser();
  let transport: Transport | null = null;
  let chain: JumpChain | null = null;
  const outcome = await runLifecycle(
    { tracer, signal: options.signal, grade: true },
    async (run) => {
      // A device behind jump hosts: each hop logs in (as for connect); the probe goes through.
      // Their modules load only then.
      if (options.jump?.length) {
        const { openJumpChain } = await import("../jump/chain.ts");
        const { connect } = await import("../client.ts");
        const opened = await openJumpChain({ ...options, tracer }, connect, defaultUser());
        chain = opened;
        run.closeOnStop(() => void opened.close());
      }
      transport = await openTransport({
        ...options,
        tracer,
        strictHostKeyChecking: "report",
        ...(chain ? { tunnel: (chain as JumpChain).tunnel } : {}),
      });
      const t = transport;
      run.closeOnStop(() => t.close());
      const span = tracer.span("auth");
      await requestService(t);
      const auth = await authenticate(t, {
        user,
        probeOnly: true,
        host: options.host,
        timeoutMs: options.timeoutMs ?? 10_000,
      });
      span.end();
      await t.disconnect(11, "probe finished");
      return auth;
    },
  ).finally(() => (chain as JumpChain | null)?.close());
  return {
    ok: outcome.error === null,
    error: outcome.error,
    target: { host: options.host, port: options.port ?? 22, user },
    serverVersion: (transport as Transport | null)?.serverVersion ?? null,
    auth: outcome.value ?? null,
    timings: tracer.timings,
    events: tracer.events,
  };
}
