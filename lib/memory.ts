/**
 * Memory relief after a flood: a peer that sends millions of small messages (IGNORE, DEBUG,
 * banners) leaves as many short-lived buffers behind, and V8 collects them only once their
 * total has grown by tens of megabytes. {@link noteGarbage} counts what floods left behind, in
 * the whole process (a fleet check floods from many hosts at once), and every
 * {@link RELIEF_BYTES} asks for a full collection (best effort: through `gc` when exposed, else
 * a context of its own after `--expose-gc`; nothing when neither works).
 * @module
 */

/** Bytes of flood garbage after which a full collection is asked for. */
export const RELIEF_BYTES = 8 * 1024 * 1024;

let garbage = 0;

/** Counts `bytes` a flood left behind; asks for a collection every {@link RELIEF_BYTES}. */
export function noteGarbage(bytes: number): void {
  garbage += bytes;
  if (garbage < RELIEF_BYTES) return;
  garbage = 0;
  relieveMemory();
}

type Collect = () => void;

let collect: Collect | null | undefined;
let loading: Promise<void> | null = null;

async function load(): Promise<void> {
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === "function") {
    collect = exposed as Collect;
    return;
  }
  try {
    const v8 = await import("node:v8");
    const vm = await import("node:vm");
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc");
    collect = typeof gc === "function" ? gc as Collect : null;
  } catch {
    collect = null;
  }
}

/** Asks for a full garbage collection (the first call only prepares it). Never throws. */
export function relieveMemory(): void {
  if (collect === undefined) {
    loading ??= load();
    return;
  }
  try {
    collect?.();
  } catch {
    collect = null;
  }
}
