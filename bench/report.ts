/**
 * Turns the raw results of bench/run.sh (hyperfine JSON, /usr/bin/time lines, check outputs)
 * into the side-by-side table with ratios, prints it, and replaces the block between
 * `<!-- results:start -->` and `<!-- results:end -->` in BENCHMARKS.md.
 *
 *   deno run -A bench/report.ts .cache/bench BENCHMARKS.md
 * @module
 */

const [dir = ".cache/bench", mdPath = "BENCHMARKS.md"] = Deno.args;

interface HfResult {
  command: string;
  mean: number;
  stddev: number | null;
  median: number;
  min: number;
  max: number;
}

function readText(name: string): string | null {
  try {
    return Deno.readTextFileSync(`${dir}/${name}`);
  } catch {
    return null;
  }
}

function hyperfine(name: string): HfResult[] {
  const text = readText(`${name}.json`);
  return text ? (JSON.parse(text).results as HfResult[]) : [];
}

/** Peak RSS (MiB), wall seconds and exit status from a `/usr/bin/time -f "%M %e %x"` file. */
function timeFile(name: string): { rssMiB: number; wallS: number; exit: number } | null {
  const text = readText(`mem-${name}.txt`);
  if (!text) return null;
  const line = text.trim().split("\n").pop()!;
  const [kib, wall, exit] = line.split(/\s+/).map(Number);
  if (!Number.isFinite(kib)) return null;
  return { rssMiB: kib! / 1024, wallS: wall!, exit: exit! };
}

const machine: Record<string, string> = {};
for (const line of (readText("machine.txt") ?? "").split("\n")) {
  const i = line.indexOf("=");
  if (i > 0) machine[line.slice(0, i)] = line.slice(i + 1);
}
const dlBytes = Number(machine.dl_bytes ?? 268435456);
const fleet = Number(machine.fleet ?? 500);

const ms = (s: number) => `${(s * 1000).toFixed(1)} ms`;
const pm = (r: HfResult) => `${ms(r.mean)} ± ${((r.stddev ?? 0) * 1000).toFixed(1)}`;
const mbps = (s: number) => dlBytes / 1e6 / s;
const yes = (ok: boolean) => (ok ? "yes" : "**no**");
const lines: string[] = [];
const out = (s = "") => lines.push(s);

out(`Run ${machine.date ?? new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`);
out();
out(
  `Machine: ${machine.nproc} CPU (${machine.cpu}), ${
    (Number(machine.mem) / 1024 / 1024).toFixed(1)
  } GiB RAM, Linux ${machine.kernel}; ${machine.deno}; ${machine.ssh}; ${machine.audit}. ` +
    `Client and sshd share the same cores. hyperfine: ${machine.runs} runs after 3 warmups ` +
    `(downloads: ${machine.dl_runs} runs after 1 warmup).`,
);
out();

// (a) exec true
const [stExec, sshExec, sshSameKex] = hyperfine("exec");
out("### (a) Authenticated exec of `true` (whole process)");
out();
out("| client | mean ± σ | median | min |");
out("|---|---|---|---|");
if (stExec && sshExec) {
  out(`| sshtrace | ${pm(stExec)} | ${ms(stExec.median)} | ${ms(stExec.min)} |`);
  out(`| ssh | ${pm(sshExec)} | ${ms(sshExec.median)} | ${ms(sshExec.min)} |`);
  if (sshSameKex) {
    out(
      `| ssh -o KexAlgorithms=curve25519-sha256 | ${pm(sshSameKex)} | ${ms(sshSameKex.median)} | ${
        ms(sshSameKex.min)
      } |`,
    );
  }
  const r = stExec.mean / sshExec.mean;
  const rm = stExec.median / sshExec.median;
  out();
  out(
    `Ratio sshtrace/ssh: **${r.toFixed(2)}×** by mean, ${rm.toFixed(2)}× by median ` +
      `(target ≤ 1.10×: ${yes(r <= 1.1)}).`,
  );
  if (sshSameKex) {
    const r2 = stExec.mean / sshSameKex.mean;
    out(
      `Against ssh with curve25519-sha256 (classical; both defaults pick ` +
        `sntrup761x25519-sha512 against OpenSSH 9.2 since issue 21): **${r2.toFixed(2)}×**.`,
    );
  }
}
out();

// (b) probe
const [stProbe, ksProbe] = hyperfine("probe");
out("### (b) One probe vs `ssh-keyscan -t ed25519`");
out();
if (stProbe && ksProbe) {
  out("| tool | mean ± σ | median |");
  out("|---|---|---|");
  out(`| sshtrace probe | ${pm(stProbe)} | ${ms(stProbe.median)} |`);
  out(`| ssh-keyscan | ${pm(ksProbe)} | ${ms(ksProbe.median)} |`);
  out();
  out(
    `Ratio sshtrace/ssh-keyscan: **${(stProbe.mean / ksProbe.mean).toFixed(2)}×** ` +
      `(the probe also does the \`none\` auth request; ssh-keyscan stops after the key exchange).`,
  );
}
out();

// (c) downloads
out(
  `### (c) ${
    (dlBytes / 2 ** 20).toFixed(0)
  } MiB download to /dev/null (whole process, MB = 10^6 bytes)`,
);
out();
out("| cipher (sshtrace negotiated) | sshtrace MB/s | ssh MB/s | ratio | target ≥ 0.8× |");
out("|---|---|---|---|---|");
for (const c of ["gcm", "ctr", "chacha"]) {
  const [st, ssh] = hyperfine(`dl-${c}`);
  let alg = c;
  try {
    const rep = JSON.parse(readText(`alg-${c}.json`) ?? "{}");
    const cipher = rep.kex?.cipher?.s2c;
    const mac = rep.kex?.mac?.s2c;
    alg = mac && mac !== "<implicit>" ? `${cipher} + ${mac}` : String(cipher);
  } catch {
    // keep the short name
  }
  if (!st || !ssh) {
    out(`| ${alg} | - | - | - | - |`);
    continue;
  }
  const r = mbps(st.mean) / mbps(ssh.mean);
  out(
    `| ${alg} | ${mbps(st.mean).toFixed(0)} | ${mbps(ssh.mean).toFixed(0)} | **${
      r.toFixed(2)
    }×** | ${yes(r >= 0.8)} |`,
  );
}
{
  const [st, ssh] = hyperfine("dl-jump");
  if (st && ssh) {
    const r = mbps(st.mean) / mbps(ssh.mean);
    out(
      `| through one jump host (aes128-gcm; ssh -W as ProxyCommand) | ${
        mbps(st.mean).toFixed(0)
      } | ${mbps(ssh.mean).toFixed(0)} | **${r.toFixed(2)}×** | ${yes(r >= 0.8)} |`,
    );
  }
}
out();

// (d) fleet
out(`### (d) Fleet check over ${fleet} inventory entries (all the same local sshd)`);
out();
if (machine.check_cmd) {
  out(`sshtrace ran as \`${machine.check_cmd.replace(/^\S*\/deno /, "deno ")}\`.`);
}
out();
const stCheck = timeFile("check-sshtrace");
const ksCheck = timeFile("check-keyscan");
const auCheck = timeFile("check-audit");
const checkOut = readText("check-sshtrace.out") ?? "";
const passed = /(\d+) hosts: (\d+) passed, (\d+) failed/.exec(checkOut);
const ksCount = Number((readText("check-keyscan.count") ?? "0").trim());
const auCount = Number((readText("check-audit.count") ?? "0").trim());
out("| tool | wall s | hosts/s | hosts answered | peak RSS |");
out("|---|---|---|---|---|");
const row = (name: string, t: ReturnType<typeof timeFile>, answered: string) =>
  t
    ? out(
      `| ${name} | ${t.wallS.toFixed(2)} | ${(fleet / t.wallS).toFixed(1)} | ${answered} | ${
        t.rssMiB.toFixed(0)
      } MiB |`,
    )
    : out(`| ${name} | - | - | - | - |`);
row(
  "sshtrace check (concurrency 32)",
  stCheck,
  passed ? `${passed[2]} passed, ${passed[3]} failed` : "?",
);
row("ssh-keyscan -t ed25519 -f", ksCheck, `${ksCount} keys`);
row("ssh-audit -T (32 threads)", auCheck, `${auCount} reports`);
if (stCheck && ksCheck && auCheck) {
  const rate = (t: { wallS: number }) => fleet / t.wallS;
  const fastest = rate(stCheck) > rate(ksCheck) && rate(stCheck) > rate(auCheck);
  out();
  out(
    `sshtrace is ${(rate(stCheck) / rate(ksCheck)).toFixed(2)}× ssh-keyscan and ` +
      `${(rate(stCheck) / rate(auCheck)).toFixed(2)}× ssh-audit (target: faster than both: ${
        yes(fastest)
      }).`,
  );
}
out();

// (e) memory
out("### (e) Peak memory (maximum resident set size, one run each)");
out();
out("| workload | sshtrace | peer |");
out("|---|---|---|");
const rss = (name: string) => {
  const t = timeFile(name);
  return t ? `${t.rssMiB.toFixed(1)} MiB` : "-";
};
out(`| exec true | ${rss("exec-sshtrace")} | ssh ${rss("exec-ssh")} |`);
out(`| probe | ${rss("probe-sshtrace")} | ssh-keyscan ${rss("probe-keyscan")} |`);
for (const c of ["gcm", "ctr", "chacha"]) {
  out(`| download (${c}) | ${rss(`dl-${c}-sshtrace`)} | ssh ${rss(`dl-${c}-ssh`)} |`);
}
out(
  `| check ×${fleet} | ${rss("check-sshtrace")} | ssh-keyscan ${rss("check-keyscan")}, ssh-audit ${
    rss("check-audit")
  } |`,
);
out();

// (f) startup
const [empty, imports, version] = hyperfine("startup");
out("### (f) Where start-up time goes");
out();
if (empty && imports && version) {
  out("| step | mean | share |");
  out("|---|---|---|");
  out(`| \`deno run\` of an empty script (runtime start) | ${ms(empty.mean)} | |`);
  out(
    `| + loading main.ts's module graph (import only) | ${ms(imports.mean)} | +${
      ms(imports.mean - empty.mean)
    } |`,
  );
  out(
    `| \`sshtrace --version\` (+ argument parsing) | ${ms(version.mean)} | +${
      ms(version.mean - imports.mean)
    } |`,
  );
  if (stExec) {
    out(
      `| exec \`true\` (+ network, crypto, auth) | ${ms(stExec.mean)} | +${
        ms(stExec.mean - version.mean)
      } |`,
    );
  }
}
out();

const ceiling = readText("crypto.txt");
if (ceiling) {
  out("### (g) Crypto ceiling (bench/crypto_ceiling.ts)");
  out();
  out("```");
  out(ceiling.trimEnd());
  out("```");
  out();
}

const transfer = readText("transfer/results.tsv");
if (transfer) {
  const rows = new Map<string, { mbps: number; rssMiB: number }>();
  for (const line of transfer.trim().split("\n")) {
    const [name, rate, , kib] = line.split("\t");
    if (name) rows.set(name, { mbps: Number(rate), rssMiB: Number(kib) / 1024 });
  }
  const runs = Number(readText("transfer/runs") ?? "1") || 1;
  const each = runs === 1 ? "one run each" : `median of ${runs} alternating runs each`;
  out(`### (h) File transfer: ${dlBytes / 1048576} MiB, ${each} (bench/transfer.sh)`);
  out();
  out(
    "| copy | sshtrace MB/s | OpenSSH MB/s | ratio | target ≥ 0.9× | sshtrace peak RSS | OpenSSH peak RSS |",
  );
  out("| --- | --- | --- | --- | --- | --- | --- |");
  for (
    const [dir, protocol, theirs] of [
      ["get", "sftp", "openssh sftp -b get"],
      ["put", "sftp", "openssh sftp -b put"],
      ["get", "scp", "openssh scp -O get"],
      ["put", "scp", "openssh scp -O put"],
    ] as const
  ) {
    const st = rows.get(`sshtrace ${dir} (${protocol})`);
    const os = rows.get(theirs);
    if (!st || !os) continue;
    const ratio = st.mbps / os.mbps;
    out(
      `| ${dir} over ${protocol.toUpperCase()} (vs \`${theirs.slice(8)}\`) | ${
        st.mbps.toFixed(0)
      } | ${os.mbps.toFixed(0)} | **${ratio.toFixed(2)}×** | ${yes(ratio >= 0.9)} | ${
        st.rssMiB.toFixed(0)
      } MiB | ${os.rssMiB.toFixed(0)} MiB |`,
    );
  }
  out();
  out(
    "Whole processes (sshtrace's start and login included), file to file through the same sshd; " +
      "every copy's SHA-256 is checked.",
  );
  out();
}

const text = lines.join("\n");
Deno.stdout.writeSync(new TextEncoder().encode("\n" + text + "\n"));

const START = "<!-- results:start -->";
const END = "<!-- results:end -->";
let md: string;
try {
  md = Deno.readTextFileSync(mdPath);
} catch {
  md = `# Benchmarks\n\n${START}\n${END}\n`;
}
const a = md.indexOf(START);
const b = md.indexOf(END);
const block = `${START}\n${text}\n${END}`;
md = a >= 0 && b > a ? md.slice(0, a) + block + md.slice(b + END.length) : `${md}\n${block}\n`;
Deno.writeTextFileSync(mdPath, md);
Deno.stderr.writeSync(new TextEncoder().encode(`results written to ${mdPath}\n`));
