/**
 * Splitting one ssh_config line into its keyword and arguments, by OpenSSH's rules (readconf.c
 * process_config_line, misc.c strdelim and argv_split): `key value`, `key=value`, `key = value`;
 * arguments split on blanks, `"..."` and `'...'` quote, `\"`, `\'`, `\\` and `\ ` escape, an
 * unquoted `#` starting an argument ends the line. Pure.
 * @module
 */

/** A line's keyword (as written) and its arguments, or why it could not be split. */
export type SplitLine =
  | { readonly kind: "empty" }
  | {
    readonly kind: "line";
    readonly keyword: string;
    readonly args: readonly string[];
    /** The line after the keyword (and its `=`) as written: what command keywords take. */
    readonly rest: string;
  }
  | { readonly kind: "error"; readonly problem: "no-argument" | "invalid-quotes"; keyword: string };

const BLANK = " \t";

/**
 * OpenSSH's argv_split: the words of `s`, quotes removed and escapes resolved. Returns undefined
 * when a quote is not closed. With `stopAtComment`, a `#` where a word would start ends the line.
 */
export function argvSplit(s: string, stopAtComment = true): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (BLANK.includes(c)) {
      i++;
      continue;
    }
    if (stopAtComment && c === "#") break;
    let word = "";
    let quote = "";
    for (; i < s.length; i++) {
      const ch = s[i]!;
      const next = s[i + 1];
      if (ch === "\\") {
        if (next === "'" || next === '"' || next === "\\" || (quote === "" && next === " ")) {
          word += next;
          i++;
        } else word += ch; // an unknown escape stays as written
      } else if (quote === "" && BLANK.includes(ch)) break;
      else if (quote === "" && (ch === '"' || ch === "'")) quote = ch;
      else if (quote !== "" && ch === quote) quote = "";
      else word += ch;
    }
    if (quote !== "") return undefined;
    out.push(word);
  }
  return out;
}

/** The keyword of a line (OpenSSH's strdelim with `=`): ends at a blank, a quote or one `=`. */
function takeKeyword(line: string): { keyword: string; rest: string } | undefined {
  let s = line.replace(/^[ \t]+/, "");
  if (s.startsWith("=")) s = s.slice(1).replace(/^[ \t]+/, ""); // `= key`: strdelim's empty token
  if (s.startsWith('"')) {
    const end = s.indexOf('"', 1);
    if (end < 0) return undefined;
    return { keyword: s.slice(1, end), rest: s.slice(end + 1) };
  }
  const m = /^[^ \t"=]*/.exec(s)!;
  let rest = s.slice(m[0].length).replace(/^[ \t]+/, "");
  if (rest.startsWith("=")) rest = rest.slice(1); // one `=` with blanks around it
  return { keyword: m[0], rest };
}

/**
 * Splits one configuration line (without its newline). Blank lines and comments are `empty`;
 * a keyword without arguments, or an unclosed quote, is an `error` the caller words with the
 * file and line.
 */
export function splitConfigLine(raw: string): SplitLine {
  const line = raw.replace(/[ \t\r\n\f]+$/, "");
  const k = takeKeyword(line);
  if (!k) return { kind: "error", problem: "invalid-quotes", keyword: "" };
  const { keyword } = k;
  if (keyword === "" || keyword.startsWith("#")) return { kind: "empty" };
  const rest = k.rest.replace(/^[ \t]+/, "");
  if (rest === "") return { kind: "error", problem: "no-argument", keyword };
  const args = argvSplit(rest);
  if (!args) return { kind: "error", problem: "invalid-quotes", keyword };
  return { kind: "line", keyword, args, rest };
}
