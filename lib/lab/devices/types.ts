/**
 * What a lab device imitation is made of ({@link DeviceSpec}): its prompts per mode and level,
 * its pager and how it erases it, its paging command, its privilege step (`enable`, `super`)
 * with a secret, its configuration mode, its dialogs, its error lines and its outputs. One
 * engine (lib/lab/devices/cli.ts) runs every spec; each vendor file only describes one.
 * @module
 */

/** The state a prompt is drawn from. */
export interface CliState {
  hostname: string;
  user: string;
  /** The privilege level (IOS 1 at `>`, 15 at `#`; Comware 0-3 or 0-15; VRP 0-15). */
  level: number;
  /** The configuration context: null in exec mode, `""` at the top of config mode. */
  config: string | null;
  /** Commands run so far (EXOS numbers its prompt with it). */
  count: number;
  /** Whether the configuration changed since it was saved (EXOS `* ` prompt, ProCurve logout). */
  changed: boolean;
}

/** What a command prints: lines, then a dialog or nothing. */
export interface Reply {
  lines: string[];
  /** A question asked after the lines; its answer decides what follows. */
  dialog?: Dialog;
  /** Ends the session after the lines. */
  close?: boolean;
}

/** A question the device waits at (no prompt until it is answered). */
export interface Dialog {
  /** Written as is (no line break after it). */
  question: string;
  /** Whether the answer is echoed. @default true */
  echo?: boolean;
  answer(text: string, state: CliState): Reply;
}

/** A vendor's privilege step: `enable [N]`, `super [N]`. */
export interface PrivilegeSpec {
  /** The command word (`enable`, `super`). */
  command: string;
  /** Levels the command accepts (`super 16` is a wrong parameter). */
  min: number;
  max: number;
  /** The level of the command without a number. */
  defaultLevel: number;
  /** Asks for the secret (written as is). */
  secretPrompt: string;
  /** What it prints when the level is reached. */
  reached(level: number): string[];
  /**
   * After a wrong secret: `again` asks once more (up to `tries` in all), then `refused` is
   * printed; devices that do not ask again have `tries` 1.
   */
  tries: number;
  again: string[];
  refused: string[];
}

/** A vendor's configuration mode. */
export interface ConfigSpec {
  /** The command that enters it (needs `level`). */
  enter: string;
  enterReply: string[];
  /** Commands that leave it back to exec mode, with their reply. */
  leave: Record<string, string[]>;
  /**
   * Words a configuration line may start with; the context a line opens (`interface X` →
   * `GigabitEthernet1/0/1`), or undefined to stay. Anything else is an error line.
   */
  words: Record<string, ((args: string) => string | undefined) | null>;
  /** Printed after each accepted line (Junos `[edit]`). */
  lineReply?: string[];
  /** Lines starting with a known word that are still rejected (Junos `set bogus`). */
  reject?: RegExp;
}

/** One device imitation. */
export interface DeviceSpec {
  /** The `send --device` preset it imitates. */
  device: string;
  hostname: string;
  /** The SSH version line (and the auth banner) of its lab profile. */
  versionLine: string;
  banner: string | null;
  /** A screen that waits for any key before anything else (ProCurve). */
  anyKey?: string;
  /** A menu shown after the any-key screen; the key typed at it, and what that leads to. */
  menu?: { screen: string; cliKey: string };
  greeting: string[];
  /** The level a login starts at. */
  startLevel: number;
  prompt(state: CliState): string;
  pager: string;
  /** What erases the pager after a key. */
  erase: string;
  /** The command that turns paging off and its reply, or null (pager answered). */
  pagingOff: { command: string; reply: string[] } | null;
  /** Commands that end the session (in exec mode); `logoutDialog` may ask first. */
  logout: string[];
  logoutDialog?: (state: CliState) => Reply;
  privilege: PrivilegeSpec | null;
  /** The level configuration mode and `gated` commands need. */
  configLevel: number;
  config: ConfigSpec | null;
  /** Commands (exact) that need `configLevel`; others run at any level. */
  gated: string[];
  /** The lines by which the device rejects `line` (the prompt's width places a `^`). */
  error(line: string, prompt: string): string[];
  /** Output of exec-mode commands (exact, spaces squashed). */
  commands: Record<string, (state: CliState) => Reply>;
}

/** `n` backspaces, blanks, backspaces: how IOS and Comware erase a pager. */
export function backspaceErase(n: number): string {
  return "\b".repeat(n) + " ".repeat(n) + "\b".repeat(n);
}

/** The `^` line under the first word of `line` typed after `prompt`. */
export function caretLine(line: string, prompt: string): string {
  return " ".repeat(prompt.length + (line.trim().split(/\s+/)[0]?.length ?? 0)) + "^";
}
