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

function failure(
  preset: DevicePreset,
  reason: "no-secret" | "wrong-secret" | "not-raised",
  prompt: string,
  reply: string,
): SshError {
  const command = preset.privilege?.command ?? "";
  const said = findErrorLine(reply) ??
    reply.split("\n").map((l) => l.trim()).find((l) => PRIVILEGE_REFUSED.test(l)) ?? "";
  const why = reason === "no-secret"
    ? "asked for a secret and none was given"
    : reason === "wrong-secret"
    ? "refused the secret"
    : "did not raise the level";
  return new SshError(
    "session",
    "session.privilege-failed",
    `${JSON.stringify(command)}: the ${preset.label} device ${why}` +
      (said ? ` (${JSON.stringify(said)})` : "") + `; the prompt is ${JSON.stringify(prompt)}`,
    { device: preset.name, command, reason, prompt, errorLine: said },
  );
}

/**
 * Runs the device's privilege step. Returns null (and traces why) for devices that need none;
 * throws `session.privilege-failed` when no secret is available, the secret is refused, or the
 * level did not change.
 */
export async function raisePrivilege(
  shell: PrivilegeShell,
  preset: DevicePreset,
  secret: SecretSource | undefined,
  prompt: string,
): Promise<PrivilegeResult | null> {
  const step = preset.privilege;
  if (!step) {
    shell.info(`privilege: ${preset.label} needs no step; commands run at the login's level`);
    return null;
  }
  await shell.line(step.command);
  let r = await shell.reply(step.command);
  if (r.secret) {
    const value = await secret?.() ?? null;
    if (value === null) {
      // Leave the secret prompt with an empty answer, so the shell is back at its prompt.
      await shell.line("");
      await shell.reply(undefined).catch(() => {});
      throw failure(preset, "no-secret", prompt, "");
    }
    shell.info(`privilege: ${JSON.stringify(step.command)} asked for a secret; sent it`);
    await shell.line(value, true);
    r = await shell.reply(undefined);
    // Asked again: the secret was wrong. Answer the re-prompts empty to get the prompt back.
    for (let i = 0; r.secret && i < 3; i++) {
      await shell.line("");
      r = await shell.reply(undefined);
    }
    if (r.secret || !step.raised(r.text, r.line)) {
      throw failure(preset, "wrong-secret", r.line, r.text);
    }
  } else if (!step.raised(r.text, r.line)) {
    throw failure(preset, "not-raised", r.line, r.text);
  }
  const level = step.level(r.text, r.line);
  shell.info(
    `privilege: level ${level ?? "raised"} reached with ${JSON.stringify(step.command)}` +
      ` (prompt ${JSON.stringify(r.line.trim())})`,
  );
  return { level, prompt: r.line.trim() };
}
