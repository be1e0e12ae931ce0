import assert from "node:assert/strict";
import { buildOffer, riskOf } from "../../../lib/algorithms/registry.ts";
import { encodeBase64, fingerprintSha256 } from "../../../lib/algorithms/pubkey.ts";
import { hostKeyPolicy } from "../../../lib/hostkeys/policy.ts";
import {
  CATALOGUE,
  catalogueCodes,
  LEGACY_HARM_ORDER,
  lookupEntry,
  planEnable,
  rankByLeastHarm,
} from "../../../lib/diagnose/catalogue/mod.ts";
import { explainFailure, GENERIC_BY_STAGE, slowStages } from "../../../lib/diagnose/explain.ts";
import { FAILURES_DOC, failuresDoc } from "../../../scripts/docs.ts";
import { interrupted } from "../../../lib/cli/tty.ts";
import { abortedError } from "../../../lib/run.ts";
import { connectTcp } from "../../../lib/net.ts";
import {
  CODE_FAMILIES,
  type ErrorCode,
  errorCodes,
  type ErrorDetails,
  EXACT_CODES,
  isErrorCode,
  SshError,
} from "../../../lib/errors/mod.ts";
import { type TraceEvent, Tracer } from "../../../lib/trace.ts";
import { type AlgorithmLists, type Category, exitCodeFor, type Stage } from "../../../lib/types.ts";
import { negotiateAll } from "../../../lib/transport/negotiate.ts";
import { BufferedReader } from "../../../lib/transport/reader.ts";
import type { ByteStream } from "../../../lib/transport/stream.ts";
import { parseVersionLine, readServerVersion } from "../../../lib/transport/version.ts";
import { SshWriter } from "../../../lib/wire/buffer.ts";
import { freePort } from "../../helpers/tools.ts";
import { untypedError } from "../../helpers/errors.ts";

// ---------------------------------------------------------------------------------------------
// Fixtures

/** The lists of an OpenSSH 9.2 sshd configured legacy-only (as probe() reported them). */
const LEGACY_SERVER: AlgorithmLists = {
  kex: [
    "diffie-hellman-group1-sha1",
    "diffie-hellman-group14-sha1",
    "kex-strict-s-v00@openssh.com",
  ],
  hostKey: ["ssh-rsa"],
  cipherC2S: ["aes128-cbc", "3des-cbc"],
  cipherS2C: ["aes128-cbc", "3des-cbc"],
  macC2S: ["hmac-sha1", "hmac-md5"],
  macS2C: ["hmac-sha1", "hmac-md5"],
  compressionC2S: ["none", "zlib@openssh.com"],
  compressionS2C: ["none", "zlib@openssh.com"],
};

/** Our default offer as KEXINIT lists. */
function defaultClientLists(): AlgorithmLists {
  const o = buildOffer();
  return {
    kex: o.kex,
    hostKey: o.hostKey,
    cipherC2S: o.cipher,
    cipherS2C: o.cipher,
    macC2S: o.mac,
    macS2C: o.mac,
    compressionC2S: o.compression,
    compressionS2C: o.compression,
  };
}

const isAead = (n: string) => n.startsWith("chacha20") || n.includes("-gcm@");

/** The error the transport throws for a failed negotiation (same code and details). */
function noCommonError(ours: AlgorithmLists, theirs: AlgorithmLists): SshError {
  const strip = (l: AlgorithmLists) => ({
    ...l,
    kex: l.kex.filter((n) => !n.startsWith("kex-strict") && !n.startsWith("ext-info")),
  });
  const decisions = negotiateAll(strip(ours), strip(theirs), riskOf, isAead);
  const failed = decisions.find((d) => d.chosen === null);
  assert.ok(failed, "the fixture lists must fail to negotiate");
  return new SshError(
    "kex",
    `kex.no-common-${failed.category}`,
    `no ${failed.category} in common with the server`,
    { category: failed.category, ours: failed.ours, theirs: failed.theirs, decisions },
  );
}

/** Lists where only `category` fails: our default offer, with the server's list replaced. */
function oneCategoryFails(category: Category, theirs: string[]): SshError {
  const ours = defaultClientLists();
  const server: AlgorithmLists = { ...defaultClientLists(), [category]: theirs };
  // Keep MAC negotiation explicit: no AEAD cipher on the server's side.
  if (category.startsWith("mac")) {
    server.cipherC2S = ["aes128-ctr"];
    server.cipherS2C = ["aes128-ctr"];
  }
  return noCommonError(ours, server);
}

const at = (t: number) => ({ t });

/** A trace with a target and a negotiated kex / MAC (for refinements that read events). */
function traceWith(
  options: { kex?: string; mac?: string; cipher?: string; rekey?: boolean; serverKex?: string[] },
): TraceEvent[] {
  const events: TraceEvent[] = [
    { stage: "connect", type: "resolving", host: "127.0.0.1", port: 2222, ...at(0) },
  ];
  if (options.serverKex) {
    const lists = { ...LEGACY_SERVER, kex: options.serverKex };
    events.push({
      stage: "kex",
      type: "kexinit-received",
      lists,
      firstKexPacketFollows: false,
      ...at(1),
    });
  }
  const decision = (category: Category, chosen: string | null) => ({
    category,
    ours: [],
    theirs: [],
    chosen,
    rule: "",
    firstChoiceMatch: true,
  });
  events.push({
    stage: "kex",
    type: "negotiated",
    decisions: [
      decision("kex", options.kex ?? "curve25519-sha256"),
      decision("cipherS2C", options.cipher ?? "aes128-ctr"),
      decision("macS2C", options.mac ?? "hmac-sha2-256"),
    ],
    strict: true,
    extInfo: true,
    ...at(2),
  });
  if (options.rekey) {
    events.push({ stage: "kex", type: "rekey", initiator: "server", reason: "x", ...at(3) });
  }
  return events;
}

/** A ByteStream that yields `chunks`, then ends (or hangs forever). */
function scriptedStream(chunks: string[], end: "close" | "hang" = "close"): ByteStream {
  const queue = chunks.map((c) => new TextEncoder().encode(c));
  return {
    read: () => {
      const next = queue.shift();
      if (next) return Promise.resolve(next);
      return end === "close" ? Promise.resolve(null) : new Promise(() => {});
    },
    write: () => Promise.resolve(),
    close: () => {},
  };
}

/** Runs the real version-exchange reader over a scripted server; returns what it throws. */
async function versionError(
  chunks: string[],
  end: "close" | "hang" = "close",
): Promise<SshError> {
  const reader = new BufferedReader(scriptedStream(chunks, end), "version", 200);
  try {
    await readServerVersion(reader, new Tracer());
  } catch (e) {
    assert.ok(e instanceof SshError, `expected SshError, got ${e}`);
    return e;
  }
  throw new Error("the version exchange unexpectedly succeeded");
}

function ed25519Blob(fill: number): Uint8Array {
  return new SshWriter().string("ssh-ed25519").string(new Uint8Array(32).fill(fill)).bytes();
}

/** Runs the real host-key policy against a known_hosts file; returns what it throws. */
async function hostKeyError(
  knownHosts: (presented: Uint8Array, other: Uint8Array) => string,
): Promise<{ error: SshError; file: string }> {
  const dir = await Deno.makeTempDir({ prefix: "sshtrace-diag-" });
  const file = `${dir}/known_hosts`;
  try {
    const presented = ed25519Blob(7);
    await Deno.writeTextFile(file, knownHosts(presented, ed25519Blob(9)));
    const policy = hostKeyPolicy({
      mode: "yes",
      host: "127.0.0.1",
      port: 2222,
      knownHostsFiles: [file],
      tracer: new Tracer(),
    });
    try {
      await policy({
        algorithm: "ssh-ed25519",
        blob: presented,
        keyType: "ssh-ed25519",
        fingerprint: fingerprintSha256(presented),
        md5: "MD5:00",
        bits: 256,
      });
    } catch (e) {
      assert.ok(e instanceof SshError);
      return { error: e, file };
    }
    throw new Error("the host key policy unexpectedly accepted the key");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const line = (blob: Uint8Array) => `ssh-ed25519 ${encodeBase64(blob)}`;

/** The details a host certificate refusal carries. */
function certDetails(reason: string): ErrorDetails {
  return {
    fingerprint: "SHA256:x",
    certType: "ssh-ed25519-cert-v01@openssh.com",
    keyId: "web-1",
    serial: "7",
    principals: ["web"],
    validity: "2020-01-01T00:00:00Z..2020-01-02T00:00:00Z",
    caType: "ssh-ed25519",
    caFingerprint: "SHA256:ca",
    file: "kh",
    line: 3,
    reason,
    principal: "web",
    plainKeyTried: true,
  };
}

/** Auth errors carry `methods` and `tried` (AuthSession.details()). */
function authDetails(methods: string[], extra: ErrorDetails = {}): ErrorDetails {
  return {
    methods,
    tried: [{
      method: "none",
      detail: "asking which methods the server accepts",
      result: "failure",
    }],
    ...extra,
  };
}

// ---------------------------------------------------------------------------------------------
// One case per catalogue entry

interface Case {
  /** The error as the layer throws it. */
  error: () => SshError | Promise<SshError>;
  events?: TraceEvent[];
  /** Expected fix / OpenSSH fix: a pattern, or null for "no fix". */
  fix: RegExp | null;
  ssh: RegExp | null;
  /** Extra checks on the explanation. */
  check?: (x: ReturnType<typeof explainFailure>) => void;
}

const err =
  (stage: Stage | "usage", code: string, details: ErrorDetails = {}, message = code) => () =>
    untypedError(stage, code, message, details);

const CASES: Record<string, Case> = {
  // usage
  "usage.invalid": {
    error: err("usage", "usage.invalid", { supported: ["Port", "User"] }),
    fix: /supported: Port/,
    ssh: null,
  },
  "usage.unknown-terminal-mode": {
    error: err("usage", "usage.unknown-terminal-mode", { mode: "FOO" }),
    fix: /RFC 4254/,
    ssh: null,
  },
  "usage.invalid-terminal-mode": {
    error: err("usage", "usage.invalid-terminal-mode", { mode: "ECHO", value: -1 }),
    fix: /whole number/,
    ssh: null,
  },
  "usage.invalid-keepalive": {
    error: err("usage", "usage.invalid-keepalive", { intervalMs: -1 }),
    fix: /ServerAliveInterval=/,
    ssh: /-o ServerAliveInterval=/,
  },
  "usage.invalid-channel-option": {
    error: err("usage", "usage.invalid-channel-option", { option: "windowSize", value: 0 }),
    fix: /size/,
    ssh: null,
  },
  // config
  "config.invalid": {
    error: err("config", "config.invalid", {
      file: "/home/me/.ssh/config",
      line: 7,
      keyword: "Port",
      problem: 'Port: invalid port "x"',
    }),
    fix: /correct \/home\/me\/\.ssh\/config line 7/,
    ssh: /ssh -G/,
  },
  "config.refused": {
    error: err("config", "config.refused", {
      keyword: "ForwardAgent",
      value: "yes",
      reason: "until jump hosts, proxies and forwarding land in sshtrace",
      origin: "/home/me/.ssh/config:3",
      others: [],
    }),
    fix: /"ForwardAgent" at \/home\/me\/\.ssh\/config:3/,
    ssh: null,
  },
  // connect
  "connect.dns": {
    error: err("connect", "connect.dns", { host: "nosuch.invalid", port: 22 }),
    fix: /IP address/,
    ssh: /-o HostName=/,
  },
  "connect.refused": {
    error: async () => {
      try {
        await connectTcp("127.0.0.1", freePort(), 2000, new Tracer());
      } catch (e) {
        return e as SshError;
      }
      throw new Error("connected to a closed port");
    },
    fix: /--port PORT/,
    ssh: /-o Port=PORT/,
  },
  "connect.timeout": {
    error: err("connect", "connect.timeout", { host: "10.255.255.1", port: 22 }),
    fix: /--timeout 30/,
    ssh: /-o ConnectTimeout=30/,
  },
  "connect.unreachable": {
    error: err("connect", "connect.unreachable", { host: "10.255.255.1", port: 22 }),
    fix: /routing/,
    ssh: null,
  },
  "connect.reset": {
    error: err("connect", "connect.reset", { host: "h", port: 22 }),
    fix: /ACL/,
    ssh: null,
  },
  "connect.failed": {
    error: err("connect", "connect.failed", { host: "h", port: 22 }),
    fix: /address and port/,
    ssh: null,
  },
  "connect.proxy-command-failed": {
    error: err("connect", "connect.proxy-command-failed", {
      host: "core",
      port: 22,
      command: "nc -X connect -x proxy:3128 core 22",
      exitCode: 1,
      stderr: "nc: connection refused",
    }),
    fix: /run the command by hand/,
    ssh: /ProxyCommand/,
  },
  "connect.jump-refused": {
    error: err("connect", "connect.jump-refused", {
      host: "10.0.0.7",
      port: 22,
      jumpHost: "bastion",
      jumpPort: 22,
      hop: 1,
      hops: 2,
      reasonCode: 1,
      reason: "administratively prohibited",
      description: "open failed",
    }),
    fix: /on bastion:22 set AllowTcpForwarding yes .*10\.0\.0\.7:22/,
    ssh: /AllowTcpForwarding yes/,
  },
  // version (the real version-exchange reader over scripted servers)
  "version.closed": {
    error: () => versionError([]),
    fix: /connection limits/,
    ssh: null,
  },
  "version.not-ssh": {
    error: () => versionError(["HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n"]),
    fix: /--port PORT/,
    ssh: /-p PORT/,
    check: (x) => {
      assert.match(x.title, /HTTP server/);
      assert.match(x.explanation, /HTTP\/1\.1 400 Bad Request/);
    },
  },
  "version.refused": {
    error: () => versionError(["Not allowed at this time\r\n"]),
    fix: /PerSourcePenaltyExemptList/,
    ssh: null,
    check: (x) => {
      assert.match(x.title, /PerSourcePenalties/);
      assert.match(x.explanation, /OpenSSH 9\.8 and later block a client address/);
      assert.doesNotMatch(x.title, /not an SSH server/);
    },
  },
  "version.ssh1-only": {
    error: () => versionError(["SSH-1.5-Cisco-1.25\r\n"]),
    fix: /ip ssh version 2/,
    ssh: null,
  },
  "version.unsupported": {
    error: () => {
      try {
        parseVersionLine("SSH-3.0-future");
      } catch (e) {
        return e as SshError;
      }
      throw new Error("accepted SSH-3.0");
    },
    fix: /version 2/,
    ssh: null,
  },
  "version.timeout": {
    error: () => versionError([], "hang"),
    fix: /UseDNS no/,
    ssh: /-o ConnectTimeout=/,
    check: (x) => assert.match(x.explanation, /reverse DNS/),
  },
  "version.too-many-lines": {
    error: () => versionError([Array.from({ length: 70 }, (_, i) => `line ${i}\r\n`).join("")]),
    fix: /--port PORT/,
    ssh: /-p PORT/,
  },
  "version.line-too-long": {
    error: () => versionError(["x".repeat(2000) + "\r\n"]),
    fix: /--port PORT/,
    ssh: /-p PORT/,
  },
  "version.malformed": {
    error: () => versionError(["SSH-2.0-has\0nul\r\n"]),
    fix: /port/,
    ssh: null,
  },
  // kex
  "kex.no-common-kex": {
    error: () => noCommonError(defaultClientLists(), LEGACY_SERVER),
    fix: /--kex \+diffie-hellman-group14-sha1/,
    ssh: /-o KexAlgorithms=\+diffie-hellman-group14-sha1/,
    check: (x) => assert.match(x.securityCost ?? "", /diffie-hellman-group14-sha1: SHA-1/),
  },
  "kex.no-common-hostKey": {
    error: () => oneCategoryFails("hostKey", ["ssh-dss", "ssh-rsa"]),
    fix: /^--hostkeys \+ssh-rsa$/,
    ssh: /^-o HostKeyAlgorithms=\+ssh-rsa$/,
    check: (x) => assert.equal(x.securityCost, `ssh-rsa: ${riskOf("ssh-rsa")}.`),
  },
  "kex.no-common-cipherC2S": {
    error: () => oneCategoryFails("cipherC2S", ["3des-cbc", "aes128-cbc"]),
    fix: /^--ciphers \+aes128-cbc$/,
    ssh: /^-o Ciphers=\+aes128-cbc$/,
  },
  "kex.no-common-cipherS2C": {
    error: () => oneCategoryFails("cipherS2C", ["3des-cbc"]),
    fix: /^--ciphers \+3des-cbc$/,
    ssh: /^-o Ciphers=\+3des-cbc$/,
    check: (x) => assert.match(x.securityCost ?? "", /Sweet32/),
  },
  "kex.no-common-macC2S": {
    error: () => oneCategoryFails("macC2S", ["hmac-md5", "hmac-sha1"]),
    fix: /^--macs \+hmac-sha1$/,
    ssh: /^-o MACs=\+hmac-sha1$/,
  },
  "kex.no-common-macS2C": {
    error: () => oneCategoryFails("macS2C", ["hmac-md5-96", "hmac-md5"]),
    fix: /^--macs \+hmac-md5$/,
    ssh: /^-o MACs=\+hmac-md5$/,
  },
  "kex.no-common-compressionC2S": {
    error: () => oneCategoryFails("compressionC2S", ["zlib@openssh.com"]),
    fix: /^-o Compression=yes$/,
    ssh: /^-o Compression=yes$/,
  },
  "kex.no-common-compressionS2C": {
    error: () => oneCategoryFails("compressionS2C", ["zlib"]),
    fix: /^-o Compression=yes$/,
    ssh: /^-o Compression=yes$/,
  },
  "kex.bad-kexinit": {
    error: err("kex", "kex.bad-kexinit"),
    fix: /-vv/,
    ssh: /-vvv/,
  },
  "kex.strict-violation": {
    error: err("kex", "kex.strict-violation", { message: "IGNORE" }),
    fix: /another network/,
    ssh: null,
    check: (x) => assert.match(x.title, /Terrapin/),
  },
  "kex.unexpected-message": {
    error: err("kex", "kex.unexpected-message", { message: "SERVICE_ACCEPT" }),
    fix: /--kex \^diffie-hellman-group14-sha256/,
    ssh: /-o KexAlgorithms=\^/,
  },
  "kex.exchange-failed": {
    error: err("kex", "kex.exchange-failed", { algorithm: "ecdh-sha2-nistp256" }),
    fix: /^--kex -ecdh-sha2-nistp256$/,
    ssh: /^-o KexAlgorithms=-ecdh-sha2-nistp256$/,
  },
  "kex.dh-group-too-small": {
    error: err("kex", "kex.dh-group-too-small", {
      algorithm: "diffie-hellman-group-exchange-sha256",
      bits: 1024,
      min: 2048,
    }),
    fix: /^--kex -diffie-hellman-group-exchange-\*$/,
    ssh: /^-o KexAlgorithms=-diffie-hellman-group-exchange-\*$/,
    check: (x) => assert.match(x.title, /1024 bits, below the 2048 asked for/),
  },
  "kex.bad-host-key": {
    error: err("kex", "kex.bad-host-key"),
    fix: /--hostkeys \^ssh-ed25519/,
    ssh: /-o HostKeyAlgorithms=\^ssh-ed25519/,
  },
  "kex.host-key-too-small": {
    error: err("kex", "kex.host-key-too-small", { bits: 768, required: 1024 }),
    fix: /^regenerate .*--hostkeys \^ssh-ed25519/,
    ssh: /^-o HostKeyAlgorithms=\^ssh-ed25519/,
    check: (x) => assert.match(x.title, /768 bits \(at least 1024 required\)/),
  },
  "kex.bad-signature": {
    error: err("kex", "kex.bad-signature", {
      algorithm: "rsa-sha2-512",
      fingerprint: "SHA256:abc",
    }),
    fix: /^--hostkeys -rsa-sha2-512$/,
    ssh: /^-o HostKeyAlgorithms=-rsa-sha2-512$/,
  },
  "kex.closed": {
    error: err("kex", "kex.closed"),
    fix: /--legacy/,
    ssh: /KexAlgorithms=\+diffie-hellman-group14-sha1/,
    check: (x) => assert.ok(x.securityCost),
  },
  "kex.timeout": {
    error: err("kex", "kex.timeout", { timeoutMs: 10000 }),
    events: traceWith({
      kex: "diffie-hellman-group18-sha512",
      serverKex: ["diffie-hellman-group18-sha512", "diffie-hellman-group14-sha256"],
    }),
    fix: /--kex \^diffie-hellman-group14-sha256/,
    ssh: /-o KexAlgorithms=\^diffie-hellman-group14-sha256/,
  },
  // hostkey (the real host-key policy over a known_hosts file)
  "hostkey.unknown": {
    error: async () => (await hostKeyError(() => "")).error,
    fix: /StrictHostKeyChecking=accept-new/,
    ssh: /-o StrictHostKeyChecking=accept-new/,
    check: (x) => assert.ok(x.securityCost),
  },
  "hostkey.changed": {
    // Checked in detail by its own test below (file path, fingerprints).
    error: async () =>
      (await hostKeyError((_p, other) => `[127.0.0.1]:2222 ${line(other)}\n`)).error,
    events: traceWith({}),
    fix: /^ssh-keygen -R "\[127\.0\.0\.1\]:2222" -f \S+known_hosts/,
    ssh: /^ssh-keygen -R "\[127\.0\.0\.1\]:2222" -f \S+known_hosts$/,
  },
  "hostkey.revoked": {
    error: async () =>
      (await hostKeyError((presented) => `@revoked [127.0.0.1]:2222 ${line(presented)}\n`))
        .error,
    fix: null,
    ssh: null,
    check: (x) => assert.match(x.explanation, /known_hosts:1/),
  },
  "hostkey.refused-by-user": {
    error: err("hostkey", "hostkey.refused-by-user", { fingerprint: "SHA256:x" }),
    fix: /answer yes/,
    ssh: null,
  },
  "hostkey.write-failed": {
    error: err("hostkey", "hostkey.write-failed"),
    fix: /-o UserKnownHostsFile=/,
    ssh: /-o UserKnownHostsFile=/,
  },
  "hostkey.changed-on-rekey": {
    error: err("hostkey", "hostkey.changed-on-rekey", { fingerprint: "SHA256:x" }),
    fix: null,
    ssh: null,
  },
  "hostkey.cert-unknown-ca": {
    error: err("hostkey", "hostkey.cert-unknown-ca", certDetails("no @cert-authority line")),
    fix: /@cert-authority/,
    ssh: /@cert-authority/,
    check: (x) => assert.match(x.explanation, /key id "web-1", serial 7.*plain key was checked/),
  },
  "hostkey.cert-expired": {
    error: err("hostkey", "hostkey.cert-expired", certDetails("expired: valid until 2020")),
    fix: null,
    ssh: null,
    check: (x) => assert.match(x.explanation, /expired: valid until 2020 \(kh:3\)/),
  },
  "hostkey.cert-not-yet-valid": {
    error: err("hostkey", "hostkey.cert-not-yet-valid", certDetails("not yet valid")),
    fix: /clock/,
    ssh: null,
  },
  "hostkey.cert-principal": {
    error: err("hostkey", "hostkey.cert-principal", certDetails('"db" is not among')),
    fix: /HostKeyAlias/,
    ssh: /-o HostKeyAlias=NAME/,
  },
  "hostkey.cert-invalid": {
    error: err("hostkey", "hostkey.cert-invalid", certDetails("lists no principals")),
    fix: null,
    ssh: null,
  },
  "hostkey.ca-revoked": {
    error: err("hostkey", "hostkey.ca-revoked", {
      ...certDetails("the certificate authority is marked @revoked"),
      plainKeyTried: false,
    }),
    fix: null,
    ssh: null,
    check: (x) => assert.doesNotMatch(x.explanation, /plain key was checked/),
  },
  // auth
  "auth.service-refused": {
    error: err("auth", "auth.service-refused", { service: "ssh-userauth" }),
    fix: /logs/,
    ssh: null,
  },
  "auth.connection-closed": {
    error: err("auth", "auth.connection-closed", authDetails(["publickey"])),
    fix: /IdentitiesOnly=yes/,
    ssh: /-o IdentitiesOnly=yes/,
  },
  "auth.protocol": {
    error: err("auth", "auth.protocol", authDetails([])),
    fix: /PreferredAuthentications=/,
    ssh: /-o PreferredAuthentications=/,
  },
  "auth.too-many-failures": {
    error: err(
      "auth",
      "auth.too-many-failures",
      authDetails(["publickey", "password"]),
    ),
    fix: /-i KEY -o IdentitiesOnly=yes/,
    ssh: /^-o IdentitiesOnly=yes -i KEY$/,
  },
  "auth.partial-needs-method": {
    error: err("auth", "auth.partial-needs-method", authDetails(["keyboard-interactive"])),
    fix: /--password-env VAR/,
    ssh: /PreferredAuthentications/,
    check: (x) => assert.match(x.explanation, /keyboard-interactive/),
  },
  "auth.password-rejected": {
    error: err("auth", "auth.password-rejected", authDetails(["publickey", "password"])),
    fix: /USER@HOST.*--password-env VAR/,
    ssh: /-l USER/,
  },
  "auth.kbdint-failed": {
    error: err("auth", "auth.kbdint-failed", authDetails(["keyboard-interactive"])),
    fix: /USER@HOST.*--password-env VAR/,
    ssh: /PreferredAuthentications=keyboard-interactive/,
  },
  "auth.batch-mode-needs-prompt": {
    error: err("auth", "auth.batch-mode-needs-prompt", authDetails(["password"])),
    fix: /--password-env VAR/,
    ssh: /-o BatchMode=no/,
  },
  "auth.key-rejected": {
    error: err(
      "auth",
      "auth.key-rejected",
      authDetails(["password"], { acceptsPublickey: false }),
    ),
    fix: /--password-env VAR/,
    ssh: /PreferredAuthentications=password/,
    check: (x) => assert.match(x.title, /no longer accepts public keys/),
  },
  "auth.no-signature-algorithm": {
    error: err("auth", "auth.no-signature-algorithm", authDetails(["publickey"])),
    fix: /--legacy/,
    ssh: /^-o PubkeyAcceptedAlgorithms=\+ssh-rsa$/,
    check: (x) => assert.equal(x.securityCost, riskOf("ssh-rsa")),
  },
  "auth.rsa-sha2-refused": {
    error: err("auth", "auth.rsa-sha2-refused", authDetails(["publickey"])),
    fix: /^--legacy/,
    ssh: /^-o PubkeyAcceptedAlgorithms=\+ssh-rsa$/,
    check: (x) => assert.match(x.explanation, /server-sig-algs/),
  },
  "auth.no-common-method": {
    error: err(
      "auth",
      "auth.no-common-method",
      authDetails(["publickey", "keyboard-interactive"], { ours: ["password"] }),
    ),
    fix: /-i FILE/,
    ssh: /^-o PreferredAuthentications=publickey,keyboard-interactive$/,
    check: (x) =>
      assert.match(x.title, /server offers publickey, keyboard-interactive; we can do password/),
  },
  "auth.password-change-requested": {
    error: err("auth", "auth.password-change-requested", authDetails(["password"])),
    fix: /change the password/,
    ssh: /prompts for the new password/,
  },
  "auth.timeout": {
    error: err("auth", "auth.timeout", { timeoutMs: 10000 }),
    fix: /--timeout 30/,
    ssh: /-o ConnectTimeout=30/,
    check: (x) => assert.match(x.explanation, /RADIUS/),
  },
  // session
  "session.forward-bind-failed": {
    error: err("session", "session.forward-bind-failed", {
      bindHost: "127.0.0.1",
      bindPort: 8080,
      host: "intranet",
      port: 80,
      reason: "Address already in use",
    }),
    fix: /instead of 8080 \(-L 0:intranet:80/,
    ssh: /-L FREE_PORT/,
  },
  "session.channel-open-refused": {
    error: err("session", "session.channel-open-refused", {
      channelType: "session",
      reasonCode: 4,
      reason: "resource shortage",
      description: "no more sessions",
    }),
    fix: /close other sessions/,
    ssh: null,
    check: (x) => {
      assert.match(x.title, /resource shortage \(code 4\)/);
      assert.match(x.explanation, /no more sessions/);
    },
  },
  "session.pty-refused": {
    error: err("session", "session.pty-refused", { channel: 0, term: "xterm", cols: 80, rows: 24 }),
    fix: /^-T/,
    ssh: /RequestTTY=no/,
  },
  "session.exec-refused": {
    error: err("session", "session.exec-refused", { channel: 0 }),
    fix: /sshtrace send/,
    ssh: /-tt/,
  },
  "session.shell-refused": {
    error: err("session", "session.shell-refused", { channel: 0 }),
    fix: /command/,
    ssh: /ssh HOST COMMAND/,
  },
  "session.prompt-not-found": {
    error: err("session", "session.prompt-not-found", {
      device: "auto",
      timeoutMs: 15000,
      lastSeen: '"Press any key"',
      closed: false,
    }),
    fix: /prompt as a regular expression/,
    ssh: null,
    check: (x) => assert.match(x.explanation, /Press any key/),
  },
  "session.send-timeout": {
    error: err("session", "session.send-timeout", {
      command: "show run",
      timeoutMs: 30000,
      lastSeen: "...",
      device: "cisco",
    }),
    fix: /per-command limit/,
    ssh: null,
  },
  "session.output-too-large": {
    error: err("session", "session.output-too-large", {
      command: "show tech-support",
      limitBytes: 67108864,
      lastSeen: "...",
    }),
    fix: /--max-output 512M/,
    ssh: null,
  },
  "session.shell-closed": {
    error: err("session", "session.shell-closed", {
      command: "reload",
      timeoutMs: 30000,
      lastSeen: "...",
      device: "cisco",
    }),
    fix: /reload/,
    ssh: null,
  },
  "session.command-failed": {
    error: err("session", "session.command-failed", { exitStatus: 1 }),
    fix: /by hand/,
    ssh: null,
  },
  "session.dialog-unanswered": {
    error: err("session", "session.dialog-unanswered", {
      command: "license activate",
      timeoutMs: 30000,
      lastSeen: '"Enter activation key: "',
      device: "comware",
      question: "Enter activation key:",
    }),
    fix: /--answer 'REGEX=REPLY'/,
    ssh: null,
  },
  "session.subsystem-refused": {
    error: err("session", "session.subsystem-refused", { channel: 0, subsystem: "netconf" }),
    fix: /-p 830/,
    ssh: null,
  },
  "session.netconf-bad-hello": {
    error: err("session", "session.netconf-bad-hello", {
      reason: "not-a-hello",
      received: 12,
      excerpt: "Hello world",
    }),
    fix: /NETCONF is enabled/,
    ssh: null,
    check: (x) => assert.match(x.explanation, /Hello world/),
  },
  "session.privilege-failed": {
    error: err("session", "session.privilege-failed", {
      device: "cisco",
      command: "enable",
      reason: "no-secret",
      prompt: "Router>",
      errorLine: "",
    }),
    fix: /--enable-secret-env VAR or --enable-secret-file FILE/,
    ssh: null,
    check: (x) => assert.match(x.title, /`enable` asked for a secret/),
  },
  "session.command-rejected": {
    error: err("session", "session.command-rejected", {
      rejected: [1],
      errorLine: "% Invalid input detected at '^' marker.",
      prompt: "Router>",
      device: "cisco",
      privileged: false,
    }),
    fix: /--enable/,
    ssh: null,
    check: (x) => assert.match(x.explanation, /"Router>" ends in `>`/),
  },
  "session.channel-closed": {
    error: err("session", "session.channel-closed", { channel: 0 }),
    fix: /logs/,
    ssh: null,
  },
  // data
  "data.keepalive-timeout": {
    error: err("data", "data.keepalive-timeout"),
    fix: /-o ServerAliveInterval=15 -o ServerAliveCountMax=6/,
    ssh: /^-o ServerAliveInterval=15 -o ServerAliveCountMax=6$/,
  },
  "data.connection-closed": {
    error: err("data", "data.connection-closed", { openChannels: 1, pendingRequests: 0 }),
    fix: /ServerAliveInterval/,
    ssh: /-o ServerAliveInterval=30/,
  },
  "data.malformed-message": {
    error: err("data", "data.malformed-message"),
    fix: /-vv/,
    ssh: /-vvv/,
  },
  "data.reply-flood": {
    error: err("data", "data.reply-flood", { queued: 8193, limit: 8192 }),
    fix: /-vv/,
    ssh: /-vvv/,
  },
  "session.reply-flood": {
    error: err("session", "session.reply-flood", { queued: 8193, limit: 8192 }),
    fix: /-vv/,
    ssh: /-vvv/,
  },
  "session.connection-closed": {
    error: err("session", "session.connection-closed", { openChannels: 1, pendingRequests: 0 }),
    fix: /sshtrace send/,
    ssh: /-tt/,
  },
  "session.malformed-message": {
    error: err("session", "session.malformed-message"),
    fix: /-vv/,
    ssh: /-vvv/,
  },
  "*.compression-error": {
    error: err("data", "data.compression-error"),
    fix: /Compression=no/,
    ssh: /^-o Compression=no$/,
  },
  "data.output-incomplete": {
    error: err("data", "data.output-incomplete", { received: 10, written: 4, cause: "EPIPE" }),
    fix: /disk space/,
    ssh: null,
  },
  // transfer
  "transfer.no-such-file": {
    error: err("transfer", "transfer.no-such-file", { path: "flash:/x.cfg" }),
    fix: /check the remote path/,
    ssh: null,
  },
  "transfer.permission-denied": {
    error: err("transfer", "transfer.permission-denied", { path: "/etc/shadow" }),
    fix: /log in as a user allowed/,
    ssh: null,
  },
  "transfer.remote-error": {
    error: err("transfer", "transfer.remote-error", { path: "/f", protocol: "sftp", status: 4 }),
    fix: /free space and quota/,
    ssh: null,
  },
  "transfer.not-a-file": {
    error: err("transfer", "transfer.not-a-file", { path: "/etc", kind: "directory" }),
    fix: /^-r /,
    ssh: /scp -r/,
  },
  "transfer.unsafe-name": {
    error: err("transfer", "transfer.unsafe-name", { name: "../x", directory: "/d" }),
    fix: null,
    ssh: null,
    check: (x) => assert.match(x.explanation, /CVE-2019-6111/),
  },
  "transfer.no-sftp": {
    error: err("transfer", "transfer.no-sftp", { subsystem: "sftp" }),
    fix: /--protocol scp/,
    ssh: /scp -O/,
  },
  "transfer.incomplete": {
    error: err("transfer", "transfer.incomplete", { path: "/f", bytes: 10, expected: 100 }),
    fix: /--resume/,
    ssh: null,
  },
  "transfer.local-error": {
    error: err("transfer", "transfer.local-error", { path: "/full/f", kind: "other" }),
    fix: /free disk space/,
    ssh: null,
  },
  "transfer.verify-mismatch": {
    error: err("transfer", "transfer.verify-mismatch", { path: "/f", local: "a", remote: "b" }),
    fix: /copy again/,
    ssh: null,
  },
  "transfer.interrupted": {
    error: err("transfer", "transfer.interrupted", { path: "/f" }),
    fix: null,
    ssh: null,
    check: (x) => assert.equal(x.exitCode, 130),
  },
  "data.unknown-channel": {
    error: err("data", "data.unknown-channel", { channel: 9, message: "CHANNEL_DATA" }),
    fix: /-vv/,
    ssh: /-vvv/,
  },
  "data.channel-closed": {
    error: err("data", "data.channel-closed", { channel: 0 }),
    fix: null,
    ssh: null,
  },
  "data.write-after-eof": {
    error: err("data", "data.write-after-eof", { channel: 0 }),
    fix: null,
    ssh: null,
  },
  "data.message-before-open": {
    error: err("data", "data.message-before-open", { channel: 0 }),
    fix: /-vv/,
    ssh: /-vvv/,
  },
  "data.unexpected-message": {
    error: err("data", "data.unexpected-message", { channel: 0 }),
    fix: /-vv/,
    ssh: /-vvv/,
  },
  "data.invalid-max-packet": {
    error: err("data", "data.invalid-max-packet", { channel: 0 }),
    fix: null,
    ssh: null,
  },
  "data.window-overflow": {
    error: err("data", "data.window-overflow", { channel: 0, window: 1, adjust: 2 ** 32 - 1 }),
    fix: null,
    ssh: null,
  },
  "data.packet-too-large": {
    error: err("data", "data.packet-too-large", { channel: 0, length: 70000, maxPacket: 32768 }),
    fix: null,
    ssh: null,
  },
  "data.window-exceeded": {
    error: err("data", "data.window-exceeded", { channel: 0, length: 10, window: 5 }),
    fix: null,
    ssh: null,
  },
  "data.connection-reset": {
    error: err("data", "data.connection-reset"),
    fix: /ServerAliveInterval=30/,
    ssh: /-o ServerAliveInterval=30/,
  },
  // any stage
  "*.timeout": {
    error: err("session", "session.timeout", { timeoutMs: 10000 }),
    fix: /--timeout 30/,
    ssh: /-o ConnectTimeout=30/,
  },
  "*.deadline": {
    error: err("kex", "kex.deadline", { deadlineMs: 30_000 }),
    fix: /--timeout 30/,
    ssh: /-o ConnectTimeout=30/,
  },
  "*.closed": {
    error: err("auth", "auth.closed"),
    fix: /logs/,
    ssh: null,
  },
  "*.connection-reset": {
    error: err("kex", "kex.connection-reset"),
    fix: /firewalls/,
    ssh: null,
  },
  "*.disconnect": {
    error: err("data", "data.disconnect", {
      reasonCode: 11,
      reason: "BY_APPLICATION",
      description: "idle timeout",
    }),
    fix: /ServerAliveInterval=30/,
    ssh: /-o ServerAliveInterval=30/,
    check: (x) => {
      assert.match(x.title, /BY_APPLICATION/);
      assert.match(x.explanation, /"idle timeout"/);
    },
  },
  "*.mac-error": {
    error: err("data", "data.mac-error", { kind: "mac" }),
    events: traceWith({ mac: "hmac-sha2-512" }),
    fix: /^--macs -hmac-sha2-512$/,
    ssh: /^-o MACs=-hmac-sha2-512$/,
  },
  "*.bad-packet": {
    error: err("kex", "kex.bad-packet", { kind: "length" }),
    events: traceWith({ cipher: "aes256-gcm@openssh.com" }),
    fix: /^--ciphers -aes256-gcm@openssh\.com$/,
    ssh: /^-o Ciphers=-aes256-gcm@openssh\.com$/,
  },
  "*.bad-message": {
    error: err("auth", "auth.bad-message"),
    fix: /-vv/,
    ssh: /-vvv/,
  },
  "*.unexpected-message": {
    // (data.unexpected-message has an exact entry; another stage uses the wildcard)
    error: err("session", "session.unexpected-message"),
    fix: /-vv/,
    ssh: /-vvv/,
  },
  "*.internal": {
    error: err("auth", "auth.internal"),
    fix: /report/,
    ssh: null,
  },
  "*.interrupted": {
    error: () => interrupted({ stage: "hostkey", what: "host key" }),
    fix: null,
    ssh: null,
    check: (x) => {
      assert.equal(x.exitCode, 130);
      assert.match(x.message, /^interrupted at stage hostkey: Ctrl-C at the host key prompt/);
      assert.match(x.explanation, /nothing more was sent/);
    },
  },
  "*.aborted": {
    error: () => abortedError("kex", new Error("the user went away")),
    fix: null,
    ssh: null,
    check: (x) => {
      assert.equal(x.code, "kex.aborted");
      assert.equal(x.exitCode, 12, "a library cancellation keeps its stage's exit code");
      assert.match(x.message, /^cancelled at stage kex: the user went away/);
      assert.match(x.explanation, /AbortSignal/);
    },
  },
};

/** The catalogue key a code resolves to. */
function keyOf(code: string): string | null {
  if (Object.hasOwn(CATALOGUE, code)) return code;
  const wildcard = `*${code.slice(code.indexOf("."))}`;
  return Object.hasOwn(CATALOGUE, wildcard) ? wildcard : null;
}

for (const [key, c] of Object.entries(CASES)) {
  const entry = CATALOGUE[key];
  const stage = entry?.stage ?? "?";
  Deno.test(
    `explainFailure() explains ${key} (stage ${stage}) with the fix ${c.fix ?? "none"}`,
    async () => {
      const error = await c.error();
      assert.ok(error instanceof SshError);
      assert.equal(keyOf(error.code), key, `the case's error ${error.code} resolves to ${key}`);
      if (entry && entry.stage !== "any") assert.equal(error.stage, entry.stage);
      const x = explainFailure(error, c.events ?? []);
      assert.equal(x.known, true);
      assert.equal(x.code, error.code);
      assert.equal(x.stage, error.stage);
      assert.equal(x.exitCode, exitCodeFor(error.stage, error.code));
      assert.equal(x.exitCode, error.exitCode);
      assert.equal(x.message, error.message);
      assert.ok(x.title.length > 0 && x.explanation.length > 0);
      if (c.fix === null) assert.equal(x.fix, null);
      else assert.match(x.fix ?? "(null)", c.fix);
      if (c.ssh === null) assert.equal(x.opensshFix, null);
      else assert.match(x.opensshFix ?? "(null)", c.ssh);
      c.check?.(x);
    },
  );
}

Deno.test("every catalogue entry has a test case above", () => {
  const missing = catalogueCodes().filter((code) => !Object.hasOwn(CASES, code));
  assert.deepEqual(missing, []);
  const stale = Object.keys(CASES).filter((code) => !Object.hasOwn(CATALOGUE, code));
  assert.deepEqual(stale, []);
});

// ---------------------------------------------------------------------------------------------
// Every code thrown in lib/ is catalogued

const LIB = new URL("../../../lib/", import.meta.url);

async function libSources(dir: URL): Promise<{ path: string; text: string }[]> {
  const out: { path: string; text: string }[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory) {
      if (entry.name === "diagnose") continue; // the catalogue itself names every code
      out.push(...await libSources(new URL(`${entry.name}/`, dir)));
    } else if (entry.name.endsWith(".ts")) {
      const url = new URL(entry.name, dir);
      out.push({ path: url.pathname, text: await Deno.readTextFile(url) });
    }
  }
  return out;
}

Deno.test("no layer outside lib/diagnose and lib/cli puts fix text or advice in an error", async () => {
  const offenders: string[] = [];
  for (const { path, text } of await libSources(LIB)) {
    // The CLI is one audience's own words; the renderers show the catalogue's fix.
    if (/\/lib\/(cli|render)\//.test(path)) continue;
    text.split("\n").forEach((line, i) => {
      // A `fix` in an error's details, or a CLI flag quoted as advice.
      if (
        /(^|[\s{,])fix\s*:(?!\s*\$\{)|[{,]\s*fix\s*[},]|--timeout SECONDS|--password-env VAR|-i FILE/
          .test(line)
      ) {
        offenders.push(`${path.replace(/.*\/lib\//, "lib/")}:${i + 1}: ${line.trim()}`);
      }
    });
  }
  assert.deepEqual(offenders, [], "layers carry data; the catalogue (lib/diagnose) words fixes");
});

// ---------------------------------------------------------------------------------------------
// The catalogue is keyed by the error table. The compiler proves it (StageEntries, FamilyEntries
// and the `satisfies` in lib/diagnose/catalogue/mod.ts); these tests fail if a cast defeats it.

Deno.test("the catalogue has an entry for every exact code and every family of the error table", () => {
  const missing = [...Object.keys(EXACT_CODES), ...Object.keys(CODE_FAMILIES)]
    .filter((key) => !Object.hasOwn(CATALOGUE, key));
  assert.deepEqual(missing, []);
});

Deno.test("every catalogue key is the error table's: a code, a family, or one code of a family", () => {
  const unknown = catalogueCodes().filter((key) =>
    !Object.hasOwn(EXACT_CODES, key) && !Object.hasOwn(CODE_FAMILIES, key) && !isErrorCode(key)
  );
  assert.deepEqual(unknown, [], "add these codes to lib/errors/codes.ts");
});

Deno.test("every error code, families expanded to their stages, has a catalogue entry", () => {
  const codes = errorCodes();
  for (
    const known of ["connect.refused", "version.not-ssh", "kex.no-common-macS2C", "data.timeout"]
  ) {
    assert.ok(codes.includes(known as ErrorCode), `the table lists ${known}`);
  }
  assert.ok(codes.length > 60, `the table lists ${codes.length} codes`);
  assert.deepEqual(codes.filter((code) => lookupEntry(code) === null), []);
});

Deno.test("the error table gives each exact code the stage it starts with", () => {
  for (const [code, stage] of Object.entries(EXACT_CODES)) {
    assert.equal(stage, code.slice(0, code.indexOf(".")), code);
  }
});

Deno.test("a family entry that names its stages names the family's stages", () => {
  for (const [key, stages] of Object.entries(CODE_FAMILIES)) {
    const listed = CATALOGUE[key]?.stages;
    if (listed) assert.deepEqual([...listed], [...stages], key);
  }
});

Deno.test("every exact catalogue entry names the stage its code starts with", () => {
  for (const [code, entry] of Object.entries(CATALOGUE)) {
    const prefix = code.slice(0, code.indexOf("."));
    if (prefix === "*") assert.equal(entry.stage, "any", code);
    else assert.equal(entry.stage, prefix, code);
  }
});

Deno.test("docs/failures.md lists every catalogue code", async () => {
  const doc = await Deno.readTextFile(new URL("../../../docs/failures.md", import.meta.url));
  const missing = catalogueCodes().filter((code) => !doc.includes(`\`${code}\``));
  assert.deepEqual(missing, []);
});

Deno.test("docs/failures.md's catalogue table is the one `deno task docs` generates", async () => {
  const doc = await Deno.readTextFile(FAILURES_DOC);
  assert.ok(
    (await failuresDoc(doc)) === doc,
    "docs/failures.md is not current: run `deno task docs`",
  );
});

// ---------------------------------------------------------------------------------------------
// No common algorithm: the smallest set, least harm first

Deno.test("explainFailure() of kex.no-common-kex with a legacy-only server proposes group14-sha1 first", () => {
  const x = explainFailure(noCommonError(defaultClientLists(), LEGACY_SERVER));
  assert.equal(x.code, "kex.no-common-kex");
  assert.equal(x.exitCode, 12);
  const kex = x.candidates.filter((c) => c.category === "kex").map((c) => c.algorithm);
  assert.deepEqual(kex, ["diffie-hellman-group14-sha1", "diffie-hellman-group1-sha1"]);
  // One algorithm per failed list: the whole smallest set in one command line.
  assert.equal(
    x.fix,
    "--kex +diffie-hellman-group14-sha1 --hostkeys +ssh-rsa --ciphers +aes128-cbc --macs +hmac-sha1",
  );
  assert.equal(
    x.opensshFix,
    "-o KexAlgorithms=+diffie-hellman-group14-sha1 -o HostKeyAlgorithms=+ssh-rsa " +
      "-o Ciphers=+aes128-cbc -o MACs=+hmac-sha1",
  );
  for (const name of ["diffie-hellman-group14-sha1", "ssh-rsa", "aes128-cbc", "hmac-sha1"]) {
    assert.ok(x.securityCost?.includes(`${name}: ${riskOf(name)}`), name);
  }
  assert.match(
    x.explanation,
    /the server offers diffie-hellman-group1-sha1, diffie-hellman-group14-sha1/,
  );
});

Deno.test("explainFailure() says so when the server offers no cipher sshtrace implements", () => {
  const x = explainFailure(oneCategoryFails("cipherC2S", ["arcfour256", "blowfish-cbc"]));
  assert.equal(x.fix, null);
  assert.equal(x.opensshFix, null);
  assert.match(
    x.explanation,
    /implements none of the ciphers this server offers \(arcfour256, blowfish-cbc\)/,
  );
});

Deno.test("rankByLeastHarm() orders legacy algorithms as the harm table says", () => {
  const names = (c: Parameters<typeof rankByLeastHarm>[0], l: string[]) =>
    rankByLeastHarm(c, l).map((x) => x.algorithm);
  assert.deepEqual(
    names("kex", [
      "diffie-hellman-group1-sha1",
      "diffie-hellman-group-exchange-sha1",
      "diffie-hellman-group14-sha1",
    ]),
    [
      "diffie-hellman-group14-sha1",
      "diffie-hellman-group-exchange-sha1",
      "diffie-hellman-group1-sha1",
    ],
  );
  assert.deepEqual(names("cipher", ["3des-cbc", "aes128-cbc", "aes128-ctr"]), [
    "aes128-ctr",
    "aes128-cbc",
    "3des-cbc",
  ]);
  assert.deepEqual(names("mac", ["hmac-md5", "hmac-sha1", "hmac-sha2-256"]), [
    "hmac-sha2-256",
    "hmac-sha1",
    "hmac-md5",
  ]);
  assert.deepEqual(names("hostKey", ["ssh-dss", "ssh-rsa", "rsa-sha2-256"]), [
    "rsa-sha2-256",
    "ssh-rsa",
    "ssh-dss",
  ]);
  // Every name in the harm table is a registered legacy algorithm of its list.
  for (const [category, list] of Object.entries(LEGACY_HARM_ORDER)) {
    for (const name of list) {
      const ranked = rankByLeastHarm(category as "kex", [name]);
      assert.equal(ranked[0]?.status, "legacy", `${category} ${name}`);
    }
  }
});

Deno.test("planEnable() picks one cipher both directions accept", () => {
  const decision = (category: Category, theirs: string[]) => ({
    category,
    ours: ["aes128-ctr"],
    theirs,
    chosen: null,
    rule: "",
    firstChoiceMatch: false,
  });
  const plan = planEnable([
    decision("cipherC2S", ["3des-cbc", "aes256-cbc"]),
    decision("cipherS2C", ["3des-cbc"]),
  ]);
  assert.deepEqual(plan.enable.map((c) => c.algorithm), ["3des-cbc"]);
});

Deno.test("explainFailure() of a changed host key gives both fingerprints, file:line and ssh-keygen -R", async () => {
  const { error, file } = await hostKeyError((_p, other) =>
    `# comment\n[127.0.0.1]:2222 ${line(other)}\n`
  );
  const x = explainFailure(error, traceWith({}));
  assert.equal(x.exitCode, 13);
  assert.ok(x.explanation.includes(fingerprintSha256(ed25519Blob(7))));
  assert.ok(x.explanation.includes(fingerprintSha256(ed25519Blob(9))));
  assert.ok(x.explanation.includes(`${file}:2`));
  assert.equal(x.opensshFix, `ssh-keygen -R "[127.0.0.1]:2222" -f ${file}`);
  // Without the trace, the pattern comes from the error's data (hostPattern).
  assert.equal(explainFailure(error).opensshFix, `ssh-keygen -R "[127.0.0.1]:2222" -f ${file}`);
});

Deno.test("explainFailure() of a kex failure during a rekey says it was a rekey", () => {
  const error = new SshError("kex", "kex.closed", "closed");
  const x = explainFailure(error, traceWith({ rekey: true }));
  assert.match(x.title, /rekey/);
  assert.equal(x.opensshFix, "-o RekeyLimit=8G");
});

Deno.test("explainFailure() of a DISCONNECT 'no matching cipher' suggests legacy algorithms", () => {
  const error = new SshError("kex", "kex.disconnect", "the server disconnected", {
    reasonCode: 3,
    reason: "KEY_EXCHANGE_FAILED",
    description: "no matching cipher found",
  });
  const x = explainFailure(error);
  assert.match(x.fix ?? "", /--legacy/);
  assert.match(x.explanation, /no matching cipher found/);
  assert.equal(x.exitCode, 12);
});

Deno.test("explainFailure() gives an unknown code the generic entry of its stage", () => {
  const x = explainFailure(untypedError("auth", "auth.brand-new", "odd", { fix: "do X" }));
  assert.equal(x.known, false);
  assert.equal(x.stage, "auth");
  assert.equal(x.exitCode, 14);
  // Fix text comes only from the catalogue: a `fix` in the details is not advice we pass on.
  assert.equal(x.fix, GENERIC_BY_STAGE.auth.fix);
  assert.equal(x.title, "authentication failed");
});

Deno.test("explainFailure() never throws on odd details", () => {
  const odd = untypedError("kex", "kex.no-common-kex", "x", {
    decisions: [null, 3, { chosen: null, theirs: "nope" }],
    category: 42,
  } as unknown as ErrorDetails);
  const x = explainFailure(odd, [null as unknown as TraceEvent]);
  assert.equal(x.code, "kex.no-common-kex");
  assert.equal(x.exitCode, 12);
  const weird = explainFailure(
    { stage: "nowhere", code: 5, message: null, details: null } as unknown as SshError,
  );
  assert.equal(weird.known, false);
  assert.equal(weird.stage, "connect");
});

// ---------------------------------------------------------------------------------------------
// Slow stages

Deno.test("slowStages() points out a slow banner and a slow 8192-bit DH group", () => {
  const events = traceWith({ kex: "diffie-hellman-group18-sha512" });
  const slow = slowStages({ connect: 20, version: 1500, kex: 4000, auth: 100 }, events);
  assert.deepEqual(slow.map((s) => s.stage), ["version", "kex"]);
  assert.match(slow[0]!.why, /reverse DNS/);
  assert.match(slow[1]!.why, /8192-bit Diffie-Hellman group/);
  assert.equal(slow[1]!.thresholdMs, 2000);
});

Deno.test("slowStages() reads the group size of a group exchange from the trace", () => {
  const events: TraceEvent[] = [
    ...traceWith({ kex: "diffie-hellman-group-exchange-sha256" }),
    {
      stage: "kex",
      type: "exchange",
      method: "diffie-hellman-group-exchange-sha256",
      detail: "server sent a 4096-bit group (g = 2)",
      t: 5,
    },
  ];
  assert.match(slowStages({ kex: 2500 }, events)[0]!.why, /4096-bit/);
  assert.deepEqual(slowStages({ kex: 1500 }, events), []);
});

Deno.test("slowStages() flags slow connect and auth, and nothing for fast runs", () => {
  assert.deepEqual(slowStages({ connect: 5, version: 10, kex: 30, auth: 50, session: 5 }), []);
  const slow = slowStages({ connect: 1200, auth: 3500 });
  assert.deepEqual(slow.map((s) => [s.stage, s.ms]), [["connect", 1200], ["auth", 3500]]);
  assert.match(slow[1]!.why, /RADIUS/);
});

Deno.test("explainFailure() of a refused exec or shell on an SFTP-only server points to sftp, not to a shell", () => {
  const events: TraceEvent[] = [
    { stage: "connect", type: "resolving", host: "files.example", port: 2222, t: 0 },
    {
      stage: "version",
      type: "received",
      line: "SSH-2.0-mod_sftp",
      protocol: "2.0",
      software: "mod_sftp",
      comments: null,
      note: null,
      t: 1,
    },
  ];
  for (const code of ["session.exec-refused", "session.shell-refused"] as const) {
    const x = explainFailure(new SshError("session", code, code, { channel: 0 }), events);
    assert.match(x.title, /file transfer only/);
    assert.match(x.explanation, /mod_sftp/);
    assert.doesNotMatch(x.fix ?? "", /send|shell|exec/);
    assert.equal(x.opensshFix, "sftp -P 2222 USER@files.example");
  }
  // An ordinary server keeps the advice to type the command into a shell.
  const plain = explainFailure(
    new SshError("session", "session.exec-refused", "x", { channel: 0 }),
    [{ ...events[1]!, software: "Comware-7.1.064" } as TraceEvent],
  );
  assert.match(plain.fix ?? "", /sshtrace send/);
  const both = explainFailure(
    new SshError("session", "session.exec-refused", "x", {
      channel: 0,
      otherRequestRefused: true,
    }),
    [],
  );
  assert.match(both.title, /file transfer only/);
});

// ---------------------------------------------------------------------------------------------
// The fix for three audiences: sshtrace flags, OpenSSH options, library options

Deno.test("explainFailure() gives the fix as sshtrace flags, OpenSSH options and library options", () => {
  const timeout = explainFailure(err("connect", "connect.timeout", { timeoutMs: 10_000 })());
  assert.match(timeout.fix ?? "", /--timeout 30/);
  assert.equal(timeout.opensshFix, "-o ConnectTimeout=30");
  assert.equal(timeout.libraryFix, "{ timeoutMs: 30_000 }");
  const kex = explainFailure(noCommonError(defaultClientLists(), LEGACY_SERVER));
  assert.equal(
    kex.libraryFix,
    '{ algorithms: { kex: ["+diffie-hellman-group14-sha1"], hostKey: ["+ssh-rsa"], ' +
      'cipher: ["+aes128-cbc"], mac: ["+hmac-sha1"] } }',
  );
  const unknown = explainFailure(err("hostkey", "hostkey.unknown", { fingerprint: "SHA256:x" })());
  assert.equal(unknown.libraryFix, '{ strictHostKeyChecking: "accept-new" }');
  // A server-side problem has no fix in any audience.
  const revoked = explainFailure(err("hostkey", "hostkey.revoked")());
  assert.deepEqual([revoked.fix, revoked.opensshFix, revoked.libraryFix], [null, null, null]);
});

Deno.test("explainFailure() of a flooded stage offers no longer timeout in any audience", () => {
  const events: TraceEvent[] = [{
    t: 0,
    stage: "kex",
    type: "suppressed",
    of: "ignore",
    count: 5000,
    bytes: 5000,
  } as TraceEvent];
  const x = explainFailure(err("kex", "kex.timeout", { timeoutMs: 10_000 })(), events);
  assert.match(x.title, /flooded/);
  assert.equal(x.libraryFix, null);
});

Deno.test("explainFailure() words a usage error's fix from what the layer expected", () => {
  const supported = explainFailure(
    err("usage", "usage.invalid", { supported: ["Port", "User"] })(),
  );
  assert.equal(supported.fix, "supported: Port, User");
  const expected = explainFailure(
    err("usage", "usage.invalid", { expected: "[user@]host[:port]" })(),
  );
  assert.equal(expected.fix, "expected: [user@]host[:port]");
  assert.equal(explainFailure(err("usage", "usage.invalid")()).fix, "sshtrace --help");
});

Deno.test("session.forward-bind-failed on a Unix socket names the stale file and StreamLocalBindUnlink", () => {
  const local = explainFailure(
    err("session", "session.forward-bind-failed", {
      bindHost: "/tmp/l.sock",
      bindPort: 0,
      host: "intranet",
      port: 80,
      reason: "Address already in use",
    })(),
    [],
  );
  assert.match(local.fix ?? "", /stale socket file \/tmp\/l\.sock .*StreamLocalBindUnlink=yes/);
  const remote = explainFailure(
    err("session", "session.forward-bind-failed", {
      bindHost: "/run/r.sock",
      bindPort: 0,
      host: "",
      port: 0,
      reason: "streamlocal-forward@openssh.com refused",
      side: "remote",
    })(),
    [],
  );
  assert.match(remote.fix ?? "", /AllowStreamLocalForwarding yes/);
});
