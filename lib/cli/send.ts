/**
 * `sshtrace send [user@]host[:port] [--device …] -- "cmd" …`: for devices without an exec
 * channel. Logs in, opens a pty shell, waits for the prompt, turns paging off (or answers the
 * pager), runs each command and collects its output without echo, pager or prompt, then logs out.
 * @module
 */

import { connect } from "../client.ts";
import { parsePositive, parseSize, usageError } from "../config/options.ts";
import type { CommandResult } from "../send/types.ts";
import { runShellOnClient } from "../send/over_ssh.ts";
import { SshError } from "../errors/mod.ts";
import { DEVICE_NAMES, type DeviceChoice, type DeviceName, DEVICES } from "../send/devices.ts";
import { platform } from "../platform/mod.ts";
import { type ConnectFlags, prepareRun, type RunConnectInput } from "./connect.ts";
import { readSecretFile } from "./credentials.ts";
import type { SecretSource } from "../send/privilege.ts";
import { parseAnswer } from "../send/dialogs.ts";
import { Transcript } from "../send/transcript.ts";
import { env } from "./output.ts";
import { canPrompt, prompt } from "./tty.ts";

export interface SendFlags extends ConnectFlags {
  device: string;
  prompt?: string;
  commandTimeout?: string;
  maxOutput?: string;
  encoding?: string;
  enable?: true;
  enableLevel?: string;
  enableSecretEnv?: string;
  enableSecretFile?: string;
  answer?: string[];
  config?: true;
  save?: true;
  log?: string;
}

/**
 * The enable secret for `--enable`: from `--enable-secret-env`, `--enable-secret-file`, else
 * asked on the terminal when the device prompts (never with `--batch` or without a terminal).
 */
async function enableSecret(flags: SendFlags): Promise<SecretSource | undefined> {
  if (flags.enableSecretEnv) {
    const name = flags.enableSecretEnv;
    if (env(name) === undefined) {
      throw usageError(`--enable-secret-env ${name}: the variable is not set`);
    }
    return () => Promise.resolve(env(name) ?? null);
  }
  if (flags.enableSecretFile) {
    const secret = await readSecretFile(flags.enableSecretFile, "enable secret");
    return () => Promise.resolve(secret);
  }
  if (flags.batch || !canPrompt()) return undefined;
  return () => prompt("Enable secret: ", false, { stage: "session", what: "enable secret" });
}

const DEVICE_CHOICES: readonly string[] = ["auto", ...DEVICE_NAMES];

/** `--enable-level N`: a whole number 0-15, only with `--enable`. */
export function parseEnableLevel(text: string | undefined, enable?: true): number | undefined {
  if (text === undefined) return undefined;
  if (!enable) throw usageError("--enable-level needs --enable");
  if (!/^\d{1,2}$/.test(text) || Number(text) > 15) {
    throw usageError(`--enable-level ${text}: expected a privilege level 0-15`);
  }
  return Number(text);
}

/** `--max-output SIZE`: the most output kept for one command, at least 1K. */
function maxOutput(text: string): number {
  let bytes: number;
  try {
    bytes = parseSize(text);
  } catch {
    throw usageError(`--max-output "${text}": expected a size such as 512M (K, M or G)`);
  }
  if (bytes < 1024) throw usageError(`--max-output "${text}": at least 1K`);
  return bytes;
}

/**
 * Runs `send` and returns the exit code: 0 when the device accepted every command, else the
 * failing stage's code (15 also when it rejected a command: `session.command-rejected`).
 */
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
  const maxOutputBytes = flags.maxOutput ? maxOutput(flags.maxOutput) : undefined;
  if ((flags.enableSecretEnv || flags.enableSecretFile) && !flags.enable) {
    throw usageError("--enable-secret-env / --enable-secret-file need --enable");
  }
  const enableLevel = parseEnableLevel(flags.enableLevel, flags.enable);
  if (flags.save && !flags.config) throw usageError("--save needs --config");
  if (flags.config && flags.device !== "auto" && !DEVICES[flags.device as DeviceName].config) {
    throw usageError(`--config: --device ${flags.device} has no configuration mode`);
  }
  const secret = flags.enable ? await enableSecret(flags) : undefined;
  const answers = (flags.answer ?? []).map((text, i) => {
    const rule = parseAnswer(text, i);
    // The reply may be a secret: the message names the rule, never its text.
    if (typeof rule === "string") throw usageError(`--answer rule ${i + 1}: ${rule}`);
    return rule;
  });
  const transcript = flags.log ? new Transcript() : undefined;
  const run = await prepareRun(input);
  // Filled as each command's prompt comes back, so a later failure keeps the earlier outputs.
  const done: CommandResult[] = [];
  // The device (and how it was told) for the JSON report, once the run got that far.
  let device: Record<string, unknown> | undefined;
  const writes: Promise<void>[] = [];
  const outcome = await run.execute(async (ctx) => {
    const client = await connect(run.options);
    ctx.closeOnStop(() => client.transport.close());
    const result = await runShellOnClient(client, {
      commands: input.command,
      device: flags.device as DeviceChoice,
      promptPattern,
      commandTimeoutMs,
      ...(maxOutputBytes ? { maxOutputBytes } : {}),
      // The first prompt waits no longer than a command may take (and 15 s at most).
      promptTimeoutMs: Math.min(15_000, commandTimeoutMs),
      encoding: flags.encoding,
      enable: flags.enable ?? false,
      enableLevel,
      enableSecret: secret,
      answers,
      transcript,
      config: flags.config ?? false,
      save: flags.save ?? false,
      onCommand: (c) => {
        done.push(c);
        // Printed as it completes: the trace on stderr and the outputs on stdout interleave.
        if (!flags.json) writes.push(writeOutput(c.output));
      },
    }).catch(async (e) => {
      // Rejected commands leave a logged-out shell: disconnect cleanly, then fail.
      if (e instanceof SshError && e.code === "session.command-rejected") await client.close();
      throw e;
    });
    device = {
      name: result.device,
      reason: result.deviceReason,
      evidence: result.deviceEvidence,
      privilegeLevel: result.privilegeLevel,
    };
    await client.close();
  });
  await Promise.all(writes);
  if (flags.log && transcript) {
    try {
      await platform.writeTextFile(flags.log, transcript.text(), { mode: 0o600 });
    } catch (e) {
      throw usageError(`cannot write the transcript ${flags.log}: ${(e as Error).message}`);
    }
  }
  const exitCode = outcome.error?.exitCode ?? 0;
  run.finish(outcome, exitCode, {
    ...(device ? { device } : {}),
    commands: commandsReport(input.command, done, outcome.error),
  });
  return exitCode;
}

function writeOutput(output: string): Promise<void> {
  return writeAll(new TextEncoder().encode(`${output}${output.endsWith("\n") ? "" : "\n"}`));
}

/** One entry of the JSON report's `commands`. */
export interface CommandReport {
  command: string;
  /**
   * `ok`; `rejected` (the device printed an error line: `errorLine`); `failed` (the run failed
   * while it ran: no prompt in time, or the shell closed; see the report's `error`); `not-run`.
   */
  status: "ok" | "rejected" | "failed" | "not-run";
  output?: string;
  ms?: number;
  errorLine?: string;
}

/**
 * The JSON `commands`: every completed command with its output, then (when the run failed) the
 * command that was running and the ones never sent.
 */
export function commandsReport(
  commands: readonly string[],
  done: readonly CommandResult[],
  error: SshError | null,
): CommandReport[] {
  const stopped = error !== null && error.stage === "session" &&
    /\.(?:send-timeout|shell-closed|interrupted|deadline|aborted)$/.test(error.code);
  const running = stopped ? done.length : -1;
  return commands.map((command, i): CommandReport => {
    const c = done[i];
    if (c) {
      return {
        command,
        status: c.status,
        output: c.output,
        ms: c.ms,
        ...(c.errorLine === null ? {} : { errorLine: c.errorLine }),
      };
    }
    return { command, status: i === running ? "failed" : "not-run" };
  });
}

async function writeAll(bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await platform.stdout.write(bytes.subarray(off));
}
