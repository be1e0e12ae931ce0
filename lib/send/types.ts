/**
 * What `send`'s engine takes and gives: {@link SendOptions}, each {@link CommandResult} and the
 * {@link SendResult} of a whole run.
 * @module
 */

import type { Tracer } from "../trace.ts";
import type { DeviceChoice, DeviceName } from "./devices.ts";
import type { DeviceHint } from "./detect.ts";
import type { DialogRule } from "./dialogs.ts";
import type { SecretSource } from "./privilege.ts";
import type { TranscriptSink } from "./transcript.ts";

/** Options of `runShell()` (lib/send/engine.ts). */
export interface SendOptions {
  /** The commands, in order. */
  commands: readonly string[];
  /** @default "auto" */
  device?: DeviceChoice;
  /**
   * Texts that may name the vendor, for `auto` (and to notice a wrong `device`): the server's
   * version line (`SSH-1.99-Comware-5.20`), the auth banner, a KEXINIT hint (lib/send/detect.ts
   * `kexHint`). A plain string's source is "version line" (the first) or "server text". The
   * shell's greeting is added automatically.
   */
  hints?: readonly (string | DeviceHint)[];
  /** Recognise the prompt with this pattern (tested on the last line) instead of presets. */
  promptPattern?: RegExp;
  /** Send the device's paging command first (else only answer pagers). @default true */
  disablePaging?: boolean;
  /** Log out at the end with the device's command. @default true */
  logout?: boolean;
  /** Limit for the first prompt. @default 15000 */
  promptTimeoutMs?: number;
  /** Limit for each command, from sending it to its prompt. @default 30000 */
  commandTimeoutMs?: number;
  /**
   * Most bytes the shell may send between two prompts (the greeting, one command's output):
   * output is kept until its prompt comes, so past this reading stops and the run fails with
   * `session.output-too-large` instead of growing without bound. @default 64 MiB
   */
  maxOutputBytes?: number;
  /** How long to wait for the shell to close after the logout command. @default 3000 */
  logoutTimeoutMs?: number;
  /** A prompt that only fits the generic style is accepted after this much quiet. @default 300 */
  settleMs?: number;
  /** With no prompt yet, press Enter once after this much quiet. @default 2000 */
  nudgeMs?: number;
  /** What Enter sends. @default "\r" */
  newline?: string;
  /** Encoding used for the `output` strings (bytes are never changed). @default "utf-8" */
  encoding?: string;
  /**
   * Raise the privilege level first with the device's command (`enable`, `super`; see
   * {@link DevicePreset.privilege}); fails with `session.privilege-failed`. @default false
   */
  enable?: boolean;
  /**
   * With `enable`: ask for this level (`super 3` on Comware, `super 15` on VRP, `enable 15` on
   * IOS) instead of the command's default; reaching another level fails the step.
   */
  enableLevel?: number;
  /** The enable / super secret, asked for only when the device prompts for one. */
  enableSecret?: SecretSource;
  /**
   * Run the commands in the device's configuration mode (`system-view`, `configure terminal`,
   * `configure`), leaving it after them (Junos: `commit and-quit`). @default false
   */
  config?: boolean;
  /** With `config`: save afterwards (`save force`, `save`, `write memory`). @default false */
  save?: boolean;
  /** Records what is typed and printed (see lib/send/transcript.ts). */
  transcript?: TranscriptSink;
  /** The caller's dialog rules (`--answer`), tried before the built-in ones. */
  answers?: readonly DialogRule[];
  /** Answer the usual dialogs (lib/send/dialogs.ts). @default true */
  builtInDialogs?: boolean;
  /**
   * Called with each command's result as soon as its prompt is back, so a caller keeps (and can
   * print) every completed output even when a later command fails.
   */
  onCommand?: (result: CommandResult, index: number) => void;
  tracer?: Tracer;
}

/** How a command went: ran, or ran and the device printed an error line for it. */
export type CommandStatus = "ok" | "rejected";

/** One command's result. */
export interface CommandResult {
  command: string;
  /** The output decoded with replacement (`\n` line breaks). */
  output: string;
  /** The output bytes, as the device sent them (less echo, pagers and prompt; `\n` breaks). */
  bytes: Uint8Array;
  /** From sending the command to seeing the prompt. */
  ms: number;
  /** Pager prompts answered during this command. */
  pagers: number;
  /** Dialogs answered during this command. */
  dialogs: number;
  status: CommandStatus;
  /** The device's error line (`% Invalid input detected at '^' marker.`) when rejected. */
  errorLine: string | null;
}

/** How long output was kept from pausing. */
export type PagingMode = "disabled" | "answering-pagers";

export interface SendResult {
  device: DeviceName;
  /** Why this device: `given` or what detection saw. */
  deviceReason: string;
  /**
   * What detection saw, one line each (prompt style, vendor named in the version line, banner,
   * greeting, KEXINIT); for a given device, the texts that name another, if any.
   */
  deviceEvidence: string[];
  /** The first prompt, e.g. `<H3C>`. */
  prompt: string;
  /**
   * Whether the prompt (after `enable`, if asked) shows the privileged level (`#` on IOS); null
   * when it does not tell.
   */
  privileged: boolean | null;
  /** The level `enable` reached (15 for IOS, Comware's `super` reply), or null. */
  privilegeLevel: number | null;
  /** What the shell printed before the first prompt (decoded). */
  greeting: string;
  paging: PagingMode;
  commands: CommandResult[];
  /** True when the shell closed after the logout command. */
  loggedOut: boolean;
}
