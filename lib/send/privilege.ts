/**
 * Raising the privilege level in a shell before the commands (`send --enable`): IOS `enable`,
 * Comware / VRP `super`, each answered with the enable secret when the device asks for it. The
 * secret is typed, never echoed, traced or put in an error: events say only that it was sent.
 * @module
 */

import { SshError } from "../errors/mod.ts";
import { type DevicePreset, findErrorLine, PRIVILEGE_REFUSED } from "./devices.ts";

/** Where the secret comes from: asked only when the device prompts for it. */
export type SecretSource = () => Promise<string | null>;

/** What the privilege step needs from the shell driver. */
export interface PrivilegeShell {
  /** Types `text` and Enter (a `secret` is masked in transcripts). */
  line(text: string, secret?: boolean): Promise<void>;
  /**
   * Waits for the prompt or a secret prompt; the decoded reply since the last line sent (echo,
   * pagers and the prompt removed), the line it stopped at, and whether that was a secret prompt.
   */
  reply(command: string | undefined): Promise<{ text: string; line: string; secret: boolean }>;
  info(message: string): void;
}

/** How the step ended. */
export interface PrivilegeResult {
  /** The level reached (15 for IOS `#`, Comware's `User privilege level is 3`), or null. */
  level: number | null;
  /** The prompt after the step. */
  prompt: string;
}

/** Why the privilege step failed (`session.privilege-failed`'s `reason`). */
export type PrivilegeFailure = "no-secret" | "wrong-secret" | "not-raised" | "wrong-level";

function failure(
  preset: DevicePreset,
  command: string,
  reason: PrivilegeFailure,
  prompt: string,
  reply: string,
  levels: { asked: number | null; reached: number | null },
): SshError {
  const said = findErrorLine(reply) ??
    reply.split("\n").map((l) => l.trim()).find((l) => PRIVILEGE_REFUSED.test(l)) ?? "";
  const why = reason === "no-secret"
    ? "asked for a secret and none was given"
    : reason === "wrong-secret"
    ? "refused the secret"
    : reason === "wrong-level"
    ? (levels.reached === null
      ? `refused level ${levels.asked}`
      : `reached level ${levels.reached}, not the level ${levels.asked} asked for`)
    : "did not raise the level";
  return new SshError(
    "session",
    "session.privilege-failed",
    `${JSON.stringify(command)}: the ${preset.label} device ${why}` +
      (said ? ` (${JSON.stringify(said)})` : "") + `; the prompt is ${JSON.stringify(prompt)}`,
    {
      device: preset.name,
      command,
      reason,
      prompt,
      errorLine: said,
      level: levels.asked,
      reached: levels.reached,
    },
  );
}

/**
 * Runs the device's privilege step (`level`: ask for that level, `super 3` / `enable 15`).
 * Returns null (and traces why) for devices that need none; throws `session.privilege-failed`
 * when no secret is available, the secret is refused, the level did not change, or the device
 * refused the level asked for or reached another one.
 */
export async function raisePrivilege(
  shell: PrivilegeShell,
  preset: DevicePreset,
  secret: SecretSource | undefined,
  prompt: string,
  level?: number,
): Promise<PrivilegeResult | null> {
  const step = preset.privilege;
  if (!step) {
    shell.info(`privilege: ${preset.label} needs no step; commands run at the login's level`);
    return null;
  }
  const asked = level ?? null;
  const command = asked === null ? step.command : step.commandFor(asked);
  const fail = (reason: PrivilegeFailure, at: string, reply: string, reached: number | null) =>
    failure(preset, command, reason, at, reply, { asked, reached });
  await shell.line(command);
  let r = await shell.reply(command);
  if (r.secret) {
    const value = await secret?.() ?? null;
    if (value === null) {
      // Leave the secret prompt with an empty answer, so the shell is back at its prompt.
      await shell.line("");
      await shell.reply(undefined).catch(() => {});
      throw fail("no-secret", prompt, "", null);
    }
    shell.info(`privilege: ${JSON.stringify(command)} asked for a secret; sent it`);
    await shell.line(value, true);
    r = await shell.reply(undefined);
    // Asked again: the secret was wrong. Answer the re-prompts empty to get the prompt back.
    for (let i = 0; r.secret && i < 3; i++) {
      await shell.line("");
      r = await shell.reply(undefined);
    }
    if (r.secret || !step.raised(r.text, r.line)) {
      throw fail("wrong-secret", r.line, r.text, null);
    }
  } else if (!step.raised(r.text, r.line)) {
    // A level the device does not have is an error line before any secret prompt.
    const refusedLevel = asked !== null && findErrorLine(r.text) !== null;
    throw fail(refusedLevel ? "wrong-level" : "not-raised", r.line, r.text, null);
  }
  const reached = step.level(r.text, r.line, asked);
  if (asked !== null && reached !== null && reached !== asked) {
    throw fail("wrong-level", r.line, r.text, reached);
  }
  shell.info(
    `privilege: level ${reached ?? "raised"} reached with ${JSON.stringify(command)}` +
      ` (prompt ${JSON.stringify(r.line.trim())})`,
  );
  return { level: reached, prompt: r.line.trim() };
}
