/**
 * The bytes side of driving a shell: {@link ShellIo} (what the engine writes to and reads from),
 * its adapter for an SSH session ({@link sessionIo}), and the {@link Inbox} that accumulates
 * the shell's output and wakes the engine when more arrives.
 * @module
 */

import { orLate } from "../async.ts";

/** A duplex of bytes to a shell: what the engine writes to and reads from. */
export interface ShellIo {
  write(bytes: Uint8Array): Promise<void>;
  /** The shell's output; called once. */
  read(): AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;
}

/** The parts of a `Session` (lib/connection/session.ts) the adapter needs. */
export interface SessionLike {
  write(bytes: Uint8Array): Promise<void>;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr?: ReadableStream<Uint8Array>;
}

/**
 * Adapts a session with a pty shell: stdout and stderr are read together (a pty sends
 * everything on stdout, but an unread stderr would stall the shared channel window).
 */
export function sessionIo(session: SessionLike): ShellIo {
  return {
    write: (bytes) => session.write(bytes),
    read: () => (session.stderr ? mergeStreams(session.stdout, session.stderr) : session.stdout),
  };
}

/** Interleaves two byte streams into one, ending when both end. */
function mergeStreams(
  a: ReadableStream<Uint8Array>,
  b: ReadableStream<Uint8Array>,
): ReadableStream<Uint8Array> {
  const readers = [a.getReader(), b.getReader()];
  let open = readers.length;
  let pumps: Promise<void>[] = [];
  return new ReadableStream<Uint8Array>({
    start(controller) {
      pumps = readers.map(async (reader) => {
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            controller.enqueue(value);
          }
        } catch (e) {
          controller.error(e);
          return;
        }
        if (--open === 0) controller.close();
      });
    },
    async cancel(reason) {
      await Promise.all(readers.map((r) => r.cancel(reason).catch(() => {})));
      await Promise.all(pumps);
    },
  });
}

/** The default of {@link Inbox}'s limit (`--max-output`): 64 MiB. */
export const DEFAULT_MAX_OUTPUT = 64 * 1024 * 1024;

/** Accumulates the shell's output and wakes whoever waits for more. */
export class Inbox {
  #data = new Uint8Array(8192);
  length = 0;
  ended = false;
  error: unknown = null;
  /** Most bytes held at once (see `SendOptions.maxOutputBytes`). */
  readonly limit: number;
  /** Set (with `ended`) when more than {@link limit} bytes would be held: reading stopped. */
  overflow = false;
  /** When the last byte arrived (performance.now()). */
  lastData = performance.now();
  #wake: (() => void) | null = null;
  #cancel: () => Promise<void>;
  #pump: Promise<void>;

  /** `onChunk` sees every chunk as it arrives (a transcript). */
  constructor(
    source: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
    onChunk?: (chunk: Uint8Array) => void,
    limit = DEFAULT_MAX_OUTPUT,
  ) {
    this.limit = limit;
    let next: () => Promise<IteratorResult<Uint8Array>>;
    let cancel: () => Promise<void>;
    if (source instanceof ReadableStream) {
      const reader = source.getReader();
      next = async () => {
        const r = await reader.read();
        return r.done ? { done: true, value: undefined } : { done: false, value: r.value };
      };
      cancel = () => reader.cancel().catch(() => {});
    } else {
      const it = source[Symbol.asyncIterator]();
      next = () => it.next();
      cancel = async () => {
        // A generator stuck in a wait would never settle return(): don't wait for it.
        it.return?.()?.catch(() => {});
        await Promise.resolve();
      };
    }
    this.#cancel = cancel;
    this.#pump = (async () => {
      try {
        for (;;) {
          const r = await next();
          if (r.done) break;
          if (this.length + r.value.length > limit) {
            this.overflow = true;
            await cancel();
            break;
          }
          onChunk?.(r.value);
          this.#push(r.value);
        }
      } catch (e) {
        this.error = e;
      }
      this.ended = true;
      this.#notify();
    })();
  }

  #push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.length + chunk.length > this.#data.length) {
      const bigger = new Uint8Array(Math.max(this.#data.length * 2, this.length + chunk.length));
      bigger.set(this.#data.subarray(0, this.length));
      this.#data = bigger;
    }
    this.#data.set(chunk, this.length);
    this.length += chunk.length;
    this.lastData = performance.now();
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** A copy of bytes [start, end). */
  slice(start: number, end = this.length): Uint8Array {
    return this.#data.slice(start, end);
  }

  /** A view of bytes [start, end) (valid until the next push). */
  view(start: number, end = this.length): Uint8Array {
    return this.#data.subarray(start, end);
  }

  /** Forgets bytes before `index`; returns how many were dropped (indexes shift by that). */
  discard(index: number): number {
    this.#data.copyWithin(0, index, this.length);
    this.length -= index;
    return index;
  }

  /** Resolves on new data, the end, or after `ms`. */
  wait(ms: number): Promise<void> {
    if (this.ended) return Promise.resolve();
    return new Promise<void>((resolve) => {
      // The waker goes in first: the first setTimeout() of a process may run pending
      // microtasks (data arriving) before it returns.
      const state: { timer?: ReturnType<typeof setTimeout>; done: boolean } = { done: false };
      this.#wake = () => {
        state.done = true;
        clearTimeout(state.timer);
        resolve();
      };
      state.timer = setTimeout(() => {
        this.#wake = null;
        resolve();
      }, Math.max(0, ms));
      if (state.done) clearTimeout(state.timer);
    });
  }

  /** Stops reading (if the source has not ended). */
  async stop(): Promise<void> {
    if (!this.ended) await this.#cancel();
    await orLate(this.#pump, 200);
  }
}
