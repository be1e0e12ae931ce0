/**
 * One direction of a channel's received bytes as a pull-based ReadableStream. Bytes count as
 * consumed (and may be credited back to the peer) only when a reader actually takes them.
 * @module
 */

export class Inbound {
  readonly stream: ReadableStream<Uint8Array>;
  #chunks: Uint8Array[] = [];
  #wake: (() => void) | null = null;
  #ended = false;
  #error: Error | null = null;
  #cancelled = false;
  #onConsumed: (n: number) => void;

  constructor(onConsumed: (n: number) => void) {
    this.#onConsumed = onConsumed;
    this.stream = new ReadableStream<Uint8Array>(
      {
        pull: (controller) => this.#pull(controller),
        cancel: () => this.#cancel(),
      },
      { highWaterMark: 0 },
    );
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.#cancelled || this.#ended || this.#error) {
      // Nobody will read these: credit them at once so the other stream is not starved.
      this.#onConsumed(bytes.length);
      return;
    }
    this.#chunks.push(bytes);
    this.#notify();
  }

  end(): void {
    this.#ended = true;
    this.#notify();
  }

  fail(error: Error): void {
    if (this.#ended) return;
    this.#error = error;
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  async #pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    for (;;) {
      const chunk = this.#chunks.shift();
      if (chunk) {
        controller.enqueue(chunk);
        this.#onConsumed(chunk.length);
        return;
      }
      if (this.#error) {
        controller.error(this.#error);
        return;
      }
      if (this.#ended) {
        controller.close();
        return;
      }
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  #cancel(): void {
    this.#cancelled = true;
    const n = this.#chunks.reduce((sum, c) => sum + c.length, 0);
    this.#chunks = [];
    if (n) this.#onConsumed(n);
  }
}
