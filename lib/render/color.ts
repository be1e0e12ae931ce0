/**
 * Terminal helpers for the renderers: whether to colour, and ANSI styles. Peer text is made safe
 * by `sanitize` in sanitize.ts.
 * @module
 */

import { platform } from "../platform/mod.ts";

/**
 * Decides whether to colour output: only on a TTY, and never when `NO_COLOR` is set to any
 * non-empty value (https://no-color.org). `getEnv` is injectable for tests; without permission
 * to read the environment, colour stays on for a TTY.
 */
export function useColor(
  isTty: boolean,
  getEnv: (name: string) => string | undefined = (name) => platform.env(name),
): boolean {
  if (!isTty) return false;
  const noColor = getEnv("NO_COLOR");
  return noColor === undefined || noColor === "";
}

/** ANSI styles; each returns its text unchanged when colour is off. */
export interface Palette {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

/** Returns ANSI styles, or identity functions when `enabled` is false. */
export function createPalette(enabled: boolean): Palette {
  const style = (open: number, close: number) => (text: string) =>
    enabled ? `\x1b[${open}m${text}\x1b[${close}m` : text;
  return {
    bold: style(1, 22),
    dim: style(2, 22),
    red: style(31, 39),
    green: style(32, 39),
    yellow: style(33, 39),
    cyan: style(36, 39),
  };
}
