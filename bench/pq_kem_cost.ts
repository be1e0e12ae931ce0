/**
 * What the post-quantum half of a hybrid key exchange costs the client in a cold process: load
 * the KEM (module import, WebAssembly compile and start), make a key pair, decapsulate the
 * server's ciphertext. Each sample is a fresh `deno` process, so nothing is warm.
 *
 *   deno run -A bench/pq_kem_cost.ts [samples]      # default 15 per row
 *
 * CPU is read from /proc/self/task/N/schedstat (nanoseconds on CPU, per thread): "main thread"
 * is the main thread's CPU during the client's steps, "all threads" every thread's (V8 compiles
 * WebAssembly and tiers hot functions up to TurboFan on helper threads), "later" every thread's
 * CPU in the 150 ms after, minus what a process that loaded no KEM spends idling as long. The
 * server's encapsulation runs outside the measured steps. Prints a Markdown table.
 * @module
 */
// deno-lint-ignore-file no-console

const samples = Number(Deno.args[0] ?? 15);
const pq = new URL("../lib/algorithms/pq.ts", import.meta.url).href;

type KemName = "mlKem768" | "sntrup761" | "none";

function snippet(kem: KemName): string {
  return `
const threads = () => [...Deno.readDirSync("/proc/self/task")].map((t) => t.name);
const ns = (tid) => {
  try { return Number(Deno.readTextFileSync("/proc/self/task/" + tid + "/schedstat").split(" ")[0]); }
  catch { return 0; }
};
const all = () => threads().reduce((sum, t) => sum + ns(t), 0) / 1e6;
const main = () => ns(String(Deno.pid)) / 1e6;
let pathMain = 0, pathAll = 0, wall = 0, backend = "none";
if (${JSON.stringify(kem)} !== "none") {
  let m = main(), a = all(), t = performance.now();
  const pq = await import(${JSON.stringify(pq)});
  const { kem, backend: b } = await pq[${JSON.stringify(kem)}]();
  backend = b.name;
  const keys = kem.keypair();
  pathMain += main() - m; pathAll += all() - a; wall += performance.now() - t;
  const ct = ${kem === "mlKem768"}
    ? (await import("@noble/post-quantum/ml-kem.js")).ml_kem768.encapsulate(keys.publicKey).cipherText
    : kem.encapsulate(keys.publicKey).ciphertext;
  m = main(); a = all(); t = performance.now();
  kem.decapsulate(ct, keys.secretKey);
  pathMain += main() - m; pathAll += all() - a; wall += performance.now() - t;
}
const a = all();
await new Promise((r) => setTimeout(r, 150));
console.log(JSON.stringify({ backend, pathMain, pathAll, tail: all() - a, wall }));
`;
}

interface Row {
  label: string;
  kem: KemName;
  env: Record<string, string>;
  v8Flags?: string;
}

interface Sample {
  backend: string;
  pathMain: number;
  pathAll: number;
  tail: number;
  wall: number;
}

const LIFTOFF = "--liftoff-only";
const rows: Row[] = [
  { label: "ML-KEM-768, liboqs WebAssembly", kem: "mlKem768", env: {} },
  {
    label: `ML-KEM-768, liboqs WebAssembly, --v8-flags=${LIFTOFF}`,
    kem: "mlKem768",
    env: {},
    v8Flags: LIFTOFF,
  },
  { label: "ML-KEM-768, @noble/post-quantum", kem: "mlKem768", env: { SSHTRACE_KEM: "js" } },
  { label: "sntrup761, liboqs WebAssembly", kem: "sntrup761", env: {} },
  {
    label: `sntrup761, liboqs WebAssembly, --v8-flags=${LIFTOFF}`,
    kem: "sntrup761",
    env: {},
    v8Flags: LIFTOFF,
  },
];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const f = (x: number) => x.toFixed(1);

async function sample(row: Row): Promise<Sample> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", ...(row.v8Flags ? [`--v8-flags=${row.v8Flags}`] : []), snippet(row.kem)],
    env: { RUST_BACKTRACE: "0", NO_COLOR: "1", ...row.env },
    cwd: new URL("..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

const load = Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
const idleTails: number[] = [];
for (let i = 0; i < samples; i++) {
  idleTails.push((await sample({ label: "", kem: "none", env: {} })).tail);
}
const idle = median(idleTails);
console.log(
  `${samples} fresh processes per row; load average before: ${load}; idle CPU of a process ` +
    `without a KEM over the same 150 ms (baseline, subtracted from "later"): ${f(idle)} ms`,
);
console.log("");
console.log(
  "| KEM, client half (load + keypair + decapsulate) | main thread CPU | all threads CPU | + later | total CPU | wall |",
);
console.log("| --- | --- | --- | --- | --- | --- |");
for (const row of rows) {
  const got: Sample[] = [];
  for (let i = 0; i < samples; i++) got.push(await sample(row));
  const col = (xs: number[]) => `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
  const later = got.map((g) => Math.max(0, g.tail - idle));
  console.log(
    `| ${row.label} (${got[0]!.backend}) | ${col(got.map((g) => g.pathMain))} | ${
      col(got.map((g) => g.pathAll))
    } | ${f(median(later))} | ${f(median(got.map((g, i) => g.pathAll + later[i]!)))} | ${
      f(median(got.map((g) => g.wall)))
    } |`,
  );
}
console.log("");
console.log("Milliseconds: median (min–max) over the samples.");
