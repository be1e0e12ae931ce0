/** Hex text (whitespace ignored) to bytes, and back: for test vectors. */

/** Bytes from hex text; whitespace is ignored. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  return new Uint8Array((clean.match(/../g) ?? []).map((b) => parseInt(b, 16)));
}

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
