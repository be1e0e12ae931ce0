/** Terminal adapters for the CLI: prompts with and without echo, raw mode that is always restored. @module */

const encoder = new TextEncoder();

function writeErr(text: string): void {
  Deno.stderr.writeSync(encoder.encode(text));
}

/** True when both stdin and stderr are terminals (prompts are possible). */
export function canPrompt(): boolean {
  return Deno.stdin.isTerminal() && Deno.stderr.isTerminal();
}

/** Reads one line from the terminal; `echo` false hides what is typed. Null on Ctrl-C/Ctrl-D. */
export async function prompt(question: string, echo: boolean): Promise<string | null> {
  writeErr(question);
  Deno.stdin.setRaw(true);
  const bytes: number[] = [];
  const buf = new Uint8Array(64);
  try {
    for (;;) {
      const n = await Deno.stdin.read(buf);
      if (n === null) return null;
      for (const b of buf.subarray(0, n)) {
        if (b === 0x03 || b === 0x04) {
          writeErr("\r\n");
          return null;
        }
        if (b === 0x0d || b === 0x0a) {
          writeErr("\r\n");
          return new TextDecoder().decode(new Uint8Array(bytes));
        }
        if (b === 0x7f || b === 0x08) {
          if (bytes.length) {
            bytes.pop();
            if (echo) writeErr("\b \b");
          }
          continue;
        }
        bytes.push(b);
        if (echo) Deno.stderr.writeSync(new Uint8Array([b]));
      }
    }
  } finally {
    Deno.stdin.setRaw(false);
  }
}

/** Asks a yes/no question (typed `yes` means yes, as ssh(1) asks). */
export async function confirm(question: string): Promise<boolean> {
  for (;;) {
    const answer = await prompt(question, true);
    if (answer === null) return false;
    const a = answer.trim().toLowerCase();
    if (a === "yes") return true;
    if (a === "no") return false;
    writeErr("Please type 'yes' or 'no': ");
  }
}
