/**
 * What `deno task compile` (scripts/compile.sh) needs from the code, checked here since the
 * compile itself cannot run on this machine: every lazy `await import("…")` has a literal
 * specifier, every local one is in the script's `--include` list, and the script grants exactly
 * the permissions of `deno task sshtrace`.
 */

import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";

const ROOT = new URL("../../..", import.meta.url).pathname;

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(join(ROOT, dir))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) out.push(...sources(path));
    else if (entry.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

const script = Deno.readTextFileSync(join(ROOT, "scripts/compile.sh"));
const listed = (name: string) =>
  new RegExp(`^${name}=\\(([^)]*)\\)`, "m").exec(script)?.[1]?.split(/\s+/).filter(Boolean) ??
    [];

Deno.test("every lazily imported module (and worker) has a literal specifier and is in compile.sh's --include list", () => {
  const include = new Set(listed("LAZY_MODULES"));
  const found = new Set<string>();
  for (const file of ["main.ts", ...sources("lib")]) {
    const text = Deno.readTextFileSync(join(ROOT, file));
    for (const m of text.matchAll(/\bimport\(\s*([^)]*?)\s*\)/g)) {
      const arg = m[1]!;
      if (arg === "" || text.slice(m.index - 20, m.index).includes("typeof")) continue;
      assert.match(arg, /^"[^"]+"$/, `${file}: import(${arg}) has no literal specifier`);
      const specifier = arg.slice(1, -1);
      if (!specifier.startsWith(".")) continue; // node: built-ins and npm packages
      found.add(relative(ROOT, join(ROOT, dirname(file), specifier)));
    }
    // A worker's module is loaded by URL: deno compile includes it only when named.
    for (const m of text.matchAll(/new Worker\(\s*new URL\(\s*"([^"]+)",\s*import\.meta\.url/g)) {
      found.add(relative(ROOT, join(ROOT, dirname(file), m[1]!)));
    }
  }
  assert.ok(found.size >= 5, `only ${[...found]} found: the scan is broken`);
  for (const module of found) assert.ok(include.has(module), `${module} missing in compile.sh`);
  for (const module of include) assert.ok(found.has(module), `${module} is no longer lazy`);
});

Deno.test("compile.sh grants exactly the permissions of `deno task sshtrace`", () => {
  const task: string = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json"))).tasks.sshtrace;
  const fromTask = task.split(/\s+/).filter((w) => w.startsWith("--allow-")).sort();
  assert.deepEqual(listed("PERMISSIONS").sort(), fromTask);
});
