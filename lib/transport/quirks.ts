/**
 * Server quirks, keyed on the version line: known misbehaviour of old switch firmware and what
 * sshtrace does about it. Data only; the transport and the client apply the adjustments and
 * trace each quirk that matched. Learned from OpenSSH's compat table (compat.c), PuTTY's "bugs"
 * settings and mscdex/ssh2's compatibility flags.
 * @module
 */

/** What a quirk changes. */
export interface QuirkAdjustments {
  /** Leave these key exchange methods out of our offer (e.g. group exchange). */
  dropKex?: RegExp;
  /** Clamp group-exchange sizes requested (OpenSSH SSH_BUG_DHGEX_LARGE). */
  gexMax?: number;
  /** Smaller channel window and maximum packet for devices with little memory. */
  windowSize?: number;
  maxPacket?: number;
}

export interface Quirk {
  id: string;
  /** Matched against the software version (`SSH-2.0-<software> ...`). */
  match: RegExp;
  /** Shown in the trace and docs. */
  description: string;
  adjust: QuirkAdjustments;
}

const SMALL = { windowSize: 16 * 1024, maxPacket: 16 * 1024 };

export const QUIRKS: readonly Quirk[] = [
  {
    id: "cisco-gex",
    match: /^Cisco-1\./,
    description: "old Cisco IOS breaks on group-exchange requests over 4096 bits and on large " +
      "packets: group exchange clamped to 4096 bits, 16 KiB window/packets",
    adjust: { gexMax: 4096, ...SMALL },
  },
  {
    id: "cisco-1.25-no-gex",
    match: /^Cisco-1\.25$/,
    description: "Cisco IOS with SSH server 1.25 fails group exchange: group exchange not " +
      "offered (mscdex/ssh2 BAD_DHGEX)",
    adjust: { dropKex: /^diffie-hellman-group-exchange-/ },
  },
  {
    id: "comware-small-window",
    match: /^Comware-[3-5]\./,
    description: "old H3C Comware (V3/V5) has little buffer space: 16 KiB window and packets",
    adjust: SMALL,
  },
  {
    id: "huawei-vrp-gex",
    match: /^HUAWEI-1\./,
    description: "old Huawei VRP fails group exchange: group exchange not offered; 16 KiB " +
      "window and packets",
    adjust: { dropKex: /^diffie-hellman-group-exchange-/, ...SMALL },
  },
  {
    id: "allegro-romsshell",
    match: /^RomSShell_[1-4]\./,
    description: "Allegro RomSShell (HP ProCurve, older embedded devices): 16 KiB window/packets",
    adjust: SMALL,
  },
  {
    id: "netscreen-gex",
    match: /^NetScreen/,
    description: "Juniper NetScreen ScreenOS fails group exchange: not offered",
    adjust: { dropKex: /^diffie-hellman-group-exchange-/ },
  },
];

/** The quirks that apply to a server's software version. */
export function quirksFor(software: string): Quirk[] {
  return QUIRKS.filter((q) => q.match.test(software));
}

/** The combined adjustments of several quirks (smallest sizes win, dropped methods add up). */
export function combineAdjustments(quirks: readonly Quirk[]): QuirkAdjustments {
  const out: QuirkAdjustments = {};
  for (const { adjust } of quirks) {
    if (adjust.dropKex) {
      out.dropKex = out.dropKex && out.dropKex.source !== adjust.dropKex.source
        ? new RegExp(`(?:${out.dropKex.source})|(?:${adjust.dropKex.source})`)
        : adjust.dropKex;
    }
    for (const k of ["gexMax", "windowSize", "maxPacket"] as const) {
      const v = adjust[k];
      if (v !== undefined) out[k] = Math.min(out[k] ?? Infinity, v);
    }
  }
  return out;
}
