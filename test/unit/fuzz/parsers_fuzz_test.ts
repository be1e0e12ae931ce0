/**
 * Property-based tests: the parsers that read peer or file input only ever return a value or
 * throw their own clean error type — never a TypeError/RangeError from deep inside, never a hang.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { SshReader, WireError } from "../../../lib/wire/buffer.ts";
import { decodeKexInit } from "../../../lib/transport/kexinit.ts";
import { parseVersionLine } from "../../../lib/transport/version.ts";
import { parseKnownHosts } from "../../../lib/hostkeys/known_hosts.ts";
import { parsePublicKey } from "../../../lib/algorithms/pubkey.ts";
import { SshError } from "../../../lib/errors/mod.ts";
import { parsePrivateKey } from "../../../lib/keys/private_key.ts";

const RUNS = 5000;

function cleanError(e: unknown, ...allowed: (new (...a: never[]) => Error)[]): boolean {
  return allowed.some((cls) => e instanceof cls);
}

Deno.test("SshReader reads any bytes as fields or throws WireError", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const r = new SshReader(bytes, "fuzz");
      try {
        while (r.remaining > 0) {
          switch (r.remaining % 5) {
            case 0:
              r.nameList();
              break;
            case 1:
              r.mpint();
              break;
            case 2:
              r.string();
              break;
            case 3:
              r.uint32();
              break;
            default:
              r.byte();
          }
        }
        r.end();
      } catch (e) {
        assert.ok(cleanError(e, WireError), String(e));
      }
    }),
    { numRuns: RUNS },
  );
});

Deno.test("decodeKexInit() accepts or cleanly refuses any payload", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
      try {
        decodeKexInit(new Uint8Array([20, ...bytes]));
      } catch (e) {
        assert.ok(cleanError(e, WireError, RangeError), String(e));
        if (e instanceof RangeError) assert.match(e.message, /^KEXINIT/);
      }
    }),
    { numRuns: RUNS },
  );
});

Deno.test("parseVersionLine() parses or gives a version-stage error for any line", () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.string({ maxLength: 120 }), fc.string({ maxLength: 60 }).map((s) => "SSH-" + s)),
      (line) => {
        try {
          const v = parseVersionLine(line);
          assert.ok(v.protocol === "2.0" || v.protocol === "1.99");
        } catch (e) {
          assert.ok(e instanceof SshError, String(e));
          assert.equal(e.stage, "version");
        }
      },
    ),
    { numRuns: RUNS },
  );
});

Deno.test("parseKnownHosts() never throws, whatever the file holds", () => {
  const line = fc.oneof(
    fc.string({ maxLength: 120 }),
    fc.tuple(
      fc.constantFrom("", "@revoked ", "@cert-authority ", "|1|abc|def "),
      fc.string({ maxLength: 30 }),
      fc.constantFrom(" ssh-ed25519 ", " ssh-rsa ", " x "),
      fc.base64String({ maxLength: 80 }),
    ).map((parts) => parts.join("")),
  );
  fc.assert(
    fc.property(fc.array(line, { maxLength: 12 }), (lines) => {
      const parsed = parseKnownHosts(lines.join("\n"), "fuzz");
      assert.ok(Array.isArray(parsed.entries) && Array.isArray(parsed.problems));
    }),
    { numRuns: RUNS / 5 },
  );
});

Deno.test("parsePublicKey() parses or throws WireError for any blob", () => {
  const typed = fc.tuple(
    fc.constantFrom("ssh-ed25519", "ssh-rsa", "ssh-dss", "ecdsa-sha2-nistp256", "x"),
    fc.uint8Array({ maxLength: 200 }),
  ).map(([t, rest]) => {
    const name = new TextEncoder().encode(t);
    const out = new Uint8Array(4 + name.length + rest.length);
    new DataView(out.buffer).setUint32(0, name.length);
    out.set(name, 4);
    out.set(rest, 4 + name.length);
    return out;
  });
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), typed), (blob) => {
      try {
        parsePublicKey(blob);
      } catch (e) {
        assert.ok(cleanError(e, WireError), String(e));
      }
    }),
    { numRuns: RUNS },
  );
});

Deno.test("parsePrivateKey() refuses garbage key files with a KeyFileError", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.base64String({ maxLength: 400 }).map((b) =>
          `-----BEGIN OPENSSH PRIVATE KEY-----\n${b}\n-----END OPENSSH PRIVATE KEY-----\n`
        ),
      ),
      async (text) => {
        try {
          await parsePrivateKey(text, { source: "fuzz" });
          assert.fail("garbage accepted as a key");
        } catch (e) {
          assert.equal((e as Error).name, "KeyFileError", String(e));
        }
      },
    ),
    { numRuns: 1000 },
  );
});
