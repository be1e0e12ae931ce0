/**
 * The shapes shared by the ssh_config reader and resolver: where a value came from, the
 * injected file and host access (so the module never touches Deno), the trace of the reading
 * as data, and the one error type, which names file and line.
 * @module
 */

/** Where a value came from. */
export type Origin =
  | { readonly kind: "option"; readonly text: string } // -o Key=Value
  | { readonly kind: "flag"; readonly flag: string } // -p, -l
  | { readonly kind: "target" } // user@host:port on the command line
  | { readonly kind: "file"; readonly file: string; readonly line: number }
  | { readonly kind: "default" };

/** A value and its origin. */
export interface Sourced<T> {
  readonly value: T;
  readonly origin: Origin;
}

/** `-o`, `-p`, `file:line` or `default`, as the trace and `-G -v` show an origin. */
export function originText(o: Origin): string {
  switch (o.kind) {
    case "option":
      return `-o ${o.text}`;
    case "flag":
      return o.flag;
    case "target":
      return "command line";
    case "file":
      return `${o.file}:${o.line}`;
    case "default":
      return "default";
  }
}

/** What the reader needs from the system, injected (tests pass an in-memory filesystem). */
export interface ConfigIo {
  /**
   * The text of a file, at most `maxBytes + 1` bytes of it (so an oversized file is detected
   * without reading it all); undefined when it does not exist. Other failures throw.
   */
  readText(path: string, maxBytes: number): string | undefined;
  /** The names in a directory, or undefined when it does not exist. */
  readDir(path: string): readonly string[] | undefined;
  /** An environment variable (for `${VAR}` in IdentityAgent). */
  env(name: string): string | undefined;
  readonly home: string;
  readonly localUser: string;
  readonly uid: number;
  /** This machine's host name as gethostname() gives it (`%l`; `%L` is its first label). */
  readonly localHost: string;
}

/** One file the reader opened (or looked for), in order. */
export interface FileRead {
  readonly path: string;
  readonly pass: "first" | "final";
  /** Include depth: 0 for a top-level file. */
  readonly depth: number;
  readonly found: boolean;
  /** The Include line that pulled it in. */
  readonly includedFrom?: { readonly file: string; readonly line: number };
}

/** One Host or Match line the reader evaluated. */
export interface BlockEvaluated {
  readonly file: string;
  readonly line: number;
  readonly kind: "Host" | "Match";
  /** The line's arguments as written. */
  readonly criteria: string;
  readonly matched: boolean;
  readonly pass: "first" | "final";
}

/** Something worth telling that does not stop the reading. */
export interface ConfigWarning {
  readonly file: string;
  readonly line: number;
  readonly keyword: string;
  /** An unknown keyword, or algorithms sshtrace does not implement (left out of the list). */
  readonly problem: "unknown-keyword" | "unsupported-algorithm";
  readonly detail?: string;
}

/** The reading as data: files, blocks, warnings, and whether a final pass ran. */
export interface ConfigTrace {
  readonly files: FileRead[];
  readonly blocks: BlockEvaluated[];
  readonly warnings: ConfigWarning[];
  finalPass: boolean;
}

/** A configuration that cannot be used: names the file and line (`-o` and flags: line 0). */
export class SshConfigError extends Error {
  override name = "SshConfigError";
  constructor(
    /** The file, or `command line` for `-o`. */
    readonly file: string,
    readonly line: number,
    /** What is wrong, without the location. */
    readonly problem: string,
    readonly keyword?: string,
  ) {
    super(line > 0 ? `${file}:${line}: ${problem}` : `${file}: ${problem}`);
  }
}
