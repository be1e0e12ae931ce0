/**
 * Waiting for a shell's prompt: answers pager prompts, dialogs and a console menu on the way,
 * presses Enter once when nothing comes, and tells a strong prompt (at once) from a weak one
 * (after the shell has been quiet for a moment).
 * @module
 */

import type { SshError } from "../errors/mod.ts";
import { type DialogRule, findCliMenuItem, findDialog } from "./dialogs.ts";
import { outputTooLarge } from "./failures.ts";
import {
  binary,
  decodeOutput,
  describeTail,
  findPagerAtEnd,
  fromBinary,
  lastLine,
  type PromptCertainty,
  stripEscapes,
} from "./prompt.ts";
import type { Inbox } from "./shell_io.ts";

/** What waiting needs from the shell driver. */
export interface WaitShell {
  inbox: Inbox;
  /** Types `text` (a masked reply is never traced). */
  send(text: string, secret?: boolean): Promise<void>;
  info(message: string): void;
  newline: string;
  /** The caller's and the built-in dialog rules. */
  dialogs: readonly DialogRule[];
  encoding?: string;
  /** A weak prompt is accepted after this much quiet. */
  settleMs: number;
}

/** How waiting for a prompt ended. */
export interface PromptSeen {
  /** Index in the inbox where the prompt line starts. */
  lineStart: number;
  line: string;
  pagers: number;
  dialogs: number;
}

export interface WaitOptions {
  from: number;
  timeoutMs: number;
  rate: (line: string) => PromptCertainty;
  /** Builds the error when the time is up or the shell closes. */
  fail: (why: "timeout" | "closed", tail: string) => SshError;
  nudgeMs?: number;
  /** Answer dialogs (see lib/send/dialogs.ts) on the way. */
  dialogs?: boolean;
  /** Pick the command line in a console menu (before the first prompt). */
  menus?: boolean;
  /** The command whose prompt is awaited (null: the first prompt), for errors. */
  command?: string | null;
}

const TAIL = 2048;

/**
 * Waits until the output (from `from`) ends with a prompt: a strong match at once, a weak one
 * after `settleMs` of quiet. Answers pager prompts with a space on the way.
 */
export async function waitForPrompt(shell: WaitShell, w: WaitOptions): Promise<PromptSeen> {
  const inbox = shell.inbox;
  const deadline = performance.now() + w.timeoutMs;
  let pagers = 0;
  let dialogs = 0;
  let answeredUpTo = -1;
  let nudged = w.nudgeMs === undefined;
  const startedAt = performance.now();
  for (;;) {
    const tailStart = Math.max(w.from, inbox.length - TAIL);
    const tail = binary(inbox.view(tailStart));
    const pager = findPagerAtEnd(tail);
    if (pager && tailStart + pager.end > answeredUpTo) {
      answeredUpTo = tailStart + pager.end;
      pagers++;
      await shell.send(" ");
      continue;
    }
    const line = lastLine(tail);
    const certainty = line ? w.rate(line) : null;
    const dialog = w.dialogs && certainty === null && inbox.length > answeredUpTo
      ? findDialog(line, shell.dialogs)
      : null;
    if (dialog) {
      answeredUpTo = inbox.length;
      dialogs++;
      const question = decodeOutput(fromBinary(line), shell.encoding).trim();
      shell.info(
        `dialog: answered ${JSON.stringify(question)} (${dialog.label}) ` +
          (dialog.masked
            ? "with the rule's reply (not shown)"
            : dialog.reply === ""
            ? "with Enter"
            : `with ${JSON.stringify(dialog.reply)}`),
      );
      await shell.send(dialog.reply + shell.newline, dialog.masked);
      continue;
    }
    if (w.menus && certainty === null) {
      const since = binary(inbox.view(Math.max(w.from, tailStart, answeredUpTo)));
      const key = findCliMenuItem(stripEscapes(since));
      if (key !== null) {
        answeredUpTo = inbox.length;
        shell.info(`shell: a console menu offers "${key}. Command Line (CLI)"; pressed ${key}`);
        await shell.send(key);
        continue;
      }
    }
    const now = performance.now();
    if (
      certainty === "strong" || (certainty === "weak" && now - inbox.lastData >= shell.settleMs)
    ) {
      const cut = Math.max(tail.lastIndexOf("\n"), tail.lastIndexOf("\r"));
      return { lineStart: tailStart + cut + 1, line: stripEscapes(line), pagers, dialogs };
    }
    if (inbox.overflow) {
      throw outputTooLarge(w.command ?? null, inbox.limit, describeTail(inbox.view(w.from)));
    }
    if (inbox.ended) {
      throw w.fail("closed", describeTail(inbox.view(w.from)));
    }
    if (now >= deadline) {
      throw w.fail("timeout", describeTail(inbox.view(w.from)));
    }
    let wake = deadline - now;
    if (certainty === "weak") wake = Math.min(wake, shell.settleMs - (now - inbox.lastData));
    if (!nudged) {
      const quietSince = Math.max(inbox.lastData, startedAt);
      const nudgeAt = quietSince + w.nudgeMs!;
      if (now >= nudgeAt && certainty === null) {
        nudged = true;
        shell.info("shell: no prompt yet; pressing Enter once");
        await shell.send(shell.newline);
        continue;
      }
      wake = Math.min(wake, nudgeAt - now);
    }
    await inbox.wait(Math.max(1, wake));
  }
}
