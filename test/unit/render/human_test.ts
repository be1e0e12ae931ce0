import assert from "node:assert/strict";
import {
  createHumanRenderer,
  explainDecision,
  type HumanRendererOptions,
  ordinal,
} from "../../../lib/render/human.ts";
import { useColor } from "../../../lib/render/color.ts";
import { sanitize } from "../../../lib/render/sanitize.ts";
import type { SshError } from "../../../lib/errors/mod.ts";
import type { TraceEvent } from "../../../lib/trace.ts";
import {
  CLIENT_LISTS,
  decide,
  decisions,
  kexFailureError,
  kexFailureEvents,
  noCommonError,
  SERVER_LISTS,
  SHA1_KEX_SERVER_LISTS,
  successEvents,
  timed,
} from "../../helpers/render_fixture.ts";
import { untypedError } from "../../helpers/errors.ts";
import { loadExplainer } from "../../../lib/diagnose/explainer.ts";

// A failure is explained with the failure catalogue, which a failing run loads on its way out
// (lib/run.ts); these tests hand the renderers failures directly.
await loadExplainer();

function render(
  events: TraceEvent[],
  options: Partial<Omit<HumanRendererOptions, "write">> = {},
  error: SshError | null = null,
): string {
  let out = "";
  const renderer = createHumanRenderer({
    write: (text) => out += text,
    color: false,
    verbosity: 0,
    ...options,
  });
  for (const e of events) renderer.sink(e);
  renderer.finish(error);
  return out;
}

const EXPECTED_V0 = `── connect ─ TCP connection
   connect   127.0.0.1:2222 (resolved 127.0.0.1)
   ✓ connect 1.3 ms

── version ─ protocol version exchange
   preamble  Welcome to the lab switch
   server    SSH-1.99-OpenSSH_9.2p1 Debian-2+deb12u3
   note      SSH-1 compatible server (SSH-1.99), using 2.0
   ✓ version 1.8 ms

── kex ─ key and algorithm negotiation
   kex       curve25519-sha256  (our 1st choice, server's 2nd)
   host key  ssh-rsa  (our 4th choice, server's 1st)  ⚠ legacy: SHA-1 signatures (collisions are practical)
   cipher    chacha20-poly1305@openssh.com  (our 1st choice, server's 1st)
   mac       <implicit>  (AEAD cipher)
   compress  none  (our 1st choice, server's 1st)
   strict-kex on (Terrapin mitigated)
   exchange  curve25519-sha256: X25519 public values exchanged
   ext-info  server-sig-algs
   ✓ kex 31.2 ms

── hostkey ─ server host key
   key       ssh-rsa 3072 bits
   sha256    SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s
   md5       MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48
   signature ssh-rsa verified
   status    known (/root/.ssh/known_hosts:7)
   ✓ hostkey 0.9 ms

── auth ─ user authentication
   service   ssh-userauth accepted
   attempt   none
   banner
             │ Authorized use only.
             │ All activity is logged.
   failure   none refused; can continue: publickey,password
   attempt   publickey ssh-ed25519 SHA256:Zk0pL2 from /root/.ssh/id_ed25519
   success   publickey accepted
   ✓ auth 4.3 ms

── session ─ session channel
   info      channel 0 opened
   debug     maintenance window at 02:00 UTC
   disconnect by server: BY_APPLICATION (11) disconnected by user
   ✓ session 1.4 ms

✓ done in 40.9 ms
`;

Deno.test("human renderer prints a whole successful run at verbosity 0 exactly", () => {
  assert.equal(render(successEvents()), EXPECTED_V0);
});

Deno.test("human renderer adds lists, our version line and quiet debug messages at verbosity 1", () => {
  const v0 = render(successEvents()).split("\n");
  const v1 = render(successEvents(), { verbosity: 1 }).split("\n");
  const added = v1.filter((line) => !v0.includes(line));
  assert.deepEqual(added, [
    "   resolve   127.0.0.1:2222",
    "   client    SSH-2.0-sshtrace_0.1.0",
    "   client    kex         curve25519-sha256,ecdh-sha2-nistp256,diffie-hellman-group14-sha256",
    "             host key    ssh-ed25519,rsa-sha2-512,rsa-sha2-256,ssh-rsa",
    "             cipher c2s  chacha20-poly1305@openssh.com,aes128-ctr",
    "             cipher s2c  chacha20-poly1305@openssh.com,aes128-ctr",
    "             mac c2s     hmac-sha2-256-etm@openssh.com,hmac-sha2-256",
    "             mac s2c     hmac-sha2-256-etm@openssh.com,hmac-sha2-256",
    "             comp c2s    none",
    "             comp s2c    none",
    "   server    kex         sntrup761x25519-sha512@openssh.com,curve25519-sha256,kex-strict-s-v00@openssh.com",
    "             host key    ssh-rsa",
    "             cipher c2s  chacha20-poly1305@openssh.com,aes256-ctr",
    "             cipher s2c  chacha20-poly1305@openssh.com,aes256-ctr",
    "             mac c2s     hmac-sha2-256-etm@openssh.com",
    "             mac s2c     hmac-sha2-256-etm@openssh.com",
    "             comp c2s    none,zlib@openssh.com",
    "             comp s2c    none,zlib@openssh.com",
    "   crypto    packets by OpenSSL 3.0.19 27 Jan 2026 (libcrypto.so.3)",
    "   newkeys   sent",
    "   newkeys   received",
    "             server-sig-algs ssh-ed25519,rsa-sha2-512",
    "   debug     Pty allocation disabled.",
  ]);
  // Nothing shown at verbosity 0 disappears at verbosity 1.
  assert.deepEqual(v0.filter((line) => !v1.includes(line)), []);
});

Deno.test("human renderer shows packets only at verbosity 2", () => {
  const v1 = render(successEvents(), { verbosity: 1 });
  const v2 = render(successEvents(), { verbosity: 2 });
  assert.ok(!v1.includes("KEXINIT (payload"));
  assert.ok(v2.includes("   packet    → #0 KEXINIT (payload 1108)\n"));
  assert.ok(v2.includes("   packet    ← #0 KEXINIT (payload 1052)\n"));
});

Deno.test("human renderer flags a changed host key with file:line and the known fingerprint", () => {
  const out = render(successEvents("changed"));
  assert.ok(
    out.includes(
      "   status    ✗ CHANGED (/root/.ssh/known_hosts:7 has " +
        "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU)\n",
    ),
  );
  assert.ok(!out.includes("status    known"));
});

Deno.test("human renderer shows revoked, unknown and accepted host key statuses", () => {
  const status = (s: "revoked" | "unknown" | "accepted", note: string | null = null) =>
    render(
      timed([[1, {
        stage: "hostkey",
        type: "status",
        status: s,
        file: s === "unknown" ? null : "/etc/ssh/ssh_known_hosts",
        line: s === "unknown" ? null : 3,
        knownFingerprint: null,
        note,
      }]]),
      { quiet: false },
    ).split("\n")[0];
  assert.equal(status("revoked"), "   status    ✗ REVOKED (/etc/ssh/ssh_known_hosts:3)");
  assert.equal(status("unknown"), "   status    unknown (not in known_hosts)");
  assert.equal(status("accepted"), "   status    accepted (added to /etc/ssh/ssh_known_hosts:3)");
});

const BORDER = "─".repeat(59);

Deno.test("finish() boxes a failure in labelled sections: what happened, cause, why, try, OpenSSH, cost", () => {
  const out = render(kexFailureEvents(), {}, kexFailureError());
  const kexSection = out.slice(out.indexOf("── kex"));
  assert.equal(
    kexSection,
    `── kex ─ key and algorithm negotiation
   kex       curve25519-sha256  (our 1st choice, server's 2nd)
   host key  ssh-rsa  (our 4th choice, server's 1st)  ⚠ legacy: SHA-1 signatures (collisions are practical)
   cipher    ✗ none in common
             client: chacha20-poly1305@openssh.com,aes128-ctr
             server: aes128-cbc,3des-cbc
   mac       hmac-sha2-256-etm@openssh.com  (our 1st choice, server's 1st)
   compress  none  (our 1st choice, server's 1st)
   strict-kex on (Terrapin mitigated)

┌${BORDER}
│ ✗ failed at stage kex (exit 12)
│ what happened no cipher (client to server) in common with the server
│ cause         no cipher in common with the server
│ why           Cipher: the server offers aes128-cbc, 3des-cbc; we offered
│               chacha20-poly1305@openssh.com, aes128-ctr. The smallest change that works:
│               enable aes128-cbc (the least harmful of the legacy algorithms the server
│               accepts; better: modernise the server's configuration).
│ try           --ciphers +aes128-cbc
│ with OpenSSH  -o Ciphers=+aes128-cbc
│ cost          aes128-cbc: CBC mode in SSH allows plaintext recovery from a few bits of a
│               block (CVE-2008-5161).
└${BORDER}
`,
  );
  assert.ok(!out.includes("done in"));
});

Deno.test("finish() suggests the least harmful kex the server offers, as a flag and as an OpenSSH option", () => {
  const error = noCommonError(CLIENT_LISTS, SHA1_KEX_SERVER_LISTS);
  assert.equal(error.code, "kex.no-common-kex");
  const out = render([], {}, error);
  // The cause equals the message here, so it is not repeated.
  assert.equal(
    out,
    `┌${BORDER}
│ ✗ failed at stage kex (exit 12)
│ what happened no key exchange method in common with the server
│ why           Key exchange method: the server offers diffie-hellman-group14-sha1,
│               diffie-hellman-group1-sha1; we offered curve25519-sha256,
│               ecdh-sha2-nistp256, diffie-hellman-group14-sha256. The smallest change that
│               works: enable diffie-hellman-group14-sha1 (the least harmful of the legacy
│               algorithms the server accepts; better: modernise the server's
│               configuration).
│ try           --kex +diffie-hellman-group14-sha1
│ with OpenSSH  -o KexAlgorithms=+diffie-hellman-group14-sha1
│ cost          diffie-hellman-group14-sha1: SHA-1 exchange hash: SHA-1 is broken for
│               collisions; use a SHA-2 method.
└${BORDER}
`,
  );
});

Deno.test("finish() wraps a long explanation at 76 columns under its label", () => {
  const out = render([], {}, untypedError("connect", "connect.refused", "connection refused"));
  assert.equal(
    out,
    `┌${BORDER}
│ ✗ failed at stage connect (exit 10)
│ what happened connection refused
│ cause         connection refused: nothing listens on that port
│ why           The host answered, but actively refused the TCP connection (a reset). The
│               SSH service is off, listens on another port, or an ACL rejects the
│               connection. On network devices SSH often needs enabling first (e.g. a host
│               key generated and SSH allowed on the vty lines).
│ try           --port PORT with the port SSH really listens on (usually 22)
│ with OpenSSH  -p PORT (-o Port=PORT)
└${BORDER}
`,
  );
  for (const line of out.split("\n")) assert.ok(line.length <= 2 + 14 + 76, line);
});

Deno.test("finish() keeps a word longer than the width whole on its own line", () => {
  const long = "x".repeat(90);
  const out = render([], {}, untypedError("data", "data.odd", `short ${long} tail`));
  assert.ok(out.includes(`│ what happened short\n│               ${long}\n│               tail\n`));
});

Deno.test("finish() leaves out cause, try, OpenSSH and cost for an unknown code without a fix", () => {
  const out = render([], {}, untypedError("hostkey", "hostkey.mystery", "host key refused"));
  assert.equal(
    out,
    `┌${BORDER}
│ ✗ failed at stage hostkey (exit 13)
│ what happened host key refused
│ why           The server's host key could not be trusted.
└${BORDER}
`,
  );
});

Deno.test("finish() shows only the catalogue's fix, never one carried in an error's details", () => {
  const out = render(
    [],
    {},
    untypedError("session", "session.mystery", "no shell", { fix: "--no-pty" }),
  );
  assert.ok(out.includes("│ why           The server refused or broke off the session"));
  assert.ok(!out.includes("--no-pty"));
  assert.ok(!out.includes("│ try"));
  assert.ok(!out.includes("with OpenSSH"));
});

Deno.test("human renderer shows a grade with its letter, score and one line per reason", () => {
  const out = render(timed([[5, {
    stage: "kex",
    type: "grade",
    letter: "C",
    score: 65,
    reasons: [
      { deduction: 20, reason: "CBC ciphers offered", algorithms: ["aes128-cbc"] },
      { deduction: 15, reason: "SHA-1 key exchange offered", algorithms: ["group14-sha1"] },
    ],
  }]]));
  assert.equal(
    out,
    "   grade     C (65/100) for the server's offer\n" +
      "             −20 CBC ciphers offered\n" +
      "             −15 SHA-1 key exchange offered\n" +
      "\n✓ done in 5.0 ms\n",
  );
});

Deno.test("human renderer says when a grade is partial, and why", () => {
  const out = render(timed([[5, {
    stage: "kex",
    type: "grade",
    letter: "F",
    score: 25,
    reasons: [],
    partial: ["the RSA host key's size is not graded"],
  }]]));
  assert.match(
    out,
    /F \(25\/100\) for the server's offer\n.*partial: the RSA host key's size is not graded/,
  );
});

Deno.test("human renderer colours a grade green for A and red for F", () => {
  const grade = (letter: string) =>
    render(
      timed([[1, { stage: "kex", type: "grade", letter, score: 0, reasons: [] }]]),
      { color: true },
    ).split("\n")[0];
  assert.equal(
    grade("A"),
    "   grade     \x1b[32m\x1b[1mA\x1b[22m\x1b[39m (0/100) for the server's offer",
  );
  assert.equal(
    grade("F"),
    "   grade     \x1b[31m\x1b[1mF\x1b[22m\x1b[39m (0/100) for the server's offer",
  );
});

Deno.test("human renderer warns about a slow stage with its time and likely reason", () => {
  const out = render(timed([[2600, {
    stage: "kex",
    type: "slow",
    ms: 2512.4,
    thresholdMs: 2000,
    why: "slow key exchange: the server is busy",
  }]]));
  assert.equal(
    out,
    "   slow      ⚠ kex took 2512 ms: slow key exchange: the server is busy\n" +
      "\n✓ done in 2600.0 ms\n",
  );
});

Deno.test("quiet prints nothing on success and only the failure box on error", () => {
  assert.equal(render(successEvents(), { quiet: true, verbosity: 2 }), "");
  const out = render(kexFailureEvents(), { quiet: true }, kexFailureError());
  assert.ok(out.startsWith("┌"));
  assert.ok(out.includes("│ ✗ failed at stage kex (exit 12)\n"));
  assert.ok(!out.includes("── kex"));
});

Deno.test("human renderer colours only when asked", () => {
  const plain = render(successEvents());
  const colored = render(successEvents(), { color: true });
  assert.ok(!plain.includes("\x1b"));
  assert.ok(
    colored.includes("\x1b[1m\x1b[36m── kex ─ key and algorithm negotiation\x1b[39m\x1b[22m\n"),
  );
  assert.ok(
    colored.includes("\x1b[33m⚠ legacy: SHA-1 signatures (collisions are practical)\x1b[39m"),
  );
  // Stripping the colours gives back the plain text.
  // deno-lint-ignore no-control-regex
  assert.equal(colored.replace(/\x1b\[\d+m/g, ""), plain);
});

Deno.test("useColor() is false without a TTY or when NO_COLOR is non-empty", () => {
  const env = (value: string | undefined) => (name: string) =>
    name === "NO_COLOR" ? value : undefined;
  assert.equal(useColor(true, env(undefined)), true);
  assert.equal(useColor(false, env(undefined)), false);
  assert.equal(useColor(true, env("1")), false);
  assert.equal(useColor(true, env("")), true);
});

Deno.test("useColor() reads NO_COLOR from the real environment by default", () => {
  const saved = Deno.env.get("NO_COLOR");
  try {
    Deno.env.set("NO_COLOR", "yes");
    assert.equal(useColor(true), false);
    Deno.env.delete("NO_COLOR");
    assert.equal(useColor(true), true);
  } finally {
    if (saved === undefined) Deno.env.delete("NO_COLOR");
    else Deno.env.set("NO_COLOR", saved);
  }
});

Deno.test("an ANSI escape in a banner is neutralised", () => {
  const out = render(timed([[1, {
    stage: "auth",
    type: "banner",
    text: "\x1b[2J\x1b[31mPWNED\x07\tok\nline\u202etwo\x9b",
  }]]));
  assert.ok(!out.includes("\x1b"));
  assert.ok(!out.includes("\x07"));
  assert.ok(!out.includes("\x9b"));
  assert.equal(
    out,
    "   banner\n" +
      "             │ \\x1b[2J\\x1b[31mPWNED\\x07\tok\n" +
      "             │ line\\u202etwo\\x9b\n" +
      "\n✓ done in 1.0 ms\n",
  );
});

Deno.test("peer text in version, debug, disconnect and algorithm names cannot carry escapes", () => {
  const evil = "x\x1b]0;title\x07\ny";
  const lists = { ...SERVER_LISTS, kex: [evil, "curve25519-sha256"] };
  const out = render(
    timed([
      [1, {
        stage: "version",
        type: "pre-version-line",
        line: evil,
      }],
      [2, {
        stage: "version",
        type: "received",
        line: `SSH-2.0-${evil}`,
        protocol: "2.0",
        software: evil,
        comments: null,
        note: null,
      }],
      [3, { stage: "kex", type: "kexinit-received", lists, firstKexPacketFollows: false }],
      [4, { stage: "kex", type: "debug", message: evil, alwaysDisplay: true }],
      [5, {
        stage: "kex",
        type: "disconnect",
        from: "server",
        reasonCode: 2,
        reason: "PROTOCOL_ERROR",
        description: evil,
      }],
    ]),
    { verbosity: 2 },
    untypedError("kex", "kex.disconnected", `server said: ${evil}`),
  );
  assert.ok(!out.includes("\x1b"));
  assert.ok(!out.includes("\x07"));
  assert.ok(out.includes("   server    SSH-2.0-x\\x1b]0;title\\x07\\x0ay\n"));
  assert.ok(out.includes("   debug     x\\x1b]0;title\\x07\\x0ay\n"));
  assert.ok(
    out.includes("   disconnect by server: PROTOCOL_ERROR (2) x\\x1b]0;title\\x07\\x0ay\n"),
  );
  // The error message keeps its line break but nothing else.
  assert.ok(out.includes("│ what happened server said: x\\x1b]0;title\\x07\n│               y\n"));
});

Deno.test("sanitize() keeps newline and tab only in multiline text", () => {
  assert.equal(sanitize("a\tb\nc"), "a\\x09b\\x0ac");
  assert.equal(sanitize("a\tb\r\nc\rd", { multiline: true }), "a\tb\nc\\x0dd");
  assert.equal(sanitize("plain ünïcode ✓"), "plain ünïcode ✓");
  assert.equal(sanitize("\x7f\u2066"), "\\x7f\\u2066");
});

Deno.test("ordinal() uses st, nd, rd and th correctly", () => {
  assert.deepEqual(
    [1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111].map(ordinal),
    ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th"],
  );
});

Deno.test("explainDecision() gives list positions, or the rule when they are unknown", () => {
  assert.equal(
    explainDecision(decide("kex", CLIENT_LISTS.kex, SERVER_LISTS.kex)),
    "our 1st choice, server's 2nd",
  );
  assert.equal(
    explainDecision(decide("cipherC2S", ["aes128-ctr"], ["aes256-ctr"])),
    "no algorithm in common",
  );
  const odd = { ...decide("macC2S", ["a"], ["a"]), chosen: "b", rule: "implied by the cipher" };
  assert.equal(explainDecision(odd), "implied by the cipher");
});

Deno.test("human renderer warns about Terrapin when strict kex is off with chacha20-poly1305", () => {
  const negotiated = (strict: boolean, cipher: string[]) =>
    render(timed([[1, {
      stage: "kex",
      type: "negotiated",
      decisions: decisions(
        { ...CLIENT_LISTS, cipherC2S: cipher, cipherS2C: cipher },
        { ...SERVER_LISTS, cipherC2S: cipher, cipherS2C: cipher },
      ),
      strict,
      extInfo: false,
    }]]));
  assert.ok(
    negotiated(false, ["chacha20-poly1305@openssh.com"]).includes(
      "   strict-kex off  ⚠ Terrapin (CVE-2023-48795) prefix truncation possible\n",
    ),
  );
  const ctr = negotiated(false, ["aes128-ctr"]);
  assert.ok(ctr.includes("   strict-kex off (chosen cipher and MAC not affected by Terrapin)\n"));
  // Without an AEAD cipher the negotiated MAC is shown, not <implicit>.
  assert.ok(ctr.includes("   mac       hmac-sha2-256-etm@openssh.com  (our 1st choice"));
});

Deno.test("human renderer splits directions when they negotiate differently", () => {
  const client = { ...CLIENT_LISTS, cipherS2C: ["aes128-ctr"] };
  const server = { ...SERVER_LISTS, cipherS2C: ["aes128-ctr"] };
  const out = render(timed([[1, {
    stage: "kex",
    type: "negotiated",
    decisions: decisions(client, server),
    strict: true,
    extInfo: false,
  }]]));
  assert.ok(
    out.includes("   cipher c2s chacha20-poly1305@openssh.com  (our 1st choice, server's 1st)\n"),
  );
  assert.ok(out.includes("   cipher s2c aes128-ctr  (our 1st choice, server's 1st)\n"));
  assert.ok(out.includes("   mac c2s   <implicit>  (AEAD cipher)\n"));
  assert.ok(
    out.includes("   mac s2c   hmac-sha2-256-etm@openssh.com  (our 1st choice, server's 1st)\n"),
  );
});

Deno.test("human renderer shows a partial success and its remaining methods", () => {
  const out = render(timed([[1, {
    stage: "auth",
    type: "failure",
    method: "publickey",
    canContinue: ["password"],
    partialSuccess: true,
  }]]));
  assert.ok(out.startsWith("   partial   publickey accepted, continue with: password\n"));
});

Deno.test("a channel span's begin and end lines name the channel; connection-wide stages do not", () => {
  const text = render(timed([
    [0, { stage: "auth", type: "begin" }],
    [3, { stage: "auth", type: "end", ms: 3 }],
    [4, { stage: "data", type: "begin", channel: 1 }],
    [16, { stage: "data", type: "end", ms: 12, channel: 1 }],
  ]));
  assert.match(text, /── data ─ .* \(channel 1\)/);
  assert.match(text, /✓ data \(channel 1\) 12\.0 ms/);
  assert.match(text, /✓ auth 3\.0 ms/);
  assert.doesNotMatch(text, /auth.*channel/);
});
