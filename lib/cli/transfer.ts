/**
 * `sshtrace get [user@]host:REMOTE [LOCAL]` and `sshtrace put LOCAL [user@]host:REMOTE`: log in
 * as for `connect` (every connection flag), then copy over SFTP or SCP (lib/transfer/copy.ts).
 * Progress on a terminal (a bar with rate and ETA; plain lines every 5 s otherwise; none with
 * -q), Ctrl-C stops the copy leaving nothing under the final name (exit 130).
 * @module
 */

import { usageError } from "../config/options.ts";
import { connectDirectEarly } from "../client/early_connect.ts";
import { platform } from "../platform/mod.ts";
import type { CopyReport, ProtocolChoice } from "../transfer/copy.ts";
import { type ConnectFlags, prepareRun } from "./connect.ts";
import { env, writeErr } from "./output.ts";
import { sanitize } from "../render/sanitize.ts";
import type { Settings } from "../config/options.ts";
import { sessionEnvironment } from "../sshconfig/apply.ts";
import type { SshConfig } from "../sshconfig/resolve.ts";

export interface TransferFlags extends ConnectFlags {
  recursive?: true;
  preserve?: true;
  protocol: string;
  verify?: true;
  resume?: true;
  fsync?: true;
}

export interface RunTransferInput {
  direction: "get" | "put";
  /** `[user@]host:REMOTE` as typed. */
  remoteSpec: string;
  local: string;
  flags: TransferFlags;
  settings: Settings;
  timeoutMs: number;
  /**
   * The ssh_config the settings came from: traced as stage `config`; what sshtrace does not do
   * stops the copy before anything is sent, but what scp and sftp override (`copyConfig`).
   */
  config?: SshConfig;
}

const PROTOCOLS: readonly string[] = ["auto", "sftp", "scp"];

/** Splits `[user@]host:PATH` (`[v6]:PATH` for IPv6) into the login target and the path. */
export function parseRemoteSpec(spec: string): { target: string; path: string } {
  let colon: number;
  if (/^([^@]*@)?\[/.test(spec)) {
    const close = spec.indexOf("]");
    colon = close >= 0 && spec[close + 1] === ":" ? close + 1 : -1;
  } else {
    colon = spec.indexOf(":");
  }
  if (colon <= 0) {
    throw usageError(`"${spec}" is not a remote file: expected [user@]host:PATH`, {
      expected: "[user@]host:PATH",
    });
  }
  return { target: spec.slice(0, colon), path: spec.slice(colon + 1) };
}

function formatBytes(n: number): string {
  if (n < 1024) return `${Math.round(n)} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** A progress reporter for stderr: a bar on a terminal, a line every 5 s otherwise. */
export function progress(
  quiet: boolean,
  write: (text: string) => void = writeErr,
): (done: number, total: number | null, path: string) => void {
  if (quiet) return () => {};
  const tty = platform.stderr.isTerminal();
  const start = performance.now();
  let last = 0;
  let lastPath = "";
  return (done, total, path) => {
    const now = performance.now();
    const finished = total !== null && done >= total;
    if (path !== lastPath) lastPath = path;
    else if (now - last < (tty ? 200 : 5000) && !finished) return;
    last = now;
    const secs = Math.max((now - start) / 1000, 1e-3);
    const rate = done / secs;
    const pct = total ? Math.floor((done / total) * 100) : null;
    const eta = total && rate > 0 ? Math.max(0, (total - done) / rate) : null;
    const etaText = eta === null
      ? ""
      : ` ETA ${Math.floor(eta / 60)}:${String(Math.round(eta % 60)).padStart(2, "0")}`;
    // A recursive download's names come from the server: no terminal control reaches stderr.
    const shown = sanitize(path);
    const name = shown.length > 30 ? `…${shown.slice(-29)}` : shown;
    if (tty) {
      const width = 20;
      const filled = pct === null ? 0 : Math.round((pct / 100) * width);
      const bar = "#".repeat(filled) + "-".repeat(width - filled);
      write(
        `\r${name} [${bar}] ${pct ?? "?"}% ${formatBytes(done)} ${
          formatBytes(rate)
        }/s${etaText}\x1b[K` +
          (finished ? "\n" : ""),
      );
    } else {
      write(
        `${name}: ${formatBytes(done)}${total ? ` of ${formatBytes(total)} (${pct}%)` : ""}, ` +
          `${formatBytes(rate)}/s${etaText}\n`,
      );
    }
  };
}

/** Runs `get` or `put` and returns the exit code. */
export async function runTransfer(input: RunTransferInput): Promise<number> {
  const { flags } = input;
  if (!PROTOCOLS.includes(flags.protocol)) {
    throw usageError(`--protocol ${flags.protocol}: expected sftp, scp or auto`);
  }
  if (flags.resume && flags.protocol === "scp") {
    throw usageError("--resume needs SFTP (SCP always copies the whole file)");
  }
  const { target, path } = parseRemoteSpec(input.remoteSpec);
  // SendEnv/SetEnv go with the copy's session, as with scp and sftp (their ssh sends them).
  const run = await prepareRun({
    targetText: target,
    flags,
    settings: input.settings,
    timeoutMs: input.timeoutMs,
    ...(input.config ? { config: input.config } : {}),
    copy: true,
    sendsEnvironment: true,
  });
  let report: CopyReport | null = null;
  // As a login does (lib/cli/connect.ts): a direct TCP connection begins first, and the protocol
  // and transfer modules load while it is made and the server prepares its greeting. Not when
  // the configuration is refused: then nothing is sent, not even a connection.
  const { options } = run;
  const connecting = run.refusals.length ? undefined : connectDirectEarly(options, run.tracer);
  const client_ = import("../client.ts");
  client_.catch(() => {}); // awaited in the run below, which stages a failure
  // Ctrl-C aborts `signal` (run.execute): the copy stops, nothing is left under the final name.
  const outcome = await run.execute(async (ctx) => {
    const { connect } = await client_;
    const login = connect(connecting ? { ...options, connecting } : options);
    // The transfer modules load during the key exchange, once the version line is sent.
    const copy_ = import("../transfer/copy.ts");
    copy_.catch(() => {}); // a failed login is the error to report
    const client = await login;
    ctx.closeOnStop(() => client.transport.close());
    const { copy } = await copy_;
    report = await copy(client, {
      direction: input.direction,
      remote: path,
      local: input.local,
      protocol: flags.protocol as ProtocolChoice,
      recursive: flags.recursive ?? false,
      preserve: flags.preserve ?? false,
      resume: flags.resume ?? false,
      fsync: flags.fsync ?? false,
      environment: sessionEnvironment(input.settings, platform.envNames(), env),
      verify: flags.verify ?? false,
      signal: ctx.signal,
      onProgress: progress(Boolean(flags.quiet || flags.json || flags.ndjson)),
    }, input.timeoutMs);
    run.tracer.end("transfer");
    await client.close();
  });
  const exitCode = outcome.error?.exitCode ?? 0;
  run.finish(outcome, exitCode, { transfer: report });
  return exitCode;
}
