/**
 * Probe one SSH server and print its JSON report (the same contract as `sshtrace probe --json`).
 *
 *     deno run -A examples/probe_json.ts 127.0.0.1:22
 */
import { probe, probeReport, reportToJson } from "../lib/mod.ts";

const [target = "127.0.0.1:22"] = Deno.args;
const [host, port = "22"] = target.split(":");
const report = probeReport(await probe({ host: host!, port: Number(port), timeoutMs: 5000 }));
await Deno.stdout.write(new TextEncoder().encode(reportToJson(report)));
Deno.exit(report.exitCode);
