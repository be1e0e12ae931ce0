/**
 * Kex, auth, session and data failures reproduced by the lab server: its fault profiles, and
 * hooks written here for the faults it has no profile for. One listener; each row sets what the
 * next connection gets.
 */
import { encoder } from "../../helpers/raw_servers.ts";
import assert from "node:assert/strict";
import { connect, type ConnectOptions } from "../../../lib/client.ts";
import type { FaultHooks } from "../../../lib/lab/types.ts";
import {
  generateHostKeys,
  type HostKey,
  HostKeys,
  type LabConfig,
  resolveProfile,
  serveLabConnection,
} from "../../../lib/lab/mod.ts";
import { connStream } from "../../../lib/net.ts";
import { Tracer } from "../../../lib/trace.ts";
import type { AlgorithmLists, Stage } from "../../../lib/types.ts";
import type { ByteStream } from "../../../lib/transport/stream.ts";
import { SshReader, SshWriter } from "../../../lib/wire/buffer.ts";
import { MSG } from "../../../lib/wire/messages.ts";
import { run, tempDir } from "../../helpers/tools.ts";
import { password, sharedHostKeys } from "../../helpers/lab.ts";
import {
  cli,
  cliHomeDir,
  cliSeen,
  explained,
  failure,
  reproductionTable,
  ROOT,
  type Seen,
  userKey,
} from "../../helpers/reproduce.ts";
import { untypedError } from "../../helpers/errors.ts";

//    profile for. One listener; each step sets what the next connection gets.

interface LabSetup {
  /** A lab profile (`modern`, a fault profile, `disconnect:N`). @default "modern" */
  profile?: string;
  /** Hooks added to (and, per point, replacing) the profile's. */
  hooks?: FaultHooks;
  /** Configuration changes, applied last. */
  config?: Partial<LabConfig>;
  /** Per-direction list changes (unlike `startLabServer({algorithms})`, which sets both). */
  lists?: Partial<AlgorithmLists>;
  hostKeys?: HostKeys;
}

/** An in-process lab server on 127.0.0.1 serving every connection with the current setup. */
class Lab {
  readonly host = "127.0.0.1";
  readonly port: number;
  setup: LabSetup = {};
  /** Unexpected server-side failures (a fault hook that broke, never the client's doing). */
  readonly errors: string[] = [];
  #keys: HostKeys;
  #listener: Deno.TcpListener;
  #streams = new Set<ByteStream>();
  #handlers = new Set<Promise<void>>();
  #accepting: Promise<void>;

  constructor(keys: HostKeys) {
    this.#keys = keys;
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#listener = listener;
    this.port = (listener.addr as Deno.NetAddr).port;
    this.#accepting = (async () => {
      for await (const conn of listener) this.#serve(conn);
    })().catch(() => {});
  }

  #serve(conn: Deno.TcpConn): void {
    const setup = this.setup;
    const resolved = resolveProfile(setup.profile ?? "modern");
    const config: LabConfig = {
      ...resolved.config,
      ...setup.config,
      lists: { ...resolved.config.lists, ...setup.config?.lists, ...setup.lists },
    };
    const hooks: FaultHooks = {
      ...resolved.hooks,
      ...setup.hooks,
      at: { ...resolved.hooks.at, ...setup.hooks?.at },
    };
    const stream = connStream(conn);
    this.#streams.add(stream);
    const h = serveLabConnection(stream, {
      config,
      hooks,
      hostKeys: setup.hostKeys ?? this.#keys,
      onError: (m) => this.errors.push(m),
    }).finally(() => {
      stream.close();
      this.#streams.delete(stream);
    });
    this.#handlers.add(h);
    h.finally(() => this.#handlers.delete(h));
  }

  /** `demo@127.0.0.1:PORT` for the CLI. */
  get target(): string {
    return `demo@127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    this.#listener.close();
    await this.#accepting;
    for (const s of this.#streams) s.close();
    await Promise.allSettled([...this.#handlers]);
  }
}

/** Connects the library to the lab as demo/demo with a 1 s limit. */
function connectLab(lab: Lab, tracer: Tracer, options: Partial<ConnectOptions> = {}) {
  return connect({
    host: lab.host,
    port: lab.port,
    user: "demo",
    strictHostKeyChecking: "no",
    knownHostsFiles: [],
    timeoutMs: 1000,
    tracer,
    auth: { password: password("demo") },
    ...options,
  });
}

/** Connects as demo/demo and runs `echo hi`; returns the failure, explained. */
async function labExec(
  lab: Lab,
  options: Partial<ConnectOptions> = {},
  command = "echo hi",
): Promise<Seen> {
  const tracer = new Tracer();
  const error = await failure((async () => {
    const client = await connectLab(lab, tracer, options);
    try {
      await client.exec(command);
    } finally {
      await client.close();
    }
  })());
  return explained(error, tracer);
}

/** CHANNEL_OPEN_CONFIRMATION as a lab hook sends it. */
function openConfirmation(clientId: number, serverId: number, maxPacket: number): Uint8Array {
  return new SshWriter().byte(MSG.CHANNEL_OPEN_CONFIRMATION).uint32(clientId).uint32(serverId)
    .uint32(2 * 1024 * 1024).uint32(maxPacket).bytes();
}

/** Rewrites a KEX_ECDH_REPLY's host key (K_S) into an Ed25519 blob with a 3-byte key. */
function malformedHostKey(reply: Uint8Array): Uint8Array {
  const r = new SshReader(reply, "kex reply");
  const type = r.byte();
  r.string("K_S");
  const qs = r.string("Q_S").slice();
  const sig = r.string("signature").slice();
  const ks = new SshWriter().string("ssh-ed25519").string(new Uint8Array(3)).bytes();
  return new SshWriter().byte(type).string(ks).string(qs).string(sig).bytes();
}

/** Host keys whose Ed25519 key is replaced by another once `swapped` is set. */
class SwappingHostKeys extends HostKeys {
  swapped = false;
  readonly #other: HostKey;

  constructor(keys: HostKeys, other: HostKey) {
    super(keys.types.map((t) => keys.get(t)!));
    this.#other = other;
  }

  override forAlgorithm(algorithm: string): HostKey | undefined {
    if (this.swapped && algorithm === "ssh-ed25519") return this.#other;
    return super.forAlgorithm(algorithm);
  }
}

/** The table: one row per step; `reproduces` lists the catalogue codes each row proves. */
export const LAB = reproductionTable({
  name:
    "lab server: kex, auth, session and data failures are reproduced by fault profiles and hooks",
  async setup() {
    const lab = new Lab(await sharedHostKeys());
    const env = { PW: "demo" };
    /** `sshtrace [connect] --json --timeout 1 -o StrictHostKeyChecking=no ... demo@lab [cmd]`. */
    const login = (extra: string[], command: string[] = ["echo", "hi"]) =>
      cli([
        "--json",
        "--timeout",
        "1",
        "-o",
        "StrictHostKeyChecking=no",
        "--password-env",
        "PW",
        ...extra,
        lab.target,
        ...command,
      ], { env });
    const probeLab = (extra: string[] = []) =>
      cli(["probe", "--json", "--timeout", "1", ...extra, `127.0.0.1:${lab.port}`]);
    return {
      ctx: { lab, env, login, probeLab },
      async teardown() {
        await lab.stop();
        assert.deepEqual(
          lab.errors.filter((e) => !/fault|closed/i.test(e)),
          [],
          "lab server errors",
        );
      },
    };
  },
  rows: [
    // ------------------------------------------------------------------ kex
    {
      name: "a server sending aes128-cbc only (server to client) is kex.no-common-cipherS2C",
      reproduces: [{
        code: "kex.no-common-cipherS2C",
        by: "CLI: probe a lab server whose ciphers (server to client) are aes128-cbc",
      }],
      async run({ lab, probeLab }, expect) {
        lab.setup = { lists: { cipherS2C: ["aes128-cbc"] } };
        const seen = cliSeen(await probeLab());
        expect(seen, {
          code: "kex.no-common-cipherS2C",
          stage: "kex",
          fix: /^--ciphers \+aes128-cbc$/,
          opensshFix: /^-o Ciphers=\+aes128-cbc$/,
        });
        const fixed = await probeLab(["--ciphers", "+aes128-cbc"]);
        assert.equal(fixed.code, 0, `the fix works: ${fixed.stderr.slice(-400)}`);
      },
    },
    {
      name: "a server sending hmac-sha1 only (server to client) is kex.no-common-macS2C",
      reproduces: [{
        code: "kex.no-common-macS2C",
        by: "CLI: probe a lab server whose MACs (server to client) are hmac-sha1",
      }],
      async run({ lab, probeLab }, expect) {
        lab.setup = { lists: { cipherS2C: ["aes128-ctr"], macS2C: ["hmac-sha1"] } };
        const seen = cliSeen(await probeLab());
        expect(seen, {
          code: "kex.no-common-macS2C",
          stage: "kex",
          fix: /^--macs \+hmac-sha1$/,
          opensshFix: /^-o MACs=\+hmac-sha1$/,
        });
      },
    },
    {
      name: "a server requiring zlib (client to server) is kex.no-common-compressionC2S",
      reproduces: [{
        code: "kex.no-common-compressionC2S",
        by: "CLI: probe a lab server that requires compression (client to server)",
      }],
      async run({ lab, probeLab }, expect) {
        lab.setup = { lists: { compressionC2S: ["zlib@openssh.com"] } };
        const seen = cliSeen(await probeLab());
        expect(seen, {
          code: "kex.no-common-compressionC2S",
          stage: "kex",
          fix: /^-o Compression=yes$/,
          opensshFix: /^-o Compression=yes$/,
        });
      },
    },
    {
      name: "a server requiring zlib (server to client) is kex.no-common-compressionS2C",
      reproduces: [{
        code: "kex.no-common-compressionS2C",
        by: "CLI: probe a lab server that requires compression (server to client)",
      }],
      async run({ lab, probeLab }, expect) {
        lab.setup = { lists: { compressionS2C: ["zlib@openssh.com"] } };
        const seen = cliSeen(await probeLab());
        expect(seen, {
          code: "kex.no-common-compressionS2C",
          stage: "kex",
          fix: /^-o Compression=yes$/,
          opensshFix: /^-o Compression=yes$/,
        });
        const fixed = await probeLab(["-o", "Compression=yes"]);
        assert.equal(fixed.code, 0, `the fix works: ${fixed.stderr.slice(-400)}`);
      },
    },
    {
      name: "a KEXINIT with 1000 names per list is kex.bad-kexinit",
      reproduces: [{ code: "kex.bad-kexinit", by: "CLI: probe lab profile kexinit-absurd-lists" }],
      async run({ lab, probeLab }, expect) {
        lab.setup = { profile: "kexinit-absurd-lists" };
        expect(cliSeen(await probeLab()), {
          code: "kex.bad-kexinit",
          stage: "kex",
          fix: /-vv/,
          opensshFix: /-vvv/,
        });
      },
    },
    {
      name: "IGNORE before KEXINIT under strict kex is kex.strict-violation",
      reproduces: [{
        code: "kex.strict-violation",
        by: "CLI: probe lab profile strict-kex-ignore-first",
      }],
      async run({ lab, probeLab }, expect) {
        lab.setup = { profile: "strict-kex-ignore-first" };
        expect(cliSeen(await probeLab()), {
          code: "kex.strict-violation",
          stage: "kex",
          fix: /another network.*firmware/,
          says: /Terrapin/,
        });
      },
    },
    {
      name: "a SERVICE_ACCEPT instead of NEWKEYS (no strict kex) is kex.unexpected-message",
      reproduces: [{
        code: "kex.unexpected-message",
        by: "CLI: probe a lab server sending SERVICE_ACCEPT before NEWKEYS",
      }],
      async run({ lab, probeLab }, expect) {
        lab.setup = {
          config: { strictKex: false },
          hooks: {
            at: {
              "before-newkeys": async (io) => {
                await io.send(
                  new SshWriter().byte(MSG.SERVICE_ACCEPT).string("ssh-userauth").bytes(),
                );
              },
            },
          },
        };
        expect(cliSeen(await probeLab()), {
          code: "kex.unexpected-message",
          stage: "kex",
          fix: /--kex \^diffie-hellman-group14-sha256/,
          opensshFix: /-o KexAlgorithms=\^diffie-hellman-group14-sha256/,
        });
      },
    },
    {
      name: "a 1024-bit group answered to a 2048-bit minimum is kex.dh-group-too-small",
      reproduces: [{
        code: "kex.dh-group-too-small",
        by: "CLI: probe lab profile doctor-small-dh-group",
      }],
      async run({ lab, probeLab }, expect) {
        lab.setup = { profile: "doctor-small-dh-group" };
        // The server offers nothing but group exchange: only accepting the group works.
        expect(cliSeen(await probeLab()), {
          code: "kex.dh-group-too-small",
          stage: "kex",
          fix: /^--legacy \(accepts 1024-bit groups/,
          opensshFix: null,
        });
      },
    },
    {
      name: "the all-zero X25519 point is kex.exchange-failed naming curve25519-sha256",
      reproduces: [{ code: "kex.exchange-failed", by: "CLI: probe lab profile x25519-zero-point" }],
      async run({ lab, probeLab }, expect) {
        lab.setup = { profile: "x25519-zero-point" };
        expect(cliSeen(await probeLab()), {
          code: "kex.exchange-failed",
          stage: "kex",
          fix: /^--kex -curve25519-sha256$/,
          opensshFix: /^-o KexAlgorithms=-curve25519-sha256$/,
        });
      },
    },
    {
      name: "a host key blob with a 3-byte Ed25519 key is kex.bad-host-key",
      reproduces: [{
        code: "kex.bad-host-key",
        by: "CLI: probe a lab server sending a malformed host key",
      }],
      async run({ lab, probeLab }, expect) {
        lab.setup = {
          hooks: { kexReply: malformedHostKey },
          lists: { kex: ["curve25519-sha256"] },
        };
        expect(cliSeen(await probeLab()), {
          code: "kex.bad-host-key",
          stage: "kex",
          fix: /--hostkeys \^ssh-ed25519/,
          opensshFix: /-o HostKeyAlgorithms=\^ssh-ed25519/,
        });
      },
    },
    {
      name: "a 768-bit RSA host key is kex.host-key-too-small",
      reproduces: [{
        code: "kex.host-key-too-small",
        by: "CLI: probe lab profile hostkey-rsa-768",
      }],
      async run({ lab, probeLab }, expect) {
        lab.setup = { profile: "hostkey-rsa-768" };
        expect(cliSeen(await probeLab()), {
          code: "kex.host-key-too-small",
          stage: "kex",
          fix: /--hostkeys \^ssh-ed25519/,
          opensshFix: /^-o HostKeyAlgorithms=\^ssh-ed25519/,
        });
      },
    },
    {
      name: "a flipped bit in the Ed25519 signature is kex.bad-signature naming ssh-ed25519",
      reproduces: [{ code: "kex.bad-signature", by: "CLI: probe lab profile bad-signature" }],
      async run({ lab, probeLab }, expect) {
        lab.setup = { profile: "bad-signature" };
        expect(cliSeen(await probeLab()), {
          code: "kex.bad-signature",
          stage: "kex",
          fix: /^--hostkeys -ssh-ed25519$/,
          opensshFix: /^-o HostKeyAlgorithms=-ssh-ed25519$/,
        });
      },
    },
    {
      name: "a server hanging up after the version exchange is kex.closed",
      reproduces: [{ code: "kex.closed", by: "CLI: probe lab profile close-kexinit" }],
      async run({ lab, probeLab }, expect) {
        lab.setup = { profile: "close-kexinit" };
        expect(cliSeen(await probeLab()), {
          code: "kex.closed",
          stage: "kex",
          fix: /^--legacy/,
          opensshFix: /KexAlgorithms=\+diffie-hellman-group14-sha1/,
        });
      },
    },
    {
      name: "no kex reply after a 4096-bit group is kex.timeout proposing curve25519",
      reproduces: [{
        code: "kex.timeout",
        by: "CLI: probe --kex ^diffie-hellman-group16-sha512 lab profile silent-kex-reply",
      }],
      async run({ lab, probeLab }, expect) {
        lab.setup = {
          profile: "silent-kex-reply",
          lists: { kex: ["diffie-hellman-group16-sha512", "curve25519-sha256"] },
        };
        const seen = cliSeen(
          await probeLab(["--kex", "^diffie-hellman-group16-sha512"]),
        );
        expect(seen, {
          code: "kex.timeout",
          stage: "kex",
          fix: /^--kex \^curve25519-sha256 \(or --timeout 60\)$/,
          opensshFix: /-o KexAlgorithms=\^curve25519-sha256/,
        });
      },
    },
    {
      name: "a zero packet_length is kex.bad-packet",
      reproduces: [{
        code: "kex.bad-packet",
        entry: "*.bad-packet",
        by: "CLI: probe lab profile packet-length-zero",
      }],
      async run({ lab, probeLab }, expect) {
        lab.setup = { profile: "packet-length-zero" };
        expect(cliSeen(await probeLab()), {
          entry: "*.bad-packet",
          code: "kex.bad-packet",
          stage: "kex",
          fix: /--ciphers/,
          opensshFix: /-o Ciphers=/,
        });
      },
    },
    // ------------------------------------------------------------------ transport faults after kex
    {
      name: "a corrupted HMAC is auth.mac-error naming hmac-sha2-256",
      reproduces: [{
        code: "auth.mac-error",
        entry: "*.mac-error",
        by: "CLI: probe lab profile bad-mac (aes128-ctr, hmac-sha2-256)",
      }],
      async run({ lab, probeLab }, expect) {
        lab.setup = { profile: "bad-mac" };
        expect(cliSeen(await probeLab()), {
          entry: "*.mac-error",
          code: "auth.mac-error",
          stage: "auth",
          fix: /^--macs -hmac-sha2-256$/,
          opensshFix: /^-o MACs=-hmac-sha2-256$/,
        });
      },
    },
    {
      name: "corrupt zlib data is auth.compression-error",
      reproduces: [{
        code: "auth.compression-error",
        entry: "*.compression-error",
        by: "CLI: probe --legacy -o Compression=yes lab profile bad-compression",
      }],
      async run({ lab, probeLab }, expect) {
        lab.setup = { profile: "bad-compression" };
        const seen = cliSeen(await probeLab(["--legacy", "-o", "Compression=yes"]));
        expect(seen, {
          entry: "*.compression-error",
          code: "auth.compression-error",
          stage: "auth",
          fix: /Compression=no/,
          opensshFix: /^-o Compression=no$/,
        });
      },
    },
    {
      name: "an EXT_INFO claiming 100000 extensions is auth.bad-message",
      reproduces: [{
        code: "auth.bad-message",
        entry: "*.bad-message",
        by: "CLI: probe lab profile ext-info-absurd",
      }],
      async run({ lab, probeLab }, expect) {
        lab.setup = { profile: "ext-info-absurd" };
        expect(cliSeen(await probeLab()), {
          entry: "*.bad-message",
          code: "auth.bad-message",
          stage: "auth",
          fix: /-vv/,
          opensshFix: /-vvv/,
        });
      },
    },
    {
      name: "a kex reply outside a key exchange is auth.unexpected-message",
      reproduces: [{
        code: "auth.unexpected-message",
        entry: "*.unexpected-message",
        by: "CLI: probe a lab server sending message 31 after SERVICE_ACCEPT",
      }],
      async run({ lab, probeLab }, expect) {
        lab.setup = {
          hooks: {
            at: {
              "after-service": async (io) => {
                await io.send(new SshWriter().byte(MSG.KEXDH_REPLY).string("x").bytes());
              },
            },
          },
        };
        expect(cliSeen(await probeLab()), {
          entry: "*.unexpected-message",
          code: "auth.unexpected-message",
          stage: "auth",
          fix: /-vv/,
        });
      },
    },
    {
      name: "a connection closed in the middle of a packet is auth.closed",
      reproduces: [{
        code: "auth.closed",
        entry: "*.closed",
        by: "CLI: probe a lab server closing halfway through a packet",
      }],
      async run({ lab, probeLab }, expect) {
        lab.setup = {
          hooks: {
            at: {
              "service-request": async (io) => {
                await io.raw(new Uint8Array([0, 0]));
                await io.sleep(50);
                return await io.close();
              },
            },
          },
        };
        expect(cliSeen(await probeLab()), {
          entry: "*.closed",
          code: "auth.closed",
          stage: "auth",
          fix: /server's logs/,
        });
      },
    },
    {
      name:
        "DISCONNECT NO_MORE_AUTH_METHODS_AVAILABLE is auth.disconnect suggesting IdentitiesOnly",
      reproduces: [{
        code: "auth.disconnect",
        entry: "*.disconnect",
        by: "CLI: connect to lab profile disconnect:14",
      }],
      async run({ lab, login }, expect) {
        lab.setup = { profile: "disconnect:14" };
        const seen = cliSeen(await login([]));
        expect(seen, {
          entry: "*.disconnect",
          code: "auth.disconnect",
          stage: "auth",
          fix: /IdentitiesOnly=yes/,
          opensshFix: /-o IdentitiesOnly=yes -i KEY/,
          says: /NO_MORE_AUTH_METHODS_AVAILABLE \(14\)/,
        });
      },
    },
    {
      name:
        "a check whose every stage is within its budget but whose whole run is long ends in a deadline",
      reproduces: [{
        code: "auth.deadline",
        entry: "*.deadline",
        by: "CLI: check --timeout 2 a lab server answering each stage late, within its budget",
      }],
      async run({ lab }, expect) {
        // With --timeout 2 each stage has 2 s: the version line comes 1.7 s late, the kex
        // answers 0.8 s late twice (1.6 s in all), the service and the auth answers 1.7 s late
        // each: every stage in time, 6.7 s in all, past the host deadline of 3 × 2 s.
        const late = (ms: number) => async (io: { sleep(ms: number): Promise<void> }) => {
          await io.sleep(ms);
        };
        lab.setup = {
          hooks: {
            at: {
              "start": late(1700),
              "before-kexinit": late(800),
              "before-kex-reply": late(800),
              "service-request": late(1700),
              "userauth-request": late(1700),
            },
          },
        };
        const dir = await tempDir();
        try {
          const inventory = `${dir.path}/hosts.txt`;
          await Deno.writeTextFile(inventory, `127.0.0.1:${lab.port}\n`);
          const r = await cli(["check", "--json", "--timeout", "2", inventory]);
          const seen = cliSeen(r, 0);
          assert.match(seen.code, /^(kex|hostkey|auth)\.deadline$/, seen.message);
          expect(seen, {
            entry: "*.deadline",
            code: seen.code,
            stage: seen.code.split(".")[0] as Stage,
            fix: /^--timeout 30/,
            opensshFix: /ConnectTimeout=30/,
          });
        } finally {
          await dir.cleanup();
        }
      },
    },
    // ------------------------------------------------------------------ auth
    {
      name: "a cut-short SERVICE_ACCEPT is auth.service-refused",
      reproduces: [{
        code: "auth.service-refused",
        by: "CLI: connect to lab profile truncated-service-accept",
      }],
      async run({ lab, login }, expect) {
        lab.setup = { profile: "truncated-service-accept" };
        expect(cliSeen(await login([])), {
          code: "auth.service-refused",
          stage: "auth",
          fix: /logs and access rules/,
        });
      },
    },
    {
      name: "a hang-up on the first authentication request is auth.connection-closed",
      reproduces: [{
        code: "auth.connection-closed",
        by: "CLI: connect to lab profile close-auth",
      }],
      async run({ lab, login }, expect) {
        lab.setup = { profile: "close-auth" };
        expect(cliSeen(await login([])), {
          code: "auth.connection-closed",
          stage: "auth",
          fix: /-i KEY -o IdentitiesOnly=yes/,
          opensshFix: /-o IdentitiesOnly=yes -i KEY/,
        });
      },
    },
    {
      name: "a cut-short USERAUTH_FAILURE is auth.protocol",
      reproduces: [{
        code: "auth.protocol",
        by: "CLI: connect to lab profile truncated-userauth-failure",
      }],
      async run({ lab, login }, expect) {
        lab.setup = { profile: "truncated-userauth-failure" };
        expect(cliSeen(await login([])), {
          code: "auth.protocol",
          stage: "auth",
          fix: /-o PreferredAuthentications=password/,
          opensshFix: /-o PreferredAuthentications=password/,
        });
      },
    },
    {
      name: "USERAUTH_PASSWD_CHANGEREQ is auth.password-change-requested",
      reproduces: [{
        code: "auth.password-change-requested",
        by: "CLI: connect with a password to a lab server sending PASSWD_CHANGEREQ",
      }],
      async run({ lab, login }, expect) {
        lab.setup = {
          config: { authMethods: ["password"] },
          hooks: {
            at: {
              "userauth-request": async (io) => {
                if (io.method !== "password") return false;
                await io.send(
                  new SshWriter().byte(60).string("Your password has expired.").string("").bytes(),
                );
                return true;
              },
            },
          },
        };
        expect(cliSeen(await login([])), {
          code: "auth.password-change-requested",
          stage: "auth",
          fix: /change the password/,
          opensshFix: /^ssh USER@HOST/,
          says: /Your password has expired/,
        });
      },
    },
    {
      name: "no answer to an authentication request is auth.timeout",
      reproduces: [{
        code: "auth.timeout",
        by: "CLI: connect --timeout 1 to lab profile silent-auth",
      }],
      async run({ lab, login }, expect) {
        lab.setup = { profile: "silent-auth" };
        expect(cliSeen(await login([])), {
          code: "auth.timeout",
          stage: "auth",
          fix: /--timeout 30/,
          opensshFix: /-o ConnectTimeout=30/,
        });
      },
    },
    {
      name: "no server-sig-algs and only ssh-rsa signatures accepted is auth.rsa-sha2-refused",
      reproduces: [{
        code: "auth.rsa-sha2-refused",
        by:
          "CLI: connect -i RSA_KEY to a lab server without server-sig-algs that verifies ssh-rsa only",
      }],
      async run({ lab }, expect) {
        const dir = await tempDir("sshtrace-repro-rsa-");
        try {
          const rsa = await userKey(dir.path, "rsa", "rsa");
          const blob = Uint8Array.from(atob(rsa.pub.split(" ")[1]!), (c) => c.charCodeAt(0));
          lab.setup = {
            config: {
              extInfo: false,
              serverSigAlgs: ["ssh-rsa"],
              users: [{ name: "demo", authorizedKeys: [blob] }],
              authMethods: ["publickey"],
            },
          };
          const args = ["--timeout", "1", "-o", "StrictHostKeyChecking=no", "--batch", "-i"];
          const r = await cli(["--json", ...args, rsa.path, lab.target, "echo", "hi"]);
          expect(cliSeen(r), {
            code: "auth.rsa-sha2-refused",
            stage: "auth",
            fix: /^--legacy/,
            opensshFix: /^-o PubkeyAcceptedAlgorithms=\+ssh-rsa$/,
          });
          const fixed = await cli([...args, rsa.path, "--legacy", lab.target, "echo", "hi"]);
          assert.equal(fixed.code, 0, `the fix works: ${fixed.stderr.slice(-400)}`);
          assert.equal(fixed.stdout, "hi\n");
        } finally {
          await dir.cleanup();
        }
      },
    },
    {
      name: "server-sig-algs listing only ssh-rsa is auth.no-signature-algorithm for an RSA key",
      reproduces: [{
        code: "auth.no-signature-algorithm",
        by: "CLI: connect -i RSA_KEY to a lab server whose server-sig-algs is ssh-rsa",
      }],
      async run({ lab }, expect) {
        const dir = await tempDir("sshtrace-repro-rsa-");
        try {
          const rsa = await userKey(dir.path, "rsa", "rsa");
          const blob = Uint8Array.from(atob(rsa.pub.split(" ")[1]!), (c) => c.charCodeAt(0));
          lab.setup = {
            config: {
              serverSigAlgs: ["ssh-rsa"],
              users: [{ name: "demo", authorizedKeys: [blob] }],
              authMethods: ["publickey"],
            },
          };
          const r = await cli([
            "--json",
            "--timeout",
            "1",
            "-o",
            "StrictHostKeyChecking=no",
            "--batch",
            "-i",
            rsa.path,
            lab.target,
            "echo",
            "hi",
          ]);
          expect(cliSeen(r), {
            code: "auth.no-signature-algorithm",
            stage: "auth",
            fix: /^--legacy/,
            opensshFix: /^-o PubkeyAcceptedAlgorithms=\+ssh-rsa$/,
          });
          const fixed = await cli([
            "--timeout",
            "1",
            "-o",
            "StrictHostKeyChecking=no",
            "--batch",
            "--legacy",
            "-i",
            rsa.path,
            lab.target,
            "echo",
            "hi",
          ]);
          assert.equal(fixed.code, 0, `the fix works: ${fixed.stderr.slice(-400)}`);
          assert.equal(fixed.stdout, "hi\n");
        } finally {
          await dir.cleanup();
        }
      },
    },
    // ------------------------------------------------------------------ session
    {
      name: "no answer to CHANNEL_OPEN is session.timeout",
      reproduces: [{
        code: "session.timeout",
        entry: "*.timeout",
        by: "CLI: connect --timeout 1 to lab profile silent-channel-open",
      }],
      async run({ lab, login }, expect) {
        lab.setup = { profile: "silent-channel-open" };
        expect(cliSeen(await login([])), {
          entry: "*.timeout",
          code: "session.timeout",
          stage: "session",
          fix: /--timeout 30/,
          opensshFix: /-o ConnectTimeout=30/,
        });
      },
    },
    {
      name: "a hang-up on CHANNEL_OPEN is session.connection-closed suggesting send",
      reproduces: [{
        code: "session.connection-closed",
        by: "CLI: connect to lab profile close-channel-open",
      }],
      async run({ lab, login }, expect) {
        lab.setup = { profile: "close-channel-open" };
        expect(cliSeen(await login([])), {
          code: "session.connection-closed",
          stage: "session",
          fix: /sshtrace send/,
          opensshFix: /-tt/,
        });
      },
    },
    {
      name: "a cut-short channel open confirmation is session.malformed-message",
      reproduces: [{
        code: "session.malformed-message",
        by: "CLI: connect to lab profile truncated-channel-open-confirmation",
      }],
      async run({ lab, login }, expect) {
        lab.setup = { profile: "truncated-channel-open-confirmation" };
        expect(cliSeen(await login([])), {
          code: "session.malformed-message",
          stage: "session",
          fix: /-vv/,
          opensshFix: /-vvv/,
        });
      },
    },
    {
      name: "CHANNEL_CLOSE instead of an answer to exec is session.channel-closed",
      reproduces: [{
        code: "session.channel-closed",
        by: "CLI: connect to a lab server closing the channel on exec",
      }],
      async run({ lab, login }, expect) {
        lab.setup = {
          hooks: {
            at: {
              "channel-request": async (io) => {
                await io.send(
                  new SshWriter().byte(MSG.CHANNEL_CLOSE).uint32(io.channel!.clientId).bytes(),
                );
                return true;
              },
            },
          },
        };
        expect(cliSeen(await login([])), {
          code: "session.channel-closed",
          stage: "session",
          fix: /server's logs/,
        });
      },
    },
    {
      name: "CHANNEL_FAILURE for a shell request is session.shell-refused",
      reproduces: [{
        code: "session.shell-refused",
        by: "CLI: connect -T (shell) to a lab server refusing shells",
      }],
      async run({ lab, login }, expect) {
        lab.setup = {
          hooks: {
            at: {
              "channel-request": async (io) => {
                if (io.request !== "shell") return false;
                await io.send(
                  new SshWriter().byte(MSG.CHANNEL_FAILURE).uint32(io.channel!.clientId).bytes(),
                );
                return true;
              },
            },
          },
        };
        expect(cliSeen(await login(["-T"], [])), {
          code: "session.shell-refused",
          stage: "session",
          fix: /command to run after the host/,
          opensshFix: /ssh HOST COMMAND/,
        });
      },
    },
    {
      name: "CHANNEL_OPEN_FAILURE (administratively prohibited) is session.channel-open-refused",
      reproduces: [{
        code: "session.channel-open-refused",
        by: "CLI: connect to lab profile channel-open-refused",
      }],
      async run({ lab, login }, expect) {
        lab.setup = { profile: "channel-open-refused" };
        expect(cliSeen(await login([])), {
          code: "session.channel-open-refused",
          stage: "session",
          fix: /close other sessions/,
          says: /administratively prohibited \(code 1\)/i,
        });
      },
    },
    // ------------------------------------------------------------------ data (channel protocol)
    {
      name: "CHANNEL_DATA for a channel never opened is data.unknown-channel",
      reproduces: [{
        code: "data.unknown-channel",
        by: "CLI: connect to lab profile data-unknown-channel",
      }],
      async run({ lab, login }, expect) {
        lab.setup = { profile: "data-unknown-channel" };
        expect(cliSeen(await login([])), {
          code: "data.unknown-channel",
          stage: "data",
          fix: /-vv/,
        });
      },
    },
    {
      name: "a cut-short CHANNEL_DATA while the command runs is data.malformed-message",
      reproduces: [{
        code: "data.malformed-message",
        by: "CLI: connect to a lab server sending a cut-short CHANNEL_DATA after exec",
      }],
      async run({ lab, login }, expect) {
        lab.setup = {
          hooks: {
            at: {
              "channel-request": async (io) => {
                if (io.request !== "exec") return false;
                const id = io.channel!.clientId;
                await io.send(new SshWriter().byte(MSG.CHANNEL_SUCCESS).uint32(id).bytes());
                await io.sleep(100);
                // The data string claims 100 bytes and holds 3.
                await io.send(
                  new SshWriter().byte(MSG.CHANNEL_DATA).uint32(id).uint32(100).raw(
                    encoder.encode("abc"),
                  ).bytes(),
                );
                return true;
              },
            },
          },
        };
        expect(cliSeen(await login([])), {
          code: "data.malformed-message",
          stage: "data",
          fix: /-vv/,
          opensshFix: /-vvv/,
        });
      },
    },
    {
      name: "CHANNEL_DATA before the open confirmation is data.message-before-open",
      reproduces: [{
        code: "data.message-before-open",
        by: "library: exec on a lab server sending data before confirming the channel",
      }],
      async run({ lab }, expect) {
        lab.setup = {
          hooks: {
            at: {
              "channel-open": async (io) => {
                await io.send(
                  new SshWriter().byte(MSG.CHANNEL_DATA).uint32(io.channel!.clientId).string(
                    "early",
                  )
                    .bytes(),
                );
                return false;
              },
            },
          },
        };
        expect(await labExec(lab), {
          code: "data.message-before-open",
          stage: "data",
          fix: /-vv/,
        });
      },
    },
    {
      name: "a second open confirmation is data.unexpected-message",
      reproduces: [{
        code: "data.unexpected-message",
        by: "library: exec on a lab server confirming the channel twice",
      }],
      async run({ lab }, expect) {
        lab.setup = {
          hooks: {
            at: {
              "channel-open": async (io) => {
                const ch = io.channel!;
                await io.send(openConfirmation(ch.clientId, ch.serverId, 32768));
                await io.send(openConfirmation(ch.clientId, ch.serverId, 32768));
                return true;
              },
            },
          },
        };
        expect(await labExec(lab), {
          code: "data.unexpected-message",
          stage: "data",
          fix: /-vv/,
        });
      },
    },
    {
      name: "an open confirmation with a maximum packet of 0 is data.invalid-max-packet",
      reproduces: [{
        code: "data.invalid-max-packet",
        by: "library: exec on a lab server confirming with maximum packet 0",
      }],
      async run({ lab }, expect) {
        lab.setup = {
          hooks: {
            at: {
              "channel-open": async (io) => {
                const ch = io.channel!;
                await io.send(openConfirmation(ch.clientId, ch.serverId, 0));
                return true;
              },
            },
          },
        };
        expect(await labExec(lab), {
          code: "data.invalid-max-packet",
          stage: "data",
          fix: null,
          says: /maximum packet size of 0/,
        });
      },
    },
    {
      name: "a window grown beyond 2^32-1 is data.window-overflow",
      reproduces: [{
        code: "data.window-overflow",
        by: "CLI: connect to lab profile window-adjust-overflow",
      }],
      async run({ lab, login }, expect) {
        lab.setup = { profile: "window-adjust-overflow" };
        expect(cliSeen(await login([])), {
          code: "data.window-overflow",
          stage: "data",
          fix: null,
        });
      },
    },
    {
      name: "a CHANNEL_DATA above the maximum packet is data.packet-too-large",
      reproduces: [{
        code: "data.packet-too-large",
        by: "CLI: connect to lab profile max-packet-exceeded",
      }],
      async run({ lab, login }, expect) {
        lab.setup = { profile: "max-packet-exceeded" };
        expect(cliSeen(await login([])), {
          code: "data.packet-too-large",
          stage: "data",
          fix: null,
        });
      },
    },
    {
      name: "requests flooded while the server reads none of the answers are *.reply-flood",
      reproduces: [
        { code: "session.reply-flood", by: "CLI: connect to lab profile reply-flood-session" },
        { code: "data.reply-flood", by: "CLI: connect to lab profile reply-flood" },
      ],
      async run({ lab, login }, expect) {
        lab.setup = { profile: "reply-flood-session" };
        expect(cliSeen(await login([])), {
          code: "session.reply-flood",
          stage: "session",
          fix: /-vv/,
        });
        lab.setup = { profile: "reply-flood" };
        expect(cliSeen(await login([])), { code: "data.reply-flood", stage: "data", fix: /-vv/ });
      },
    },
    {
      name: "more data than the window allows is data.window-exceeded",
      reproduces: [{
        code: "data.window-exceeded",
        by: "CLI: connect to lab profile window-exceeded",
      }],
      async run({ lab, login }, expect) {
        lab.setup = { profile: "window-exceeded" };
        expect(cliSeen(await login([])), {
          code: "data.window-exceeded",
          stage: "data",
          fix: null,
        });
      },
    },
    {
      name: "output that cannot all be written is data.output-incomplete",
      reproduces: [{
        code: "data.output-incomplete",
        by: "CLI: a download into a pipe whose reader stops early (lab)",
      }],
      async run({ lab, env }, expect) {
        // Stdout is a pipe whose reader stops after 1000 bytes, so the --json report cannot be
        // printed either: the error is read from the -v trace on stderr.
        lab.setup = { profile: "modern" };
        const home = await cliHomeDir();
        const args = [
          Deno.execPath(),
          "run",
          "-A",
          "main.ts",
          "-v",
          "-o",
          "StrictHostKeyChecking=no",
          "--password-env",
          "PW",
          lab.target,
          "head -c 4194304 /dev/zero",
        ].map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
        const r = await run("bash", [
          "-c",
          `${args} | head -c 1000 > /dev/null; exit \${PIPESTATUS[0]}`,
        ], {
          cwd: ROOT,
          env: { RUST_BACKTRACE: "0", NO_COLOR: "1", HOME: home, SSH_AUTH_SOCK: "", ...env },
          timeoutMs: 20_000,
        });
        const m = /error\s+(data\.[a-z-]+): (.*)/.exec(r.stderr);
        assert.ok(m, r.stderr.slice(-1500));
        const seen = explained(untypedError("data", m[1]!, m[2]!));
        assert.equal(seen.exitCode, r.code);
        expect(seen, {
          code: "data.output-incomplete",
          stage: "data",
          fix: /disk space/,
          opensshFix: null,
          says: /reached stdout and stderr: Broken pipe/,
        });
      },
    },
    // ------------------------------------------------------------------ hostkey
    {
      name: "another host key in a rekey is hostkey.changed-on-rekey",
      reproduces: [{
        code: "hostkey.changed-on-rekey",
        by: "CLI: --rekey-limit 16K against a lab server that swaps its host key after auth",
      }],
      async run({ lab, env }, expect) {
        // The rekey comes from --rekey-limit while sending 48 KiB of input (less than a pipe holds,
        // as run() writes all input before reading the output): a rekey during authentication
        // deadlocks the client (reported), so the limit is above what authentication sends.
        const other = (await generateHostKeys(["ssh-ed25519"])).get("ssh-ed25519")!;
        const keys = new SwappingHostKeys(await sharedHostKeys(), other);
        lab.setup = {
          hostKeys: keys,
          hooks: {
            at: {
              "after-auth": () => {
                keys.swapped = true;
                return Promise.resolve();
              },
            },
          },
        };
        const r = await cli([
          "--json",
          "-o",
          "StrictHostKeyChecking=no",
          "--password-env",
          "PW",
          "--rekey-limit",
          "16K",
          lab.target,
          "cat",
        ], { env, stdin: "x".repeat(48 * 1024) });
        expect(cliSeen(r), {
          code: "hostkey.changed-on-rekey",
          stage: "hostkey",
          fix: null,
          opensshFix: null,
          says: /different host key during a rekey/,
        });
      },
    },
    {
      name: "a library caller's AbortSignal during the key exchange is kex.aborted",
      reproduces: [{
        code: "kex.aborted",
        entry: "*.aborted",
        by: "library: connect({signal}) aborted while a lab server holds back its kex reply",
      }],
      async run({ lab }, expect) {
        lab.setup = {
          hooks: { at: { "before-kex-reply": (io) => io.sleep(800) } },
        };
        const controller = new AbortController();
        const timer = setTimeout(() => controller.abort(new Error("the caller gave up")), 200);
        try {
          const tracer = new Tracer();
          const error = await failure(connectLab(lab, tracer, { signal: controller.signal }));
          assert.ok(error.cause instanceof Error && error.cause.message === "the caller gave up");
          expect(explained(error, tracer), {
            code: "kex.aborted",
            entry: "*.aborted",
            stage: "kex",
            fix: null,
            opensshFix: null,
            says: /cancelled at stage kex: the caller gave up/,
          });
        } finally {
          clearTimeout(timer);
        }
      },
    },
  ],
});
