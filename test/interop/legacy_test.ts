/**
 * Legacy algorithms end to end: the CLI (`sshtrace --legacy user@host cmd`) against a real
 * OpenSSH 9.2 sshd that offers only one legacy algorithm in one category, one step per algorithm,
 * plus plain `zlib` against a small asyncssh server (OpenSSH has only the delayed
 * `zlib@openssh.com`). Then the same servers without `--legacy`: exit 12 at stage kex, and the
 * fix names exactly the algorithm to enable; and enabling one algorithm alone with the OpenSSH
 * list syntax (`--kex +name`, `-o Ciphers=+name`) works.
 */

import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { riskOf } from "../../lib/algorithms/registry.ts";
import {
  commandOutput,
  emptyHome,
  type Json,
  MiB,
  parseJsonReport,
  runSshtrace,
  sha256,
} from "../helpers/cli.ts";
import { requireAsyncssh } from "../helpers/old_switch.ts";
import {
  atLeast,
  ensureTestUser,
  type SshdHandle,
  type SshdOptions,
  sshdVersion,
  startSshd,
} from "../helpers/sshd.ts";
import { tempDir } from "../helpers/tools.ts";

const PYTHON = "/usr/bin/python3";
const ZLIB_SERVER = new URL("../servers/zlib_server.py", import.meta.url).pathname;

/** Runs the CLI with the password in $PW and an empty HOME. */
const sshtrace = (home: string, password: string, args: string[], stdin?: Uint8Array) =>
  runSshtrace(args, { home, env: { PW: password }, stdin });

function escapeRe(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

type Category = "kex" | "hostKey" | "cipher" | "mac" | "compression";

interface Case {
  category: Category;
  algorithm: string;
  /** How the server is configured to offer only this legacy algorithm in its category. */
  server: SshdOptions;
}

/** The report's categories (directional ones twice) for a list category. */
const REPORT_CATEGORIES: Record<Category, string[]> = {
  kex: ["kex"],
  hostKey: ["hostKey"],
  cipher: ["cipherC2S", "cipherS2C"],
  mac: ["macC2S", "macS2C"],
  compression: ["compressionC2S", "compressionS2C"],
};

/** The label of the category's row in the human trace. */
const TRACE_LABEL: Record<Category, string> = {
  kex: "kex",
  hostKey: "host key",
  cipher: "cipher",
  mac: "mac",
  compression: "compress",
};

/** The fix the failure names: sshtrace's flag for the category, `+` the algorithm. */
const FIX_FLAG: Record<Exclude<Category, "compression">, string> = {
  kex: "--kex",
  hostKey: "--hostkeys",
  cipher: "--ciphers",
  mac: "--macs",
};

/** The negotiated algorithm the report shows for the category. */
function chosenIn(r: Json, category: Category): string[] {
  const k = r.kex;
  switch (category) {
    case "kex":
      return [k.algorithm];
    case "hostKey":
      return [k.hostKeyAlgorithm];
    case "cipher":
      return [k.cipher.c2s, k.cipher.s2c];
    case "mac":
      return [k.mac.c2s, k.mac.s2c];
    case "compression":
      return [k.compression.c2s, k.compression.s2c];
  }
}

const ALL_CASES: Case[] = [
  { category: "kex", algorithm: "diffie-hellman-group1-sha1", server: {} },
  { category: "kex", algorithm: "diffie-hellman-group14-sha1", server: {} },
  { category: "kex", algorithm: "diffie-hellman-group-exchange-sha1", server: {} },
  {
    category: "hostKey",
    algorithm: "ssh-rsa",
    server: { hostKeyTypes: ["rsa"], hostKeyAlgorithms: "ssh-rsa" },
  },
  {
    category: "hostKey",
    algorithm: "ssh-dss",
    server: { hostKeyTypes: ["dsa"], hostKeyAlgorithms: "ssh-dss" },
  },
  ...["aes128-cbc", "aes192-cbc", "aes256-cbc", "3des-cbc"].map((c): Case => ({
    category: "cipher",
    algorithm: c,
    server: { ciphers: c },
  })),
  ...["hmac-sha1", "hmac-sha1-96", "hmac-md5", "hmac-md5-96", "hmac-sha1-etm@openssh.com"].map(
    (m): Case => ({
      category: "mac",
      algorithm: m,
      // A non-AEAD cipher, or the MAC would be implicit.
      server: { ciphers: "aes128-ctr", macs: m },
    }),
  ),
];

/**
 * The cases the system's sshd can serve: OpenSSH 10 removed DSA (read from `sshd -V` inside the
 * test, so a missing sshd fails the test with a message instead of the import).
 */
async function servableCases(): Promise<Case[]> {
  return atLeast(await sshdVersion(), 10, 0)
    ? ALL_CASES.filter((c) => c.algorithm !== "ssh-dss")
    : ALL_CASES;
}

Deno.test("sshtrace --legacy logs in to OpenSSH sshd offering one legacy algorithm at a time", async (t) => {
  const cases = await servableCases();
  const user = await ensureTestUser();
  await using tmp = await tempDir("sshtrace-legacy-");
  const home = await emptyHome(tmp.path);

  const servers = new Map<string, SshdHandle>();
  try {
    // All servers at once: sshd starts are the slow part.
    await Promise.all(cases.map(async (c) => {
      const options: SshdOptions = { ...c.server };
      if (c.category === "kex") {
        options.kex = c.algorithm;
      }
      servers.set(c.algorithm, await startSshd(options));
    }));
    const compressing = await startSshd({ config: ["Compression yes"] });
    servers.set("zlib@openssh.com", compressing);

    const target = (name: string) => `${user.name}@127.0.0.1:${servers.get(name)!.port}`;
    const base = ["-o", "StrictHostKeyChecking=no", "--password-env", "PW"];

    for (const c of cases) {
      await t.step(
        `--legacy negotiates ${c.category} ${c.algorithm} and marks it with its risk`,
        async () => {
          const res = await sshtrace(home, user.password, [
            "--legacy",
            ...base,
            "--json",
            target(c.algorithm),
            `echo ok-${c.algorithm}`,
          ]);
          assert.equal(res.code, 0, res.stderr);
          assert.equal(commandOutput(res.stdout), `ok-${c.algorithm}\n`);
          const r = parseJsonReport(res.stdout);
          assert.equal(r.ok, true);
          for (const chosen of chosenIn(r, c.category)) assert.equal(chosen, c.algorithm);
          const risk = riskOf(c.algorithm);
          assert.ok(risk, `${c.algorithm} has a risk in the registry`);
          for (const category of REPORT_CATEGORIES[c.category]) {
            assert.deepEqual(
              r.kex.legacy.filter((l: Json) => l.category === category),
              [{ category, algorithm: c.algorithm, risk }],
              `kex.legacy lists ${c.algorithm} as ${category}: ${JSON.stringify(r.kex.legacy)}`,
            );
          }
          // Nothing else legacy was chosen: the other categories stayed modern.
          assert.deepEqual(
            r.kex.legacy.map((l: Json) => l.algorithm).filter((a: string) => a !== c.algorithm),
            [],
          );
          // The human trace marks the choice in its category row.
          const row = new RegExp(
            `^\\s+${TRACE_LABEL[c.category]}\\s+${escapeRe(c.algorithm)}\\s.*⚠ legacy: ${
              escapeRe(risk)
            }$`,
            "m",
          );
          assert.match(res.stderr, row);
          if (c.category === "hostKey") {
            assert.equal(r.hostKey.type, c.algorithm);
            assert.match(res.stderr, new RegExp(`signature ${escapeRe(c.algorithm)} verified`));
          }
          if (c.algorithm === "diffie-hellman-group-exchange-sha1") {
            // --legacy would accept the 1024-bit group an old device has (OpenSSH 9.2 itself never
            // sends one: its DH_GRP_MIN is 2048, so the group it sends is larger).
            assert.match(res.stderr, /asked for a group of 1024 to 8192 bits/);
            assert.match(res.stderr, /server sent a (2048|3072|4096|6144|7680|8192)-bit group/);
          }
        },
      );
    }

    await t.step(
      "-C with --legacy compresses with zlib@openssh.com; a few MiB each way arrive intact",
      async () => {
        // Compressible (numbers) one way, random bytes the other.
        const lines = 400_000;
        const expected = Array.from({ length: lines }, (_, i) => `${i + 1}\n`).join("");
        const upload = randomBytes(2 * MiB);
        const res = await sshtrace(
          home,
          user.password,
          [
            "--legacy",
            "-C",
            ...base,
            "--json",
            target("zlib@openssh.com"),
            `seq 1 ${lines}; sha256sum`,
          ],
          upload,
        );
        assert.equal(res.code, 0, res.stderr);
        const out = commandOutput(res.stdout);
        assert.ok(out.length > 2 * MiB, `${out.length} bytes`);
        assert.equal(
          sha256(new TextEncoder().encode(out)),
          sha256(
            new TextEncoder().encode(`${expected}${sha256(upload)}  -\n`),
          ),
        );
        const r = parseJsonReport(res.stdout);
        assert.deepEqual(chosenIn(r, "compression"), ["zlib@openssh.com", "zlib@openssh.com"]);
        const risk = riskOf("zlib@openssh.com")!;
        assert.deepEqual(
          r.kex.legacy.filter((l: Json) => l.algorithm === "zlib@openssh.com"),
          [
            { category: "compressionC2S", algorithm: "zlib@openssh.com", risk },
            { category: "compressionS2C", algorithm: "zlib@openssh.com", risk },
          ],
        );
        assert.match(
          res.stderr,
          new RegExp(`^\\s+compress\\s+zlib@openssh\\.com\\s.*⚠ legacy: ${escapeRe(risk)}$`, "m"),
        );
        // sshd switched compression on after authentication (delayed), not in its preauth child;
        // a side that did not compress or decompress would have broken the checksums above.
        const logs = await compressing.waitForLog(/Enabling compression at level \d+\.$/m);
        assert.match(logs, /kex: client->server cipher: .* compression: zlib@openssh\.com/);
        assert.match(logs, /kex: server->client cipher: .* compression: zlib@openssh\.com/);
      },
    );

    await t.step("-C alone (no --legacy) also turns zlib@openssh.com on, like ssh -C", async () => {
      const res = await sshtrace(home, user.password, [
        "-C",
        ...base,
        "--json",
        target("zlib@openssh.com"),
        "echo ok-C",
      ]);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(commandOutput(res.stdout), "ok-C\n");
      const r = parseJsonReport(res.stdout);
      assert.deepEqual(chosenIn(r, "compression"), ["zlib@openssh.com", "zlib@openssh.com"]);
      // Only the compression list grew: no other legacy algorithm was offered.
      assert.equal(r.kex.client.kex.includes("diffie-hellman-group1-sha1"), false);
      assert.equal(r.kex.client.cipherC2S.includes("aes128-cbc"), false);
    });

    for (const c of cases) {
      const category = c.category as Exclude<Category, "compression">;
      const fix = `${FIX_FLAG[category]} +${c.algorithm}`;
      await t.step(
        `without --legacy, a server offering only ${c.algorithm} fails at kex (exit 12) naming "${fix}"`,
        async () => {
          const res = await sshtrace(home, user.password, [
            ...base,
            "--json",
            target(c.algorithm),
            "echo never",
          ]);
          assert.equal(res.code, 12, res.stderr);
          const r = parseJsonReport(res.stdout);
          assert.equal(r.ok, false);
          assert.equal(r.failedStage, "kex");
          assert.equal(r.error.stage, "kex");
          assert.match(r.error.code, new RegExp(`^kex\\.no-common-${category}`));
          assert.equal(r.error.fix, fix);
          assert.match(r.error.opensshFix, new RegExp(`=\\+${escapeRe(c.algorithm)}$`));
          assert.equal(r.error.securityCost, `${c.algorithm}: ${riskOf(c.algorithm)}.`);
          // Never offered by default.
          const offered = category === "kex"
            ? r.kex.client.kex
            : category === "hostKey"
            ? r.kex.client.hostKey
            : category === "cipher"
            ? r.kex.client.cipherC2S
            : r.kex.client.macC2S;
          assert.equal(offered.includes(c.algorithm), false);
          // The failure box says the same.
          assert.match(res.stderr, /failed at stage kex \(exit 12\)/);
          assert.match(res.stderr, new RegExp(`^│ try\\s+${escapeRe(fix)}$`, "m"));
          assert.doesNotMatch(res.stdout, /never/);
        },
      );
    }

    await t.step(
      "--kex +diffie-hellman-group14-sha1 alone enables just that algorithm",
      async () => {
        const res = await sshtrace(home, user.password, [
          "--kex",
          "+diffie-hellman-group14-sha1",
          ...base,
          "--json",
          target("diffie-hellman-group14-sha1"),
          "echo ok-one",
        ]);
        assert.equal(res.code, 0, res.stderr);
        assert.equal(commandOutput(res.stdout), "ok-one\n");
        const r = parseJsonReport(res.stdout);
        assert.equal(r.kex.algorithm, "diffie-hellman-group14-sha1");
        // Appended after the modern methods; no other legacy method offered.
        const kex = r.kex.client.kex.filter((n: string) => !/^(ext-info-c|kex-strict-)/.test(n));
        assert.equal(kex.at(-1), "diffie-hellman-group14-sha1");
        assert.equal(kex.includes("diffie-hellman-group1-sha1"), false);
        assert.equal(kex.includes("diffie-hellman-group-exchange-sha1"), false);
        assert.equal(r.kex.client.hostKey.includes("ssh-rsa"), false);
        assert.deepEqual(r.kex.legacy.map((l: Json) => l.algorithm), [
          "diffie-hellman-group14-sha1",
        ]);
      },
    );

    await t.step(
      "--kex +diffie-hellman-group-exchange-sha1 without --legacy asks for 2048 bits at least",
      async () => {
        const res = await sshtrace(home, user.password, [
          "--kex",
          "+diffie-hellman-group-exchange-sha1",
          ...base,
          "--json",
          target("diffie-hellman-group-exchange-sha1"),
          "echo ok-gex",
        ]);
        assert.equal(res.code, 0, res.stderr);
        assert.equal(
          parseJsonReport(res.stdout).kex.algorithm,
          "diffie-hellman-group-exchange-sha1",
        );
        // 1024-bit groups are accepted only with --legacy.
        assert.match(res.stderr, /asked for a group of 2048 to 8192 bits/);
      },
    );

    await t.step(
      "-o Ciphers=+aes128-cbc alone (OpenSSH syntax) enables just that cipher",
      async () => {
        const res = await sshtrace(home, user.password, [
          "-o",
          "Ciphers=+aes128-cbc",
          ...base,
          "--json",
          target("aes128-cbc"),
          "echo ok-one",
        ]);
        assert.equal(res.code, 0, res.stderr);
        const r = parseJsonReport(res.stdout);
        assert.deepEqual([r.kex.cipher.c2s, r.kex.cipher.s2c], ["aes128-cbc", "aes128-cbc"]);
        assert.equal(r.kex.client.cipherC2S.at(-1), "aes128-cbc");
        assert.equal(r.kex.client.cipherC2S.includes("3des-cbc"), false);
        assert.equal(r.kex.client.kex.includes("diffie-hellman-group1-sha1"), false);
      },
    );

    await t.step("--macs +hmac-md5 alone enables just that MAC", async () => {
      const res = await sshtrace(home, user.password, [
        "--macs",
        "+hmac-md5",
        ...base,
        "--json",
        target("hmac-md5"),
        "echo ok-one",
      ]);
      assert.equal(res.code, 0, res.stderr);
      const r = parseJsonReport(res.stdout);
      assert.deepEqual([r.kex.mac.c2s, r.kex.mac.s2c], ["hmac-md5", "hmac-md5"]);
      assert.equal(r.kex.client.macC2S.includes("hmac-sha1"), false);
    });
  } finally {
    await Promise.all([...servers.values()].map((s) => s.stop()));
  }
});

// ---------------------------------------------------------------------------------------------
// Plain zlib (compression from the first encrypted packet): only asyncssh offers it.

interface ZlibServer {
  port: number;
  logs(): string;
  stop(): Promise<void>;
}

async function startZlibServer(user: string, password: string): Promise<ZlibServer> {
  await requireAsyncssh();
  const child = new Deno.Command(PYTHON, {
    args: [ZLIB_SERVER, "--port", "0", "--user", user],
    env: { ZLIB_SERVER_PASSWORD: password, PYTHONWARNINGS: "ignore", PYTHONDONTWRITEBYTECODE: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const errDone = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) stderr += decoder.decode(chunk, { stream: true });
  })();
  const reader = child.stdout.getReader();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // already gone
    }
    await reader.cancel().catch(() => {});
    await child.status;
    await errDone.catch(() => {});
  };
  let out = "";
  const decoder = new TextDecoder();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const port = await Promise.race([
      (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`zlib_server.py exited before listening: ${stderr}`);
          out += decoder.decode(value, { stream: true });
          const m = /LISTENING (\d+)/.exec(out);
          if (m) return Number(m[1]);
        }
      })(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`zlib_server.py did not start: ${stderr}`)),
          20_000,
        );
      }),
    ]);
    return { port, logs: () => stderr, stop };
  } catch (e) {
    await stop();
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** The bytes `stream N` of zlib_server.py sends (numbered lines with a SHA-256 chain). */
function zlibStream(n: number): Uint8Array {
  const parts: string[] = [];
  let h: Uint8Array = new TextEncoder().encode("sshtrace");
  let size = 0;
  for (let i = 0; size < n; i++) {
    h = createHash("sha256").update(h).digest();
    const line = `line ${String(i).padStart(8, "0")} ${
      Array.from(h, (b) => b.toString(16).padStart(2, "0")).join("")
    }\n`;
    parts.push(line);
    size += line.length;
  }
  return new TextEncoder().encode(parts.join("")).subarray(0, n);
}

Deno.test("sshtrace --legacy speaks plain zlib with asyncssh; without --legacy it names -o Compression=yes", async (t) => {
  const user = "sshtrace-test";
  const password = "zlib server 7";
  await using tmp = await tempDir("sshtrace-zlib-");
  const server = await startZlibServer(user, password);
  const target = `${user}@127.0.0.1:${server.port}`;
  const base = ["-o", "StrictHostKeyChecking=no", "--password-env", "PW"];
  try {
    await t.step(
      "--legacy negotiates zlib from the first encrypted packet and runs a command",
      async () => {
        const res = await sshtrace(tmp.path, password, [
          "--legacy",
          ...base,
          "--json",
          target,
          "echo ok-zlib",
        ]);
        assert.equal(res.code, 0, `${res.stderr}\n${server.logs()}`);
        assert.equal(commandOutput(res.stdout), "ok-zlib\n");
        const r = parseJsonReport(res.stdout);
        assert.deepEqual(chosenIn(r, "compression"), ["zlib", "zlib"]);
        const risk = riskOf("zlib")!;
        assert.deepEqual(
          r.kex.legacy.filter((l: Json) => l.algorithm === "zlib").map((l: Json) => l.category),
          ["compressionC2S", "compressionS2C"],
        );
        assert.match(
          res.stderr,
          new RegExp(`^\\s+compress\\s+zlib\\s.*⚠ legacy: ${escapeRe(risk)}$`, "m"),
        );
      },
    );

    await t.step(
      "3 MiB down and 2 MiB up through zlib arrive with matching checksums",
      async () => {
        const size = 3 * MiB;
        const down = await sshtrace(tmp.path, password, [
          "--legacy",
          ...base,
          target,
          `stream ${size}`,
        ]);
        assert.equal(down.code, 0, `${down.stderr}\n${server.logs()}`);
        assert.equal(down.stdoutBytes, size);
        assert.equal(down.stdoutSha, sha256(zlibStream(size)));
        const upload = randomBytes(2 * MiB);
        const up = await sshtrace(
          tmp.path,
          password,
          ["--legacy", ...base, target, "sha256"],
          upload,
        );
        assert.equal(up.code, 0, `${up.stderr}\n${server.logs()}`);
        assert.equal(up.stdout, `${sha256(upload)} ${upload.length}\n`);
      },
    );

    await t.step(
      "without --legacy the zlib-only server fails at kex (exit 12) naming -o Compression=yes",
      async () => {
        const res = await sshtrace(tmp.path, password, [...base, "--json", target, "echo never"]);
        assert.equal(res.code, 12, res.stderr);
        const r = parseJsonReport(res.stdout);
        assert.equal(r.failedStage, "kex");
        assert.match(r.error.code, /^kex\.no-common-compression/);
        assert.equal(r.error.fix, "-o Compression=yes");
        assert.deepEqual(r.kex.client.compressionC2S, ["none"]);
        assert.match(res.stderr, /^│ try\s+-o Compression=yes$/m);
      },
    );
  } finally {
    await server.stop();
  }
});
