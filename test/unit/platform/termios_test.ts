import assert from "node:assert/strict";
import { settingsFromTermios } from "../../../lib/platform/termios.ts";
import { DEFAULT_TERMINAL_SETTINGS } from "../../../lib/connection/terminal_modes.ts";

/** A Linux `struct termios` as `stty sane` leaves it (iflag, oflag, cflag, lflag, c_cc). */
function saneTermios(): Uint8Array {
  const raw = new Uint8Array(60);
  const v = new DataView(raw.buffer);
  v.setUint32(0, 0o2000 | 0o400 | 0o20000 | 0o40000, true); // IXON ICRNL IMAXBEL IUTF8
  v.setUint32(4, 0o1 | 0o4, true); // OPOST ONLCR
  v.setUint32(8, 0o60 | 0o200 | 0o17, true); // CS8 CREAD B38400
  v.setUint32(12, 0o1 | 0o2 | 0o10 | 0o20 | 0o40 | 0o1000 | 0o4000 | 0o100000, true);
  const cc = [3, 0x1c, 0x7f, 0x15, 4, 0, 1, 0, 0x11, 0x13, 0x1a, 0, 0x12, 0x0f, 0x17, 0x16, 0];
  raw.set(cc, 17);
  return raw;
}

Deno.test("settingsFromTermios() reads a sane Linux termios as the default settings", () => {
  const s = settingsFromTermios(saneTermios(), 0o17, 0o17);
  assert.deepEqual(s, {
    chars: { ...DEFAULT_TERMINAL_SETTINGS.chars },
    flags: { ...DEFAULT_TERMINAL_SETTINGS.flags },
    ispeed: 38400,
    ospeed: 38400,
  });
});

Deno.test("settingsFromTermios() reads erase ^H, ixany, 7-bit parity and the extended speeds", () => {
  const raw = saneTermios();
  const v = new DataView(raw.buffer);
  raw[17 + 2] = 0x08;
  v.setUint32(0, v.getUint32(0, true) | 0o4000, true); // IXANY
  v.setUint32(8, (v.getUint32(8, true) & ~0o60) | 0o40 | 0o400, true); // CS7 PARENB
  const s = settingsFromTermios(raw, 0o10002, 9600);
  assert.equal(s.chars.VERASE, 8);
  assert.equal(s.chars.VEOL, 255, "a NUL control character is disabled (255)");
  assert.equal(s.flags.IXANY, true);
  assert.equal(s.flags.CS7, true);
  assert.equal(s.flags.CS8, false);
  assert.equal(s.flags.PARENB, true);
  assert.equal(s.ispeed, 115200);
  assert.equal(s.ospeed, 9600, "a speed_t that is no B-code is already baud");
});
