/**
 * Dialogs a command can open before its prompt returns (`Are you sure? [Y/N]:`, IOS
 * `[confirm]`, `Destination filename [startup-config]?`), the built-in answers to the usual ones,
 * and the caller's own rules (`send --answer 'REGEX=REPLY'`). A rule is tried on the last line
 * of the output while it waits for a key; the reply is typed with Enter. The replies of the
 * caller's rules may be secrets: they are never traced.
 * @module
 */

/** One dialog and its answer. */
export interface DialogRule {
  /** Tested on the line the device waits at (escape sequences removed). */
  pattern: RegExp;
  /** Typed before Enter ("" for Enter alone). */
  reply: string;
  /** For the trace: the built-in dialog's name, or `--answer rule N`. */
  label: string;
  /** True for the caller's rules: the reply is not shown anywhere. */
  masked: boolean;
}

/**
 * The usual dialogs, answered "yes" / Enter: Comware and VRP `[Y/N]:`, Junos / ProCurve
 * `[yes,no]` / `[yes/no]` / `(y/n)`, IOS `[confirm]` and `Destination filename [...]?`, Comware's
 * `(To leave the existing filename unchanged, press the enter key):`.
 */
export const BUILT_IN_DIALOGS: readonly DialogRule[] = [
  { label: "[Y/N]", pattern: /\[Y\/N\]\s*[?:]?\s*$/i, reply: "Y", masked: false },
  // Junos adds the default: `Reboot the system ? [yes,no] (no) `.
  {
    label: "[yes/no]",
    pattern: /\[yes[/,]no\]\s*(?:\((?:yes|no)\)\s*)?[?:]?\s*$/i,
    reply: "yes",
    masked: false,
  },
  { label: "(y/n)", pattern: /\(y\/n\)\s*[?:]?\s*$/i, reply: "y", masked: false },
  { label: "[confirm]", pattern: /\[confirm\]\s*$/i, reply: "", masked: false },
  {
    label: "Destination filename",
    pattern: /destination filename \[[^\]]*\]\?\s*$/i,
    reply: "",
    masked: false,
  },
  // ProCurve's logout with unsaved changes: only --save saves.
  {
    label: "save on logout",
    pattern: /save current configuration \[y\/n(?:\/\^C)?\]\?\s*$/i,
    reply: "n",
    masked: false,
  },
  {
    label: "press the enter key",
    pattern: /press the enter key\)?\s*:?\s*$/i,
    reply: "",
    masked: false,
  },
];

/**
 * Parses `REGEX=REPLY` (split at the first `=` not escaped as `\=`; write `\=` for an `=` in the
 * pattern). Returns the rule, or an error text for the caller to report.
 */
export function parseAnswer(text: string, index: number): DialogRule | string {
  const m = /^((?:[^=\\]|\\.)*)=([\s\S]*)$/.exec(text);
  if (!m || m[1] === "") return `expected REGEX=REPLY, e.g. '\\[Y/N\\]=Y'`;
  try {
    return {
      pattern: new RegExp(m[1]!.replace(/\\=/g, "=")),
      reply: m[2]!,
      label: `--answer rule ${index + 1}`,
      masked: true,
    };
  } catch (e) {
    return `not a regular expression: ${(e as Error).message}`;
  }
}

/** The first rule matching the waiting line: the caller's before the built-in ones. */
export function findDialog(line: string, rules: readonly DialogRule[]): DialogRule | null {
  if (line.trim() === "") return null;
  for (const rule of rules) {
    rule.pattern.lastIndex = 0;
    if (rule.pattern.test(line)) return rule;
  }
  return null;
}

/**
 * The key that picks the command line in a console menu shown before the first prompt
 * (ProCurve / Aruba-OS `5. Command Line (CLI)`), or null.
 */
export function findCliMenuItem(screen: string): string | null {
  return /(?:^|\s)(\d)\.\s+Command Line \(CLI\)/i.exec(screen)?.[1] ?? null;
}

/**
 * A waiting line that reads as a question (ends in `?`, `:`, or a bracketed choice): after a
 * timeout it means a dialog nobody answered, not a lost prompt.
 */
export function looksLikeQuestion(line: string): boolean {
  return /(?:\?|:|\[[^\]]*\]|\([^)]*\))\s*$/.test(line.trim()) && line.trim().length > 1;
}
