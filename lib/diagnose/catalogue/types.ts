/**
 * The shapes of the failure catalogue: an entry, the words it renders, and what its `refine`
 * function sees and may change.
 * @module
 */

import type { ListCategory } from "../../algorithms/registry.ts";
import type { AlgorithmStatus } from "../../algorithms/types.ts";
import type {
  CatalogueKey,
  CodesOf,
  DetailsOf,
  ErrorCode,
  ErrorDetails,
  FamilyCode,
  FamilyKey,
  StageOf,
} from "../../errors/mod.ts";
import type { TraceEvent } from "../../trace.ts";
import type { Stage } from "../../types.ts";

/** The words shown for a failure. */
export interface FailureText {
  /** The cause in one line ("what went wrong" headline). */
  title: string;
  /** Why it happens, in plain words (a few sentences). */
  explanation: string;
  /** What to type next with sshtrace (flags), or null when only the server side can fix it. */
  fix: string | null;
  /** The OpenSSH equivalent (`-o Option=value`, or an OpenSSH tool command), or null. */
  opensshFix: string | null;
  /**
   * The library equivalent: the `ConnectOptions` to pass to `connect()`/`probe()`, written as
   * an object literal (`{ timeoutMs: 30_000 }`), or null when no option of the library helps.
   */
  libraryFix: string | null;
  /** What the fix gives up in security, when it weakens crypto or checks; else null. */
  securityCost: string | null;
}

/** One algorithm that would make a failed negotiation work, with what it costs. */
export interface AlgorithmCandidate {
  /** The user-facing list the algorithm belongs to (`--kex`, `--ciphers`, ...). */
  category: ListCategory;
  algorithm: string;
  status: AlgorithmStatus;
  /** The registry's one-line risk for legacy algorithms, else null. */
  risk: string | null;
}

/**
 * What a `refine` function sees. `details` has the type the table gives the entry's codes; read
 * it with the checking readers of _helpers.ts all the same (an error built outside the table's
 * checks, or by another version, may carry anything: a refinement must not throw).
 */
export interface FailureContext<C extends ErrorCode = ErrorCode> {
  code: C;
  stage: Stage | "usage";
  message: string;
  details: DetailsOf<C> & ErrorDetails;
  /** The trace up to the failure (may be empty). */
  events: readonly TraceEvent[];
}

/** What a `refine` function may change, plus the ranked candidates of a negotiation failure. */
export type Refinement = Partial<FailureText> & { candidates?: AlgorithmCandidate[] };

/**
 * What a catalogue entry can be keyed by: an exact code, a family (`*.timeout`), or one code of
 * a family where a stage needs its own words (`kex.timeout`).
 */
export type EntryKey = CatalogueKey | FamilyCode;

/**
 * A catalogue entry for key `K`. `stage: "any"` marks a `*.suffix` entry used at whichever stage
 * failed; an exact entry names its code's stage (checked by the compiler).
 */
export interface CatalogueEntry<K extends EntryKey = EntryKey> {
  stage: K extends FamilyKey ? "any" : StageOf<K>;
  /** For a `*.suffix` entry that only some stages can throw: those stages (for the docs). */
  stages?: readonly Stage[];
  title: string;
  explanation: string;
  fix: string | null;
  opensshFix: string | null;
  /** The fix as library options (see {@link FailureText.libraryFix}); null when omitted. */
  libraryFix?: string | null;
  securityCost?: string;
  /**
   * Refines the texts above from the error's details and the trace. Must not throw. (A method,
   * so an entry for one code is a `CatalogueEntry` of any code: its parameter is bivariant.)
   */
  refine?(ctx: FailureContext<CodesOf<K>>): Refinement;
}

/** The entries of one stage's file: every exact code of the stage, and any family override. */
export type StageEntries<S extends Stage | "usage"> =
  & {
    [K in CatalogueKey as K extends FamilyKey ? never : StageOf<K> extends S ? K : never]:
      CatalogueEntry<K>;
  }
  & { [K in FamilyCode as StageOf<K> extends S ? K : never]?: CatalogueEntry<K> };

/** The entries of codes thrown at any stage: one per family. */
export type FamilyEntries = { [K in FamilyKey]: CatalogueEntry<K> };
