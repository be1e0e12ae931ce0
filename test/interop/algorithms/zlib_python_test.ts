// zlib@openssh.com against an independent zlib (python's): packets flushed with Z_SYNC_FLUSH
// inflate here, and ours inflate there as soon as each arrives. The in-memory zlib tests are in
// test/unit/algorithms/cipher_test.ts.
import assert from "node:assert/strict";
import { createZlibStream, loadZlib } from "../../../lib/algorithms/compression.ts";
import { hex, toHex } from "../../helpers/hex.ts";
import { requireTool, run } from "../../helpers/tools.ts";

await loadZlib();

const PAYLOADS = [
  "SSH_MSG_CHANNEL_DATA hello hello hello hello",
  "",
  "x".repeat(70000),
  "SSH_MSG_CHANNEL_DATA hello hello hello hello again",
].map((s) => new TextEncoder().encode(s));

const PYTHON = "/usr/bin/python3";

Deno.test("createZlibStream() inflates packets that python's zlib flushed with Z_SYNC_FLUSH", async () => {
  requireTool(PYTHON);
  const script = [
    "import sys, zlib",
    "c = zlib.compressobj()",
    "for line in sys.stdin.read().split():",
    "    data = bytes.fromhex(line) if line != '-' else b''",
    "    print((c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)).hex())",
  ].join("\n");
  const input = PAYLOADS.map((p) => (p.length ? toHex(p) : "-")).join("\n");
  const result = await run(PYTHON, ["-c", script], { stdin: input });
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trim().split("\n");
  assert.equal(lines.length, PAYLOADS.length);
  const z = createZlibStream();
  lines.forEach((line, i) => assert.deepEqual(z.decompress(hex(line)), PAYLOADS[i]));
});

Deno.test("python's zlib inflates each packet from createZlibStream() as soon as it arrives", async () => {
  requireTool(PYTHON);
  const z = createZlibStream();
  const input = PAYLOADS.map((p) => toHex(z.compress(p))).join("\n");
  const script = [
    "import sys, zlib",
    "d = zlib.decompressobj()",
    "for line in sys.stdin.read().split('\\n'):",
    "    print(d.decompress(bytes.fromhex(line)).hex() or '-')",
  ].join("\n");
  const result = await run(PYTHON, ["-c", script], { stdin: input });
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trim().split("\n");
  assert.deepEqual(lines, PAYLOADS.map((p) => (p.length ? toHex(p) : "-")));
});
