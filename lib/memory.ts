/**
 * Memory relief after a flood: a peer that sends millions of small messages (IGNORE, DEBUG,
 * banners) leaves as many short-lived buffers behind, and V8 collects them only once their
 * total has grown by tens of megabytes. {@link relieveMemory} asks for a full collection now
 * (best effort: through `gc` when exposed, else a context of its own after `--expose-gc`;
 * nothing when neither works).
 * @module
 */

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
