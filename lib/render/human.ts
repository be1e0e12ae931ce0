/**
 * The human-readable trace: one heading per stage, one indented line per decision, the stage's
 * time at its end, and a boxed explanation when the run fails. Text is handed to an injected
 * `write`; this module never prints. Every string that came from the peer is sanitized.
 * @module
 */

import type { SshError } from "../errors/mod.ts";
import type { TraceEvent, TraceSink } from "../trace.ts";
import {
  CATEGORIES,
  type Category,
  type Decision,
  INTERRUPTED_EXIT_CODE,
  type Stage,
} from "../types.ts";
import { createPalette, type Palette } from "./color.ts";
import { sanitize } from "./sanitize.ts";
import { IMPLICIT_MAC, isAeadCipher } from "./report.ts";
import { explainLoaded } from "../diagnose/explainer.ts";

export interface HumanRendererOptions {
  write: (text: string) => void;
  color: boolean;
  /** 0: decisions; 1: also offered lists, our version line, exchange details; 2: also packets. */
  verbosity: 0 | 1 | 2;
  /** Print nothing unless `finish` gets an error (then only the failure box). */
  quiet?: boolean;
}

export interface HumanRenderer {
  sink: TraceSink;
  /** Ends the output: the failure box, or a summary line with the total time. */
  finish(error: SshError | null): void;
}

/** What each stage does, shown in its heading. */
export const STAGE_TITLES: Record<Stage, string> = {
  config: "ssh_config and options",
  connect: "TCP connection",
  version: "protocol version exchange",
  kex: "key and algorithm negotiation",
  hostkey: "server host key",
  auth: "user authentication",
  session: "session channel",
  data: "data transfer",
  transfer: "file transfer (SFTP or SCP)",
};

const INDENT = "   ";
const LABEL_WIDTH = 10;
const BOX_WIDTH = 60;

const LIST_LABELS: Record<Category, string> = {
  kex: "kex",
  hostKey: "host key",
  cipherC2S: "cipher c2s",
  cipherS2C: "cipher s2c",
  macC2S: "mac c2s",
  macS2C: "mac s2c",
  compressionC2S: "comp c2s",
  compressionS2C: "comp s2c",
};

/** 1 → "1st", 2 → "2nd", 11 → "11th", 23 → "23rd". */
export function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  switch (n % 10) {
    case 1:
      return `${n}st`;
    case 2:
      return `${n}nd`;
    case 3:
      return `${n}rd`;
    default:
      return `${n}th`;
  }
}

/** Why an algorithm was chosen, from the positions in both lists (or the rule). */
export function explainDecision(d: Decision): string {
  if (d.chosen === null) return d.rule;
  const ours = d.ours.indexOf(d.chosen);
  const theirs = d.theirs.indexOf(d.chosen);
  if (ours < 0 || theirs < 0) return d.rule;
  return `our ${ordinal(ours + 1)} choice, server's ${ordinal(theirs + 1)}`;
}

/** Terrapin (CVE-2023-48795) needs ChaCha20-Poly1305, or a CBC cipher with an EtM MAC. */
function terrapinExposed(cipher: string | null, mac: string | null): boolean {
  if (cipher === "chacha20-poly1305@openssh.com") return true;
  return !!cipher && /-cbc(@|$)/.test(cipher) && !!mac && /-etm@openssh\.com$/.test(mac);
}

/** One line under a stage heading: `   label     value`. */
function row(label: string, value: string): string {
  const padded = label.length >= LABEL_WIDTH ? label + " " : label.padEnd(LABEL_WIDTH);
  return `${INDENT}${padded}${value}\n`;
}

/** A continuation line aligned with the values of {@link row}. */
function more(value: string): string {
  return `${INDENT}${" ".repeat(LABEL_WIDTH)}${value}\n`;
}

/** Sanitizes one line of peer text. */
const s = (text: string) => sanitize(text);

function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${s(host)}]:${port}` : `${s(host)}:${port}`;
}

/** Creates the human renderer; feed `sink` to the tracer, call `finish` once at the end. */
export function createHumanRenderer(options: HumanRendererOptions): HumanRenderer {
  const { write, verbosity } = options;
  const quiet = options.quiet ?? false;
  const p = createPalette(options.color);
  let lastT = 0;
  let wrote = false;

  const out = (text: string) => {
    if (text === "") return;
    wrote = true;
    write(text);
  };

  const failed = new Set<Stage>();
  const seen: TraceEvent[] = [];
  const sink: TraceSink = (event) => {
    seen.push(event);
    lastT = Math.max(lastT, event.t);
    if (event.type === "error") failed.add(event.stage);
    if (quiet) return;
    if (event.type === "end" && failed.has(event.stage)) {
      out(`${INDENT}${p.red("✗")} ${event.stage} ${event.ms.toFixed(1)} ms\n`);
      return;
    }
    out(renderEvent(event, verbosity, p, wrote));
  };

  const finish = (error: SshError | null) => {
    if (error) {
      out(renderFailure(error, seen, p, wrote));
    } else if (!quiet) {
      out(`${wrote ? "\n" : ""}${p.green("✓")} done in ${lastT.toFixed(1)} ms\n`);
    }
  };

  return { sink, finish };
}

/** Word-wraps a line at `width` characters (long words stay whole). */
function wrap(line: string, width: number): string[] {
  const out: string[] = [];
  let current = "";
  for (const word of line.split(" ")) {
    if (current && current.length + 1 + word.length > width) {
      out.push(current);
      current = word;
    } else current = current ? `${current} ${word}` : word;
  }
  out.push(current);
  return out;
}

function renderFailure(
  error: SshError,
  events: TraceEvent[],
  p: Palette,
  afterOutput: boolean,
): string {
  const x = explainLoaded(error, events);
  const bar = "│ ";
  const border = (corner: string) => p.red(corner + "─".repeat(BOX_WIDTH - 1)) + "\n";
  let text = afterOutput ? "\n" : "";
  text += border("┌");
  const ended = error.exitCode === INTERRUPTED_EXIT_CODE ? "interrupted" : "failed";
  text += `${p.red(bar)}${
    p.bold(p.red(`✗ ${ended} at stage ${error.stage}`))
  } (exit ${error.exitCode})\n`;
  const section = (label: string, body: string | null) => {
    if (!body) return;
    const lines = sanitize(body, { multiline: true }).split("\n").flatMap((l) => wrap(l, 76));
    text += `${p.red(bar)}${p.bold(label.padEnd(14))}${lines[0]}\n`;
    for (const line of lines.slice(1)) text += `${p.red(bar)}${" ".repeat(14)}${line}\n`;
  };
  section("what happened", error.message);
  if (x.known && x.title && x.title !== error.message) {
    section("cause", x.cause ? `${x.title} [${x.cause}]` : x.title);
  }
  if (x.evidence.length) section("evidence", x.evidence.join("\n"));
  section("why", x.explanation);
  section("try", x.fix);
  section("with OpenSSH", x.opensshFix);
  section("in ssh_config", x.configFix);
  if (x.securityCost) section("cost", x.securityCost);
  text += border("└");
  return text;
}

/** What a summary counts, in words: "123456 more DEBUG messages (4.1 MB)". */
export function suppressedText(of: string, count: number, bytes: number): string {
  const names: Record<string, [string, string]> = {
    ignore: ["IGNORE message", "IGNORE messages"],
    debug: ["DEBUG message", "DEBUG messages"],
    unimplemented: ["UNIMPLEMENTED message", "UNIMPLEMENTED messages"],
    banner: ["banner", "banners"],
    packet: ["packet", "packets"],
    "pre-version-line": ["line before the version line", "lines before the version line"],
    info: ["note", "notes"],
  };
  const [one, many] = names[of] ?? [`${of} event`, `${of} events`];
  const size = bytes >= 1e6
    ? `${(bytes / 1e6).toFixed(1)} MB`
    : bytes >= 1e3
    ? `${(bytes / 1e3).toFixed(1)} kB`
    : `${bytes} bytes`;
  return `${count} more ${count === 1 ? one : many}${bytes ? ` (${size})` : ""}`;
}

/**
 * One packet: `→ #3 KEXINIT (payload 1108)`, `← #40 CHANNEL_DATA ch 0 32768 bytes (payload
 * 32777)`, `→ #41 CHANNEL_WINDOW_ADJUST ch 0 +2097152 window (payload 9)`, `→ #5
 * USERAUTH_REQUEST` (of auth messages, the name only).
 */
export function packetText(e: Extract<TraceEvent, { type: "packet" }>): string {
  let text = `${e.direction === "in" ? "←" : "→"} #${e.seq} ${s(e.message)}`;
  if (e.message === "UNKNOWN") text += ` (${e.number})`;
  if (e.channel !== undefined) text += ` ch ${e.channel}`;
  if (e.bytes !== undefined) {
    text += e.message === "CHANNEL_WINDOW_ADJUST" ? ` +${e.bytes} window` : ` ${e.bytes} bytes`;
  }
  if (e.length !== undefined) text += ` (payload ${e.length})`;
  return text;
}

/** A channel span's channel, for its begin and end lines (none for connection-wide stages). */
function onChannel(channel: number | undefined): string {
  return channel === undefined ? "" : ` (channel ${channel})`;
}

/** Kinds printed at verbosity 0 (their summary is too). */
function shownAtLevel0(of: string): boolean {
  return of !== "ignore" && of !== "debug" && of !== "packet" && of !== "error";
}

function renderEvent(e: TraceEvent, v: 0 | 1 | 2, p: Palette, afterOutput: boolean): string {
  const warn = (text: string) => p.yellow(`⚠ ${text}`);
  // How the configuration was read is shown with -v; its warnings and errors always.
  if (e.stage === "config" && v === 0 && e.type !== "warning" && e.type !== "error") return "";
  switch (e.type) {
    case "begin":
      return `${afterOutput ? "\n" : ""}${
        p.bold(p.cyan(`── ${e.stage} ─ ${STAGE_TITLES[e.stage]}${onChannel(e.channel)}`))
      }\n`;
    case "end":
      return `${INDENT}${p.green("✓")} ${e.stage}${onChannel(e.channel)} ${e.ms.toFixed(1)} ms\n`;

    case "file":
      return row(
        "file",
        `${e.found ? "read" : "no file"} ${s(e.path)}` +
          (e.includedFrom
            ? p.dim(` (Include at ${s(e.includedFrom.file)}:${e.includedFrom.line})`)
            : "") +
          (e.pass === "final" ? p.dim(" (final pass)") : ""),
      );
    case "block":
      return row(
        e.matched ? "matched" : "skipped",
        `${s(e.file)}:${e.line} ${e.kind} ${s(e.criteria)}` +
          (e.pass === "final" ? p.dim(" (final pass)") : ""),
      );
    case "value":
      return row("value", `${s(e.keyword)} ${s(e.value)}  ${p.dim(`(${s(e.origin)})`)}`);
    case "warning":
      return row("warning", warn(`${s(e.file)}:${e.line}: ${s(e.keyword)}: ${s(e.problem)}`));

    case "resolving":
      return v >= 1 ? row("resolve", hostPort(e.host, e.port)) : "";
    case "connected":
      return row("connect", `${hostPort(e.host, e.port)} (resolved ${s(e.remoteAddress)})`);

    case "sent":
      return v >= 1 ? row("client", s(e.line)) : "";
    case "pre-version-line":
      return row("preamble", s(e.line));
    case "received":
      return row("server", s(e.line)) + (e.note ? row("note", s(e.note)) : "");

    case "kexinit-sent":
    case "kexinit-received": {
      if (v < 1) return "";
      const who = e.type === "kexinit-sent" ? "client" : "server";
      let text = "";
      CATEGORIES.forEach((c, i) => {
        const line = `${LIST_LABELS[c].padEnd(12)}${s(e.lists[c].join(","))}`;
        text += i === 0 ? row(who, line) : more(line);
      });
      if (e.type === "kexinit-received" && e.firstKexPacketFollows) {
        text += more("(server sends a guessed first kex packet)");
      }
      return text;
    }
    case "negotiated":
      return renderDecisions(e.decisions, e.strict, p);
    case "guess-ignored":
      return row("guess", `server's guessed kex packet ignored: ${s(e.reason)}`);
    case "exchange":
      return row("exchange", `${s(e.method)}: ${s(e.detail)}`);
    case "newkeys":
      return v >= 1 ? row("newkeys", e.direction) : "";
    case "crypto-backend":
      return v >= 1 ? row("crypto", `packets by ${s(e.detail)}`) : "";
    case "kem-backend":
      return v >= 1 ? row("pq-kem", `${s(e.algorithm)} by ${s(e.detail)}`) : "";
    case "ext-info":
      return row("ext-info", s(e.extensions.join(","))) +
        (v >= 1 && e.serverSigAlgs ? more(`server-sig-algs ${s(e.serverSigAlgs.join(","))}`) : "");
    case "rekey":
      return row("rekey", `started by ${e.initiator}: ${s(e.reason)}`);

    case "key":
      return row("key", `${s(e.keyType)}${e.bits !== null ? ` ${e.bits} bits` : ""}`) +
        row("sha256", s(e.fingerprint)) + row("md5", s(e.md5));
    case "signature-verified":
      return row("signature", `${s(e.algorithm)} verified`);
    case "certificate": {
      const where = e.file ? ` (${s(e.file)}${e.line !== null ? `:${e.line}` : ""})` : "";
      return row("cert", `${s(e.certType)} id "${s(e.keyId)}" serial ${s(e.serial)}`) +
        more(`principals ${e.principals.length ? s(e.principals.join(",")) : "(none)"}`) +
        more(`valid ${s(e.validity)}`) +
        more(`CA ${s(e.caType)} ${s(e.caFingerprint)}${where}`) +
        (e.accepted
          ? more(p.green("accepted"))
          : more(p.yellow(`not accepted: ${s(e.reason ?? "")}`)));
    }
    case "status": {
      const where = e.file ? `${s(e.file)}${e.line !== null ? `:${e.line}` : ""}` : null;
      let value: string;
      switch (e.status) {
        case "known":
          value = p.green("known") + (where ? ` (${where})` : "");
          break;
        case "unknown":
          value = p.yellow("unknown") + " (not in known_hosts)";
          break;
        case "accepted":
          value = "accepted" + (where ? ` (added to ${where})` : "");
          break;
        case "changed":
          value = p.red("✗ CHANGED") +
            (where ? ` (${where} has ${s(e.knownFingerprint ?? "another key")})` : "");
          break;
        case "revoked":
          value = p.red("✗ REVOKED") + (where ? ` (${where})` : "");
          break;
      }
      return row("status", value) + (e.note ? more(s(e.note)) : "");
    }

    case "service-accepted":
      return row("service", `${s(e.service)} accepted`);
    case "banner": {
      const lines = sanitize(e.text, { multiline: true }).replace(/\n$/, "").split("\n");
      if (e.bytes !== undefined) {
        lines.push(`… ${e.bytes - e.text.length} more bytes not shown (banner limit)`);
      }
      return `${INDENT}banner\n` + lines.map((l) => more(`│ ${l}`)).join("");
    }
    case "attempt":
      return row("attempt", `${s(e.method)}${e.detail ? ` ${s(e.detail)}` : ""}`);
    case "failure":
      return e.partialSuccess
        ? row("partial", `${s(e.method)} accepted, continue with: ${s(e.canContinue.join(","))}`)
        : row(
          "failure",
          `${s(e.method)} refused; can continue: ${s(e.canContinue.join(",")) || "(none)"}`,
        );
    case "success":
      return row("success", `${p.green(s(e.method))} accepted`);
    case "info":
      return row("info", s(e.message));

    case "debug":
      return e.alwaysDisplay || v >= 1 ? row("debug", s(e.message)) : "";
    case "ignore":
      return v >= 2 ? row("ignore", `${e.length} bytes`) : "";
    case "unimplemented":
      return row("unimpl", `peer did not implement our packet #${e.sequence}`);
    case "disconnect":
      return row(
        "disconnect",
        `by ${e.from}: ${s(e.reason)} (${e.reasonCode})` +
          (e.description ? ` ${s(e.description)}` : ""),
      );
    case "packet":
      return v >= 2 ? row("packet", packetText(e)) : "";
    case "error":
      return v >= 1 ? row("error", p.red(`${s(e.code)}: ${s(e.message)}`)) : "";
    case "grade": {
      const color = e.letter === "A"
        ? p.green
        : e.letter === "F" || e.letter === "D"
        ? p.red
        : p.yellow;
      let text = row("grade", `${color(p.bold(e.letter))} (${e.score}/100) for the server's offer`);
      for (const r of e.reasons) text += row("", `−${r.deduction} ${s(r.reason)}`);
      for (const x of e.partial ?? []) text += row("", warn(`partial: ${s(x)}`));
      return text;
    }
    case "quirk":
      return row("quirk", warn(`${s(e.id)}: ${s(e.description)}`));
    case "slow":
      return row("slow", warn(`${e.stage} took ${e.ms.toFixed(0)} ms: ${s(e.why)}`));
    case "suppressed":
      // A handful of IGNOREs past the limit is not news at level 0; a flood is.
      return v >= 1 || e.count >= 1000 || shownAtLevel0(e.of)
        ? row("", `… ${suppressedText(e.of, e.count, e.bytes)} not shown`)
        : "";
  }
  return warn(`unknown event ${s(JSON.stringify(e))}`) + "\n";
}

function renderDecisions(decisions: Decision[], strict: boolean, p: Palette): string {
  const byCat = new Map<Category, Decision>();
  for (const d of decisions) byCat.set(d.category, d);
  const chosen = (c: Category) => byCat.get(c)?.chosen ?? null;

  // One decision as [value shown, text after it].
  const show = (d: Decision): [string, string] => {
    if (d.category.startsWith("mac")) {
      const cipher = chosen(d.category === "macC2S" ? "cipherC2S" : "cipherS2C");
      if (isAeadCipher(cipher)) return [IMPLICIT_MAC, p.dim("(AEAD cipher)")];
    }
    if (d.chosen === null) return [p.red("✗ none in common"), ""];
    let after = p.dim(`(${s(explainDecision(d))})`);
    if (d.legacyRisk) after += "  " + p.yellow(`⚠ legacy: ${s(d.legacyRisk)}`);
    return [s(d.chosen), after];
  };
  const line = (label: string, d: Decision) => {
    const [value, after] = show(d);
    let text = row(label, after ? `${value}  ${after}` : value);
    // With nothing in common, both lists explain why, at any verbosity.
    if (d.chosen === null && !(d.category.startsWith("mac") && value === IMPLICIT_MAC)) {
      text += more(`client: ${s(d.ours.join(",")) || "(empty)"}`);
      text += more(`server: ${s(d.theirs.join(",")) || "(empty)"}`);
    }
    return text;
  };

  let text = "";
  for (const c of ["kex", "hostKey"] as const) {
    const d = byCat.get(c);
    if (d) text += line(c === "kex" ? "kex" : "host key", d);
  }
  const pairs: [Category, Category, string][] = [
    ["cipherC2S", "cipherS2C", "cipher"],
    ["macC2S", "macS2C", "mac"],
    ["compressionC2S", "compressionS2C", "compress"],
  ];
  for (const [c2s, s2c, label] of pairs) {
    const a = byCat.get(c2s);
    const b = byCat.get(s2c);
    if (a && b) {
      const [va, aa] = show(a);
      const [vb, ab] = show(b);
      const sameLists = a.ours.join() === b.ours.join() && a.theirs.join() === b.theirs.join();
      if (va === vb && aa === ab && (a.chosen !== null || sameLists)) {
        text += line(label, a);
        continue;
      }
    }
    if (a) text += line(`${label} c2s`, a);
    if (b) text += line(`${label} s2c`, b);
  }

  if (strict) {
    text += row("strict-kex", `on ${p.dim("(Terrapin mitigated)")}`);
  } else {
    const exposed = terrapinExposed(chosen("cipherC2S"), chosen("macC2S")) ||
      terrapinExposed(chosen("cipherS2C"), chosen("macS2C"));
    text += row(
      "strict-kex",
      exposed
        ? `off  ${p.yellow("⚠ Terrapin (CVE-2023-48795) prefix truncation possible")}`
        : `off ${p.dim("(chosen cipher and MAC not affected by Terrapin)")}`,
    );
  }
  return text;
}
