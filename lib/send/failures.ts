/**
 * The engine's failures: at the first prompt, no prompt of the expected kind, or the prompt of
 * another device than the one given (with the one it looks like); after a command, no prompt in
 * time, a question nobody answered, or the shell closing.
 * @module
 */

import { SshError } from "../errors/mod.ts";
import { type DeviceChoice, type DeviceName, type DevicePreset, DEVICES } from "./devices.ts";
import type { PromptMatch, PromptStyle } from "./prompt.ts";

/** `30 s`, `0.3 s`. */
export function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** No first prompt within the limit, or the shell closed first. */
export function promptNotFound(f: {
  why: "timeout" | "closed";
  tail: string;
  choice: DeviceChoice;
  styles: readonly PromptStyle[];
  pattern: RegExp | undefined;
  promptTimeoutMs: number;
}): SshError {
  const wanted = f.pattern
    ? `matching ${f.pattern}`
    : f.choice === "auto"
    ? "of a known style (<name>, [name], name>, name#, user@host>, $ , # )"
    : `of ${DEVICES[f.choice].label} (${f.styles.join(", ")} style)`;
  const message = f.why === "timeout"
    ? `no shell prompt ${wanted} within ${seconds(f.promptTimeoutMs)}; last seen: ${f.tail}`
    : `the shell closed before showing a prompt ${wanted}; last seen: ${f.tail}`;
  return new SshError("session", "session.prompt-not-found", message, {
    device: f.choice,
    timeoutMs: f.promptTimeoutMs,
    lastSeen: f.tail,
    closed: f.why === "closed",
  });
}

/** The first prompt is another device's than the one given: says which it looks like. */
export function wrongDevice(
  seen: PromptMatch,
  given: DeviceName,
  suggested: DeviceName,
  promptTimeoutMs: number,
): SshError {
  return new SshError(
    "session",
    "session.prompt-not-found",
    `the prompt ${JSON.stringify(seen.text.trim())} is not of ${DEVICES[given].label} ` +
      `(${DEVICES[given].styles.join(", ")} style) but looks like ${DEVICES[suggested].label}`,
    {
      device: given,
      timeoutMs: promptTimeoutMs,
      lastSeen: JSON.stringify(seen.text),
      closed: false,
      suggested,
    },
  );
}

/**
 * More than `limitBytes` of output without a prompt (after `command`, or before the first prompt
 * when null): reading stopped there (lib/send/shell_io.ts, `Inbox`).
 */
export function outputTooLarge(
  command: string | null,
  limitBytes: number,
  tail: string,
): SshError {
  const where = command === null
    ? "before its first prompt"
    : `after ${JSON.stringify(command)} without a prompt`;
  return new SshError(
    "session",
    "session.output-too-large",
    `the shell sent more than ${limitBytes} bytes ${where} (the --max-output limit); ` +
      `reading stopped there; last seen: ${tail}`,
    { command, limitBytes, lastSeen: tail },
  );
}

/**
 * No prompt after a command (or the privilege step, `step`): a question the device waits at
 * (`session.dialog-unanswered`), no prompt in time (`session.send-timeout`), or the shell closed.
 */
export function commandFailure(f: {
  why: "timeout" | "closed";
  tail: string;
  command: string;
  timeoutMs: number;
  preset: DevicePreset;
  /** The line the device waits at, when it reads as a question. */
  question: string | null;
  step?: boolean;
}): SshError {
  const { why, tail, command, timeoutMs, preset } = f;
  if (why === "timeout" && f.question !== null) {
    return new SshError(
      "session",
      "session.dialog-unanswered",
      `after ${JSON.stringify(command)} the ${preset.label} device asked ` +
        `${JSON.stringify(f.question)} and no answer rule matched within ${seconds(timeoutMs)}`,
      { command, timeoutMs, lastSeen: tail, device: preset.name, question: f.question },
    );
  }
  const what = f.step ? " (privilege step)" : "";
  const message = why === "timeout"
    ? `no prompt within ${seconds(timeoutMs)} after ${f.step ? "" : "sending "}` +
      `${JSON.stringify(command)}${what}${f.step ? " on" : " to"} the ${preset.label} shell; ` +
      `last seen: ${tail}`
    : f.step
    ? `the shell closed during ${JSON.stringify(command)}${what}; last seen: ${tail}`
    : `the shell closed while running ${JSON.stringify(command)}; last seen: ${tail}`;
  return new SshError(
    "session",
    why === "timeout" ? "session.send-timeout" : "session.shell-closed",
    message,
    { command, timeoutMs, lastSeen: tail, device: preset.name },
  );
}
