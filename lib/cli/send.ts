/**
 * `sshtrace send [user@]host[:port] [--device …] -- "cmd" …`: for devices without an exec
 * channel. Logs in, opens a pty shell, waits for the prompt, turns paging off (or answers the
 * pager), runs each command and collects its output without echo, pager or prompt, then logs out.
 * @module
 */

import { connect } from "../client.ts";
import { parsePositive, usageError } from "../config/options.ts";
import { runShellOnClient } from "../send/engine.ts";
import { DEVICE_NAMES, type DeviceChoice } from "../send/devices.ts";
import { platform } from "../platform/mod.ts";
import { type ConnectFlags, prepareRun, type RunConnectInput } from "./connect.ts";

export interface SendFlags extends ConnectFlags {
  device: string;
  prompt?: string;
  commandTimeout?: string;
  encoding?: string;
}

const DEVICE_CHOICES: readonly string[] = ["auto", ...DEVICE_NAMES];

/** Runs `send` and returns the exit code (stage codes; 0 when every command ran). */
export async function runSend(
  input: Omit<RunConnectInput, "flags"> & { flags: SendFlags },
): Promise<number> {
  const { flags } = input;
  if (!DEVICE_CHOICES.includes(flags.device)) {
    throw usageError(`--device ${flags.device}: expected one of ${DEVICE_CHOICES.join(", ")}`);
  }
  if (input.command.length === 0) {
    throw usageError('no command given: sshtrace send HOST -- "command" ["command" …]');
  }
  let promptPattern: RegExp | undefined;
  if (flags.prompt) {
    try {
      promptPattern = new RegExp(flags.prompt);
    } catch (e) {
      throw usageError(`--prompt: not a regular expression: ${(e as Error).message}`);
    }
  }
  const commandTimeoutMs = flags.commandTimeout
    ? parsePositive("--command-timeout", flags.commandTimeout) * 1000
    : 30_000;
  const run = await prepareRun(input);
  let commands: unknown[] = [];
  const outcome = await run.execute(async (ctx) => {
    const client = await connect(run.options);
    ctx.closeOnStop(() => client.transport.close());
    const result = await runShellOnClient(client, {
      commands: input.command,
      device: flags.device as DeviceChoice,
      promptPattern,
      commandTimeoutMs,
      // The first prompt waits no longer than a command may take (and 15 s at most).
      promptTimeoutMs: Math.min(15_000, commandTimeoutMs),
      encoding: flags.encoding,
    });
    commands = result.commands.map((c) => ({ command: c.command, output: c.output, ms: c.ms }));
    if (!flags.json) {
      for (const c of result.commands) {
        await writeAll(
          new TextEncoder().encode(`${c.output}${c.output.endsWith("\n") ? "" : "\n"}`),
        );
      }
    }
    await client.close();
  });
  const exitCode = outcome.error?.exitCode ?? 0;
  run.finish(outcome, exitCode, { commands });
  return exitCode;
}

async function writeAll(bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await platform.stdout.write(bytes.subarray(off));
}
