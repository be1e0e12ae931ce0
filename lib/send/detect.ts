/**
 * `--device auto`: which device preset a shell belongs to, from the evidence the run has — the
 * first prompt's style, the words of the server's version line, login banner and greeting, and
 * its KEXINIT offer — with that evidence listed for the trace; and, for a given `--device`,
 * whether that evidence names another device (a wrong `--device`).
 * @module
 */

import type { AlgorithmLists } from "../types.ts";
import { DEVICE_NAMES, type DeviceName, DEVICES } from "./devices.ts";
import type { PromptMatch, PromptStyle } from "./prompt.ts";

/** A text that may name the vendor, and where it came from (`version line`, `greeting`...). */
export interface DeviceHint {
  source: string;
  text: string;
}

/** What detection decided, why (one line) and on what evidence (one line each). */
export interface Detection {
  device: DeviceName;
  reason: string;
  evidence: string[];
}

/** The device a prompt style means when nothing else says otherwise. */
const STYLE_DEFAULT: Record<PromptStyle, DeviceName> = {
  bracket: "comware",
  junos: "junos",
  cisco: "cisco",
  routeros: "routeros",
  spaced: "fortios",
  shell: "linux",
};

/** Marks of OpenSSH (and its forks) in a KEXINIT: a server, not an embedded switch stack. */
const OPENSSH_KEX =
  /^(?:kex-strict-s-v00@openssh\.com|sntrup761x25519-sha512(?:@openssh\.com)?|mlkem768x25519-sha256)$/;
/** Key exchanges of this century: an offer without any is an old embedded SSH stack. */
const MODERN_KEX = /curve25519|ecdh-sha2|mlkem|sntrup|group1[468]-sha(?:256|512)/;

/**
 * A hint from the server's KEXINIT: OpenSSH's own names (a Unix server or a device built on
 * OpenSSH), or a legacy-only offer (old embedded firmware: a switch, not a Unix shell); null
 * when the offer says neither.
 */
export function kexHint(lists: AlgorithmLists): DeviceHint | null {
  const marker = lists.kex.find((n) => OPENSSH_KEX.test(n));
  if (marker) return { source: "KEXINIT", text: `openssh-style offer (${marker})` };
  if (!lists.kex.some((n) => MODERN_KEX.test(n))) {
    return { source: "KEXINIT", text: `legacy-only offer (${lists.kex.slice(0, 2).join(", ")})` };
  }
  return null;
}

const asHint = (h: string | DeviceHint, i: number): DeviceHint =>
  typeof h === "string" ? { source: i === 0 ? "version line" : "server text", text: h } : h;

/** `"…Cisco-1.25"` for the trace: a short quote of a hint around the word that matched. */
function quote(text: string, word: string): string {
  if (text.length <= 60) return JSON.stringify(text.trim());
  const at = text.indexOf(word);
  const start = Math.max(0, at - 20);
  const end = Math.min(text.length, at + word.length + 20);
  // Whole words only: a cut word at either end is left out.
  let piece = text.slice(start, end);
  if (start > 0) piece = piece.replace(/^\S*\s+/, "");
  if (end < text.length) piece = piece.replace(/\s+\S*$/, "");
  piece = piece.replace(/\s+/g, " ").trim();
  return JSON.stringify((start > 0 ? "…" : "") + piece + (end < text.length ? "…" : ""));
}

/** Each device a hint names, with the evidence line. */
function named(hints: readonly DeviceHint[]): { device: DeviceName; line: string }[] {
  const out: { device: DeviceName; line: string }[] = [];
  for (const h of hints) {
    if (!h.text) continue;
    for (const name of DEVICE_NAMES) {
      const word = DEVICES[name].hint.exec(h.text)?.[0];
      if (word === undefined) continue;
      out.push({
        device: name,
        line: `${h.source} ${quote(h.text, word)} names ${DEVICES[name].label}`,
      });
      break;
    }
  }
  return out;
}

/** The first device whose hint matches one of the texts, or null. */
export function hintedDevice(hints: readonly (string | DeviceHint)[]): DeviceName | null {
  return named(hints.map(asHint))[0]?.device ?? null;
}

/**
 * Picks a device from the first prompt and the hints (version line, banners, greeting,
 * KEXINIT): a device of the prompt's form only one vendor shows (ASA's `name/pri/act>`) wins;
 * then a named device whose prompt style fits; then, for a shell-style prompt, a legacy-only
 * KEXINIT means an embedded switch (ProCurve), not a Unix server; else the usual device for the
 * style.
 */
export function detectDevice(
  prompt: PromptMatch,
  hints: readonly (string | DeviceHint)[],
): Detection {
  const all = hints.map(asHint);
  const text = JSON.stringify(prompt.text.trim());
  const fits = DEVICE_NAMES.filter((n) => DEVICES[n].styles.includes(prompt.style));
  const evidence = [`prompt ${text}: ${prompt.style} style (${fits.join(", ")})`];
  const names = named(all);
  for (const n of names) {
    evidence.push(n.line + (fits.includes(n.device) ? "" : " (prompt does not fit)"));
  }
  const kex = all.find((h) => h.source === "KEXINIT");
  if (kex && !names.some((n) => n.line.startsWith("KEXINIT "))) {
    evidence.push(`KEXINIT: ${kex.text}`);
  }
  const shaped = fits.find((n) => DEVICES[n].promptHint?.test(prompt.text.trim()));
  if (shaped) {
    return {
      device: shaped,
      reason: `prompt ${text} (only ${DEVICES[shaped].label} shows this form)`,
      evidence,
    };
  }
  const hit = fits.map((n) => names.find((h) => h.device === n)).find((h) => h !== undefined);
  if (hit) {
    return {
      device: hit.device,
      reason: `prompt ${text} (${prompt.style} style) and ${hit.line}`,
      evidence,
    };
  }
  if (prompt.style === "shell" && kex?.text.startsWith("legacy-only")) {
    return {
      device: "procurve",
      reason: `prompt ${text} (shell style) and a legacy-only KEXINIT (an embedded switch, ` +
        "not a Unix server)",
      evidence,
    };
  }
  const device = STYLE_DEFAULT[prompt.style];
  return {
    device,
    reason: `prompt ${text} (${prompt.style} style; no vendor named in the server's texts, ` +
      `guessed ${device})`,
    evidence,
  };
}

/**
 * For a given `--device` whose prompt style fits: the device the server's texts name instead
 * (same prompt style), with the evidence line, or null when they name none or the same one.
 */
export function contradiction(
  given: DeviceName,
  prompt: PromptMatch,
  hints: readonly (string | DeviceHint)[],
): { device: DeviceName; line: string } | null {
  // Devices run OpenSSH too (EOS, OS10, Junos): "OpenSSH" contradicts only a Unix --device.
  return named(hints.map(asHint)).find((n) =>
    n.device !== given && n.device !== "linux" && DEVICES[n.device].styles.includes(prompt.style)
  ) ?? null;
}
