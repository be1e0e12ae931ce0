/**
 * A tiny scripted shell in memory for the send engine's tests: echo, prompt, paging with a pager
 * prompt that waits for a key and erases itself, a paging-off command, and logout.
 */
import type { ShellIo } from "../../lib/send/shell_io.ts";
import { binary, fromBinary } from "../../lib/send/prompt.ts";

// ---------------------------------------------------------------------------------------------
// A tiny scripted shell in memory: echo, prompt, paging with a pager prompt that waits for a
// key and erases itself, a paging-off command, and logout. Output goes out in small chunks.
// ---------------------------------------------------------------------------------------------

export interface FakeShellOptions {
  prompt: string;
  greeting?: string;
  /** Command → output lines (bytes as a binary string). */
  outputs: Record<string, string[]>;
  /** The command that turns paging off, and its reply lines. */
  pagingOff?: { command: string; reply: string[] };
  /** Reply lines for unknown commands. */
  unknown?: string[];
  pager?: string;
  erase?: string;
  pageRows?: number;
  logout?: string;
  echo?: boolean;
  /** Output chunk size in bytes (splits escape sequences and pagers). */
  chunk?: number;
  /** Commands that never finish (no prompt). */
  hang?: string[];
  /** Commands after which the shell just closes. */
  die?: string[];
  /** A banner that waits for any key before the greeting and prompt (ProCurve). */
  anyKey?: string;
  /** Commands that change the prompt (a configuration mode), and the prompt after them. */
  modes?: Record<string, string>;
}

export class FakeShell implements ShellIo {
  readonly sent: string[] = [];
  readonly lines: string[] = [];
  #o: FakeShellOptions;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #stream: ReadableStream<Uint8Array>;
  #line = "";
  #pending: string[] = [];
  #atPager = false;
  #paging = true;
  #closed = false;

  constructor(options: FakeShellOptions) {
    this.#o = options;
    this.#stream = new ReadableStream<Uint8Array>({
      start: (c) => {
        this.#controller = c;
      },
    });
    this.#waitingForKey = options.anyKey !== undefined;
    queueMicrotask(() => this.#out(options.anyKey ?? ((options.greeting ?? "") + options.prompt)));
  }

  read(): ReadableStream<Uint8Array> {
    return this.#stream;
  }

  write(bytes: Uint8Array): Promise<void> {
    const text = binary(bytes);
    this.sent.push(text);
    for (const ch of text) this.#key(ch);
    return Promise.resolve();
  }

  #out(text: string): void {
    if (this.#closed) return;
    const size = this.#o.chunk ?? 1 << 20;
    for (let i = 0; i < text.length; i += size) {
      this.#controller.enqueue(fromBinary(text.slice(i, i + size)));
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#controller.close();
    } catch {
      // the reader cancelled the stream already
    }
  }

  #waitingForKey = false;

  #key(ch: string): void {
    if (this.#closed) return;
    if (this.#waitingForKey) {
      this.#waitingForKey = false;
      this.lines.push(`<key ${JSON.stringify(ch)}>`);
      return this.#out("\r\n" + (this.#o.greeting ?? "") + this.#o.prompt);
    }
    if (this.#atPager) {
      this.#atPager = false;
      this.#out(this.#o.erase ?? "");
      this.#page(ch === " " ? (this.#o.pageRows ?? 24) : 1);
      return;
    }
    if (ch === "\n") return;
    if (ch === "\r") {
      if (this.#o.echo ?? true) this.#out("\r\n");
      const line = this.#line.trim();
      this.#line = "";
      this.lines.push(line);
      this.#run(line);
      return;
    }
    this.#line += ch;
    if (this.#o.echo ?? true) this.#out(ch);
  }

  #page(rows: number): void {
    const page = this.#pending.splice(0, rows);
    this.#out(page.map((l) => l + "\r\n").join(""));
    if (this.#pending.length) {
      this.#atPager = true;
      this.#out(this.#o.pager ?? "  ---- More ----");
    } else {
      this.#out(this.#o.prompt);
    }
  }

  #print(lines: string[]): void {
    this.#pending = [...lines];
    this.#page(this.#paging ? (this.#o.pageRows ?? 24) : lines.length);
  }

  #run(line: string): void {
    if (line === (this.#o.logout ?? "quit")) return this.close();
    if (this.#o.hang?.includes(line)) return this.#out("working...");
    if (this.#o.die?.includes(line)) return this.close();
    if (line === "") return this.#out(this.#o.prompt);
    if (this.#o.pagingOff && line === this.#o.pagingOff.command) {
      this.#paging = false;
      return this.#print(this.#o.pagingOff.reply);
    }
    const mode = this.#o.modes?.[line];
    if (mode !== undefined) this.#o = { ...this.#o, prompt: mode };
    const lines = this.#o.outputs[line];
    if (lines === undefined && mode !== undefined) return this.#out(this.#o.prompt);
    this.#print(lines ?? this.#o.unknown ?? ["% Unrecognized command found at '^' position."]);
  }
}
