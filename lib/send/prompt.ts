/**
 * Reading an interactive shell's bytes: prompt styles and their detection, pager prompts
 * (`---- More ----`, ` --More-- `...) and the sequences that erase them, and cleaning one
 * command's raw output (echo, pagers, trailing prompt removed).
 *
 * Switches do not promise UTF-8 (GBK-speaking ones exist), so matching works on a "binary"
 * string: one character per byte (code 0-255), so positions map 1:1 back to the bytes and no
 * byte is ever changed. Decode for display only, with {@link decodeOutput}.
 * @module
 */

/** Bytes to a string with one character per byte (code points 0-255), lossless. */
export function binary(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let out = "";
  for (let i = start; i < end; i += 8192) {
    out += String.fromCharCode(...bytes.subarray(i, Math.min(end, i + 8192)));
  }
  return out;
}

/** The inverse of {@link binary}: each character (0-255) back to its byte. */
export function fromBinary(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** Text as bytes to send (UTF-8). */
export function encodeCommand(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/**
 * Decodes device output for display, replacing invalid sequences with U+FFFD (never throws).
 * `encoding` is any WHATWG label, e.g. `utf-8` (default) or `gbk`.
 */
export function decodeOutput(bytes: Uint8Array, encoding = "utf-8"): string {
  return new TextDecoder(encoding, { fatal: false }).decode(bytes);
}

// ---------------------------------------------------------------------------------------------
// Prompts
// ---------------------------------------------------------------------------------------------

/**
 * Prompt styles: `bracket` `<name>` / `[name]` (Comware, VRP; `[~name]`, `[*name]` on VRP 8),
 * `junos` `user@host>` / `user@host#`, `cisco` `name>` / `name#` / `name(config)#`, and `shell`
 * `... $ ` / `... # `.
 */
export type PromptStyle = "bracket" | "junos" | "cisco" | "routeros" | "spaced" | "shell";

/** Every style, in the order detection tries them. */
export const PROMPT_STYLES: readonly PromptStyle[] = [
  "bracket",
  "junos",
  "cisco",
  "routeros",
  "spaced",
  "shell",
];

/** A prompt found at the end of the shell output. */
export interface PromptMatch {
  style: PromptStyle;
  /** The prompt line as shown (escape sequences removed, trailing blank kept). */
  text: string;
  /** The host part (`H3C` of `<H3C>`, `Switch` of `Switch(config)#`), or null for shells. */
  name: string | null;
}

const STYLE_PATTERNS: Record<PromptStyle, RegExp> = {
  // Comware in an IRF/RBM pair prefixes `RBM_P` / `RBM_S`.
  bracket: /^(?:RBM_[PS])?(?:<([^\s<>]+)>|\[[~*]?([^\s[\]]+)\]) ?$/,
  // MikroTik RouterOS: `[admin@MikroTik] > `, `[admin@MikroTik] /interface> `.
  routeros: /^\[([\w.-]+@[^\]\s]+)\] (?:\/[^>]*)?> ?$/,
  // A blank before the mark: FortiOS `FGT60E # `, `FGT60E (root) # `; EXOS `* X460-48t.2 # `.
  spaced: /^(?:\* )?([\w-]+(?:\.[\w-]+)*?)(?:\.\d+)?(?: \([\w.-]+\))? [#>$] ?$/,
  junos: /^(?:\{[^}]*\}\s*)?([\w.-]+@[\w.-]+)[>#%] ?$/,
  // No trailing blank: IOS prints none, and it keeps `bash-5.1# ` out.
  cisco: /^([A-Za-z0-9][\w.\-/]*)(?:\([\w.\-/ ]+\))?[>#]$/,
  shell: /[$#%>] $/,
};

/** Removes ANSI/VT100 escape sequences (CSI, OSC, two-byte ESC) from a binary string. */
export function stripEscapes(text: string): string {
  return text.replace(
    // deno-lint-ignore no-control-regex
    /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]/g,
    "",
  );
}

/** The text after the last line break (`\n` or `\r`), escape sequences removed. */
export function lastLine(text: string): string {
  const cut = Math.max(text.lastIndexOf("\n"), text.lastIndexOf("\r"));
  // deno-lint-ignore no-control-regex
  return stripEscapes(text.slice(cut + 1)).replace(/[\x00-\x08\x0b-\x1f\x7f]/g, "");
}

/** Matches one line against the given styles (all by default); the first that fits wins. */
export function matchPrompt(
  line: string,
  styles: readonly PromptStyle[] = PROMPT_STYLES,
): PromptMatch | null {
  for (const style of PROMPT_STYLES) {
    if (!styles.includes(style)) continue;
    const m = STYLE_PATTERNS[style].exec(line);
    if (!m) continue;
    const name = style === "shell" ? null : (m[1] ?? m[2] ?? null);
    return { style, text: line, name };
  }
  return null;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

/**
 * How sure a line is the prompt: `strong` (the learned prompt, possibly in another mode, e.g.
 * `[H3C]` after `<H3C>` or `Switch(config)#` after `Switch#`), `weak` (only the generic style
 * fits: accept once the shell has gone quiet) or null.
 */
export type PromptCertainty = "strong" | "weak" | null;

/** A function rating lines against a prompt learned once (see {@link PromptCertainty}). */
export type PromptMatcher = (line: string) => PromptCertainty;

/** Builds the matcher for later prompts once the first one is known. */
export function learnedPromptMatcher(learned: PromptMatch): PromptMatcher {
  let strong: RegExp | null = null;
  if (learned.name !== null) {
    const name = escapeRegExp(learned.name);
    switch (learned.style) {
      case "bracket":
        strong = new RegExp(`^(?:RBM_[PS])?(?:<|\\[[~*]?)${name}(?:-[^\\s\\]>]*)?[>\\]] ?$`);
        break;
      case "routeros":
        strong = new RegExp(`^\\[${name}\\] (?:\\/[^>]*)?> ?$`);
        break;
      case "spaced":
        strong = new RegExp(`^(?:\\* )?${name}(?:\\.\\d+)?(?: \\([\\w.-]+\\))? [#>$] ?$`);
        break;
      case "junos":
        strong = new RegExp(`^(?:\\{[^}]*\\}\\s*)?${name}[>#%] ?$`);
        break;
      case "cisco":
        strong = new RegExp(`^${name}(?:\\([\\w.\\-/ ]+\\))?[>#]$`);
        break;
    }
  } else if (learned.style === "shell") {
    // A switch's shell-style prompt (ProCurve `HP-2530-24G# `): its modes add `(config)`,
    // `(vlan-10)`. A Unix prompt (`me@box:~$ `) has no such name and stays weak.
    const host = /^([A-Za-z0-9][\w.-]*)[#>] $/.exec(learned.text)?.[1];
    if (host) strong = new RegExp(`^${escapeRegExp(host)}(?:\\([\\w.\\-/ ]+\\))?[#>] $`);
  }
  const generic = STYLE_PATTERNS[learned.style];
  return (line) => {
    if (line === learned.text) return "strong";
    if (strong?.test(line)) return "strong";
    if (generic.test(line)) return "weak";
    return null;
  };
}

/** A matcher from a caller's own pattern (tested against the last line): always `strong`. */
export function customPromptMatcher(pattern: RegExp): PromptMatcher {
  return (line) => {
    pattern.lastIndex = 0;
    return pattern.test(line) ? "strong" : null;
  };
}

// ---------------------------------------------------------------------------------------------
// Pagers
// ---------------------------------------------------------------------------------------------

/**
 * Pager prompts, as a source to build both the "waiting at the end" and "anywhere" forms:
 * Comware/VRP `  ---- More ----`, IOS ` --More-- `, `-- More --`, ProCurve
 * `-- MORE --, next page: Space, next line: Enter, quit: Control-C`, `<--- More --->`, Junos
 * `---(more)---` / `---(more 42%)---`, "Press any key to continue", RouterOS
 * `-- [Q quit|D dump|down]` and EXOS `Press <SPACE> to continue or <Q> to quit:`.
 */
const PAGER_SOURCE = [
  " *-{4} ?More ?-{4}",
  " ?--More-- ?",
  " *-- ?More ?--(?:, next page: Space, next line: Enter, quit: Control-C)?",
  " *<-+ ?More ?-+>",
  "---\\(more(?: \\d+%)?\\)---",
  "Press any key to continue(?: \\(Q to quit\\))?",
  // MikroTik RouterOS, Extreme EXOS
  "-- \\[Q quit\\|D dump\\|down\\]",
  "Press <SPACE> to continue or <Q> to quit:",
].join("|");

/** The pager waiting for a key at the very end of the output (blanks after it allowed). */
const PAGER_AT_END = new RegExp(`(?:${PAGER_SOURCE}) *$`, "i");

/**
 * How devices erase the pager after the key: back over it, blank it, back again (`\b`s or
 * `ESC[nD`: IOS, Comware, VRP's `ESC[42D`), or `\r` + blanks + `\r` (Junos), or `\r` + `ESC[K`.
 */
const ERASE_SOURCE = [
  "(?:\\x08+|\\x1b\\[\\d*D) *(?:\\x08+|\\x1b\\[\\d*D)",
  "\\r +\\r",
  "\\r?\\x1b\\[[0-2]?K",
].map((s) => `(?:${s})`).join("|");

/** A pager prompt anywhere, with the erase sequence that follows it. */
const PAGER_ANYWHERE = new RegExp(`(?:${PAGER_SOURCE})(?:${ERASE_SOURCE})?`, "gi");

/** Where a pager prompt waits at the end of `text`, or null. */
export function findPagerAtEnd(text: string): { start: number; end: number; text: string } | null {
  const m = PAGER_AT_END.exec(text);
  if (!m) return null;
  return { start: m.index, end: m.index + m[0].length, text: m[0].trim() };
}

/** Removes pager prompts and their erase sequences (binary string in and out). */
export function stripPagers(text: string): string {
  return text.replace(PAGER_ANYWHERE, "");
}

// ---------------------------------------------------------------------------------------------
// Cleaning one command's output
// ---------------------------------------------------------------------------------------------

/** What a line shows on screen: backspaces applied, escapes and other controls dropped. */
function visible(text: string): string {
  let out = "";
  const plain = stripEscapes(text);
  for (const ch of plain) {
    if (ch === "\b" || ch === "\x7f") out = out.slice(0, -1);
    else if (ch >= " " || ch === "\t") out += ch;
  }
  return out;
}

const squash = (text: string) => text.replace(/\s+/g, " ").trim();

/**
 * Removes the echoed command line: everything through the line break that ends the echo,
 * looking at the first few lines (a long command may wrap). Output without an echo (a device
 * with echo off) is left alone.
 */
export function stripEcho(text: string, command: string, maxLines = 8): string {
  const want = squash(command);
  if (!want) {
    // An empty command: the echo is just the line break.
    const nl = text.indexOf("\n");
    return nl >= 0 && visible(text.slice(0, nl)).trim() === "" ? text.slice(nl + 1) : text;
  }
  let from = 0;
  for (let i = 0; i < maxLines; i++) {
    const nl = text.indexOf("\n", from);
    if (nl < 0) return text;
    const seen = squash(visible(text.slice(0, nl).replace(/\r/g, "")));
    if (seen.includes(want) || seen.replace(/ /g, "").includes(want.replace(/ /g, ""))) {
      return text.slice(nl + 1);
    }
    from = nl + 1;
  }
  return text;
}

/**
 * Removes terminal mode switches (DEC private modes, `ESC [ ? n h` / `ESC [ ? n l`) and the bare
 * `\r` that returns the cursor after one: bash 5.1+ turns bracketed paste off after each Enter
 * (`ESC[?2004l\r`) and on again before its prompt, so every output would start with it.
 */
export function stripModeSwitches(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[\?[\d;]*[hl](?:\r(?!\n))?/g, "");
}

/** Removes the prompt the output ends with (the last line), if `isPrompt` says it is one. */
export function stripTrailingPrompt(text: string, isPrompt: (line: string) => boolean): string {
  const nl = text.lastIndexOf("\n");
  const line = lastLine(text.slice(nl + 1));
  if (!isPrompt(line)) return text;
  return text.slice(0, nl + 1);
}

/** `\r\n` (and `\r\r\n`) become `\n`. */
export function normalizeNewlines(text: string): string {
  return text.replace(/\r+\n/g, "\n");
}

/** Options of {@link cleanOutput}. */
export interface CleanOptions {
  /** The command that was sent (to remove its echo); omit when there is no echo to strip. */
  command?: string;
  /** Says whether the last line is the prompt; by default any known prompt style. */
  isPrompt?: (line: string) => boolean;
}

/**
 * Turns one command's raw bytes (from after the previous prompt to the next prompt) into its
 * output: pagers and their erase sequences, the echo and the trailing prompt removed, line
 * breaks as `\n`. Every other byte is kept as is.
 */
export function cleanOutput(raw: Uint8Array, options: CleanOptions = {}): Uint8Array {
  let text = stripModeSwitches(stripPagers(binary(raw)));
  if (options.command !== undefined) text = stripEcho(text, options.command);
  text = stripTrailingPrompt(text, options.isPrompt ?? ((line) => matchPrompt(line) !== null));
  return fromBinary(normalizeNewlines(text));
}

/** A short, printable excerpt of the end of some output, for error messages. */
export function describeTail(bytes: Uint8Array, max = 160): string {
  const text = decodeOutput(bytes.subarray(Math.max(0, bytes.length - max * 4)));
  const tail = text.length > max ? "…" + text.slice(-max) : text;
  return tail.length ? JSON.stringify(tail) : "nothing";
}
