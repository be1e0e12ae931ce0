import assert from "node:assert/strict";
import {
  decodeTerminalModes,
  DEFAULT_TERMINAL_SETTINGS,
  encodeTerminalModes,
  encodeTerminalSettings,
  terminalModes,
  TTY_OP_END,
} from "../../../lib/connection/terminal_modes.ts";
import { WireError } from "../../../lib/wire/buffer.ts";

Deno.test("terminalModes() puts the speeds first, then control characters and flags in opcode order", () => {
  const names = Object.keys(terminalModes(DEFAULT_TERMINAL_SETTINGS));
  assert.deepEqual(names.slice(0, 4), ["TTY_OP_OSPEED", "TTY_OP_ISPEED", "VINTR", "VQUIT"]);
  assert.ok(names.indexOf("VDISCARD") < names.indexOf("IGNPAR"));
  assert.ok(names.indexOf("IUTF8") < names.indexOf("ISIG"));
  assert.ok(names.indexOf("PENDIN") < names.indexOf("OPOST"));
  assert.equal(names.at(-1), "PARODD");
  // Linux has no VDSUSP, VFLUSH, VSWTCH or VSTATUS: the defaults leave them out, as OpenSSH does.
  for (const missing of ["VDSUSP", "VFLUSH", "VSWTCH", "VSTATUS"]) {
    assert.ok(!names.includes(missing), missing);
  }
});

Deno.test("the default modes are those of stty sane: ICRNL, ONLCR, OPOST, ECHO, ^C ^\\ ^? ^U ^D, CS8, 38400 baud", () => {
  const { modes, unknown } = decodeTerminalModes(encodeTerminalSettings(DEFAULT_TERMINAL_SETTINGS));
  assert.deepEqual(unknown, []);
  for (const on of ["ICRNL", "ONLCR", "OPOST", "ECHO", "ECHOE", "ECHOK", "ICANON", "ISIG"]) {
    assert.equal(modes[on], 1, on);
  }
  for (const on of ["IEXTEN", "ECHOCTL", "ECHOKE", "IUTF8", "IXON", "IMAXBEL", "CS8"]) {
    assert.equal(modes[on], 1, on);
  }
  for (const off of ["IXANY", "INLCR", "IGNCR", "OCRNL", "ONLRET", "CS7", "PARENB", "ECHONL"]) {
    assert.equal(modes[off], 0, off);
  }
  assert.deepEqual(
    [modes.VINTR, modes.VQUIT, modes.VERASE, modes.VKILL, modes.VEOF, modes.VEOL],
    [3, 0x1c, 0x7f, 0x15, 4, 255],
  );
  assert.equal(modes.TTY_OP_ISPEED, 38400);
  assert.equal(modes.TTY_OP_OSPEED, 38400);
});

Deno.test("decodeTerminalModes() reads what encodeTerminalModes() wrote, keeps unknown opcodes and stops at 160", () => {
  const bytes = encodeTerminalModes({ VINTR: 3, ICRNL: 1, TTY_OP_ISPEED: 9600 });
  assert.equal(bytes.at(-1), TTY_OP_END);
  assert.deepEqual(decodeTerminalModes(bytes).modes, { VINTR: 3, ICRNL: 1, TTY_OP_ISPEED: 9600 });
  const odd = new Uint8Array([99, 0, 0, 0, 7, 36, 0, 0, 0, 1, 160, 1, 2, 3]);
  assert.deepEqual(decodeTerminalModes(odd), { modes: { ICRNL: 1 }, unknown: [99] });
  assert.deepEqual(decodeTerminalModes(new Uint8Array(0)), { modes: {}, unknown: [] });
  assert.throws(() => decodeTerminalModes(new Uint8Array([36, 0, 0])), WireError);
});
