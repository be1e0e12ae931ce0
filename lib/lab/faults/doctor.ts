/**
 * Fault profiles for the doctor's rungs (`sshtrace doctor`): devices that work only with one of
 * the ladder's changes. Each `expect` is what a client with its defaults reports; the doctor's
 * lab tests (test/lab/doctor/) check that the ladder finds the change that works.
 * @module
 */

import { MSG } from "../../wire/messages.ts";
import type { FaultProfile } from "./mod.ts";
import type { LabConfig } from "../types.ts";

/** The modern configuration with these lists (an Ed25519 host key unless said otherwise). */
function lists(change: Partial<LabConfig["lists"]>) {
  return (c: LabConfig): LabConfig => ({
    ...c,
    lists: { ...c.lists, hostKey: ["ssh-ed25519"], ...change },
  });
}

export const DOCTOR_FAULTS: readonly FaultProfile[] = [
  {
    name: "doctor-legacy-only",
    summary: "an old switch: only diffie-hellman-group14-sha1 and aes128-cbc (the doctor " +
      "enables exactly these two)",
    expect: { stage: "kex", code: "kex.no-common-kex" },
    config: lists({
      kex: ["diffie-hellman-group14-sha1"],
      cipherC2S: ["aes128-cbc"],
      cipherS2C: ["aes128-cbc"],
    }),
    hooks: {},
  },
  {
    name: "doctor-gex-broken",
    summary: "offers group exchange first but answers its request with a malformed " +
      "KEX_DH_GEX_GROUP (firmware that fails group exchange; works without it)",
    expect: { stage: "kex", code: "kex.exchange-failed" },
    config: lists({
      kex: ["diffie-hellman-group-exchange-sha256", "diffie-hellman-group14-sha256"],
    }),
    hooks: { kexGroup: () => new Uint8Array([MSG.KEX_DH_GEX_GROUP]) },
  },
  {
    name: "doctor-one-vty",
    summary: 'serves one connection at a time; another is refused with "Exceeded ' +
      'MaxStartups" (a device out of vty lines)',
    expect: { success: true },
    config: (c) => ({ ...lists({})(c), maxStartups: 1 }),
    hooks: {},
  },
  {
    name: "doctor-small-dh-group",
    summary: "offers only group exchange and answers every request with its one 1024-bit " +
      "group, whatever the minimum asked (old firmware with a single moduli entry)",
    expect: { stage: "kex", code: "kex.dh-group-too-small" },
    config: (c) => ({
      ...lists({ kex: ["diffie-hellman-group-exchange-sha256"] })(c),
      gexGroupBits: 1024,
    }),
    hooks: {},
  },
];
