/**
 * Fault profiles: the lab server misbehaving on purpose, one way each, so a client's failure
 * paths can be seen and tested (`sshtrace lab --profile NAME`). Each profile documents what it
 * does and what a correct client reports: the stage and error code it stops at, or success when
 * the right answer is to carry on. Apart from its fault, a profile behaves like `modern`
 * (user `demo`, password `demo`), mostly with curve25519 and an Ed25519 host key.
 * @module
 */

import type { ListCategory } from "../../algorithms/registry.ts";
import type { Stage } from "../../types.ts";
import { SshWriter } from "../../wire/buffer.ts";
import { DISCONNECT_REASONS, MSG } from "../../wire/messages.ts";
import type { FaultHooks, LabConfig } from "../types.ts";
import { fast } from "./_helpers.ts";
import { AUTH_FAULTS } from "./auth.ts";
import { BOUNDS_FAULTS, debugFloodSession } from "./bounds.ts";
import { DOCTOR_FAULTS } from "./doctor.ts";
import { CHANNEL_FAULTS } from "./channels.ts";
import { HOSTILE_FAULTS } from "./hostile.ts";
import { KEX_FAULTS } from "./kex.ts";
import { VERSION_FAULTS } from "./version.ts";

export { badPacket, flipLast } from "./_helpers.ts";
export { debugFloodSession } from "./bounds.ts";
export { HOSTILE_TEXT } from "./hostile.ts";

/** What a correct client does against a fault profile. */
export type FaultExpectation =
  | { readonly stage: Stage; readonly code: string }
  | { readonly success: true; readonly exitStatus?: number };

/** A fault profile. */
export interface FaultProfile {
  readonly name: string;
  /** What the server does wrong, in one line. */
  readonly summary: string;
  readonly expect: FaultExpectation;
  /** Changes to the modern configuration. */
  readonly config?: (base: LabConfig) => LabConfig;
  readonly hooks: FaultHooks;
  /** What a client must offer beyond its defaults to reach the fault. */
  readonly client?: {
    readonly legacy?: boolean;
    readonly algorithms?: Partial<Record<ListCategory, string[]>>;
    /** Rekey after this many bytes (RekeyLimit), to reach faults in a client's rekey. */
    readonly rekeyLimitBytes?: number;
  };
}

/** Every fault profile (the parameterised `disconnect` is listed with its default code 2). */
export const FAULT_PROFILES: readonly FaultProfile[] = [
  ...VERSION_FAULTS,
  ...KEX_FAULTS,
  ...AUTH_FAULTS,
  ...CHANNEL_FAULTS,
  disconnectProfile(2),
  ...HOSTILE_FAULTS,
  ...BOUNDS_FAULTS,
  // Devices for the doctor's rungs (doctor.ts).
  ...DOCTOR_FAULTS,
];

/** The parameterised `disconnect:N` profile (N = 1..15, the RFC 4253 reason codes). */
export function disconnectProfile(code: number): FaultProfile {
  const reason = DISCONNECT_REASONS[code] ?? "UNKNOWN";
  return {
    name: code === 2 ? "disconnect" : `disconnect:${code}`,
    summary: "disconnects on the first authentication request with reason code N " +
      "(disconnect:N, N = 1..15; plain disconnect uses 2)" +
      (code === 2 ? "" : `; here ${reason} (${code})`),
    expect: { stage: "auth", code: "auth.disconnect" },
    config: fast,
    hooks: {
      at: {
        "userauth-request": async (io) => {
          await io.send(
            new SshWriter().byte(MSG.DISCONNECT).uint32(code)
              .string(`lab fault: disconnect with reason ${code}`).string("").bytes(),
          );
          return await io.close();
        },
      },
    },
  };
}

/** The fault profile called `name` (including `disconnect:N`), or undefined. */
export function findFault(name: string): FaultProfile | undefined {
  const m = /^disconnect:(\d{1,2})$/.exec(name);
  if (m) {
    const code = Number(m[1]);
    return code >= 1 && code <= 15 ? disconnectProfile(code) : undefined;
  }
  const flood = /^debug-flood-session:(\d{1,3})$/.exec(name);
  if (flood) return debugFloodSession(Number(flood[1]));
  return FAULT_PROFILES.find((f) => f.name === name);
}
