/**
 * The last step of a shell run: type the device's logout command and wait for the shell to
 * close, answering the questions some devices ask on the way out (ProCurve `Do you want to log
 * out [y/n]?`, and `Do you want to save current configuration [y/n/^C]?`, answered no: only
 * `--save` saves).
 * @module
 */

import { findDialog } from "./dialogs.ts";
import { binary, decodeOutput, fromBinary, lastLine } from "./prompt.ts";
import type { WaitShell } from "./wait.ts";

/** Logs out with `command`; true when the shell closed within `timeoutMs`. */
export async function logOut(
  shell: WaitShell,
  command: string,
  timeoutMs: number,
): Promise<boolean> {
  const { inbox } = shell;
  let from = inbox.length;
  await shell.send(command + shell.newline).catch(() => {});
  const deadline = performance.now() + timeoutMs;
  while (!inbox.ended && performance.now() < deadline) {
    await inbox.wait(deadline - performance.now());
    if (inbox.ended || inbox.length === from) continue;
    const line = lastLine(binary(inbox.view(from)));
    const dialog = findDialog(line, shell.dialogs);
    if (!dialog) continue;
    from = inbox.length;
    const question = decodeOutput(fromBinary(line), shell.encoding).trim();
    shell.info(
      `dialog: answered ${JSON.stringify(question)} (${dialog.label}) while logging out ` +
        (dialog.masked
          ? "with the rule's reply (not shown)"
          : `with ${JSON.stringify(dialog.reply)}`),
    );
    await shell.send(dialog.reply + shell.newline, dialog.masked).catch(() => {});
  }
  return inbox.ended;
}
