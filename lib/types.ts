/**
 * The domain vocabulary every layer shares: the stages of a connection and their exit codes,
 * the algorithm categories of KEXINIT with one negotiation's decision, and the host-key
 * verdicts. Types and constants only; no behaviour beyond the exit-code lookup.
 * @module
 */

/**
 * The stages of a connection, as switch vendors name them, after `config`: reading ssh_config
 * (and the command line's `-o`) into the options a connection uses; nothing is sent during it.
 */
export type Stage =
  | "config"
  | "connect"
  | "version"
  | "kex"
  | "hostkey"
  | "auth"
  | "session"
  | "data"
  | "transfer";

export const STAGES: readonly Stage[] = [
  "config",
  "connect",
  "version",
  "kex",
  "hostkey",
  "auth",
  "session",
  "data",
  "transfer",
];

/**
 * Exit code for each failing stage (0 is success, 2 usage or local input error). A `config`
 * failure (a malformed ssh_config, a refused keyword) is local input too, so it shares exit 2
 * with `usage`; its stage in the trace and the JSON report tells the two apart. OpenSSH exits
 * 255 for every failure of its own (see docs/exit-codes.md).
 */
export const EXIT_CODES: Record<Stage | "usage", number> = {
  usage: 2,
  config: 2,
  connect: 10,
  version: 11,
  kex: 12,
  hostkey: 13,
  auth: 14,
  session: 15,
  data: 16,
  transfer: 17,
};

/** Exit code of a run the user interrupted (Ctrl-C at a prompt): 128 + SIGINT, as shells do. */
export const INTERRUPTED_EXIT_CODE = 130;

/** The exit code of a failure: its stage's, or 130 for `<stage>.interrupted` (Ctrl-C). */
export function exitCodeFor(stage: Stage | "usage", code: string): number {
  return code.endsWith(".interrupted") ? INTERRUPTED_EXIT_CODE : EXIT_CODES[stage];
}

/** Algorithm categories negotiated in KEXINIT. */
export type Category =
  | "kex"
  | "hostKey"
  | "cipherC2S"
  | "cipherS2C"
  | "macC2S"
  | "macS2C"
  | "compressionC2S"
  | "compressionS2C";

/** The categories in KEXINIT order. */
export const CATEGORIES: readonly Category[] = [
  "kex",
  "hostKey",
  "cipherC2S",
  "cipherS2C",
  "macC2S",
  "macS2C",
  "compressionC2S",
  "compressionS2C",
];

/** Name-lists of one side's KEXINIT, by category (languages omitted: never used). */
export type AlgorithmLists = Record<Category, string[]>;

/** The result of negotiating one category (RFC 4253 §7.1). */
export interface Decision {
  category: Category;
  ours: string[];
  theirs: string[];
  /** The chosen algorithm, or null when the lists share nothing. */
  chosen: string | null;
  /** Why: which rule picked it. */
  rule: string;
  /** True when the chosen algorithm is both sides' first choice. */
  firstChoiceMatch: boolean;
  /** Set when the chosen algorithm is a legacy one (its one-line risk). */
  legacyRisk?: string;
}

/** The host-key policy's verdict on the server's key (known_hosts). */
export type HostKeyStatus = "known" | "unknown" | "changed" | "revoked" | "accepted";
