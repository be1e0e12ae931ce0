/**
 * The lab server's well-behaved profiles: `modern` (the default algorithms, password, public key
 * and keyboard-interactive login, exec and a prompt shell) and `old-switch` (an old H3C Comware
 * switch: SSH-1.99 version line, legacy-only algorithms, keyboard-interactive only, a banner,
 * exec refused, a paged `<H3C>` shell).
 * @module
 */

import { SSHTRACE_VERSION } from "../about.ts";
import { defaultNames } from "../algorithms/registry.ts";
import { DEVICE_SPECS, LAB_ENABLE_SECRET, type LabDeviceName } from "./devices/mod.ts";
import type { LabConfig } from "./types.ts";

/** The demo login of every profile. */
export const DEMO_USER = { name: "demo", password: "demo" } as const;

/** The old switch's administrator. */
export const SWITCH_ADMIN = { name: "admin", password: "admin" } as const;

export const LAB_VERSION_LINE = `SSH-2.0-sshtrace_lab_${SSHTRACE_VERSION}`;

/** Signature algorithms the modern profile accepts for public keys (server-sig-algs). */
export const MODERN_SIG_ALGS = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "rsa-sha2-512",
  "rsa-sha2-256",
];

/** The modern profile's configuration (a fresh copy). */
export function modernConfig(): LabConfig {
  const cipher = defaultNames("cipher");
  const mac = defaultNames("mac");
  const compression = defaultNames("compression");
  return {
    versionLine: LAB_VERSION_LINE,
    preVersionLines: [],
    lists: {
      kex: defaultNames("kex"),
      hostKey: defaultNames("hostKey"),
      cipherC2S: cipher,
      cipherS2C: [...cipher],
      macC2S: mac,
      macS2C: [...mac],
      compressionC2S: compression,
      compressionS2C: [...compression],
    },
    strictKex: true,
    extInfo: true,
    serverSigAlgs: [...MODERN_SIG_ALGS],
    authMethods: ["publickey", "password", "keyboard-interactive"],
    users: [{ ...DEMO_USER }],
    banner: null,
    maxAuthTries: 6,
    exec: true,
    shell: "posix",
    hostname: "sshtrace-lab",
    windowSize: 2 * 1024 * 1024,
    maxPacket: 32 * 1024,
    loginGraceMs: 120_000,
  };
}

export const OLD_SWITCH_BANNER = "\r\n" +
  "******************************************************************************\r\n" +
  "*  Authorized access only. All sessions are logged.                          *\r\n" +
  "******************************************************************************\r\n";

/** The old-switch profile's configuration (a fresh copy). */
export function oldSwitchConfig(): LabConfig {
  return {
    ...modernConfig(),
    versionLine: "SSH-1.99-Comware-5.20.105",
    lists: {
      kex: ["diffie-hellman-group1-sha1", "diffie-hellman-group14-sha1"],
      hostKey: ["ssh-rsa"],
      cipherC2S: ["aes128-cbc", "3des-cbc"],
      cipherS2C: ["aes128-cbc", "3des-cbc"],
      macC2S: ["hmac-sha1", "hmac-md5"],
      macS2C: ["hmac-sha1", "hmac-md5"],
      compressionC2S: ["none"],
      compressionS2C: ["none"],
    },
    strictKex: false,
    extInfo: false,
    serverSigAlgs: ["ssh-rsa"],
    authMethods: ["keyboard-interactive"],
    users: [{ ...SWITCH_ADMIN }, { ...DEMO_USER }],
    banner: OLD_SWITCH_BANNER,
    exec: false,
    shell: "comware",
    hostname: "H3C",
    windowSize: 64 * 1024,
    maxPacket: 16 * 1024,
  };
}

/**
 * A `device-*` profile's configuration: the imitation's version line, banner and prompt
 * (lib/lab/devices/), exec refused, password and keyboard-interactive login as
 * admin/admin (or demo/demo), the default algorithms (fast to negotiate in tests).
 */
export function deviceConfig(name: LabDeviceName): LabConfig {
  const spec = DEVICE_SPECS[name];
  return {
    ...modernConfig(),
    versionLine: spec.versionLine,
    authMethods: ["password", "keyboard-interactive"],
    users: [{ ...SWITCH_ADMIN }, { ...DEMO_USER }],
    banner: spec.banner,
    exec: false,
    shell: name,
    hostname: spec.hostname,
  };
}

/** The lab profiles of the device imitations: `device-NAME` (NAME a `send --device` preset). */
const DEVICE_PROFILES: readonly [string, LabDeviceName, string][] = [
  ["device-comware", "comware7", "Comware 7 in an RBM pair (RBM_P<FW-01>), super 0-15"],
  ["device-huawei", "huawei", "Huawei VRP (<HUAWEI>), super 0-15, save [Y/N]"],
  ["device-cisco", "cisco", "Cisco IOS (Switch>), enable, configure terminal"],
  ["device-asa", "asa", "Cisco ASA (asa/pri/act>), enable, <--- More --->"],
  ["device-eos", "eos", "Arista EOS (leaf1>), enable, banner naming Arista"],
  ["device-os10", "os10", "Dell OS10 (OS10#), no enable step"],
  ["device-junos", "junos", "Juniper Junos (admin@mx480>), configure / commit and-quit"],
  ["device-routeros", "routeros", "MikroTik RouterOS ([admin@MikroTik] >), pager only"],
  ["device-fortios", "fortios", "Fortinet FortiOS (FGT60E # ), pager only, no vendor name"],
  ["device-exos", "exos", "Extreme EXOS (X460-48t.1 # ), disable clipaging"],
  ["device-procurve", "procurve", "HPE ProCurve (Press any key, menu, HP-2530-24G# )"],
];

/** A well-behaved profile. */
export interface BaseProfile {
  readonly name: string;
  readonly summary: string;
  config(): LabConfig;
}

export const BASE_PROFILES: readonly BaseProfile[] = [
  {
    name: "modern",
    summary: "default algorithms; password, public key and keyboard-interactive login " +
      `(user ${DEMO_USER.name}, password ${DEMO_USER.password}); exec and a prompt shell`,
    config: modernConfig,
  },
  {
    name: "old-switch",
    summary: "an old H3C Comware switch: SSH-1.99, legacy-only algorithms (group1/group14-sha1, " +
      "ssh-rsa, aes128-cbc/3des-cbc, hmac-sha1/md5), keyboard-interactive only " +
      `(user ${SWITCH_ADMIN.name}/${SWITCH_ADMIN.password} or ${DEMO_USER.name}/` +
      `${DEMO_USER.password}), a banner, exec refused, a paged <H3C> shell`,
    config: oldSwitchConfig,
  },
  ...DEVICE_PROFILES.map(([name, device, summary]): BaseProfile => ({
    name,
    summary: `${summary}; user ${SWITCH_ADMIN.name}/${SWITCH_ADMIN.password}, ` +
      `enable secret "${LAB_ENABLE_SECRET}"`,
    config: () => deviceConfig(device),
  })),
];
