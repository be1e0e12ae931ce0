/**
 * OpenSSH's expansions of configuration values: `%` tokens (misc.c percent_expand) and a
 * leading `~` (tilde_expand_filename). Which keyword gets which is decided by the resolver, as
 * ssh.c decides it. Pure: the values of the tokens are given.
 * @module
 */

/** The values of the `%` tokens, by letter (`h`, `p`, `r`...). `%%` is always `%`. */
export type TokenValues = Readonly<Partial<Record<string, string>>>;

/** Why an expansion failed: an unknown token, a `%` at the end, or `~otheruser`. */
export class ExpandError extends Error {
  override name = "ExpandError";
  constructor(
    readonly problem: "unknown-token" | "trailing-percent" | "tilde-user" | "unset-variable",
    readonly what: string,
  ) {
    super(
      {
        "unknown-token": `unknown token %${what}`,
        "trailing-percent": `"%" at the end of "${what}"`,
        "tilde-user":
          `cannot expand "${what}": only ~ and ~/ (the current user's home) are supported`,
        "unset-variable": `environment variable \${${what}} is not set`,
      }[problem],
    );
  }
}

/** Replaces `%x` by `values[x]` and `%%` by `%`; an unknown token throws {@link ExpandError}. */
export function percentExpand(text: string, values: TokenValues): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== "%") {
      out += c;
      continue;
    }
    const t = text[++i];
    if (t === undefined) throw new ExpandError("trailing-percent", text);
    if (t === "%") {
      out += "%";
      continue;
    }
    const v = values[t];
    if (v === undefined) throw new ExpandError("unknown-token", t);
    out += v;
  }
  return out;
}

/** A leading `~` or `~/` becomes `home`; `~user` only for the current user. */
export function tildeExpand(path: string, home: string, localUser: string): string {
  if (!path.startsWith("~")) return path;
  const slash = path.indexOf("/");
  const name = slash < 0 ? path.slice(1) : path.slice(1, slash);
  if (name !== "" && name !== localUser) throw new ExpandError("tilde-user", path);
  const rest = slash < 0 ? "" : path.slice(slash + 1);
  return rest === "" ? home : `${home.replace(/\/$/, "")}/${rest}`;
}
