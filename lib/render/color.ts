/**
 * Terminal helpers for the renderers: whether to colour, ANSI styles, and neutralising text that
 * came from the peer so a hostile server cannot drive the user's terminal.
 * @module
 */

/**
 * Decides whether to colour output: only on a TTY, and never when `NO_COLOR` is set to any
 * non-empty value (https://no-color.org). `getEnv` is injectable for tests; without permission
 * to read the environment, colour stays on for a TTY.
 */
export function useColor(
  isTty: boolean,
  getEnv: (name: string) => string | undefined = readEnv,
): boolean {
  if (!isTty) return false;
  const noColor = getEnv("NO_COLOR");
  return noColor === undefined || noColor === "";
}

function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // no --allow-env: treat as unset
  }
}

/** ANSI styles; each returns its text unchanged when colour is off. */
export interface Palette {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

/** Returns ANSI styles, or identity functions when `enabled` is false. */
export function createPalette(enabled: boolean): Palette {
  const style = (open: number, close: number) => (text: string) =>
    enabled ? `\x1b[${open}m${text}\x1b[${close}m` : text;
  return {
    bold: style(1, 22),
    dim: style(2, 22),
    red: style(31, 39),
    green: style(32, 39),
    yellow: style(33, 39),
    cyan: style(36, 39),
  };
}

// C0 controls, DEL, C1 controls, and Unicode bidirectional overrides/isolates (which can make
// text display in a different order than it is stored).
// deno-lint-ignore no-control-regex -- matching control characters is the point
const UNSAFE_SINGLE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// deno-lint-ignore no-control-regex -- matching control characters is the point
const UNSAFE_MULTI = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(ch: string): string {
  const code = ch.codePointAt(0)!;
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, "0")}`
    : `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * Makes peer-supplied text safe to print: every control character (including ESC, so no ANSI
 * escape survives) is replaced by a visible `\xNN` escape. With `multiline`, newline and tab are
 * kept (CR LF becomes LF); otherwise they are escaped too.
 */
export function sanitize(text: string, options: { multiline?: boolean } = {}): string {
  if (options.multiline) {
    return text.replace(/\r\n/g, "\n").replace(UNSAFE_MULTI, escapeChar);
  }
  return text.replace(UNSAFE_SINGLE, escapeChar);
}
