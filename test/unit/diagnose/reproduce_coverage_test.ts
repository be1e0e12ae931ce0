/**
 * Every failure catalogue code is reproduced for real by a row of a reproduction table (one table
 * per server kind), or listed in {@link NOT_REPRODUCIBLE} with the reason it cannot be; and the
 * "Reproduced by" column of docs/failures.md names that row. The tables are static data, so this
 * test reads them without starting a server; the rows run in their own tiers:
 *
 * - test/interop/diagnose/reproduce_no_server_test.ts: the resolver, closed and black-holed ports,
 *   a proxy that resets, byte-level TCP servers
 * - test/lab/diagnose/reproduce_lab_test.ts: the lab server's fault profiles and hooks
 * - test/interop/diagnose/reproduce_sshd_test.ts: OpenSSH sshd, a Match LocalPort block per failure
 * - test/interop/diagnose/reproduce_sshd_legacy_test.ts: a legacy-only sshd
 * - test/interop/diagnose/reproduce_sshd_certs_test.ts: sshd presenting host certificates
 * - test/interop/diagnose/reproduce_old_switch_test.ts: the asyncssh old-switch emulator
 * - test/interop/transfer/reproduce_transfer_test.ts: get/put against sshd, and the scripted
 *   SFTP server
 *
 * `SSHTRACE_WRITE_DOCS=1 deno test -A test/unit/diagnose/reproduce_coverage_test.ts` rewrites the
 * column.
 */

import assert from "node:assert/strict";
import { catalogueCodes } from "../../../lib/diagnose/catalogue/mod.ts";
import { cells, failuresDoc } from "../../../scripts/docs.ts";
import {
  entryOf,
  reproducedBy,
  type Reproduction,
  type ReproductionTable,
} from "../../helpers/reproduce.ts";
import { NO_SERVER } from "../../interop/diagnose/reproduce_no_server.ts";
import { OLD_SWITCH } from "../../interop/diagnose/reproduce_old_switch.ts";
import { SSHD } from "../../interop/diagnose/reproduce_sshd.ts";
import { SSHD_LEGACY } from "../../interop/diagnose/reproduce_sshd_legacy.ts";
import { SSHD_CERTS } from "../../interop/diagnose/reproduce_sshd_certs.ts";
import { LAB } from "../../lab/diagnose/reproduce_lab.ts";
import { TRANSFER } from "../../interop/transfer/reproduce_transfer.ts";

const DOCS = new URL("../../../docs/failures.md", import.meta.url).pathname;

/**
 * Catalogue codes with no real reproduction, each with the reason. Keep it short and honest:
 * a code belongs here only when no server configuration on 127.0.0.1 can produce it.
 */
const NOT_REPRODUCIBLE: Readonly<Record<string, string>> = {
  "connect.unreachable": "needs a routing failure (EHOSTUNREACH/ENETUNREACH), and tests never " +
    "send traffic outside 127.0.0.0/8",
  "connect.reset": "Linux reports a reset answering the SYN as ECONNREFUSED (connect.refused); " +
    "a reset inside the TCP handshake needs a middlebox outside this host",
  "*.internal": "only a bug in sshtrace produces it (a layer throwing something other than an " +
    "SshError); the one found here is reported, not pinned by a test",
  "*.interrupted": "needs a person pressing Ctrl-C at a terminal prompt: " +
    "test/interop/cli/interrupt_test.ts does it in tmux against sshd",
};

/** Every table, in the order their first reproduction of a code is named. */
// deno-lint-ignore no-explicit-any -- tables differ only in their context type
const TABLES: ReproductionTable<any>[] = [
  NO_SERVER,
  LAB,
  SSHD,
  SSHD_LEGACY,
  SSHD_CERTS,
  OLD_SWITCH,
  TRANSFER,
];

/** Catalogue entry → its first reproduction. */
function reproductions(): Map<string, Reproduction> {
  const out = new Map<string, Reproduction>();
  for (const table of TABLES) {
    for (const row of table.rows) {
      for (const r of row.reproduces) if (!out.has(entryOf(r))) out.set(entryOf(r), r);
    }
  }
  return out;
}

/** The "Reproduced by" cell of a code's row in docs/failures.md. */
function reproducedByCell(code: string): string {
  const r = reproductions().get(code);
  if (r) return reproducedBy(r);
  return `not reproducible: ${NOT_REPRODUCIBLE[code]}`;
}

Deno.test("every catalogue code is reproduced by a table row, or listed with the reason it cannot be", () => {
  const reproduced = reproductions();
  const codes = catalogueCodes();
  const missing = codes.filter((c) => !reproduced.has(c) && !Object.hasOwn(NOT_REPRODUCIBLE, c));
  assert.deepEqual(missing, [], `catalogue codes with no reproduction: ${missing.join(", ")}`);
  for (const [code, why] of Object.entries(NOT_REPRODUCIBLE)) {
    assert.ok(codes.includes(code), `${code} (NOT_REPRODUCIBLE) is a catalogue code`);
    assert.ok(!reproduced.has(code), `${code} is reproduced: remove it from NOT_REPRODUCIBLE`);
    assert.ok(why.length > 20, `${code} has a reason`);
  }
  for (const code of reproduced.keys()) assert.ok(codes.includes(code), `${code} is catalogued`);
  assert.ok(Object.keys(NOT_REPRODUCIBLE).length <= 4, "NOT_REPRODUCIBLE stays short");
  assert.equal(reproduced.size + Object.keys(NOT_REPRODUCIBLE).length, codes.length);
});

Deno.test("every reproduction table row has a unique name and says how it reproduces", () => {
  for (const table of TABLES) {
    const names = table.rows.map((r) => r.name);
    assert.deepEqual(names.filter((n, i) => names.indexOf(n) !== i), [], table.name);
    for (const row of table.rows) {
      for (const r of row.reproduces) {
        assert.ok(r.by.length > 10, `${row.name}: says how`);
        assert.ok(r.entry === undefined || r.entry.startsWith("*."), `${row.name}: ${r.entry}`);
      }
    }
  }
});

Deno.test("docs/failures.md names the reproduction of every catalogue code", async () => {
  const markdown = await Deno.readTextFile(DOCS);
  if (Deno.env.get("SSHTRACE_WRITE_DOCS") === "1") {
    // The same generator as `deno task docs`, given the column this test computes.
    await Deno.writeTextFile(DOCS, await failuresDoc(markdown, reproducedByCell));
    return;
  }
  const rows = new Map<string, string[]>();
  for (const line of markdown.split("\n")) {
    const m = /^\| `([^`]+)`/.exec(line);
    if (m) rows.set(m[1]!, cells(line));
  }
  const header = markdown.split("\n").find((l) => /^\| Code\s+\|/.test(l));
  assert.equal(cells(header ?? "").at(-1), "Reproduced by", "the table has the column");
  for (const code of catalogueCodes()) {
    const row = rows.get(code);
    assert.ok(row, `docs/failures.md has a row for ${code}`);
    assert.equal(
      row.at(-1),
      reproducedByCell(code),
      `the "Reproduced by" cell of ${code} (rewrite with SSHTRACE_WRITE_DOCS=1)`,
    );
  }
});
