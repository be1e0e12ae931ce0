/**
 * The local terminal's settings (termios), read with `tcgetattr(0)` from libc through FFI, as
 * {@link TerminalSettings} by mode name: Deno has no termios API. Linux on x86_64 and aarch64
 * only (both use the generic `struct termios` layout and flag values). Without `--allow-ffi`
 * (for libc), without a terminal on stdin, or elsewhere, it says why and the caller uses
 * defaults. Never prompts for a permission.
 * @module
 */

import { firstLine, platform } from "./mod.ts";
import {
  DISABLED_CHAR,
  type TerminalChar,
  type TerminalFlag,
  type TerminalSettings,
} from "../connection/terminal_modes.ts";

/** The local terminal's settings, or why they could not be read. */
export type LocalTerminal =
  | { settings: TerminalSettings; source: string }
  | { settings: null; reason: string };

/** Where glibc's libc is found on Debian-, Red Hat- and Alpine-like systems (absolute paths). */
const LIBC_PATHS: Record<string, string[]> = {
  x86_64: [
    "/lib/x86_64-linux-gnu/libc.so.6",
    "/usr/lib/x86_64-linux-gnu/libc.so.6",
    "/lib64/libc.so.6",
    "/usr/lib64/libc.so.6",
  ],
  aarch64: [
    "/lib/aarch64-linux-gnu/libc.so.6",
    "/usr/lib/aarch64-linux-gnu/libc.so.6",
    "/lib64/libc.so.6",
    "/usr/lib64/libc.so.6",
  ],
};

const SYMBOLS = {
  tcgetattr: { parameters: ["i32", "buffer"], result: "i32" },
  cfgetispeed: { parameters: ["buffer"], result: "u32" },
  cfgetospeed: { parameters: ["buffer"], result: "u32" },
} as const;

// struct termios (glibc, Linux generic): c_iflag, c_oflag, c_cflag, c_lflag (uint32 each),
// c_line (1 byte), c_cc[32] (from offset 17), c_ispeed, c_ospeed (uint32, from offset 52).
const TERMIOS_SIZE = 60;
const CC_OFFSET = 17;

/** c_cc indexes (asm-generic/termbits.h). Linux has no VDSUSP, VFLUSH, VSWTCH or VSTATUS. */
const CC_INDEX: Partial<Record<TerminalChar, number>> = {
  VINTR: 0,
  VQUIT: 1,
  VERASE: 2,
  VKILL: 3,
  VEOF: 4,
  VSTART: 8,
  VSTOP: 9,
  VSUSP: 10,
  VEOL: 11,
  VREPRINT: 12,
  VDISCARD: 13,
  VWERASE: 14,
  VLNEXT: 15,
  VEOL2: 16,
};

type Field = 0 | 1 | 2 | 3; // c_iflag, c_oflag, c_cflag, c_lflag
const I = 0, O = 1, C = 2, L = 3;

/** Flag bits (octal, asm-generic/termbits.h): field and mask. CS7/CS8 compare CSIZE. */
const FLAG_BITS: Partial<Record<TerminalFlag, [Field, number]>> = {
  IGNPAR: [I, 0o4],
  PARMRK: [I, 0o10],
  INPCK: [I, 0o20],
  ISTRIP: [I, 0o40],
  INLCR: [I, 0o100],
  IGNCR: [I, 0o200],
  ICRNL: [I, 0o400],
  IUCLC: [I, 0o1000],
  IXON: [I, 0o2000],
  IXANY: [I, 0o4000],
  IXOFF: [I, 0o10000],
  IMAXBEL: [I, 0o20000],
  IUTF8: [I, 0o40000],
  ISIG: [L, 0o1],
  ICANON: [L, 0o2],
  XCASE: [L, 0o4],
  ECHO: [L, 0o10],
  ECHOE: [L, 0o20],
  ECHOK: [L, 0o40],
  ECHONL: [L, 0o100],
  NOFLSH: [L, 0o200],
  TOSTOP: [L, 0o400],
  ECHOCTL: [L, 0o1000],
  ECHOKE: [L, 0o4000],
  PENDIN: [L, 0o40000],
  IEXTEN: [L, 0o100000],
  OPOST: [O, 0o1],
  OLCUC: [O, 0o2],
  ONLCR: [O, 0o4],
  OCRNL: [O, 0o10],
  ONOCR: [O, 0o20],
  ONLRET: [O, 0o40],
  PARENB: [C, 0o400],
  PARODD: [C, 0o1000],
};
const CSIZE = 0o60, CS7 = 0o40, CS8 = 0o60;

/** speed_t codes (B0..B4000000) to baud; a value that is no code is taken as baud already. */
const BAUD = [
  0,
  50,
  75,
  110,
  134,
  150,
  200,
  300,
  600,
  1200,
  1800,
  2400,
  4800,
  9600,
  19200,
  38400,
];
const BAUD_EXT = [
  57600,
  115200,
  230400,
  460800,
  500000,
  576000,
  921600,
  1000000,
  1152000,
  1500000,
  2000000,
  2500000,
  3000000,
  3500000,
  4000000,
];

function baud(code: number): number {
  if (code < BAUD.length) return BAUD[code]!;
  if (code >= 0o10001 && code <= 0o10017) return BAUD_EXT[code - 0o10001]!;
  return code;
}

/** Turns a raw `struct termios` (with its speeds) into settings by mode name. Pure. */
export function settingsFromTermios(
  raw: Uint8Array,
  ispeed: number,
  ospeed: number,
): TerminalSettings {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const fields = [0, 4, 8, 12].map((o) => view.getUint32(o, true)) as [
    number,
    number,
    number,
    number,
  ];
  const chars: TerminalSettings["chars"] = {};
  for (const [name, index] of Object.entries(CC_INDEX) as [TerminalChar, number][]) {
    const c = raw[CC_OFFSET + index]!;
    chars[name] = c === 0 ? DISABLED_CHAR : c; // _POSIX_VDISABLE is 0 on Linux
  }
  const flags: TerminalSettings["flags"] = {};
  for (
    const [name, [field, mask]] of Object.entries(FLAG_BITS) as [
      TerminalFlag,
      [Field, number],
    ][]
  ) {
    flags[name] = (fields[field] & mask) !== 0;
  }
  flags.CS7 = (fields[C] & CSIZE) === CS7;
  flags.CS8 = (fields[C] & CSIZE) === CS8;
  return { chars, flags, ispeed: baud(ispeed), ospeed: baud(ospeed) };
}

/** Reads the settings of the terminal on stdin (before it is put in raw mode). */
export function readLocalTerminal(): LocalTerminal {
  try {
    if (!platform.stdin.isTerminal()) return { settings: null, reason: "stdin is not a terminal" };
  } catch (e) {
    return { settings: null, reason: `stdin cannot be checked: ${firstLine(e)}` };
  }
  const paths = platform.build.os === "linux" ? LIBC_PATHS[platform.build.arch] : undefined;
  if (!paths) {
    return {
      settings: null,
      reason: `reading the terminal is implemented for Linux x86_64/aarch64, not ` +
        `${platform.build.os} ${platform.build.arch}`,
    };
  }
  let reason = "libc not found in " + paths.join(", ");
  let allowed = false;
  for (const path of paths) {
    if (!platform.granted({ name: "ffi", path })) continue;
    allowed = true;
    let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
    try {
      lib = platform.dlopen(path, SYMBOLS);
    } catch (e) {
      reason = `${path} not loadable: ${firstLine(e)}`;
      continue;
    }
    try {
      const raw = new Uint8Array(TERMIOS_SIZE);
      if (lib.symbols.tcgetattr(0, raw) !== 0) {
        return { settings: null, reason: "tcgetattr on stdin failed" };
      }
      const settings = settingsFromTermios(
        raw,
        lib.symbols.cfgetispeed(raw),
        lib.symbols.cfgetospeed(raw),
      );
      return { settings, source: `the local terminal (tcgetattr on stdin, ${path})` };
    } catch (e) {
      return { settings: null, reason: `tcgetattr through ${path} failed: ${firstLine(e)}` };
    } finally {
      lib.close();
    }
  }
  if (!allowed) return { settings: null, reason: "no --allow-ffi for libc" };
  return { settings: null, reason };
}
