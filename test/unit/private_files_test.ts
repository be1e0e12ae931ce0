// A file or folder whose name starts with `_` is private to the folder that holds it (Deno std's
// rule): nothing outside that folder imports it. Tests may reach into the folder they mirror
// (test/<tier>/algorithms/ may import lib/algorithms/_openssl.ts).
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = normalize(join(dirname(fileURLToPath(import.meta.url)), "..", ".."));
const SCANNED = ["lib", "test", "bench", "examples", "main.ts"];
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["']([^"']+)["']/g;

async function* sourceFiles(path: string): AsyncGenerator<string> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch {
    return;
  }
  if (info.isFile) {
    if (/\.(ts|js|mjs)$/.test(path)) yield path;
    return;
  }
  for await (const entry of Deno.readDir(path)) {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
    yield* sourceFiles(join(path, entry.name));
  }
}

/** The folder a private path belongs to (parent of its first `_` segment), or null. */
function privateOwner(path: string): string | null {
  const parts = path.split("/");
  const i = parts.findIndex((p) => p.startsWith("_"));
  return i < 0 ? null : parts.slice(0, i).join("/");
}

/** Whether `importer` (repo-relative) may import a private path owned by `owner`. */
function mayImport(importer: string, owner: string): boolean {
  const within = (dir: string) => dir === owner || dir.startsWith(owner + "/");
  const dir = dirname(importer);
  if (within(dir)) return true;
  // test/<tier>/<rel>/ mirrors lib/<rel>/.
  const mirror = /^test\/[^/]+\/(.*)$/.exec(dir);
  return !!mirror && within(`lib/${mirror[1]}`);
}

Deno.test("privateOwner() and mayImport() read the rule as meant", () => {
  assert.equal(privateOwner("lib/algorithms/_openssl.ts"), "lib/algorithms");
  assert.equal(privateOwner("lib/algorithms/_wasm/mlkem768.ts"), "lib/algorithms");
  assert.equal(privateOwner("lib/algorithms/cipher.ts"), null);
  assert.ok(mayImport("lib/algorithms/hash.ts", "lib/algorithms"));
  assert.ok(mayImport("lib/algorithms/_wasm/mlkem768.ts", "lib/algorithms"));
  assert.ok(mayImport("test/unit/algorithms/backend_test.ts", "lib/algorithms"));
  assert.ok(!mayImport("lib/transport/transport.ts", "lib/algorithms"));
  assert.ok(!mayImport("test/unit/transport/read_ahead_test.ts", "lib/algorithms"));
  assert.ok(!mayImport("bench/crypto_ceiling.ts", "lib/algorithms"));
});

Deno.test("no file imports a `_` file or folder from outside the folder that holds it", async () => {
  const violations: string[] = [];
  let scanned = 0;
  for (const top of SCANNED) {
    for await (const file of sourceFiles(join(ROOT, top))) {
      scanned++;
      const importer = relative(ROOT, file);
      const text = await Deno.readTextFile(file);
      for (const m of text.matchAll(IMPORT)) {
        const spec = m[1]!;
        if (!spec.startsWith(".")) continue;
        const target = relative(ROOT, normalize(join(dirname(file), spec)));
        const owner = privateOwner(target);
        if (owner !== null && !mayImport(importer, owner)) {
          violations.push(`${importer} imports ${target} (private to ${owner}/)`);
        }
      }
    }
  }
  assert.ok(scanned > 100, `scanned only ${scanned} files from ${ROOT}`);
  assert.deepEqual(violations, []);
});
