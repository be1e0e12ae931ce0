/**
 * The lab's emulated pty line discipline (config `terminal: "emulated"`).
 * @module
 */

import type { ProgramIo } from "./programs.ts";

const encoder = new TextEncoder();

/**
 * A pty emulated from the client's terminal modes (config `terminal: "emulated"`), as MINA
 * SSHD does: input CR becomes LF only with ICRNL (IGNCR drops it, INLCR turns LF into CR);
 * output LF becomes CR LF only with OPOST and ONLCR. Echo is the program's (on a pty).
 */
export function lineDiscipline(io: ProgramIo): ProgramIo {
  const m = io.pty?.modes ?? {};
  const mapOut = (d: Uint8Array | string): Uint8Array | string => {
    if (!(m.OPOST && m.ONLCR)) return d;
    const bytes = typeof d === "string" ? encoder.encode(d) : d;
    const out: number[] = [];
    for (const b of bytes) b === 0x0a ? out.push(0x0d, 0x0a) : out.push(b);
    return new Uint8Array(out);
  };
  return {
    ...io,
    get pty() {
      return io.pty;
    },
    write: (d) => io.write(mapOut(d)),
    writeErr: (d) => io.writeErr(mapOut(d)),
    read: async () => {
      const chunk = await io.read();
      if (chunk === null) return null;
      const out: number[] = [];
      for (const b of chunk) {
        if (b === 0x0d) {
          if (m.IGNCR) continue;
          out.push(m.ICRNL ? 0x0a : 0x0d);
        } else if (b === 0x0a && m.INLCR) out.push(0x0d);
        else out.push(b);
      }
      return new Uint8Array(out);
    },
  };
}
