/**
 * The failure catalogue: one entry per error code the layers throw, kept as data, one file per
 * stage. Each entry gives the stage, a one-line cause, a plain explanation for a network
 * engineer, and the fix for three audiences: sshtrace flags (`fix`), OpenSSH `-o` / ssh_config
 * (`opensshFix`) and the library's options (`libraryFix`), with the security cost when the fix
 * weakens crypto. Entries refine their texts from the error's `details` (data the layers carry:
 * numbers, names, lists) and the trace events with a small `refine` function. The layers carry
 * no advice: this folder is the only home of fix text.
 *
 * Codes of the form `<stage>.timeout` can be thrown at any stage: they are catalogued once under
 * `*.timeout` (see {@link lookupEntry}), with exact entries where a stage needs its own words.
 *
 * Pure: no I/O, never prints.
 * @module
 */

import { ANY } from "./any.ts";
import { AUTH } from "./auth.ts";
import { CONFIG } from "./config.ts";
import { CONNECT } from "./connect.ts";
import { DATA } from "./data.ts";
import { HOSTKEY } from "./hostkey.ts";
import { KEX } from "./kex.ts";
import { SESSION } from "./session.ts";
import { TRANSFER } from "./transfer.ts";
import type { CatalogueKey } from "../../errors/mod.ts";
import type { CatalogueEntry } from "./types.ts";
import { USAGE } from "./usage.ts";
import { VERSION } from "./version.ts";

export type {
  AlgorithmCandidate,
  CatalogueEntry,
  EntryKey,
  FailureContext,
  FailureText,
  FamilyEntries,
  Refinement,
  StageEntries,
} from "./types.ts";
export {
  type EnablePlan,
  LEGACY_HARM_ORDER,
  LIST_OF,
  planEnable,
  rankByLeastHarm,
} from "./planner.ts";
export { targetOf } from "./_helpers.ts";
export { CHEAP_KEX, cheaperKex } from "./kex.ts";
export { DISCONNECT_HELP } from "./any.ts";
export { GENERIC_BY_STAGE } from "./generic.ts";
export { OPEN_FAILURE_HELP } from "./session.ts";

/**
 * Every failure sshtrace reports, keyed by error code, in stage order. `*.suffix` entries apply
 * to that code at any stage (the stage is the code's prefix); an exact code always wins. The
 * compiler proves the keys are exactly the table's (lib/errors/codes.ts): every exact code and
 * every family has an entry (here), and no stage file has an entry for an unknown code (there).
 */
export const CATALOGUE: Readonly<Record<string, CatalogueEntry>> = {
  ...USAGE,
  ...CONFIG,
  ...CONNECT,
  ...VERSION,
  ...KEX,
  ...HOSTKEY,
  ...AUTH,
  ...SESSION,
  ...DATA,
  ...TRANSFER,
  ...ANY,
} satisfies Record<CatalogueKey, CatalogueEntry>;

/** The catalogue entry for a code: the exact entry, else the `*.suffix` entry, else null. */
export function lookupEntry(code: string): CatalogueEntry | null {
  if (Object.hasOwn(CATALOGUE, code)) return CATALOGUE[code]!;
  const dot = code.indexOf(".");
  if (dot < 0) return null;
  const wildcard = `*${code.slice(dot)}`;
  return Object.hasOwn(CATALOGUE, wildcard) ? CATALOGUE[wildcard]! : null;
}

/** Every catalogued code (exact codes and `*.suffix` patterns), in table order. */
export function catalogueCodes(): string[] {
  return Object.keys(CATALOGUE);
}
