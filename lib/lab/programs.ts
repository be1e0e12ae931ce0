/**
 * What runs inside a lab session: a few built-in commands for `exec` (no real shell, no file
 * system, nothing of the host is reachable), the line reader of every shell, the tiny prompt
 * shell of the modern profile, and the line discipline of an emulated pty. The device
 * imitations (the old-switch profile's Comware, and the `device-*` profiles) are in
 * lib/lab/devices/.
 * @module
 */

/** The terminal a client asked for with pty-req. */
export interface PtyInfo {
  term: string;
  cols: number;
  rows: number;
  /** The encoded terminal modes of the request, decoded (RFC 4254 §8 names). */
  modes: Record<string, number>;
  /**
   * True when the server emulates the terminal from those modes (config `terminal: "emulated"`,
   * as Apache MINA SSHD does): programs then see and write bare LF, and only the modes turn
   * Enter (CR) into LF (ICRNL) and LF into CR LF (OPOST + ONLCR).
   */
  emulated?: boolean;
}

const CHAR_NAMES: [string, string][] = [
  ["VINTR", "intr"],
  ["VQUIT", "quit"],
  ["VERASE", "erase"],
  ["VKILL", "kill"],
  ["VEOF", "eof"],
  ["VEOL", "eol"],
  ["VEOL2", "eol2"],
  ["VSTART", "start"],
  ["VSTOP", "stop"],
  ["VSUSP", "susp"],
  ["VREPRINT", "rprnt"],
  ["VWERASE", "werase"],
  ["VLNEXT", "lnext"],
  ["VDISCARD", "discard"],
];

/** `^C`, `^?`, `<undef>` (255): a control character as stty shows it. */
function showChar(c: number): string {
  if (c === 255) return "<undef>";
  if (c === 0x7f) return "^?";
  if (c < 0x20) return "^" + String.fromCharCode(c + 0x40);
  return String.fromCharCode(c);
}

/** The pty's modes as `stty -a` prints them: speed, control characters, then flags. */
export function sttyLines(pty: PtyInfo): string[] {
  const m = pty.modes;
  const speed = m.TTY_OP_OSPEED ?? m.TTY_OP_ISPEED;
  const lines = [
    `speed ${speed ?? "unknown"} baud; rows ${pty.rows}; columns ${pty.cols};`,
    CHAR_NAMES.filter(([n]) => n in m).map(([n, s]) => `${s} = ${showChar(m[n]!)};`).join(" "),
  ];
  const flags = Object.keys(m).filter((n) => !n.startsWith("V") && !n.startsWith("TTY_OP"));
  lines.push(flags.map((n) => `${m[n] ? "" : "-"}${n.toLowerCase()}`).join(" "));
  return lines;
}

/** A program's view of its session channel. */
export interface ProgramIo {
  /** Writes to the client (stdout); waits for the client's window. */
  write(data: Uint8Array | string): Promise<void>;
  /** Writes to stderr (extended data 1). */
  writeErr(data: Uint8Array | string): Promise<void>;
  /** The next chunk of input, or null at EOF. */
  read(): Promise<Uint8Array | null>;
  readonly pty: PtyInfo | null;
  readonly user: string;
  readonly hostname: string;
  /** Waits `ms` milliseconds (less if the channel closes). */
  sleep(ms: number): Promise<void>;
}

/**
 * A pty emulated from the client's terminal modes (config `terminal: "emulated"`), as MINA
 * SSHD does: input CR becomes LF only with ICRNL (IGNCR drops it, INLCR turns LF into CR);
 * output LF becomes CR LF only with OPOST and ONLCR. Echo is the program's (on a pty).
 */
export function lineDiscipline(io: ProgramIo): ProgramIo {
  const m = io.pty?.modes ?? {};
  const mapOut = (d: Uint8Array | string): Uint8Array | string => {
    if (!(m.OPOST && m.ONLCR)) return d;
    const bytes = typeof d === "string" ? new TextEncoder().encode(d) : d;
    const out: number[] = [];
    for (const b of bytes) b === 0x0a ? out.push(0x0d, 0x0a) : out.push(b);
    return new Uint8Array(out);
  };
  return {
    ...io,
    get pty() {
      return io.pty;
    },
    write: (d) => io.write(mapOut(d)),
    writeErr: (d) => io.writeErr(mapOut(d)),
    read: async () => {
      const chunk = await io.read();
      if (chunk === null) return null;
      const out: number[] = [];
      for (const b of chunk) {
        if (b === 0x0d) {
          if (m.IGNCR) continue;
          out.push(m.ICRNL ? 0x0a : 0x0d);
        } else if (b === 0x0a && m.INLCR) out.push(0x0d);
        else out.push(b);
      }
      return new Uint8Array(out);
    },
  };
}

/** Runs until done and returns the exit status; null closes the channel without one. */
export type Program = (io: ProgramIo) => Promise<number | null>;

/** The most bytes `head -c` produces (keeps a typo from streaming forever). */
export const HEAD_LIMIT = 256 * 1024 * 1024;

/** Splits a command line into words: whitespace, '...' and "..." quoting, backslash escapes. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let current = "";
  let inWord = false;
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === "\\" && quote === '"' && i + 1 < line.length) current += line[++i];
      else current += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < line.length) {
      current += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(current);
      current = "";
      inWord = false;
    } else {
      current += c;
      inWord = true;
    }
  }
  if (inWord) words.push(current);
  return words;
}

/** Splits on `;` and `&&` outside quotes; each part says whether it runs only after success. */
function splitCommands(line: string): { text: string; onlyIfOk: boolean }[] {
  const parts: { text: string; onlyIfOk: boolean }[] = [];
  let quote: string | null = null;
  let start = 0;
  let onlyIfOk = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === ";" || (c === "&" && line[i + 1] === "&")) {
      parts.push({ text: line.slice(start, i), onlyIfOk });
      onlyIfOk = c === "&";
      if (c === "&") i++;
      start = i + 1;
    }
  }
  parts.push({ text: line.slice(start), onlyIfOk });
  return parts.filter((p) => p.text.trim() !== "");
}

const UNAME: Record<string, (io: ProgramIo) => string> = {
  s: () => "Linux",
  n: (io) => io.hostname,
  r: () => "6.1.0-sshtrace-lab",
  v: () => "#1 SMP sshtrace lab server",
  m: () => "x86_64",
  o: () => "GNU/Linux",
};

/** `uname` with -s -n -r -v -m -o -a. */
function uname(args: string[], io: ProgramIo): string | null {
  let flags = "";
  for (const a of args) {
    if (!/^-[snrvmoa]+$/.test(a)) return null;
    flags += a.slice(1);
  }
  if (flags.includes("a")) flags = "snrvmo";
  if (!flags) flags = "s";
  return [..."snrvmo"].filter((f) => flags.includes(f)).map((f) => UNAME[f]!(io)).join(" ");
}

export const HELP_TEXT = [
  "Built-in commands of the sshtrace lab server:",
  "  echo [-n] TEXT...     print TEXT",
  "  uname [-a|-snrvmo]    system name",
  "  whoami, hostname      who and where you are",
  "  true, false           exit 0 / exit 1",
  "  cat                   copy input to output",
  "  head -c N /dev/zero   N zero bytes",
  "  sleep SECONDS         wait (at most 60 s)",
  "  stty                  the pty's terminal modes, as the client sent them",
  "  exit [N]              leave with status N",
  "  help                  this text",
];

/** Result of one built-in command: an exit status, or `exit` to end the shell. */
type Outcome = { status: number; exit?: boolean };

/**
 * Runs one simple command. `newline` is how lines end (`\r\n` on a pty). Commands that read
 * input (`cat`) only work in exec.
 */
async function runSimple(
  words: string[],
  io: ProgramIo,
  newline: string,
  canReadInput: boolean,
): Promise<Outcome> {
  const [name, ...args] = words;
  const line = (text: string) => io.write(text + newline);
  switch (name) {
    case "true":
      return { status: 0 };
    case "false":
      return { status: 1 };
    case "echo": {
      const noNewline = args[0] === "-n";
      const text = (noNewline ? args.slice(1) : args).join(" ");
      await io.write(noNewline ? text : text + newline);
      return { status: 0 };
    }
    case "uname": {
      const out = uname(args, io);
      if (out === null) {
        await io.writeErr(`uname: invalid option${newline}`);
        return { status: 1 };
      }
      await line(out);
      return { status: 0 };
    }
    case "whoami":
      await line(io.user);
      return { status: 0 };
    case "id":
      if (args.join(" ") === "-un") {
        await line(io.user);
        return { status: 0 };
      }
      await line(`uid=1000(${io.user}) gid=1000(${io.user}) groups=1000(${io.user})`);
      return { status: 0 };
    case "hostname":
      await line(io.hostname);
      return { status: 0 };
    case "stty": {
      if (!io.pty) {
        await io.writeErr(`stty: 'standard input': Inappropriate ioctl for device${newline}`);
        return { status: 1 };
      }
      for (const l of sttyLines(io.pty)) await line(l);
      return { status: 0 };
    }
    case "help":
      for (const l of HELP_TEXT) await line(l);
      return { status: 0 };
    case "sleep": {
      const s = Number(args[0]);
      if (!Number.isFinite(s) || s < 0) {
        await io.writeErr(`sleep: invalid time interval${newline}`);
        return { status: 1 };
      }
      await io.sleep(Math.min(s, 60) * 1000);
      return { status: 0 };
    }
    case "exit": {
      const n = args.length ? Number(args[0]) : 0;
      return { status: Number.isInteger(n) ? ((n % 256) + 256) % 256 : 2, exit: true };
    }
    case "cat": {
      if (args.length) {
        await io.writeErr(`cat: ${args[0]}: No such file or directory${newline}`);
        return { status: 1 };
      }
      if (!canReadInput) return { status: 0 };
      for (;;) {
        const chunk = await io.read();
        if (chunk === null) return { status: 0 };
        await io.write(chunk);
      }
    }
    case "head": {
      const m = args.length === 3 && args[0] === "-c" && args[2] === "/dev/zero"
        ? /^\d+$/.exec(args[1]!)
        : null;
      if (!m) {
        await io.writeErr(`head: only "head -c N /dev/zero" is built in${newline}`);
        return { status: 1 };
      }
      let left = Math.min(Number(args[1]), HEAD_LIMIT);
      const block = new Uint8Array(64 * 1024);
      while (left > 0) {
        const n = Math.min(left, block.length);
        await io.write(block.subarray(0, n));
        left -= n;
      }
      return { status: 0 };
    }
    default:
      await io.writeErr(`sh: ${name}: command not found${newline}`);
      return { status: 127 };
  }
}

/** Runs a command line (`a; b && c`) of built-ins; returns the last status. */
export async function runCommandLine(
  line: string,
  io: ProgramIo,
  newline: string,
  canReadInput: boolean,
): Promise<Outcome> {
  let last: Outcome = { status: 0 };
  for (const part of splitCommands(line)) {
    if (part.onlyIfOk && last.status !== 0) continue;
    const words = splitWords(part.text);
    if (!words.length) continue;
    last = await runSimple(words, io, newline, canReadInput);
    if (last.exit) return last;
  }
  return last;
}

/** The exec program for `command`. */
export function execProgram(command: string): Program {
  return async (io) => (await runCommandLine(command, io, "\n", true)).status;
}

/** Reads lines as a terminal would: echo on a pty, backspace, CR or LF ends a line. */
export class LineReader {
  #io: ProgramIo;
  #buffer: number[] = [];
  #pending: number[] = [];
  #lastCr = false;

  constructor(io: ProgramIo) {
    this.#io = io;
  }

  /** The next byte typed, or null at EOF. */
  async key(): Promise<number | null> {
    while (this.#pending.length === 0) {
      const chunk = await this.#io.read();
      if (chunk === null) return null;
      this.#pending.push(...chunk);
    }
    return this.#pending.shift()!;
  }

  /**
   * The next line without its ending, or null at EOF. Ctrl-D on an empty line is EOF. With
   * `hidden` (a password) the typed characters are not echoed.
   */
  async line(hidden = false): Promise<string | null> {
    const echo = this.#io.pty !== null;
    const echoKeys = echo && !hidden;
    for (;;) {
      const b = await this.key();
      if (b === null) return null;
      if (b === 0x0a && this.#lastCr) {
        this.#lastCr = false;
        continue;
      }
      this.#lastCr = b === 0x0d;
      // A terminal emulated from the modes hands over bare LF; CR is no line end there.
      if (b === 0x0a || (b === 0x0d && !this.#io.pty?.emulated)) {
        if (echo) await this.#io.write(this.#io.pty?.emulated ? "\n" : "\r\n");
        const text = new TextDecoder().decode(new Uint8Array(this.#buffer));
        this.#buffer = [];
        return text;
      }
      if (b === 0x04 && this.#buffer.length === 0) return null;
      if (b === 0x08 || b === 0x7f) {
        if (this.#buffer.length) {
          this.#buffer.pop();
          if (echoKeys) await this.#io.write("\b \b");
        }
        continue;
      }
      if (b === 0x03) {
        this.#buffer = [];
        if (echo) await this.#io.write("^C\r\n");
        return "";
      }
      if (b >= 0x20 || b === 0x09) {
        this.#buffer.push(b);
        if (echoKeys) await this.#io.write(new Uint8Array([b]));
      }
    }
  }
}

/** The prompt shell of the modern profile. */
export const posixShell: Program = async (io) => {
  const nl = io.pty && !io.pty.emulated ? "\r\n" : "\n";
  const prompt = `${io.user}@${io.hostname}:~$ `;
  await io.write(`Welcome to the sshtrace lab server. Type "help" for commands.${nl}`);
  const reader = new LineReader(io);
  let status = 0;
  for (;;) {
    await io.write(prompt);
    const line = await reader.line();
    if (line === null) return status;
    const outcome = await runCommandLine(line, io, nl, false);
    status = outcome.status;
    if (outcome.exit) return status;
  }
};
