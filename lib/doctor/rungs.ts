/**
 * The rungs of the doctor's ladder, least harmful first: each looks at the last failure (its
 * error and trace) and either proposes one change to the settings or says why it does not apply.
 * Data and pure functions; the ladder (ladder.ts) runs the attempts.
 * @module
 */

import { allNames, defaultNames, type ListCategory } from "../algorithms/registry.ts";
import { planEnable } from "../diagnose/catalogue/planner.ts";
import type { SshError } from "../errors/mod.ts";
import type { TraceEvent } from "../trace.ts";
import type { Decision } from "../types.ts";
import type { DoctorSettings } from "./settings.ts";
import type { NamedCauseId } from "../diagnose/catalogue/named.ts";

/** How far the doctor must get for an attempt to count as working. */
export type DoctorGoal = "probe" | "login" | "command";

/** One attempt's result, as a rung sees it. */
export interface Attempt {
  /** Null when the attempt reached the goal. */
  error: SshError | null;
  /** The attempt's trace. */
  events: readonly TraceEvent[];
  /** The named cause its failure shows with the run's earlier attempts (set by the ladder). */
  cause?: string | null;
}

/** A rung's answer: a change to try, or why it does not apply to this failure. */
export type Proposal = { change: Partial<DoctorSettings>; what: string } | { skip: string };

export interface Rung {
  id: string;
  /** What the rung changes, in a few words (for the report and docs). */
  title: string;
  /** The named cause (lib/diagnose/catalogue/named.ts) the rung's success confirms. */
  confirms?: NamedCauseId;
  /** Proposes a change after `last` failed under `settings`. */
  propose(last: Attempt, settings: DoctorSettings, options: RungOptions): Proposal;
}

/** Knobs of the rungs (tests shorten the pause). */
export interface RungOptions {
  goal: DoctorGoal;
  /** The pause of the slower-pacing rung. @default 5000 */
  pacingMs: number;
}

/** The window and packet size old devices cope with. */
export const SMALL_WINDOW = 16 * 1024;

const GEX = "diffie-hellman-group-exchange-*";

function negotiated(events: readonly TraceEvent[]): Decision[] | null {
  let found: Decision[] | null = null;
  for (const e of events) if (e.type === "negotiated") found = e.decisions;
  return found;
}

function chosen(events: readonly TraceEvent[], category: Decision["category"]): string | null {
  return negotiated(events)?.find((d) => d.category === category)?.chosen ?? null;
}

function serverLists(events: readonly TraceEvent[]) {
  let lists = null;
  for (const e of events) if (e.type === "kexinit-received") lists = e.lists;
  return lists;
}

const sentKexInit = (events: readonly TraceEvent[]) =>
  events.some((e) => e.type === "kexinit-sent");

const code = (a: Attempt) => a.error?.code ?? "";
const stage = (a: Attempt) => a.error?.stage ?? null;

/** The failed decisions a no-common-algorithm error carries. */
function failedDecisions(error: SshError): Decision[] {
  const d = error.details as { decisions?: unknown };
  const all = Array.isArray(d.decisions) ? (d.decisions as Decision[]) : [];
  return all.filter((x) => x && x.chosen === null && Array.isArray(x.theirs));
}

/** Small, cheap key exchange and host key algorithms first: a short kex reply. */
const SMALL_KEX = ["curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256"];
const SMALL_HOSTKEY = ["ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-256", "rsa-sha2-512"];
const SHORT_CIPHER = ["aes128-ctr", "aes128-gcm@openssh.com", "chacha20-poly1305@openssh.com"];
const SHORT_MAC = ["hmac-sha2-256", "hmac-sha2-256-etm@openssh.com"];

/** The first few of `preferred` that we offer by default and the server offers (if known). */
function short(category: ListCategory, preferred: string[], theirs: string[] | null): string[] {
  const ours = defaultNames(category);
  const both = preferred.filter((n) => ours.includes(n) && (!theirs || theirs.includes(n)));
  if (both.length) return both.slice(0, 2);
  const any = ours.filter((n) => !theirs || theirs.includes(n));
  return any.slice(0, 2);
}

export const RUNGS: readonly Rung[] = [
  {
    id: "legacy-set",
    title: "enable the smallest legacy algorithm set the failure names",
    propose(last) {
      if (!code(last).startsWith("kex.no-common-")) return { skip: "not a negotiation failure" };
      const plan = planEnable(failedDecisions(last.error!));
      if (!plan.enable.length) {
        return {
          skip: `the server offers no ${plan.impossible.join("/")} algorithm sshtrace implements (${
            Object.values(plan.unimplemented).flat().join(", ") || "none"
          })`,
        };
      }
      const add: Partial<Record<ListCategory, string[]>> = {};
      for (const c of plan.enable) add[c.category] = [...(add[c.category] ?? []), c.algorithm];
      return {
        change: { add },
        what: `enable ${plan.enable.map((c) => c.algorithm).join(", ")} (the least harmful the ` +
          "server accepts)",
      };
    },
  },
  {
    id: "no-gex",
    title: "leave group exchange out of the offer (firmware that fails it, or a small group)",
    propose(last, settings) {
      if (settings.remove.kex?.includes(GEX)) return { skip: "group exchange already left out" };
      const kex = chosen(last.events, "kex") ??
        (last.error?.details as { algorithm?: string })?.algorithm ?? "";
      const inKex = stage(last) === "kex";
      if (!inKex || !kex.startsWith("diffie-hellman-group-exchange-")) {
        return { skip: "the failure is not in a group exchange" };
      }
      // Markers (ext-info-s, kex-strict-s-v00@openssh.com) are no methods.
      const theirs = (serverLists(last.events)?.kex ?? []).filter((n) =>
        allNames("kex").includes(n)
      );
      if (theirs.length && theirs.every((n) => n.startsWith("diffie-hellman-group-exchange-"))) {
        return { skip: "the server offers only group exchange" };
      }
      return { change: { remove: { kex: [GEX] } }, what: `remove ${GEX} from the kex offer` };
    },
  },
  {
    id: "small-dh-group",
    title: "accept the 1024-bit group the server answers a group exchange with",
    propose(last, settings) {
      if (settings.smallDhGroups) return { skip: "1024-bit groups already accepted" };
      const d = last.error?.details as { bits?: number } | undefined;
      if (code(last) !== "kex.dh-group-too-small" || d?.bits !== 1024) {
        return { skip: "no 1024-bit group answered to a larger minimum" };
      }
      return { change: { smallDhGroups: true }, what: "accept 1024-bit group-exchange groups" };
    },
  },
  {
    id: "rsa-sha1",
    confirms: "rsa-sha1-required",
    title: "sign with ssh-rsa (SHA-1) where the server refuses rsa-sha2",
    propose(last, settings) {
      if (settings.rsaSha1) return { skip: "ssh-rsa signatures already allowed" };
      // Refused rsa-sha2 signatures, or a server-sig-algs naming only ssh-rsa for our RSA key.
      if (code(last) === "auth.rsa-sha2-refused" || code(last) === "auth.no-signature-algorithm") {
        return { change: { rsaSha1: true }, what: "sign user authentication with ssh-rsa" };
      }
      const hk = chosen(last.events, "hostKey") ?? "";
      if (
        stage(last) === "kex" && code(last) === "kex.bad-signature" && hk.startsWith("rsa-sha2")
      ) {
        return {
          change: { remove: { hostKey: ["rsa-sha2-*"] }, add: { hostKey: ["ssh-rsa"] } },
          what: "verify the host key with ssh-rsa instead of " + hk,
        };
      }
      return { skip: "no rsa-sha2 signature was refused" };
    },
  },
  {
    id: "no-strict-kex",
    title: "leave out the strict-kex marker (a server whose strict kex is broken)",
    propose(last, settings) {
      if (settings.noStrictKex) return { skip: "strict kex already left out" };
      if (code(last) !== "kex.strict-violation") return { skip: "no strict-kex violation" };
      return { change: { noStrictKex: true }, what: "offer no kex-strict-c-v00@openssh.com" };
    },
  },
  {
    id: "version-after-greeting",
    confirms: "greeting-first",
    title: "send our version line only after the server's greeting",
    propose(last, settings) {
      if (settings.versionAfterGreeting) return { skip: "already waiting for the greeting" };
      // Our version line lost: the server waits for it, or answers our KEXINIT with an error
      // text, a disconnect or silence; its KEXINIT never comes.
      if (stage(last) !== "kex" || serverLists(last.events)) {
        return { skip: "the key exchange did not fail before the server's KEXINIT" };
      }
      return {
        change: { versionAfterGreeting: true },
        what: "wait for the server's version line before sending ours",
      };
    },
  },
  {
    id: "smaller-kex",
    confirms: "mtu-stall",
    title: "a shorter offer and a small key exchange (MTU / path black hole)",
    propose(last, settings) {
      if (Object.keys(settings.only).length) return { skip: "the offer is already short" };
      const stalled = stage(last) === "kex" && /\.(timeout|closed)$/.test(code(last));
      if (!stalled || !sentKexInit(last.events)) {
        return { skip: "the connection did not stall in the key exchange" };
      }
      const theirs = serverLists(last.events);
      const only: Partial<Record<ListCategory, string[]>> = {
        kex: short("kex", SMALL_KEX, theirs?.kex ?? null),
        hostKey: short("hostKey", SMALL_HOSTKEY, theirs?.hostKey ?? null),
        cipher: short("cipher", SHORT_CIPHER, theirs?.cipherC2S ?? null),
        mac: short("mac", SHORT_MAC, theirs?.macC2S ?? null),
      };
      // Legacy algorithms kept so far stay in the short lists.
      for (const [c, names] of Object.entries(settings.add)) {
        const key = c as ListCategory;
        only[key] = [...new Set([...(only[key] ?? []), ...names])];
      }
      return {
        change: { only },
        what: `offer only ${Object.values(only).flat().join(", ")}`,
      };
    },
  },
  {
    id: "small-window",
    title: "a 16 KiB channel window and packets",
    propose(last, settings, options) {
      if (settings.window !== null) return { skip: "the window is already small" };
      if (options.goal === "probe") return { skip: "a probe opens no channel" };
      const s = stage(last);
      if (s !== "session" && s !== "data") return { skip: "the failure is not in a channel" };
      return {
        change: { window: SMALL_WINDOW },
        what: `window and maximum packet ${SMALL_WINDOW} bytes`,
      };
    },
  },
  {
    id: "slow-pacing",
    confirms: "vty-exhausted",
    title: "wait before connecting again (vty lines, MaxStartups)",
    propose(last, settings, options) {
      if (settings.pacingMs) return { skip: "already pacing" };
      const early = stage(last) === "connect" || stage(last) === "version";
      const dropped = /^(connect\.reset|version\.(closed|timeout|refused))$/.test(code(last));
      if (!early || !dropped) return { skip: "the server did not drop the connection early" };
      // PerSourcePenalties never gets here: the ladder stops at the first such refusal.
      return {
        change: { pacingMs: options.pacingMs },
        what: `wait ${options.pacingMs} ms before connecting`,
      };
    },
  },
];
