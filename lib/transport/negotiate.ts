/** Algorithm negotiation (RFC 4253 §7.1): one pure function for every category. @module */

import { type AlgorithmLists, CATEGORIES, type Category, type Decision } from "../types.ts";

export { CATEGORIES };

/** The chosen algorithm of each KEXINIT category. */
export type Chosen = Record<Category, string>;

/** Negotiated algorithms of the current keys. */
export interface Negotiated {
  decisions: Decision[];
  kex: string;
  hostKey: string;
  strict: boolean;
}

/**
 * Picks the first algorithm in the client's list that the server also lists. `riskOf` tells
 * whether a name is a legacy algorithm (and its risk); it is data, not logic, so this stays pure.
 */
export function selectAlgorithm(
  category: Category,
  ours: readonly string[],
  theirs: readonly string[],
  riskOf: (name: string) => string | undefined = () => undefined,
): Decision {
  const theirSet = new Set(theirs);
  const chosen = ours.find((name) => theirSet.has(name)) ?? null;
  const decision: Decision = {
    category,
    ours: [...ours],
    theirs: [...theirs],
    chosen,
    rule: chosen === null
      ? "no algorithm appears in both lists"
      : "first in our list that the server also lists (RFC 4253 §7.1)",
    firstChoiceMatch: chosen !== null && ours[0] === chosen && theirs[0] === chosen,
  };
  const risk = chosen === null ? undefined : riskOf(chosen);
  if (risk) decision.legacyRisk = risk;
  return decision;
}

/**
 * Negotiates every category. MAC categories are settled as `<implicit>` when the chosen cipher is
 * an AEAD cipher (`isAead`), since such ciphers need no MAC.
 */
export function negotiateAll(
  ours: AlgorithmLists,
  theirs: AlgorithmLists,
  riskOf: (name: string) => string | undefined,
  isAead: (cipher: string) => boolean,
): Decision[] {
  return CATEGORIES.map((category) => {
    if (category === "macC2S" || category === "macS2C") {
      const cipher = category === "macC2S" ? "cipherC2S" : "cipherS2C";
      const chosenCipher = ours[cipher].find((n) => theirs[cipher].includes(n));
      if (chosenCipher && isAead(chosenCipher)) {
        return {
          category,
          ours: [...ours[category]],
          theirs: [...theirs[category]],
          chosen: "<implicit>",
          rule: `${chosenCipher} authenticates itself; no MAC is used`,
          firstChoiceMatch: false,
        };
      }
    }
    return selectAlgorithm(category, ours[category], theirs[category], riskOf);
  });
}

/** A KEXINIT category in words, for messages ("cipher (client to server)"). */
export function describeCategory(c: string): string {
  return ({
    kex: "key exchange method",
    hostKey: "host key algorithm",
    cipherC2S: "cipher (client to server)",
    cipherS2C: "cipher (server to client)",
    macC2S: "MAC (client to server)",
    macS2C: "MAC (server to client)",
    compressionC2S: "compression (client to server)",
    compressionS2C: "compression (server to client)",
  } as Record<string, string>)[c] ?? c;
}
