// Run as a script by test/unit/env_at_import_test.ts: imports every module under the folder given
// as the argument with Deno.env watched, and prints, as JSON, each module whose import read the
// environment, with the names it read. Reads by the runtime's own node: compatibility layer
// (`ext:deno_node`, which reads NODE_OPTIONS when node:process first loads) are not ours and are
// left out.
const reads: string[] = [];
const env = Deno.env;
const get = env.get.bind(env);
const has = env.has.bind(env);
const toObject = env.toObject.bind(env);
const record = (name: string) => {
  if (!/ext:deno_node\//.test(new Error().stack ?? "")) reads.push(name);
};
env.get = (name: string) => (record(name), get(name));
env.has = (name: string) => (record(name), has(name));
env.toObject = () => (record("*"), toObject());

async function* modules(dir: string): AsyncGenerator<string> {
  const entries = [];
  for await (const entry of Deno.readDir(dir)) entries.push(entry);
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* modules(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

const found: Record<string, string[]> = {};
let count = 0;
for await (const path of modules(Deno.args[0]!)) {
  const before = reads.length;
  await import(new URL(`file://${path}`).href);
  count++;
  if (reads.length > before) found[path] = reads.slice(before);
}
await Deno.stdout.write(new TextEncoder().encode(JSON.stringify({ count, found }) + "\n"));
