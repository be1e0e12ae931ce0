/**
 * Device presets for driving a shell: the prompt styles each vendor uses, its command to turn
 * paging off, how it says a command was not understood, and how to log out. `auto` picks one
 * from the first prompt and the server's texts (lib/send/detect.ts).
 * @module
 */

import type { PromptStyle } from "./prompt.ts";

/** The devices `send` knows. */
export type DeviceName =
  | "comware"
  | "huawei"
  | "cisco"
  | "asa"
  | "eos"
  | "os10"
  | "junos"
  | "routeros"
  | "fortios"
  | "exos"
  | "procurve"
  | "linux";

/** What the caller may ask for: a device, or detection. */
export type DeviceChoice = DeviceName | "auto";

/** Every device, in the order detection tries them (the more specific of a style first). */
export const DEVICE_NAMES: readonly DeviceName[] = [
  "comware",
  "huawei",
  "asa",
  "eos",
  "os10",
  "cisco",
  "junos",
  "routeros",
  "fortios",
  "exos",
  "procurve",
  "linux",
];

export interface DevicePreset {
  name: DeviceName;
  /** For people: e.g. `H3C / HPE Comware`. */
  label: string;
  /** Prompt styles this device shows (the first prompt must match one of them). */
  styles: readonly PromptStyle[];
  /** The command that turns paging off for this session, or null (answer pagers instead). */
  disablePaging: string | null;
  /** The command that ends the session. */
  logout: string;
  /** Words in a version line, banner or greeting that point to this device. */
  hint: RegExp;
  /** A first prompt that can only be this device (ASA's `name/pri/act>`), if any. */
  promptHint?: RegExp;
  /**
   * Whether the device says "not understood / not allowed" in lines of its own (see
   * {@link findErrorLine}); a Unix shell does not (its commands print what they like).
   */
  errorLines: boolean;
  /** How to raise the privilege level (`--enable`), or null when no step is needed. */
  privilege: PrivilegePreset | null;
  /** Configuration mode (`--config`), or null when the device has none. */
  config: ConfigPreset | null;
}

/** A vendor's configuration mode: the commands that enter it, leave it and save. */
export interface ConfigPreset {
  enter: string;
  /** Leaves configuration mode (Junos: commits too, since nothing applies without a commit). */
  exit: string;
  /** Saves the running configuration (`--save`), or null when `exit` already does. */
  save: string | null;
}

/** A vendor's privilege step: `enable` (IOS), `super` (Comware, VRP). */
export interface PrivilegePreset {
  command: string;
  /** The command that asks for one level (`--enable-level N`): `enable 15`, `super 3`. */
  commandFor(level: number): string;
  /**
   * The level the step reached, from its reply and the prompt after it (`asked`: the level
   * requested, if any); null if unknown.
   */
  level(reply: string, prompt: string, asked: number | null): number | null;
  /** Whether the reply and prompt show the level was raised. */
  raised(reply: string, prompt: string): boolean;
}

/**
 * IOS-style `enable [N]`: the prompt ends in `#` above level 1, so the level is the one asked
 * for (15 without a number).
 */
const ENABLE: PrivilegePreset = {
  command: "enable",
  commandFor: (level) => `enable ${level}`,
  level: (_reply, prompt, asked) => prompt.trim().endsWith("#") ? asked ?? 15 : null,
  raised: (reply, prompt) =>
    prompt.trim().endsWith("#") && findErrorLine(reply) === null && !PRIVILEGE_REFUSED.test(reply),
};

/** IOS-style configuration mode. */
const IOS_CONFIG: ConfigPreset = {
  enter: "configure terminal",
  exit: "end",
  save: "write memory",
};

/** Comware `User privilege level is 3, ...`, VRP `Now user privilege is level 15, ...`. */
function superLevel(reply: string): number | null {
  const m = /privilege (?:level is|is level) (\d+)/i.exec(reply);
  return m ? Number(m[1]) : null;
}

/** Comware / VRP `super [N]`: the reply names the level reached. */
const SUPER: PrivilegePreset = {
  command: "super",
  commandFor: (level) => `super ${level}`,
  level: (reply, _prompt, asked) => superLevel(reply) ?? asked,
  raised: (reply) => findErrorLine(reply) === null && !PRIVILEGE_REFUSED.test(reply),
};

export const DEVICES: Readonly<Record<DeviceName, DevicePreset>> = {
  comware: {
    name: "comware",
    label: "H3C / HPE Comware",
    styles: ["bracket"],
    disablePaging: "screen-length disable",
    logout: "quit",
    hint: /comware|\bh3c\b|3com/i,
    errorLines: true,
    privilege: SUPER,
    config: { enter: "system-view", exit: "return", save: "save force" },
  },
  huawei: {
    name: "huawei",
    label: "Huawei VRP",
    styles: ["bracket"],
    disablePaging: "screen-length 0 temporary",
    logout: "quit",
    hint: /huawei|\bvrp\b|quidway/i,
    errorLines: true,
    privilege: SUPER,
    // VRP's `save` asks "Continue? [Y/N]:": a built-in dialog answer says Y.
    config: { enter: "system-view", exit: "return", save: "save" },
  },
  cisco: {
    name: "cisco",
    label: "Cisco IOS",
    styles: ["cisco"],
    disablePaging: "terminal length 0",
    logout: "exit",
    hint: /cisco/i,
    errorLines: true,
    privilege: ENABLE,
    config: IOS_CONFIG,
  },
  asa: {
    name: "asa",
    label: "Cisco ASA",
    styles: ["cisco"],
    disablePaging: "terminal pager 0",
    logout: "exit",
    hint: /adaptive security appliance|\basa\b/i,
    promptHint: /\/(?:pri|sec)\/(?:act|stby)[>#]$|\/act[>#]$/,
    errorLines: true,
    privilege: ENABLE,
    config: IOS_CONFIG,
  },
  eos: {
    name: "eos",
    label: "Arista EOS",
    styles: ["cisco"],
    disablePaging: "terminal length 0",
    logout: "exit",
    hint: /arista|\beos\b/i,
    errorLines: true,
    privilege: ENABLE,
    config: IOS_CONFIG,
  },
  os10: {
    name: "os10",
    label: "Dell OS10",
    styles: ["cisco"],
    disablePaging: "terminal length 0",
    logout: "exit",
    hint: /\bos10\b|dell emc networking/i,
    errorLines: true,
    // OS10's admin role logs in at `#`.
    privilege: null,
    config: IOS_CONFIG,
  },
  junos: {
    name: "junos",
    label: "Juniper Junos",
    styles: ["junos"],
    disablePaging: "set cli screen-length 0",
    logout: "exit",
    hint: /junos|juniper/i,
    errorLines: true,
    // Junos logs a user in at the class's level: there is nothing to raise.
    privilege: null,
    config: { enter: "configure", exit: "commit and-quit", save: null },
  },
  routeros: {
    name: "routeros",
    label: "MikroTik RouterOS",
    styles: ["routeros"],
    // No paging command: answer `-- [Q quit|D dump|down]`.
    disablePaging: null,
    logout: "/quit",
    hint: /mikrotik|routeros|rosssh/i,
    errorLines: true,
    privilege: null,
    config: null,
  },
  fortios: {
    name: "fortios",
    label: "Fortinet FortiOS",
    styles: ["spaced"],
    // Paging is a console setting (`config system console`), not per session: answer --More--.
    disablePaging: null,
    logout: "exit",
    hint: /forti(?:os|gate|net|ssh)/i,
    errorLines: true,
    privilege: null,
    config: null,
  },
  exos: {
    name: "exos",
    label: "Extreme EXOS",
    styles: ["spaced"],
    disablePaging: "disable clipaging",
    logout: "exit",
    hint: /extremexos|\bexos\b|extreme networks/i,
    errorLines: true,
    privilege: null,
    config: null,
  },
  procurve: {
    name: "procurve",
    label: "HPE ProCurve / Aruba-OS",
    // `HP-2530-48G# `, `HP-2530-48G(config)# `: the shell style, told apart by the banner (a
    // "Press any key to continue" screen, answered with a space like a pager).
    styles: ["shell"],
    disablePaging: "no page",
    logout: "logout",
    hint: /procurve|aruba|hewlett-packard|\bHP J\d{4}/i,
    errorLines: true,
    privilege: null,
    config: { enter: "configure terminal", exit: "end", save: "write memory" },
  },
  linux: {
    name: "linux",
    label: "Unix",
    styles: ["shell"],
    disablePaging: null,
    logout: "exit",
    hint: /openssh|dropbear|linux|ubuntu|debian/i,
    errorLines: false,
    privilege: null,
    config: null,
  },
};

/**
 * A line by which a device says it did not understand or allow a command: Comware
 * ` % Unrecognized command found at '^' position.` / `% Incomplete command ...` / `% Too many
 * parameters ...` / `% Wrong parameter ...`, VRP `Error: Unrecognized command ...`, IOS / EOS
 * `% Invalid input detected at '^' marker.` / `% Ambiguous command:` / `% Bad secrets` /
 * `% Authorization failed.`, Junos `syntax error, expecting <command>.` / `unknown command.` /
 * `error: ...`, OS10 `% Error: Unrecognized command.`, EXOS `%% Invalid input ...`, RouterOS `bad command name x (line 1 column 1)` /
 * `expected end of command ...` / `failure: ...`, FortiOS `Unknown action 0` / `command parse
 * error before 'x'` / `Command fail. Return code -61`, ProCurve `Invalid input: x`.
 */
const ERROR_LINE =
  /^\s*(?:%+\s*(?:error:|invalid input|incomplete command|ambiguous command|unrecognized command|unknown command|too many parameters|wrong parameter|bad secrets?|access denied|permission denied|authorization failed|not authorized)|error:|invalid input:|syntax error|unknown command|bad command name|expected end of command|failure:|unknown action|command parse error|command fail\.)/i;

/**
 * Replies to a wrong enable / super secret: IOS `% Bad secrets` / `% Access denied`, Comware
 * ` % Password is wrong.`, VRP `Error: Password is wrong.` / `Error: Authentication failed.`.
 */
export const PRIVILEGE_REFUSED =
  /bad secrets?|access denied|password is wrong|wrong password|authentication failed|permission denied/i;

/** How devices ask for the enable / super secret. */
export const SECRET_PROMPT = /(?:password|secret)\s*:\s*$/i;

/** The `^` marker line devices print under the word they could not parse. */
const CARET_LINE = /^\s*\^\s*$/;

/**
 * The line of `output` by which the device rejected the command (trimmed), or null: the first
 * error line of the vendors' grammar above, else the line after a lone `^` marker line.
 */
export function findErrorLine(output: string): string | null {
  const lines = output.split("\n");
  const hit = lines.find((l) => ERROR_LINE.test(l));
  if (hit !== undefined) return hit.trim();
  const caret = lines.findIndex((l) => CARET_LINE.test(l));
  if (caret < 0) return null;
  return lines.slice(caret + 1).find((l) => l.trim() !== "")?.trim() ?? "^";
}

/**
 * Whether the prompt shows the privileged level: `name#` on IOS-like devices (`name>` is user
 * EXEC, where most `show` commands are refused); null when the prompt does not tell.
 */
export function privilegedPrompt(device: DeviceName, prompt: string): boolean | null {
  if (DEVICES[device].privilege?.command !== "enable") return null;
  const p = prompt.trim();
  return p.endsWith("#") ? true : p.endsWith(">") ? false : null;
}
