/**
 * The lab's device imitations, by shell kind: which {@link DeviceSpec} a lab profile's shell
 * runs, and the program for a session's `shell` request.
 * @module
 */

import { posixShell, type Program } from "../programs.ts";
import type { LabConfig } from "../types.ts";
import { deviceShell } from "./cli.ts";
import { COMWARE5, COMWARE7, HUAWEI } from "./comware.ts";
import { ASA, CISCO, EOS, OS10 } from "./ios.ts";
import { EXOS } from "./exos.ts";
import { FORTIOS } from "./fortios.ts";
import { JUNOS } from "./junos.ts";
import { PROCURVE } from "./procurve.ts";
import { ROUTEROS } from "./routeros.ts";
import type { DeviceSpec } from "./types.ts";

export type { DeviceSpec } from "./types.ts";

/** Every device imitation, by the lab's shell kind. */
export const DEVICE_SPECS = {
  comware: COMWARE5,
  comware7: COMWARE7,
  huawei: HUAWEI,
  cisco: CISCO,
  asa: ASA,
  eos: EOS,
  os10: OS10,
  junos: JUNOS,
  routeros: ROUTEROS,
  fortios: FORTIOS,
  exos: EXOS,
  procurve: PROCURVE,
} as const satisfies Record<string, DeviceSpec>;

/** A device imitation's name (the lab's shell kinds other than `posix`). */
export type LabDeviceName = keyof typeof DEVICE_SPECS;

/** The old-switch shell's `super` password (Comware's privilege step). */
export const SWITCH_SUPER_PASSWORD = "h3c-super";

/** The enable / super secret of the device profiles (`device-*`). */
export const LAB_ENABLE_SECRET = "lab-enable 7";

/** The program a session's `shell` request runs under this configuration. */
export function shellProgram(config: Pick<LabConfig, "shell" | "enableSecret">): Program {
  if (config.shell === "posix") return posixShell;
  const secret = config.enableSecret ??
    (config.shell === "comware" ? SWITCH_SUPER_PASSWORD : LAB_ENABLE_SECRET);
  return deviceShell(DEVICE_SPECS[config.shell], secret);
}
