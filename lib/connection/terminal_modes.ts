/**
 * Encoded terminal modes of a pty-req (RFC 4254 §8, IUTF8 from RFC 8160): the opcode table,
 * the settings of a terminal described by mode name, the defaults of a sane Linux terminal
 * (`stty sane`), and encoding and decoding. Pure: reading the local terminal is the platform's
 * job (lib/platform/termios.ts).
 *
 * Like OpenSSH (ttymodes.c) the client sends the output and input speeds first, then every
 * control character and flag it knows, in opcode order; a disabled control character is 255.
 * @module
 */

import { SshReader, SshWriter } from "../wire/buffer.ts";
import { SshError } from "../errors/mod.ts";

/** Control-character opcodes (value: the character code, 255 = disabled). */
export const TERMINAL_CHARS = {
  VINTR: 1,
  VQUIT: 2,
  VERASE: 3,
  VKILL: 4,
  VEOF: 5,
  VEOL: 6,
  VEOL2: 7,
  VSTART: 8,
  VSTOP: 9,
  VSUSP: 10,
  VDSUSP: 11,
  VREPRINT: 12,
  VWERASE: 13,
  VLNEXT: 14,
  VFLUSH: 15,
  VSWTCH: 16,
  VSTATUS: 17,
  VDISCARD: 18,
} as const;

/** Flag opcodes (value: 1 on, 0 off). */
export const TERMINAL_FLAGS = {
  IGNPAR: 30,
  PARMRK: 31,
  INPCK: 32,
  ISTRIP: 33,
  INLCR: 34,
  IGNCR: 35,
  ICRNL: 36,
  IUCLC: 37,
  IXON: 38,
  IXANY: 39,
  IXOFF: 40,
  IMAXBEL: 41,
  IUTF8: 42,
  ISIG: 50,
  ICANON: 51,
  XCASE: 52,
  ECHO: 53,
  ECHOE: 54,
  ECHOK: 55,
  ECHONL: 56,
  NOFLSH: 57,
  TOSTOP: 58,
  IEXTEN: 59,
  ECHOCTL: 60,
  ECHOKE: 61,
  PENDIN: 62,
  OPOST: 70,
  OLCUC: 71,
  ONLCR: 72,
  OCRNL: 73,
  ONOCR: 74,
  ONLRET: 75,
  CS7: 90,
  CS8: 91,
  PARENB: 92,
  PARODD: 93,
} as const;

export type TerminalChar = keyof typeof TERMINAL_CHARS;
export type TerminalFlag = keyof typeof TERMINAL_FLAGS;

/** Every terminal mode opcode by name: control characters, flags and the two speeds. */
export const TERMINAL_MODES: Readonly<Record<string, number>> = {
  ...TERMINAL_CHARS,
  ...TERMINAL_FLAGS,
  TTY_OP_ISPEED: 128,
  TTY_OP_OSPEED: 129,
};

/** TTY_OP_END: terminates the encoded terminal modes. */
export const TTY_OP_END = 0;

/** A disabled control character on the wire. */
export const DISABLED_CHAR = 255;

/** A terminal's settings by mode name, as the local terminal has them (or the defaults). */
export interface TerminalSettings {
  /** Control characters that exist on this platform (255: disabled). */
  chars: Partial<Record<TerminalChar, number>>;
  /** Flags that exist on this platform. */
  flags: Partial<Record<TerminalFlag, boolean>>;
  /** Baud rates. */
  ispeed: number;
  ospeed: number;
}

/**
 * A standard Linux terminal after `stty sane` in a UTF-8 locale: ^C ^\ ^? ^U ^D, ^Q/^S flow
 * control, ^Z, ^R ^W ^V ^O; CR read as NL, NL written as CR NL; canonical input with echo and
 * signals; 8 bits; 38400 baud. Used when the local terminal cannot be read.
 */
export const DEFAULT_TERMINAL_SETTINGS: Readonly<TerminalSettings> = Object.freeze({
  chars: {
    VINTR: 0x03,
    VQUIT: 0x1c,
    VERASE: 0x7f,
    VKILL: 0x15,
    VEOF: 0x04,
    VEOL: DISABLED_CHAR,
    VEOL2: DISABLED_CHAR,
    VSTART: 0x11,
    VSTOP: 0x13,
    VSUSP: 0x1a,
    VREPRINT: 0x12,
    VWERASE: 0x17,
    VLNEXT: 0x16,
    VDISCARD: 0x0f,
  },
  flags: {
    IGNPAR: false,
    PARMRK: false,
    INPCK: false,
    ISTRIP: false,
    INLCR: false,
    IGNCR: false,
    ICRNL: true,
    IUCLC: false,
    IXON: true,
    IXANY: false,
    IXOFF: false,
    IMAXBEL: true,
    IUTF8: true,
    ISIG: true,
    ICANON: true,
    XCASE: false,
    ECHO: true,
    ECHOE: true,
    ECHOK: true,
    ECHONL: false,
    NOFLSH: false,
    TOSTOP: false,
    IEXTEN: true,
    ECHOCTL: true,
    ECHOKE: true,
    PENDIN: false,
    OPOST: true,
    OLCUC: false,
    ONLCR: true,
    OCRNL: false,
    ONOCR: false,
    ONLRET: false,
    CS7: false,
    CS8: true,
    PARENB: false,
    PARODD: false,
  },
  ispeed: 38400,
  ospeed: 38400,
});

/**
 * The modes of `settings` by name, in the order OpenSSH sends them: output and input speed,
 * then the control characters and flags in opcode order (ready for {@link encodeTerminalModes}).
 */
export function terminalModes(settings: TerminalSettings): Record<string, number> {
  const modes: Record<string, number> = {
    TTY_OP_OSPEED: settings.ospeed,
    TTY_OP_ISPEED: settings.ispeed,
  };
  for (const name of Object.keys(TERMINAL_CHARS) as TerminalChar[]) {
    const c = settings.chars[name];
    if (c !== undefined) modes[name] = c;
  }
  for (const name of Object.keys(TERMINAL_FLAGS) as TerminalFlag[]) {
    const f = settings.flags[name];
    if (f !== undefined) modes[name] = f ? 1 : 0;
  }
  return modes;
}

/**
 * Encodes terminal modes for a pty-req (RFC 4254 §8): opcode byte + uint32 value per entry, in
 * the order given, then TTY_OP_END. Unknown names or values outside uint32 are usage errors.
 */
export function encodeTerminalModes(modes: Record<string, number>): Uint8Array {
  const w = new SshWriter(Object.keys(modes).length * 5 + 1);
  for (const [name, value] of Object.entries(modes)) {
    const opcode = TERMINAL_MODES[name.toUpperCase()];
    if (opcode === undefined) {
      throw new SshError(
        "usage",
        "usage.unknown-terminal-mode",
        `unknown terminal mode "${name}" (expected a name such as ECHO, ICANON or TTY_OP_ISPEED)`,
        { mode: name },
      );
    }
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new SshError(
        "usage",
        "usage.invalid-terminal-mode",
        `terminal mode ${name} needs a whole number from 0 to 4294967295, not ${value}`,
        { mode: name, value },
      );
    }
    w.byte(opcode).uint32(value);
  }
  return w.byte(TTY_OP_END).bytes();
}

/** The encoded modes of `settings` (speeds, control characters, flags; OpenSSH's order). */
export function encodeTerminalSettings(settings: TerminalSettings): Uint8Array {
  return encodeTerminalModes(terminalModes(settings));
}

const NAMES_BY_OPCODE = new Map(Object.entries(TERMINAL_MODES).map(([name, op]) => [op, name]));

/** Decoded terminal modes: known ones by name, unknown opcodes (1..159) by number. */
export interface DecodedTerminalModes {
  modes: Record<string, number>;
  unknown: number[];
}

/**
 * Decodes the modes of a pty-req. As RFC 4254 §8 says, parsing stops at TTY_OP_END or at the
 * first opcode of 160 or more (whose argument format is not defined); an opcode 1..159 always
 * carries a uint32. Throws `WireError` when an argument is cut short.
 */
export function decodeTerminalModes(bytes: Uint8Array): DecodedTerminalModes {
  const r = new SshReader(bytes, "terminal modes");
  const modes: Record<string, number> = {};
  const unknown: number[] = [];
  while (r.remaining) {
    const op = r.byte();
    if (op === TTY_OP_END || op >= 160) break;
    const value = r.uint32("terminal mode value");
    const name = NAMES_BY_OPCODE.get(op);
    if (name) modes[name] = value;
    else unknown.push(op);
  }
  return { modes, unknown };
}
