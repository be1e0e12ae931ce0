/**
 * `sshtrace lab [--port N] [--profile NAME] [--once]`: runs the built-in lab server on
 * 127.0.0.1, prints how to connect, and serves until SIGINT/SIGTERM (or, with `--once`, until
 * the first connection ends). `--profile list` lists the profiles.
 * @module
 */

import { fingerprintSha256 } from "../algorithms/pubkey.ts";
import {
  BASE_PROFILES,
  DEMO_USER,
  FAULT_PROFILES,
  type HostKeys,
  LabError,
  type LabServer,
  resolveProfile,
  startLabServer,
  SWITCH_ADMIN,
} from "../lab/mod.ts";
import { sanitize } from "../render/sanitize.ts";
import { platform, type Signal } from "../platform/mod.ts";
import { EXIT_CODES } from "../types.ts";

export interface LabOptions {
  /** Port to listen on (0 or absent: any free port). */
  port?: number | string;
  /** @default "modern"; `list` prints the profiles. */
  profile?: string;
  /** Stop after the first connection ends. */
  once?: boolean;
  /** Do not print what happens on each connection. */
  quiet?: boolean;
  /** Stops the server when aborted (for embedding and tests). */
  signal?: AbortSignal;
  /** Host keys to use instead of new ones. */
  hostKeys?: HostKeys;
  /** Called once the server listens (for embedding and tests). */
  onListening?: (server: LabServer) => void;
}

function parsePort(value: number | string | undefined): number {
  if (value === undefined || value === "") return 0;
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new LabError(`invalid port "${value}": expected a number from 0 to 65535`);
  }
  return n;
}

/** The profile list, one line each. */
export function profileList(): string {
  const lines = ["Well-behaved profiles:"];
  for (const p of BASE_PROFILES) lines.push(`  ${p.name.padEnd(36)} ${p.summary}`);
  lines.push("", "Fault profiles (a correct client stops at the stage shown):");
  for (const f of FAULT_PROFILES) {
    const expect = "success" in f.expect
      ? "carries on"
      : `stage ${f.expect.stage} (${f.expect.code})`;
    const name = f.name === "disconnect" ? "disconnect[:N]" : f.name;
    lines.push(`  ${name.padEnd(36)} ${f.summary}; ${expect}`);
  }
  return lines.join("\n") + "\n";
}

/** How to connect to a running lab server. */
export function connectHelp(server: LabServer): string {
  const { port, profile } = server;
  const legacy = profile === "old-switch";
  const user = legacy ? SWITCH_ADMIN : DEMO_USER;
  const target = `${user.name}@127.0.0.1:${port}`;
  const lines = [
    `sshtrace lab: profile ${profile} listening on 127.0.0.1:${port}`,
    `  ${resolveProfile(profile).summary}`,
    "",
    `Connect with (password: ${user.password}):`,
    `  sshtrace -o StrictHostKeyChecking=no ${legacy ? "--legacy " : ""}${target}` +
    (legacy ? "" : " 'echo hi'"),
    `  sshtrace probe ${legacy ? "--legacy " : ""}127.0.0.1:${port}`,
  ];
  if (!legacy) {
    lines.push(
      `  ssh -p ${port} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null ` +
        `${user.name}@127.0.0.1`,
    );
  }
  const fault = FAULT_PROFILES.find((f) => f.name === profile.replace(/:\d+$/, ""));
  if (fault || profile.startsWith("disconnect:")) {
    const f = fault ?? FAULT_PROFILES.find((x) => x.name === "disconnect")!;
    lines.push(
      "",
      "success" in f.expect
        ? "A correct client carries on despite this fault."
        : `A correct client stops at stage ${f.expect.stage} (${f.expect.code}).`,
    );
  }
  lines.push("", "Host keys:");
  for (const type of server.hostKeys.types) {
    lines.push(`  ${type.padEnd(20)} ${fingerprintSha256(server.hostKeys.get(type)!.blob)}`);
  }
  return lines.join("\n") + "\n";
}

/**
 * Runs the lab server and prints how to connect. Resolves with the exit code (0, or 2 for a
 * bad option or a port that cannot be used) once stopped.
 */
export async function runLab(options: LabOptions, write: (text: string) => void): Promise<number> {
  if (options.profile === "list") {
    write(profileList());
    return 0;
  }
  let server: LabServer;
  try {
    server = await startLabServer({
      port: parsePort(options.port),
      profile: options.profile ?? "modern",
      hostKeys: options.hostKeys,
      onEvent: options.quiet
        ? undefined
        : (e) => write(`[lab #${e.connection}] ${sanitize(e.message)}\n`),
    });
  } catch (e) {
    if (e instanceof LabError) {
      write(`sshtrace lab: ${e.message}\n`);
      return EXIT_CODES.usage;
    }
    if (platform.errorKind(e) === "addr-in-use") {
      write(`sshtrace lab: port ${options.port} on 127.0.0.1 is already in use\n`);
      return EXIT_CODES.usage;
    }
    if (platform.errorKind(e) === "permission-denied") {
      write(
        `sshtrace lab: not allowed to listen on port ${options.port}: ${(e as Error).message}\n`,
      );
      return EXIT_CODES.usage;
    }
    throw e;
  }
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const signals: Signal[] = platform.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  const removers: (() => void)[] = [];
  for (const s of signals) {
    try {
      removers.push(platform.onSignal(s, stop));
    } catch {
      // not available here
    }
  }
  // Announce only once the signals are handled, so a Ctrl-C right after the line stops cleanly.
  write(connectHelp(server));
  write(options.once ? "Serving one connection.\n" : "Press Ctrl-C to stop.\n");
  options.onListening?.(server);
  const onAbort = () => stop();
  options.signal?.addEventListener("abort", onAbort);
  if (options.signal?.aborted) stop();
  if (options.once) server.waitForEnded(1).then(stop);
  try {
    await stopped;
  } finally {
    for (const remove of removers) remove();
    options.signal?.removeEventListener("abort", onAbort);
    await server.stop();
  }
  write(`sshtrace lab: stopped after ${server.connections} connection(s)\n`);
  return 0;
}
