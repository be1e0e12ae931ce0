/**
 * A session transcript (`send --log FILE`): what was typed and what the device printed, each
 * with a timestamp, as JSON-quoted text so control characters stay visible. Secrets typed into
 * the shell (the enable secret, `--answer` replies) are recorded as `[secret masked]`, and any
 * echo of them in the device's output is masked too.
 * @module
 */

import { binary } from "./prompt.ts";

/** What the engine reports to a transcript. */
export interface TranscriptSink {
  /** Bytes typed into the shell; `secret` when they hold a secret. */
  sent(bytes: Uint8Array, secret: boolean): void;
  /** Bytes the shell printed. */
  received(bytes: Uint8Array): void;
}

interface Entry {
  at: Date;
  dir: "sent" | "received" | "secret";
  /** One character per byte (see `binary()`). */
  text: string;
}

const MASK = "[secret masked]";

/** Collects a transcript in memory; {@link Transcript.text} renders it. */
export class Transcript implements TranscriptSink {
  #entries: Entry[] = [];
  #secrets = new Set<string>();
  #clock: () => Date;

  constructor(clock: () => Date = () => new Date()) {
    this.#clock = clock;
  }

  sent(bytes: Uint8Array, secret: boolean): void {
    const text = binary(bytes);
    if (secret) {
      // The secret itself, without the Enter typed after it, is masked wherever it shows up.
      const value = text.replace(/[\r\n]+$/, "");
      if (value) this.#secrets.add(value);
      this.#entries.push({ at: this.#clock(), dir: "secret", text: "" });
      return;
    }
    this.#entries.push({ at: this.#clock(), dir: "sent", text });
  }

  received(bytes: Uint8Array): void {
    const last = this.#entries.at(-1);
    // Consecutive chunks make one entry, so a secret split across chunks is still masked.
    if (last?.dir === "received") last.text += binary(bytes);
    else this.#entries.push({ at: this.#clock(), dir: "received", text: binary(bytes) });
  }

  /** The transcript: one line per entry, `TIME >> "typed"`, `TIME << "printed"`. */
  text(): string {
    const decoder = new TextDecoder();
    return this.#entries.map((e) => {
      if (e.dir === "secret") return `${e.at.toISOString()} >> ${MASK}\n`;
      let text = e.text;
      for (const secret of this.#secrets) text = text.split(secret).join(MASK);
      const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
      const arrow = e.dir === "sent" ? ">>" : "<<";
      return `${e.at.toISOString()} ${arrow} ${JSON.stringify(decoder.decode(bytes))}\n`;
    }).join("");
  }
}
