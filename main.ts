/**
 * sshtrace command line: parses flags, builds options, picks a renderer, maps errors to exit
 * codes. All protocol work is in lib/.
 * @module
 */

import { Command, CommanderError, Option } from "@commander-js/extra-typings";
import { runProbe } from "./lib/client.ts";
import { type ConnectFlags, runConnect } from "./lib/cli/connect.ts";
// send, check and lab are loaded when used, so logging in does not pay for their modules.
import type { SendFlags } from "./lib/cli/send.ts";
import type { CheckFlags } from "./lib/cli/check.ts";
import { makeOutput, writeErr, writeOut } from "./lib/cli/output.ts";
import {
  addListEdit,
  applyOption,
  emptySettings,
  parsePort,
  parseTarget,
  type Settings,
} from "./lib/config/options.ts";
import { reportToJson } from "./lib/render/ndjson.ts";
import { buildReport } from "./lib/render/report.ts";
import { SshTraceError } from "./lib/trace.ts";
import { SSHTRACE_VERSION } from "./lib/transport/transport.ts";

const collect = (value: string, previous: string[]) => [...previous, value];

/** Flags every command shares. */
function commonOptions(): Option[] {
  const verbose = new Option("-v, --verbose", "more detail: full algorithm lists (-vv: packets)")
    .argParser((_v: string, p: number) => p + 1).default(0);
  return [
    new Option("-p, --port <port>", "port to connect to (default 22)"),
    new Option("-l, --login <user>", "user name to log in as"),
    new Option("-o, --option <Key=Value>", "OpenSSH option (repeatable)")
      .argParser(collect).default([] as string[]),
    new Option(
      "--kex <list>",
      "key exchange algorithms: +a append, -a remove, ^a prepend, a,b replace",
    ),
    new Option("--hostkeys <list>", "host key algorithms (same syntax)"),
    new Option("--ciphers <list>", "ciphers (same syntax)"),
    new Option("--macs <list>", "MACs (same syntax)"),
    new Option(
      "--legacy",
      "also offer legacy algorithms (SHA-1, CBC, 3DES, MD5...) after modern ones",
    ),
    new Option("--timeout <seconds>", "limit for every network wait").default("10"),
    new Option("--json", "print one JSON report on stdout at the end"),
    new Option("--ndjson", "print trace events as NDJSON on stdout as they happen"),
    verbose,
    new Option("-q, --quiet", "show only failures"),
  ];
}

function withCommonOptions<T extends { addOption(o: Option): unknown }>(
  cmd: T,
  except: string[] = [],
): T {
  for (const o of commonOptions()) if (!except.includes(o.long ?? "")) cmd.addOption(o);
  return cmd;
}

interface CommonFlags {
  port?: string;
  login?: string;
  option: string[];
  kex?: string;
  hostkeys?: string;
  ciphers?: string;
  macs?: string;
  legacy?: true;
  timeout: string;
  json?: true;
  ndjson?: true;
  verbose: number;
  quiet?: true;
}

/** Settings from flags: `-o` first, then dedicated flags (which win). */
export function settingsFrom(flags: CommonFlags): Settings {
  const s = emptySettings();
  if (flags.legacy) s.legacy = true; // list edits are checked against the legacy offer too
  for (const o of flags.option) applyOption(s, o);
  if (flags.kex) addListEdit(s, "kex", flags.kex);
  if (flags.hostkeys) addListEdit(s, "hostKey", flags.hostkeys);
  if (flags.ciphers) addListEdit(s, "cipher", flags.ciphers);
  if (flags.macs) addListEdit(s, "mac", flags.macs);
  if (flags.port !== undefined) s.port = parsePort(flags.port);
  if (typeof flags.login === "string") s.user = flags.login;
  return s;
}

function timeoutMs(flags: CommonFlags, s: Settings): number {
  const t = s.connectTimeoutS ?? Number(flags.timeout);
  if (!Number.isFinite(t) || t <= 0) {
    throw new SshTraceError(
      "usage",
      "usage.invalid",
      `invalid --timeout "${flags.timeout}": expected seconds > 0`,
    );
  }
  return t * 1000;
}

async function probeAction(targetText: string, flags: CommonFlags): Promise<number> {
  const target = parseTarget(targetText);
  const s = settingsFrom(flags);
  const { tracer, human } = makeOutput(flags);
  const port = s.port ?? target.port ?? 22;
  const { report, error } = await runProbe({
    host: target.host,
    port,
    user: s.user ?? target.user ?? undefined,
    timeoutMs: timeoutMs(flags, s),
    tracer,
    algorithms: s.algorithms,
    legacy: flags.legacy ?? false,
    knownHostsFiles: s.userKnownHostsFile ? [s.userKnownHostsFile] : undefined,
  });
  human.finish(error);
  if (flags.json) writeOut(reportToJson(report));
  return report.exitCode;
}

function buildProgram(setExit: (code: number) => void) {
  const program = new Command()
    .name("sshtrace")
    .description("An SSH client that explains itself: every stage traced, every failure explained.")
    .version(SSHTRACE_VERSION, "-V, --version")
    .exitOverride()
    .enablePositionalOptions()
    // Usage errors fit on one line, like every other sshtrace error.
    .configureOutput({
      writeOut,
      writeErr,
      outputError: (text, write) =>
        write(
          `sshtrace: ${
            text.trim().replace(/^error: /, "").replace(/\s*\n\s*/g, " ")
          } (run sshtrace --help for usage)\n`,
        ),
    });

  withCommonOptions(
    program.command("probe")
      .description(
        "connect, negotiate and check the host key without credentials; list auth methods",
      )
      .argument("<target>", "[user@]host[:port]"),
  ).action(async (target, flags) =>
    setExit(await probeAction(target, flags as unknown as CommonFlags))
  );

  withCommonOptions(
    program.command("connect", { isDefault: true })
      .description("log in and open a shell, or run a command (the default command)")
      .argument("<target>", "[user@]host[:port]")
      .argument("[command...]", "command to run instead of a shell"),
  )
    .option("-i, --identity <file>", "private key file (repeatable)", collect, [] as string[])
    .option("-C", "request compression (zlib@openssh.com, like ssh -C)")
    .option("-t", "force a pty")
    .option("-T", "disable pty allocation")
    .option("--password-env <VAR>", "read the password from this environment variable")
    .option("--password-file <file>", "read the password from this file")
    .option("--passphrase-env <VAR>", "read key passphrases from this environment variable")
    .option("--passphrase-file <file>", "read key passphrases from this file")
    .option("--rekey-limit <size>", "rekey after this much data (e.g. 1G, 500M)")
    .addOption(new Option("--batch", "never prompt (like -o BatchMode=yes)"))
    .passThroughOptions()
    .action(async (target, command, flags) => {
      const f = flags as unknown as CommonFlags & ConnectFlags;
      const s = settingsFrom(f);
      if ((f as { C?: true }).C) applyOption(s, "Compression=yes");
      setExit(
        await runConnect({
          targetText: target,
          command,
          flags: f,
          settings: s,
          timeoutMs: timeoutMs(f, s),
        }),
      );
    });
  withCommonOptions(
    program.command("send")
      .description("run commands through a pty shell, for devices without exec (switches)")
      .argument("<target>", "[user@]host[:port]")
      .argument("<commands...>", 'commands, each one argument (after --): -- "display version"'),
  )
    .option("--device <name>", "comware, huawei, cisco, junos, linux or auto", "auto")
    .option("--prompt <regex>", "the device prompt, when auto-detection fails")
    .option("--command-timeout <seconds>", "limit for each command (default 30)")
    .option("--encoding <label>", "decode output for display, e.g. gbk (default utf-8)")
    .option("-i, --identity <file>", "private key file (repeatable)", collect, [] as string[])
    .option("--password-env <VAR>", "read the password from this environment variable")
    .option("--password-file <file>", "read the password from this file")
    .option("--passphrase-env <VAR>", "read key passphrases from this environment variable")
    .option("--passphrase-file <file>", "read key passphrases from this file")
    .addOption(new Option("--batch", "never prompt (like -o BatchMode=yes)"))
    .action(async (target, commands, flags) => {
      const f = flags as unknown as CommonFlags & SendFlags;
      const s = settingsFrom(f);
      const { runSend } = await import("./lib/cli/send.ts");
      setExit(
        await runSend({
          targetText: target,
          command: commands,
          flags: f,
          settings: s,
          timeoutMs: timeoutMs(f, s),
        }),
      );
    });
  withCommonOptions(
    program.command("check")
      .description("check a fleet: probe (or log in to) every host of an inventory, in parallel")
      .argument(
        "<inventory>",
        "text ([user@]host[:port] per line) or CSV with a header; - for stdin",
      ),
    ["--login"],
  )
    .option("--concurrency <n>", "hosts checked at once (default 32)")
    .option("--login", "log in (keys, agent, --password-env) instead of only probing")
    .option("--command <cmd>", "with --login: run this command on every host")
    .option("--junit <file>", "also write JUnit XML for CI systems")
    .option("-i, --identity <file>", "private key file (repeatable)", collect, [] as string[])
    .option("--password-env <VAR>", "read the password from this environment variable")
    .option("--password-file <file>", "read the password from this file")
    .option("--passphrase-env <VAR>", "read key passphrases from this environment variable")
    .option("--passphrase-file <file>", "read key passphrases from this file")
    .action(async (inventory, flags) => {
      const f = flags as unknown as CommonFlags & CheckFlags;
      const s = settingsFrom(f);
      const { runCheck } = await import("./lib/cli/check.ts");
      setExit(
        await runCheck({
          inventoryPath: inventory,
          flags: f,
          settings: s,
          timeoutMs: timeoutMs(f, s),
        }),
      );
    });
  program.command("lab")
    .description("run the built-in lab SSH server on 127.0.0.1 (modern, old-switch or a fault)")
    .option("--port <n>", "port to listen on (default: a free one)")
    .option("--profile <name>", "modern, old-switch, a fault profile, or list", "modern")
    .option("--once", "stop after one connection")
    .option("-q, --quiet", "do not log connections")
    .action(async (flags) => {
      const { runLab } = await import("./lib/cli/lab.ts");
      setExit(await runLab(flags, writeOut));
    });
  return program;
}

/**
 * Like ssh(1), options may follow the host (`sshtrace host -p 2222 ls -la`): for the connect
 * command, options between the target and the first plain word are moved before the target, so
 * only what follows is the remote command.
 */
export function reorderConnectArgs(args: string[], program: Command): string[] {
  const sub = program.commands.find((c) => c.name() === "connect")!;
  const names = new Set(program.commands.flatMap((c) => [c.name(), ...c.aliases()]));
  let start = 0;
  if (args[0] === "connect") start = 1;
  else if (args[0] !== undefined && names.has(args[0])) return args;
  const takesValue = (arg: string) => {
    const opt = sub.options.find((o) => o.short === arg || o.long === arg);
    return opt !== undefined && (opt.required || opt.optional);
  };
  const before: string[] = [];
  let i = start;
  // Leading options (before the target) stay where they are.
  while (i < args.length && args[i]!.startsWith("-") && args[i] !== "--") {
    before.push(args[i]!);
    if (takesValue(args[i]!) && i + 1 < args.length) before.push(args[++i]!);
    i++;
  }
  if (i >= args.length || args[i] === "--") return args;
  const target = args[i++]!;
  while (i < args.length && args[i]!.startsWith("-") && args[i] !== "--" && args[i] !== "-") {
    before.push(args[i]!);
    if (takesValue(args[i]!) && !args[i]!.includes("=") && i + 1 < args.length) {
      before.push(args[++i]!);
    }
    i++;
  }
  if (args[i] === "--") i++;
  return [...args.slice(0, start), ...before, target, ...args.slice(i)];
}

/** Runs the CLI and returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let code = 0;
  try {
    const program = buildProgram((c) => (code = c));
    await program.parseAsync(reorderConnectArgs(args, program as unknown as Command), {
      from: "user",
    });
  } catch (e) {
    // With --json a failure before any connection still gets a report (error, no stages).
    const json = args.includes("--json");
    const report = (error: SshTraceError) =>
      writeOut(reportToJson(buildReport([], { host: "", port: 0, error, timings: {} })));
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version") return 0;
      if (e.code === "commander.help") return 0;
      if (json) {
        report(new SshTraceError("usage", "usage.invalid", e.message.replace(/^error: /, "")));
      }
      return 2;
    }
    if (e instanceof SshTraceError) {
      const where = e.stage === "usage" ? "usage" : `stage ${e.stage}`;
      writeErr(`sshtrace: ${e.message} (${where})\n`);
      const fix = e.details.fix;
      if (typeof fix === "string") writeErr(`  try: ${fix}\n`);
      if (json) report(e);
      return e.exitCode;
    }
    writeErr(`sshtrace: internal error: ${(e as Error)?.message ?? e}\n`);
    return 1;
  }
  return code;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
