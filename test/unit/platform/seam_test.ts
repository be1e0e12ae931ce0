import assert from "node:assert/strict";
import { platform } from "../../../lib/platform/mod.ts";

const ROOT = new URL("../../../", import.meta.url);

/**
 * Files outside lib/platform/ that may still name `Deno`, each with the uses it may make and why.
 * Remove an entry once its file goes through `platform` (the test fails on a stale entry).
 */
const EXCEPTIONS: { path: string; uses: RegExp; reason: string }[] = [
  {
    path: "lib/algorithms/_openssl.ts",
    uses: /^Deno\.(PointerValue|PointerObject|DynamicLibrary)$/,
    reason: "the FFI loader: Deno's pointer and library types (loading goes through " +
      "platform.dlopen; another runtime needs its own FFI binding anyway)",
  },
];

/** The TypeScript files under `dir` (relative to the repository root). */
async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(new URL(dir + "/", ROOT))) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) out.push(...await sources(path));
    else if (entry.isFile && entry.name.endsWith(".ts")) out.push(path);
  }
  return out.sort();
}

/** The code of a file without its comments (block comments, and `//` after a space or at a line start). */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|\s)\/\/.*$/gm, "$1");
}

/** Every use of the `Deno` global in `text`, with its line number. */
function denoUses(text: string): { line: number; use: string }[] {
  const uses: { line: number; use: string }[] = [];
  code(text).split("\n").forEach((l, i) => {
    for (const m of l.matchAll(/\bDeno\b(\s*\.\s*\w+)?/g)) {
      uses.push({ line: i + 1, use: m[0].replace(/\s+/g, "") });
    }
  });
  return uses;
}

Deno.test("only lib/platform/ touches Deno: the rest of lib/ and main.ts go through the seam", async () => {
  const files = ["main.ts", ...await sources("lib")];
  const offences: string[] = [];
  const used = new Set<string>();
  for (const path of files) {
    if (path.startsWith("lib/platform/")) continue;
    const text = await Deno.readTextFile(new URL(path, ROOT));
    const exception = EXCEPTIONS.find((e) => e.path === path);
    for (const { line, use } of denoUses(text)) {
      if (exception?.uses.test(use)) {
        used.add(path);
        continue;
      }
      offences.push(`${path}:${line}: ${use} (use platform from lib/platform/mod.ts)`);
    }
  }
  assert.deepEqual(offences, [], "Deno used outside lib/platform/:\n" + offences.join("\n"));
  const stale = EXCEPTIONS.filter((e) => !used.has(e.path)).map((e) => e.path);
  assert.deepEqual(stale, [], "exceptions that no longer use Deno (remove them from the list)");
});

Deno.test("the scan sees code, not comments", () => {
  const text = [
    "/** Deno.connect in a doc comment */",
    "// Deno.exit in a line comment",
    'const url = "https://example.org"; // Deno.env here too',
    "const x = Deno.env.get('A');",
    "let c: Deno . Conn;",
  ].join("\n");
  assert.deepEqual(denoUses(text), [
    { line: 4, use: "Deno.env" },
    { line: 5, use: "Deno.Conn" },
  ]);
});

Deno.test("platform.errorKind() names Deno's errors by meaning", () => {
  assert.equal(platform.errorKind(new Deno.errors.NotFound("x")), "not-found");
  assert.equal(platform.errorKind(new Deno.errors.ConnectionRefused("x")), "connection-refused");
  assert.equal(platform.errorKind(new Deno.errors.AddrInUse("x")), "addr-in-use");
  assert.equal(platform.errorKind(new Deno.errors.NotCapable("x")), "not-capable");
  assert.equal(platform.errorKind(new DOMException("t", "TimeoutError")), "timed-out");
  assert.equal(platform.errorKind(new DOMException("a", "AbortError")), "aborted");
  assert.equal(platform.errorKind(new Error("other")), "other");
  assert.equal(platform.errorKind("not an error"), "other");
});

Deno.test("platform.connectTcp() and connectUnix() give up when their signal aborts", async () => {
  const listener = platform.listenTcp("127.0.0.1", 0);
  try {
    const conn = await platform.connectTcp("127.0.0.1", listener.addr.port);
    conn.close();
    (await listener.accept()).close();
    const aborted = new AbortController();
    aborted.abort(new DOMException("stop", "AbortError"));
    await assert.rejects(
      platform.connectTcp("127.0.0.1", listener.addr.port, { signal: aborted.signal }),
      (e) => platform.errorKind(e) === "aborted",
    );
    await assert.rejects(
      platform.connectUnix("/nonexistent/sshtrace.sock", { signal: aborted.signal }),
      (e) => platform.errorKind(e) === "aborted",
    );
    await assert.rejects(
      platform.connectUnix("/nonexistent/sshtrace.sock"),
      (e) => platform.errorKind(e) === "not-found",
    );
  } finally {
    listener.close();
  }
});
