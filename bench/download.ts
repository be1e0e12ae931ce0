/**
 * Download throughput, sshtrace vs OpenSSH `ssh`: `head -c BYTES /dev/zero` on a local sshd (the
 * test harness's), output to /dev/null, whole process timed (login included, for both). Per
 * cipher: one warm-up run per client whose output is counted (it must be exactly BYTES), then
 * RUNS timed runs; prints the median MB/s (MB = 10^6 bytes) and the ratio sshtrace/ssh.
 *
 *   deno run -A bench/download.ts                       # the three ciphers of BENCHMARKS.md
 *   deno run -A bench/download.ts --ciphers aes128-gcm@openssh.com --runs 5
 *   deno run -A bench/download.ts --no-ssh --profile .cache/prof   # sshtrace only, CPU profile
 *
 * Options: --ciphers NAME (repeatable; `aes256-ctr` is paired with hmac-sha2-256-etm@openssh.com
 * unless --macs is given), --macs NAME, --runs N (default 3), --bytes N (default 268435456),
 * --no-ssh, --profile DIR (adds --cpu-prof to one extra sshtrace run), --baseline MAIN_TS (also
 * times another checkout's main.ts, e.g. `git archive HEAD~1` unpacked with node_modules linked).
 * The clients take turns within each run. Needs root (sshd, test user).
 * @module
 */

import { startBenchServer } from "./_server.ts";

const ROOT = new URL("..", import.meta.url).pathname;

interface Options {
  ciphers: string[];
  macs: string | null;
  runs: number;
  bytes: number;
  ssh: boolean;
  profile: string | null;
  baseline: string | null;
}

function parseArgs(args: string[]): Options {
  const o: Options = {
    ciphers: [],
    macs: null,
    runs: 3,
    bytes: 268435456,
    ssh: true,
    profile: null,
    baseline: null,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--ciphers") o.ciphers.push(...next().split(","));
    else if (a === "--macs") o.macs = next();
    else if (a === "--runs") o.runs = Number(next());
    else if (a === "--bytes") o.bytes = Number(next());
    else if (a === "--no-ssh") o.ssh = false;
    else if (a === "--profile") o.profile = next();
    else if (a === "--baseline") o.baseline = next();
    else throw new Error(`unknown option ${a}`);
  }
  if (!o.ciphers.length) {
    o.ciphers = ["aes128-gcm@openssh.com", "aes256-ctr", "chacha20-poly1305@openssh.com"];
  }
  return o;
}

function macFor(cipher: string, macs: string | null): string | null {
  if (macs) return macs;
  if (/-gcm@|chacha20-poly1305/.test(cipher)) return null;
  return "hmac-sha2-256-etm@openssh.com";
}

/** Runs a command; returns wall seconds and (when counting) the bytes it wrote to stdout. */
async function timed(cmd: string[], count: boolean): Promise<{ seconds: number; bytes: number }> {
  const start = performance.now();
  const child = new Deno.Command(cmd[0]!, {
    args: cmd.slice(1),
    cwd: ROOT,
    env: { RUST_BACKTRACE: "0", NO_COLOR: "1" },
    stdin: "null",
    stdout: count ? "piped" : "null",
    stderr: "piped",
  }).spawn();
  let bytes = 0;
  const counting = count
    ? (async () => {
      for await (const chunk of child.stdout) bytes += chunk.length;
    })()
    : Promise.resolve();
  const errText = new Response(child.stderr).text();
  const [status] = await Promise.all([child.status, counting]);
  const seconds = (performance.now() - start) / 1000;
  const err = await errText;
  if (!status.success) {
    throw new Error(`${cmd.slice(0, 3).join(" ")} … failed (code ${status.code}): ${err.trim()}`);
  }
  return { seconds, bytes };
}

const encoder = new TextEncoder();
const say = (line: string) => Deno.stdout.writeSync(encoder.encode(line + "\n"));
const note = (line: string) => Deno.stderr.writeSync(encoder.encode(line + "\n"));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const opts = parseArgs(Deno.args);
const server = await startBenchServer("sshtrace-dl-");
const { sshd, key, knownHosts: kh } = server;
try {
  const target = `${server.user}@127.0.0.1`;
  const remote = `head -c ${opts.bytes} /dev/zero`;
  const stBase = [Deno.execPath(), "run", "-A", "main.ts"];
  const stArgs = [
    "-q",
    "--batch",
    "-i",
    key,
    "-o",
    `UserKnownHostsFile=${kh}`,
    "-o",
    "IdentitiesOnly=yes",
    "-p",
    String(sshd.port),
  ];
  const sshBase = [
    "ssh",
    "-F",
    "/dev/null",
    "-i",
    key,
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "BatchMode=yes",
    "-o",
    `UserKnownHostsFile=${kh}`,
    "-p",
    String(sshd.port),
  ];
  const rows: string[] = [];
  for (const cipher of opts.ciphers) {
    const mac = macFor(cipher, opts.macs);
    const label = mac ? `${cipher} + ${mac}` : cipher;
    const st = [
      ...stBase,
      ...stArgs,
      "--ciphers",
      cipher,
      ...(mac ? ["--macs", mac] : []),
      target,
      remote,
    ];
    const ssh = [...sshBase, "-c", cipher, ...(mac ? ["-m", mac] : []), target, remote];
    // The clients take turns within each run, so a busy moment of the shared machine hits all.
    const clients: [string, string[]][] = [["sshtrace", st]];
    if (opts.baseline) {
      clients.push(["baseline", [...stBase.slice(0, 3), opts.baseline, ...st.slice(4)]]);
    }
    if (opts.ssh) clients.push(["ssh", ssh]);
    note(label);
    for (const [name, cmd] of clients) {
      const check = await timed(cmd, true);
      if (check.bytes !== opts.bytes) {
        throw new Error(`${name} (${label}) delivered ${check.bytes} bytes, not ${opts.bytes}`);
      }
    }
    const rates = new Map<string, number[]>(clients.map(([name]) => [name, []]));
    for (let i = 0; i < opts.runs; i++) {
      for (const [name, cmd] of clients) {
        const { seconds } = await timed(cmd, false);
        rates.get(name)!.push(opts.bytes / 1e6 / seconds);
      }
    }
    for (const [name, list] of rates) {
      note(`  ${name}: ${list.map((r) => r.toFixed(0)).join(", ")} MB/s`);
    }
    const mine = median(rates.get("sshtrace")!);
    let line = `${label.padEnd(46)} sshtrace ${mine.toFixed(0).padStart(4)} MB/s`;
    const theirs = opts.ssh ? median(rates.get("ssh")!) : 0;
    if (opts.baseline) {
      const base = median(rates.get("baseline")!);
      line += `   baseline ${base.toFixed(0).padStart(4)} MB/s`;
      if (opts.ssh) line += ` (${(base / theirs).toFixed(2)}×)`;
    }
    if (opts.ssh) {
      line += `   ssh ${theirs.toFixed(0).padStart(4)} MB/s   ratio ${(mine / theirs).toFixed(2)}×`;
    }
    rows.push(line);
    if (opts.profile) {
      await Deno.mkdir(opts.profile, { recursive: true });
      const prof = [
        Deno.execPath(),
        "run",
        "--cpu-prof",
        `--cpu-prof-dir=${opts.profile}`,
        ...st.slice(2),
      ];
      await timed(prof, false);
      note(`  profile written to ${opts.profile}`);
    }
  }
  say(`median of ${opts.runs} runs, ${opts.bytes} bytes, whole process`);
  for (const r of rows) say(r);
} finally {
  await server.stop();
}
