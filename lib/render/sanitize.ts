/**
 * Peer text made safe for output, in one place: {@link sanitize} for a terminal (the human trace,
 * prompts, error lines, tables) and {@link toJson} for JSON and NDJSON. Protocol code keeps the
 * peer's strings as they came (data, not prose); they are made safe here, at the edge. The
 * session's own data stream (channel data to stdout) is the user's data and is never touched.
 *
 * The rule follows OpenSSH's (utf8.c: `msprintf`/`vis`): printable text — any script, CJK
 * included — is kept as it is; everything that could drive or spoof a terminal is shown as a
 * visible escape instead:
 *
 * | what                                                          | shown as                 |
 * | ------------------------------------------------------------- | ------------------------ |
 * | C0 controls and DEL (ESC, BEL, CR, BS, NUL…)                  | `\x1b`, `\x07`, `\x0d`   |
 * | C1 controls U+0080–U+009F (CSI U+009B…)                       | `\x9b`                   |
 * | a byte that is not valid UTF-8 (`decodeText`, lib/wire)       | `\xff`                   |
 * | bidi controls U+061C, U+200E/F, U+202A–U+202E, U+2066–U+2069  | `\u202e`                 |
 * | line/paragraph separators U+2028/U+2029, lone surrogates      | `\u2028`, `\ud800`       |
 *
 * Backslashes are kept as they are (as OpenSSH does), so a peer can write text that looks like an
 * escape, but never an escape that acts. Multi-line text (banners, instructions, error boxes)
 * keeps newline and tab; a CR before a newline is a line ending and dropped, any other CR (which
 * would let a line overwrite itself) is shown as `\x0d`.
 *
 * @module
 */

/** A byte that is not valid UTF-8 decodes to U+DC80–U+DCFF (see `decodeText` in lib/wire). */
const RAW_BYTE_BASE = 0xdc00;

/** A surrogate pair: one ordinary character above U+FFFF (emoji, rare CJK), kept. */
const PAIR = "[\\ud800-\\udbff][\\udc00-\\udfff]";
/** Unsafe in every mode: DEL, C1, bidi controls, U+2028/U+2029, lone surrogates. */
const ALWAYS = "\\x7f-\\x9f\\u061c\\u200e\\u200f\\u2028-\\u202e\\u2066-\\u2069\\ud800-\\udfff";
/** Every C0 control; in multi-line text, all but tab and newline. */
const UNSAFE_SINGLE = new RegExp(`${PAIR}|[\\x00-\\x1f${ALWAYS}]`, "g");
const UNSAFE_MULTI = new RegExp(`${PAIR}|[\\x00-\\x08\\x0b-\\x1f${ALWAYS}]`, "g");

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, "0");
}

function escapeChar(ch: string): string {
  if (ch.length === 2) return ch; // a valid surrogate pair: an ordinary character above U+FFFF
  const code = ch.charCodeAt(0);
  if (code <= 0xff) return `\\x${hex(code, 2)}`;
  if (code >= RAW_BYTE_BASE + 0x80 && code <= RAW_BYTE_BASE + 0xff) {
    return `\\x${hex(code - RAW_BYTE_BASE, 2)}`;
  }
  return `\\u${hex(code, 4)}`;
}

/** Options of {@link sanitize}. */
export interface SanitizeOptions {
  /** Keep newline and tab (a banner, an instruction, a message box). @default false */
  multiline?: boolean;
}

/**
 * Makes peer text safe to print on a terminal: printable characters are kept, every control,
 * C1, bidi or invalid character becomes a visible escape (see the module doc for the table).
 *
 * @example
 * ```ts
 * sanitize("ok\x1b]52;c;aGk=\x07\u202e"); // "ok\\x1b]52;c;aGk=\\x07\\u202e"
 * sanitize("欢迎\r\nline\rtwo", { multiline: true }); // "欢迎\nline\\x0dtwo"
 * ```
 */
export function sanitize(text: string, options: SanitizeOptions = {}): string {
  if (options.multiline) return text.replace(/\r\n/g, "\n").replace(UNSAFE_MULTI, escapeChar);
  return text.replace(UNSAFE_SINGLE, escapeChar);
}

/**
 * What JSON.stringify leaves raw but a terminal or a viewer may act on: C1 controls, bidi
 * controls and line/paragraph separators (C0 controls and lone surrogates it escapes itself).
 */
const JSON_UNSAFE = /[\x80-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/**
 * JSON text for the machine outputs (the `--json` report, `--ndjson` events, `check`'s JSON):
 * `JSON.stringify`, plus C1 controls, bidi controls and U+2028/U+2029 escaped as `\uXXXX`, so
 * the output holds no character that can drive or reorder a terminal when it is printed. The
 * value parses back unchanged.
 *
 * @example
 * ```ts
 * toJson({ banner: "a\x9bb\u202ec" }); // '{"banner":"a\\u009bb\\u202ec"}'
 * ```
 */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(
    JSON_UNSAFE,
    (ch) => `\\u${hex(ch.charCodeAt(0), 4)}`,
  );
}
