/**
 * `sshtrace user@host command` against a real OpenSSH sshd, run as a subprocess: exit codes and
 * signals pass through, stdout/stderr/stdin are separate and intact, 64 MiB each way survives
 * with its checksum, and rekeying (server- or client-initiated) mid-transfer loses nothing.
 */

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import {
  ed25519Key,
  emptyHome,
  MiB,
  parseJsonReport,
  randomWithChecksum,
  runSshtrace,
  sha256,
  splitNdjson,
} from "../helpers/cli.ts";
import { ensureTestUser, type SshdHandle, startSshd } from "../helpers/sshd.ts";
import { tempDir } from "../helpers/tools.ts";

/**
 * Runs the CLI with an empty HOME, feeding `stdin` (if any); output text is kept only under
 * 1 MiB (64 MiB is never held as text), the hashes and lengths always.
 */
const sshtrace = (home: string, args: string[], stdin?: Uint8Array) =>
  runSshtrace(args, { home, stdin, textLimit: MiB });

function mbps(bytes: number, ms: number): string {
  return `${(bytes / MiB / (ms / 1000)).toFixed(1)} MiB/s`;
}

/** Prints a measurement (not asserted) to the test's stderr. */
function note(text: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(`    [measured] ${text}\n`));
}

Deno.test("sshtrace runs commands on OpenSSH sshd with exact exit codes and data", async (t) => {
  const user = await ensureTestUser();
  await using tmp = await tempDir("sshtrace-session-");
  const home = await emptyHome(tmp.path);
  const key = await ed25519Key(tmp.path);
  const authorized = [(await Deno.readTextFile(`${key}.pub`)).trim()];
  const knownHosts = `${tmp.path}/known_hosts`;

  const servers: SshdHandle[] = [];
  try {
    const sshd = await startSshd({ authorizedKeys: authorized });
    servers.push(sshd);
    const rekeying = await startSshd({ authorizedKeys: authorized, config: ["RekeyLimit 1M"] });
    servers.push(rekeying);
    await Deno.writeTextFile(
      knownHosts,
      [sshd, rekeying].map((s) => `[127.0.0.1]:${s.port} ${s.hostKeys.ed25519.pub}\n`).join(""),
    );
    const base = [
      "-q",
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      `UserKnownHostsFile=${knownHosts}`,
      "-i",
      key,
    ];
    const to = (s: SshdHandle) => `${user.name}@127.0.0.1:${s.port}`;

    for (const status of [0, 3, 255]) {
      await t.step(`the remote exit status ${status} becomes sshtrace's exit code`, async () => {
        const res = await sshtrace(home, [...base, to(sshd), `exit ${status}`]);
        assert.equal(res.code, status, res.stderr);
        assert.equal(res.stderr, "", "-q prints nothing on success");
      });
    }

    await t.step("stdout and stderr of the command stay separate", async () => {
      const res = await sshtrace(home, [
        ...base,
        to(sshd),
        "echo to-out; echo to-err >&2; echo more-out",
      ]);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout, "to-out\nmore-out\n");
      assert.equal(res.stderr, "to-err\n");
    });

    await t.step("stdin is forwarded byte for byte and then closed (EOF)", async () => {
      const input = randomBytes(3 * MiB + 12345);
      const res = await sshtrace(home, [...base, to(sshd), "sha256sum; echo after-eof"], input);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout, `${sha256(input)}  -\nafter-eof\n`);
    });

    await t.step("a command killed by SIGTERM exits 143 and reports the signal", async () => {
      const res = await sshtrace(home, [...base, "--json", to(sshd), "kill -TERM $$"]);
      assert.equal(res.code, 143, res.stderr);
      const r = parseJsonReport(res.stdout);
      assert.equal(r.exitCode, 143);
      assert.equal(r.session.exitSignal, "TERM");
      assert.equal(r.session.exitStatus, null);
    });

    await t.step("--json reports the session: channel, pty, exit status, byte counts", async () => {
      const input = new Uint8Array(5000).fill(0x61);
      const res = await sshtrace(home, [
        ...base,
        "--json",
        to(sshd),
        "cat > /dev/null; printf 1234567 >&2; exit 4",
      ], input);
      assert.equal(res.code, 4, res.stderr);
      assert.equal(res.stderr, "1234567");
      const r = parseJsonReport(res.stdout);
      assert.equal(r.ok, true);
      assert.equal(r.exitCode, 4);
      const { durationMs, ...session } = r.session;
      assert.deepEqual(session, {
        channel: 0,
        pty: false,
        exitStatus: 4,
        exitSignal: null,
        bytesIn: 7,
        bytesOut: 5000,
      });
      assert.ok(typeof durationMs === "number" && durationMs > 0);

      const tty = await sshtrace(home, [...base, "-t", "--json", to(sshd), "tty"]);
      assert.equal(tty.code, 0, tty.stderr);
      assert.match(tty.stdout, /^\/dev\/pts\/\d+\r?\n/);
      assert.equal(parseJsonReport(tty.stdout).session.pty, true);
    });

    await t.step("64 MiB downloaded arrive with the checksum the server computed", async () => {
      const size = 64 * MiB;
      const res = await sshtrace(home, [
        ...base,
        to(sshd),
        randomWithChecksum(size),
      ]);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdoutBytes, size);
      assert.equal(res.stderr, `${res.stdoutSha}  -\n`);
      note(`download 64 MiB: ${mbps(size, res.ms)} (${Math.round(res.ms)} ms incl. login)`);
    });

    await t.step("64 MiB uploaded through stdin hash the same on the server", async () => {
      const input = randomBytes(64 * MiB);
      const res = await sshtrace(home, [...base, to(sshd), "sha256sum"], input);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout, `${sha256(input)}  -\n`);
      note(`upload 64 MiB: ${mbps(input.length, res.ms)} (${Math.round(res.ms)} ms incl. login)`);
    });

    await t.step(
      "a server-forced rekey (RekeyLimit 1M) mid-download keeps the data intact",
      async () => {
        const size = 8 * MiB;
        // Data on stderr (the -q trace stays silent), its checksum and the events on stdout.
        const res = await sshtrace(home, [
          ...base,
          "--ndjson",
          to(rekeying),
          randomWithChecksum(size, "stderr"),
        ]);
        assert.equal(res.code, 0);
        assert.equal(res.stderrBytes, size);
        const { events, other } = splitNdjson(res.stdout);
        assert.deepEqual(other, [`${res.stderrSha}  -`]);
        const rekeys = events.filter((e) => e.type === "rekey" && e.initiator === "server");
        assert.ok(rekeys.length >= 2, `expected server rekeys, saw ${JSON.stringify(rekeys)}`);
        // Every rekey completed: a NEWKEYS each way per key exchange.
        const sent = events.filter((e) => e.type === "newkeys" && e.direction === "sent").length;
        const received = events.filter((e) => e.type === "newkeys" && e.direction === "received");
        assert.ok(sent >= 1 + rekeys.length, `${sent} NEWKEYS sent for ${rekeys.length} rekeys`);
        assert.equal(received.length, sent);
      },
    );

    await t.step("a server-forced rekey mid-upload keeps the data intact", async () => {
      const input = randomBytes(8 * MiB);
      const res = await sshtrace(home, [...base, "--ndjson", to(rekeying), "sha256sum"], input);
      assert.equal(res.code, 0, res.stderr);
      const { events, other } = splitNdjson(res.stdout);
      assert.deepEqual(other, [`${sha256(input)}  -`]);
      assert.ok(events.some((e) => e.type === "rekey" && e.initiator === "server"));
    });

    await t.step("--rekey-limit 1M makes the client rekey, data intact both ways", async () => {
      const input = randomBytes(6 * MiB);
      const up = await sshtrace(home, [
        ...base,
        "--ndjson",
        "--rekey-limit",
        "1M",
        to(sshd),
        "sha256sum",
      ], input);
      assert.equal(up.code, 0, up.stderr);
      const upSplit = splitNdjson(up.stdout);
      assert.deepEqual(upSplit.other, [`${sha256(input)}  -`]);
      const clientUp = upSplit.events.filter((e) =>
        e.type === "rekey" && e.initiator === "client" && /limit/.test(e.reason)
      );
      assert.ok(clientUp.length >= 3, `only ${clientUp.length} client rekeys for 6 MiB up`);

      const size = 6 * MiB;
      const down = await sshtrace(home, [
        ...base,
        "--ndjson",
        "--rekey-limit",
        "1M",
        to(sshd),
        randomWithChecksum(size, "stderr"),
      ]);
      assert.equal(down.code, 0);
      assert.equal(down.stderrBytes, size);
      const downSplit = splitNdjson(down.stdout);
      assert.deepEqual(downSplit.other, [`${down.stderrSha}  -`]);
      const clientDown = downSplit.events.filter((e) =>
        e.type === "rekey" && e.initiator === "client" && /limit/.test(e.reason)
      );
      assert.ok(clientDown.length >= 1, "no client rekey during a 6 MiB download");
    });
  } finally {
    for (const s of servers) await s.stop();
  }
});
