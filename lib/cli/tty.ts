/**
 * Terminal adapters for the CLI: the one prompt every question goes through (password,
 * passphrase, keyboard-interactive, host key yes/no), with and without echo, in raw mode that is
 * always restored. The question may hold peer text: it is sanitized here. Ctrl-C aborts the
 * whole run at once (an `<stage>.interrupted` error, exit 130), so no answer is ever sent for it.
 * @module
 */

import { sanitize } from "../render/sanitize.ts";
import { platform } from "../platform/mod.ts";
import { writeErr } from "./output.ts";
import { SshError } from "../errors/mod.ts";
import { interruptReason } from "../run.ts";

/** True when both stdin and stderr are terminals (prompts are possible). */
export function canPrompt(): boolean {
  return platform.stdin.isTerminal() && platform.stderr.isTerminal();
}

/** What a prompt asks for: the stage it belongs to and a name for messages. */
export interface PromptContext {
  stage: "hostkey" | "auth" | "session";
  /** E.g. "password", "passphrase", "keyboard-interactive", "host key". */
  what: string;
}

/** The error for Ctrl-C at a prompt: the run stops here and nothing more is sent. */
export function interrupted(context: PromptContext): SshError {
  const { stage, what } = context;
  return new SshError(
    stage,
    `${stage}.interrupted`,
    `interrupted at stage ${stage}: Ctrl-C at the ${what} prompt; nothing more was sent to ` +
      "the server",
    { prompt: what },
  );
}

const CTRL_C = 0x03;
const CTRL_D = 0x04;

/**
 * Shows `question` (sanitized: it may come from the server) and reads one line; `echo` false
 * hides what is typed. Returns null on Ctrl-D or end of input (the prompt is declined), and
 * throws {@link interrupted} on Ctrl-C.
 */
export async function prompt(
  question: string,
  echo: boolean,
  context: PromptContext,
): Promise<string | null> {
  writeErr(sanitize(question, { multiline: true }));
  platform.stdin.setRaw(true);
  const bytes: number[] = [];
  const buf = new Uint8Array(64);
  try {
    for (;;) {
      const n = await platform.stdin.read(buf);
      if (n === null) return null;
      for (const b of buf.subarray(0, n)) {
        if (b === CTRL_C) {
          writeErr("^C\r\n");
          throw interrupted(context);
        }
        if (b === CTRL_D) {
          writeErr("\r\n");
          return null;
        }
        if (b === 0x0d || b === 0x0a) {
          writeErr("\r\n");
          return new TextDecoder().decode(new Uint8Array(bytes));
        }
        if (b === 0x7f || b === 0x08) {
          if (bytes.length) {
            bytes.pop();
            if (echo) writeErr("\b \b");
          }
          continue;
        }
        bytes.push(b);
        if (echo) platform.stderr.writeSync(new Uint8Array([b]));
      }
    }
  } finally {
    platform.stdin.setRaw(false);
  }
}

/** Asks the host key yes/no question (typed `yes` means yes, as ssh(1) asks). */
export async function confirm(question: string): Promise<boolean> {
  const context: PromptContext = { stage: "hostkey", what: "host key" };
  let ask = question;
  for (;;) {
    const answer = await prompt(ask, true, context);
    if (answer === null) return false;
    const a = answer.trim().toLowerCase();
    if (a === "yes") return true;
    if (a === "no") return false;
    ask = "Please type 'yes' or 'no': ";
  }
}

/**
 * Ctrl-C outside a prompt (SIGINT; a prompt reads it as a key in raw mode) as an AbortSignal:
 * the run closes its connection and ends as `<stage>.interrupted`, exit 130, through the same
 * path as a library caller's cancellation. `dispose()` restores the default (Ctrl-C kills).
 */
export function interruptOnCtrlC(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = () => controller.abort(interruptReason());
  let remove: () => void;
  try {
    remove = platform.onSignal("SIGINT", onSignal);
  } catch {
    // no signal support here: Ctrl-C keeps its default
    return { signal: controller.signal, dispose: () => {} };
  }
  return {
    signal: controller.signal,
    dispose: () => {
      try {
        remove();
      } catch {
        // already removed
      }
    },
  };
}
