/**
 * Start-up budget of each command: the project modules a command loads before it runs (the static
 * import graph of main.ts and of the modules main.ts's case for it imports), within a count, and
 * without the heavy modules of other commands. Loading modules is most of sshtrace's start-up
 * (BENCHMARKS.md, "Start-up"), and a static import is easy to add by accident: this fails when a
 * transfer, doctor, send, jump, forwarding, netconf, `-G` dump, lab or post-quantum module enters
 * the graph of a command that does not need it. Type-only imports are left out (the compiler
 * removes them); dynamic `import()`s are the lazy edges and are not followed.
 */

import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";

const ROOT = new URL("../../..", import.meta.url).pathname;

/** `import … from "x"`, `export … from "x"`, `import "x"` at the start of a line (no JSDoc). */
const STATEMENT =
  /^(import|export)\s+(type\s+)?(\{[^}]*\}|\*\s+as\s+\w+|\*|\w+(?:\s*,\s*\{[^}]*\})?)\s+from\s+"([^"]+)"/gm;
const BARE_IMPORT = /^import\s+"([^"]+)"/gm;

/** Every member of `{ … }` is `type X`: the statement is removed by the compiler. */
function typeOnly(clause: string): boolean {
  if (!clause.startsWith("{")) return false;
  const names = clause.slice(1, -1).split(",").map((n) => n.trim()).filter(Boolean);
  return names.length > 0 && names.every((n) => n.startsWith("type "));
}

/** The modules `entries` load statically: project files (relative paths) and external names. */
export function staticGraph(
  entries: readonly string[],
): { files: Set<string>; external: Set<string> } {
  const files = new Set<string>();
  const external = new Set<string>();
  const todo = [...entries];
  while (todo.length) {
    const file = todo.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    if (!file.endsWith(".ts")) continue;
    const text = Deno.readTextFileSync(join(ROOT, file));
    const specifiers: string[] = [];
    for (const m of text.matchAll(STATEMENT)) {
      if (m[2] || typeOnly(m[3]!)) continue;
      specifiers.push(m[4]!);
    }
    for (const m of text.matchAll(BARE_IMPORT)) specifiers.push(m[1]!);
    for (const s of specifiers) {
      if (s.startsWith(".")) todo.push(normalize(relative(ROOT, join(ROOT, dirname(file), s))));
      else external.add(s);
    }
  }
  return { files, external };
}

/** Heavy module groups, by path (and external package) pattern. */
const HEAVY: Record<string, RegExp> = {
  transfer: /^lib\/transfer\/|^lib\/cli\/transfer\.ts$/,
  doctor: /^lib\/doctor\/|^lib\/cli\/(doctor|deep)\.ts$/,
  // lib/send/devices.ts is the device table the help text names (lib/cli/commands.ts).
  send: /^lib\/send\/(?!devices\.ts$)|^lib\/cli\/send\.ts$/,
  jump: /^lib\/jump\//,
  // lib/forward/spec.ts parses -L/-R/-D for ssh_config (lib/cli/config.ts).
  forward: /^lib\/forward\/(?!spec\.ts$)/,
  netconf: /^lib\/netconf\/|^lib\/cli\/netconf\.ts$/,
  "sshconfig dump": /^lib\/sshconfig\/dump\.ts$|^lib\/cli\/config_dump\.ts$/,
  lab: /^lib\/lab\/|^lib\/cli\/lab\.ts$/,
  check: /^lib\/check\/|^lib\/cli\/check\.ts$/,
  "post-quantum kex": /^lib\/algorithms\/_wasm\/|^@noble\/post-quantum/,
  // ~25 ms of start-up: loaded at the point of use (lib/algorithms/node_loader.ts).
  "node:crypto": /^node:crypto$/,
  compression: /^pako/,
  // Loaded on a failure only (lib/diagnose/explainer.ts), by lib/run.ts or main.ts's error path.
  "failure catalogue": /^lib\/diagnose\/(catalogue\/|explain\.ts$|config_fix\.ts$|audiences\.ts$)/,
  "login (connection layer, credentials, terminal)":
    /^lib\/connection\/|^lib\/cli\/(connect|credentials|session_io)\.ts$/,
  "protocol (transport, algorithms, auth, ssh_config, diagnosis)":
    // lib/algorithms/kem_prefetch.ts (no imports) starts the sntrup761 key pair from main.ts.
    /^lib\/(transport|auth|sshconfig|diagnose|hostkeys|keys)\/|^lib\/algorithms\/(?!kem_prefetch\.ts$)/,
};

interface Budget {
  /** What main.ts's case for the command imports (after main.ts itself). */
  entries: string[];
  /**
   * Most project modules the command may load before it runs: the count when this was last
   * tightened plus a little room (before per-command loading every command loaded 148). Raised
   * once when host certificates (hostkeys/host_certificate, offer_order, host_ip, keys/certificate)
   * and the named diagnosis causes joined every host key check and failure explanation;
   * tightened again (−17 each) when the failure catalogue began to load on a failure only. One
   * more project module (lib/cli/parse_argv.ts) when it replaced `node:util`'s parseArgs: no
   * command loads an external module at start any more (below). And one more (lib/async.ts, no
   * imports of its own) when the promise helpers every layer races timers with left the
   * connection layer.
   */
  maxModules: number;
  /** Heavy groups the command needs. */
  needs: string[];
}

const PROTOCOL = "protocol (transport, algorithms, auth, ssh_config, diagnosis)";
const LOGIN = "login (connection layer, credentials, terminal)";

const BUDGETS: Record<string, Budget> = {
  "--version": { entries: [], maxModules: 19, needs: [] },
  probe: {
    entries: ["lib/cli/probe.ts", "lib/client/probe.ts"],
    maxModules: 114,
    needs: [PROTOCOL],
  },
  "connect (exec)": {
    entries: ["lib/cli/connect.ts", "lib/client.ts"],
    maxModules: 141,
    needs: [PROTOCOL, LOGIN, "forward"],
  },
  send: {
    entries: ["lib/cli/settings.ts", "lib/cli/send.ts"],
    maxModules: 153,
    needs: [PROTOCOL, LOGIN, "forward", "send"],
  },
  "get and put": {
    entries: [
      "lib/cli/settings.ts",
      "lib/cli/transfer.ts",
      "lib/client.ts",
      "lib/transfer/copy.ts",
    ],
    maxModules: 154,
    needs: [PROTOCOL, LOGIN, "forward", "transfer"],
  },
  check: {
    entries: ["lib/cli/settings.ts", "lib/cli/check.ts", "lib/sshconfig/apply.ts"],
    maxModules: 146,
    // lib/send/transcript.ts writes --log transcripts (and prompt.ts the prompt it masks by).
    // lib/jump/chain.ts: --jump reaches the fleet through one shared jump connection.
    needs: [PROTOCOL, LOGIN, "forward", "check", "send", "jump"],
  },
};

for (const [command, budget] of Object.entries(BUDGETS)) {
  Deno.test(`${command} loads at most ${budget.maxModules} modules at start, none of another command's heavy ones`, () => {
    // Each entry is imported lazily by main.ts or by an entry before it.
    budget.entries.forEach((entry, i) => {
      const importers = ["main.ts", ...budget.entries.slice(0, i)];
      assert.ok(
        importers.some((file) => {
          const specifier = relative(dirname(join(ROOT, file)), join(ROOT, entry));
          const text = Deno.readTextFileSync(join(ROOT, file));
          return text.includes(`import("./${specifier}")`) ||
            text.includes(`import("${specifier}")`);
        }),
        `no longer imported lazily by ${importers.join(" or ")}: ${entry} (update this budget)`,
      );
    });
    const { files, external } = staticGraph(["main.ts", ...budget.entries]);
    const modules = [...files, ...external];
    for (const [group, pattern] of Object.entries(HEAVY)) {
      if (budget.needs.includes(group)) continue;
      const found = modules.filter((m) => pattern.test(m));
      assert.deepEqual(
        found,
        [],
        `${command} loads ${group} modules at start: ${found.join(", ")}`,
      );
    }
    const project = [...files].filter((f) => f.endsWith(".ts"));
    assert.ok(
      project.length <= budget.maxModules,
      `${command} loads ${project.length} project modules at start (budget ${budget.maxModules})`,
    );
    // Built-in (`node:*`) and npm modules load at the point of use: each costs milliseconds of
    // start-up (node:util's parseArgs ~5–7 ms, node:crypto ~25 ms; BENCHMARKS.md).
    assert.deepEqual([...external], [], `${command} loads these at start: ${[...external]}`);
  });
}

Deno.test("no command's start-up graph loads node:util (the command line is parsed by lib/cli/parse_argv.ts)", () => {
  // Every module main.ts loads lazily: each command's own, and the error path's.
  const main = Deno.readTextFileSync(join(ROOT, "main.ts"));
  const lazy = [...main.matchAll(/import\("\.\/([^"]+)"\)/g)].map((m) => m[1]!);
  assert.ok(lazy.length >= 10, `main.ts's lazy imports are missed: ${lazy.join(", ")}`);
  for (const entry of ["main.ts", ...lazy]) {
    const { external } = staticGraph(["main.ts", entry]);
    assert.ok(!external.has("node:util"), `${entry} loads node:util at start`);
  }
});

Deno.test("the module graph walk finds the imports it should (and skips type-only ones)", () => {
  const { files, external } = staticGraph(["main.ts"]);
  assert.ok(files.has("lib/cli/args.ts"), "main.ts's static import of args.ts is missed");
  assert.ok(
    files.has("lib/cli/parse_argv.ts"),
    "args.ts's static import of parse_argv.ts is missed",
  );
  assert.deepEqual([...external], [], "main.ts loads an external module");
  // An external module is found (the lab's host keys import node:crypto).
  assert.ok(staticGraph(["lib/lab/hostkeys.ts"]).external.has("node:crypto"));
  // lib/client.ts imports only types from lib/transport/version.ts and errors: still loads its
  // transport through open_transport.ts.
  const client = staticGraph(["lib/client.ts"]).files;
  assert.ok(client.has("lib/transport/transport.ts"));
  assert.ok(!client.has("lib/transfer/sftp_client.ts"), "a type-only import was followed");
});

Deno.test("probe and a login check their options before the connect without the algorithm implementations or the transport", () => {
  // What loads before the TCP connection starts (lib/client/early_connect.ts): the command's
  // module and its static imports. Algorithm lists are checked with lib/algorithms/names.ts;
  // the registry, the transport and the failure catalogue load during the connect or later.
  for (const command of ["lib/cli/probe.ts", "lib/cli/connect.ts", "lib/cli/transfer.ts"]) {
    const { files } = staticGraph(["main.ts", command]);
    const early = [...files].filter((f) =>
      /^lib\/algorithms\/(registry|kex|cipher|mac|hostkey|compression)\.ts$/.test(f) ||
      /^lib\/transport\/(transport|handshake)\.ts$/.test(f) ||
      /^lib\/diagnose\/(explain\.ts|catalogue\/)/.test(f)
    );
    assert.deepEqual(early, [], `${command} loads these before the connect: ${early.join(", ")}`);
  }
});
