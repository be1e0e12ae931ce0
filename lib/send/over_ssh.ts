/**
 * `send` over SSH: runs the engine in a pty shell of a logged-in client, and turns the commands
 * a device rejected into the run's failure.
 * @module
 */

import type { Client } from "../client.ts";
import { SshError } from "../errors/mod.ts";
import { runShell } from "./engine.ts";
import { type DeviceHint, kexHint } from "./detect.ts";
import { sessionIo } from "./shell_io.ts";
import type { SendOptions, SendResult } from "./types.ts";

/**
 * The failure of a run whose commands the device rejected (see {@link CommandResult.status}), or
 * null when it accepted them all: stage `session`, code `session.command-rejected`, with the
 * prompt's privilege level so the diagnosis can tell a user-level account from a typo.
 */
export function rejectionError(result: SendResult): SshError | null {
  const rejected = result.commands.flatMap((c, i) => c.status === "rejected" ? [i + 1] : []);
  if (rejected.length === 0) return null;
  const first = result.commands[rejected[0]! - 1]!;
  const which = rejected.length === 1
    ? `command ${rejected[0]} of ${result.commands.length}`
    : `commands ${rejected.join(", ")} of ${result.commands.length}`;
  return new SshError(
    "session",
    "session.command-rejected",
    `the device rejected ${which} (${JSON.stringify(first.command)}: ` +
      `${JSON.stringify(first.errorLine)}) at the prompt ${JSON.stringify(result.prompt)}`,
    {
      rejected,
      errorLine: first.errorLine ?? "",
      prompt: result.prompt,
      device: result.device,
      privileged: result.privileged,
    },
  );
}

/** The server's texts that may name the vendor: version line, login banner, KEXINIT offer. */
export function serverHints(client: Client): DeviceHint[] {
  const hints: DeviceHint[] = [
    { source: "version line", text: client.transport.serverVersion?.line ?? "" },
    { source: "login banner", text: client.auth.banner ?? "" },
  ];
  const offer = client.tracer.events.find((e) => e.type === "kexinit-received");
  const kex = offer?.type === "kexinit-received" ? kexHint(offer.lists) : null;
  if (kex) hints.push(kex);
  return hints;
}

/**
 * Runs the engine over SSH: opens a pty shell on a logged-in `client` (vt100, 200×24) and runs
 * `options.commands` with the server's version line, login banner and KEXINIT offer as vendor
 * hints ({@link serverHints}). The dialogue with the shell is traced as a `session` span (its failures are
 * session-stage failures); commands the device rejected fail it with `session.command-rejected`
 * after logging out (`options.onCommand` has seen every output by then).
 */
export async function runShellOnClient(
  client: Client,
  options: Omit<SendOptions, "hints" | "tracer">,
): Promise<SendResult> {
  const session = await client.openSession({ term: "vt100", cols: 200, rows: 24 }, {
    shell: true,
  });
  const span = client.tracer.span("session");
  const result = await runShell(sessionIo(session), {
    ...options,
    hints: serverHints(client),
    tracer: client.tracer,
  });
  const rejected = rejectionError(result);
  if (rejected) throw rejected;
  span.end();
  return result;
}
