/**
 * Trace events and the tracer every layer emits into. Protocol code never prints: it emits
 * events here and throws `SshError` (lib/errors/); renderers do the rest.
 * Events carry data, never secrets (a password is "provided", a key is its fingerprint).
 * @module
 */

import { noteGarbage } from "./memory.ts";
import type { AlgorithmLists, Decision, HostKeyStatus, Stage } from "./types.ts";

type Ev<S extends Stage, T extends string, D = Record<never, never>> = { stage: S; type: T } & D;

/** Every event a layer can emit. `t` (ms since the tracer started) is added by the tracer. */
export type TraceEventBody =
  /** A stage (or, with `channel`, one channel's part of it) began. */
  | Ev<Stage, "begin", { channel?: number }>
  /** It ended after `ms` milliseconds. */
  | Ev<Stage, "end", { ms: number; channel?: number }>
  /** A configuration file read (or looked for), and the Include line that pulled it in. */
  | Ev<"config", "file", {
    path: string;
    found: boolean;
    pass: "first" | "final";
    includedFrom: { file: string; line: number } | null;
  }>
  /** A Host or Match line evaluated for the target, and whether it matched. */
  | Ev<"config", "block", {
    file: string;
    line: number;
    kind: "Host" | "Match";
    criteria: string;
    matched: boolean;
    pass: "first" | "final";
  }>
  /** A value the run uses that did not come from the defaults, and where it came from. */
  | Ev<"config", "value", { keyword: string; value: string; origin: string }>
  /** An unknown keyword or unimplemented algorithms in a file, left out (file:line). */
  | Ev<"config", "warning", { file: string; line: number; keyword: string; problem: string }>
  | Ev<"connect", "resolving", { host: string; port: number }>
  | Ev<"connect", "connected", { host: string; port: number; remoteAddress: string }>
  | Ev<"version", "sent", { line: string }>
  | Ev<"version", "pre-version-line", { line: string }>
  | Ev<"version", "received", {
    line: string;
    protocol: string;
    software: string;
    comments: string | null;
    note: string | null;
  }>
  /** A peer's deviation from the RFCs that we tolerate (firmware quirks, stray commas…). */
  | Ev<
    "version" | "kex" | "auth" | "session" | "data",
    "quirk",
    { id: string; description: string }
  >
  | Ev<"kex", "kexinit-sent", { lists: AlgorithmLists; cookie: string }>
  | Ev<"kex", "kexinit-received", { lists: AlgorithmLists; firstKexPacketFollows: boolean }>
  | Ev<"kex", "negotiated", { decisions: Decision[]; strict: boolean; extInfo: boolean }>
  | Ev<"kex", "guess-ignored", { reason: string }>
  | Ev<"kex", "exchange", { method: string; detail: string }>
  | Ev<"kex", "newkeys", { direction: "sent" | "received" }>
  /** Which library does the packet crypto (once, at the first NEWKEYS). */
  | Ev<"kex", "crypto-backend", { backend: "openssl" | "node"; detail: string }>
  /** Which implementation computed a hybrid's post-quantum KEM (liboqs WebAssembly or JS). */
  | Ev<"kex", "kem-backend", { algorithm: string; backend: "wasm" | "js"; detail: string }>
  | Ev<Stage, "ext-info", { extensions: string[]; serverSigAlgs: string[] | null }>
  | Ev<"kex", "rekey", { initiator: "client" | "server"; reason: string }>
  | Ev<"hostkey", "key", {
    algorithm: string;
    keyType: string;
    fingerprint: string;
    md5: string;
    bits: number | null;
  }>
  | Ev<"hostkey", "signature-verified", { algorithm: string }>
  /**
   * The server's host certificate: its fields, the CA, the `@cert-authority` line that trusts
   * the CA for this host (if any), and whether it was accepted (else ssh(1)'s reason).
   */
  | Ev<"hostkey", "certificate", {
    certType: string;
    keyId: string;
    serial: string;
    principals: string[];
    validity: string;
    caType: string;
    caFingerprint: string;
    file: string | null;
    line: number | null;
    accepted: boolean;
    reason: string | null;
  }>
  | Ev<"hostkey", "status", {
    status: HostKeyStatus;
    file: string | null;
    line: number | null;
    knownFingerprint: string | null;
    note: string | null;
  }>
  | Ev<"auth", "service-accepted", { service: string }>
  /** `bytes`: the banner's full size, when `text` is only its start (banner limits). */
  | Ev<"auth", "banner", { text: string; bytes?: number }>
  | Ev<"auth", "attempt", { method: string; detail: string }>
  | Ev<"auth", "failure", { method: string; canContinue: string[]; partialSuccess: boolean }>
  | Ev<"auth", "success", { method: string }>
  | Ev<"auth", "info", { message: string }>
  | Ev<"config" | "connect" | "session" | "data" | "transfer", "info", { message: string }>
  | Ev<Stage, "debug", { message: string; alwaysDisplay: boolean }>
  | Ev<Stage, "ignore", { length: number }>
  | Ev<Stage, "unimplemented", { sequence: number }>
  | Ev<Stage, "disconnect", {
    from: "server" | "client";
    reasonCode: number;
    reason: string;
    description: string;
  }>
  /**
   * One packet sent or received (only when the tracer's {@link Tracer.packets} is on: `-vv`).
   * `length`: the payload's size, left out for user-auth messages (50–79), of which only the
   * name is traced; `channel` and `bytes`: the recipient channel and the data (or window) byte
   * count of CHANNEL_DATA, CHANNEL_EXTENDED_DATA and CHANNEL_WINDOW_ADJUST. Never contents.
   */
  | Ev<Stage, "packet", {
    direction: "in" | "out";
    seq: number;
    number: number;
    message: string;
    length?: number;
    channel?: number;
    bytes?: number;
  }>
  | Ev<Stage, "error", { code: string; message: string }>
  | Ev<"kex", "grade", {
    letter: string;
    score: number;
    reasons: { deduction: number; reason: string; algorithms: string[] }[];
    /** What the grade could not check (empty or absent: complete). */
    partial?: string[];
  }>
  | Ev<Stage, "slow", { ms: number; thresholdMs: number; why: string }>
  /**
   * Events of one kind past the number the tracer keeps (see {@link KEPT_PER_KIND}): counted,
   * not stored. Emitted when their stage ends (or the run finishes).
   */
  | Ev<Stage, "suppressed", { of: TraceEventBody["type"]; count: number; bytes: number }>;

export type TraceEvent = TraceEventBody & { t: number };

/** Where events go. */
export interface TraceSink {
  (event: TraceEvent): void;
}

/**
 * How many events of one kind (stage and type) a tracer keeps; past that they are only counted
 * (count and bytes) and summed up in one `suppressed` event. Low-value events a peer can send
 * without end (IGNORE, DEBUG, banners, UNIMPLEMENTED, packets) get a small number; events that
 * mark the run's shape (stage begin/end, errors, diagnoses) are always kept; every other kind
 * is kept up to {@link KEPT_DEFAULT}, so no peer can grow a trace without bound.
 */
export const KEPT_PER_KIND: Partial<Record<TraceEventBody["type"], number>> = {
  ignore: 10,
  debug: 20,
  unimplemented: 10,
  packet: 100,
  banner: 8,
  "pre-version-line": 65,
  info: 200,
};

/** Events of any other kind kept per stage and type. */
export const KEPT_DEFAULT = 1000;

/** What a suppressed event left behind besides its bytes (packet, buffers, objects). */
const EVENT_OVERHEAD = 128;

const ALWAYS_KEPT = new Set<TraceEventBody["type"]>([
  "begin",
  "end",
  "error",
  "slow",
  "grade",
  "suppressed",
]);

/** The peer's bytes an event stands for (what a summary adds up). */
function eventBytes(e: TraceEventBody): number {
  switch (e.type) {
    case "ignore":
      return e.length;
    case "packet":
      return e.length ?? 0;
    case "debug":
      return e.message.length;
    case "banner":
      return e.bytes ?? e.text.length;
    case "pre-version-line":
      return e.line.length;
    case "info":
      return e.message.length;
    case "unimplemented":
      return 4;
    default:
      return 0;
  }
}

interface Repeats {
  stage: Stage;
  type: TraceEventBody["type"];
  seen: number;
  /** Counted but not stored since the last summary. */
  dropped: number;
  bytes: number;
}

/** One open stage of a run: a connection's stage, or one channel's part of `session`/`data`. */
export interface Span {
  readonly stage: Stage;
  /** The local channel id, for a channel's own span. */
  readonly channel: number | undefined;
  /** `stage`, or `stage#channel` (e.g. `data#1`): where its time is kept. */
  readonly key: string;
  /** Ends the span (once: later calls do nothing) and records its duration. */
  end(): void;
}

/**
 * Collects events, timestamps them with an injected clock, and keeps timings: per stage (the
 * wall time during which at least one span of that stage was open, so two concurrent channels
 * do not add up) and per span key (`data#1`, `data#2`: each channel its own). A sink: each layer
 * says which stage it works in ({@link span}); the tracer does not guess. Memory is bounded: each
 * kind of event is kept up to its limit ({@link KEPT_PER_KIND}); the rest are counted and summed
 * up in a `suppressed` event when a span ends. Sinks see exactly what is kept, so live renderers
 * are bounded the same way.
 */
export class Tracer {
  readonly events: TraceEvent[] = [];
  /** Milliseconds per stage (wall time with at least one span of the stage open). */
  readonly timings: Partial<Record<Stage, number>> = {};
  /** Milliseconds per channel span (`session#0`, `data#0`…), summed over its spans. */
  readonly channelTimings: Record<string, number> = {};
  #sinks: TraceSink[] = [];
  #clock: () => number;
  #start: number;
  /** Open spans, oldest first. */
  #open: { span: Span; start: number }[] = [];
  /** Per stage: how many spans are open, and since when the first of them. */
  #stageOpen = new Map<Stage, { count: number; since: number }>();
  #repeats = new Map<string, Repeats>();
  /**
   * Whether the transport emits a `packet` event per packet (`-vv`). Off by default: then the
   * transport builds nothing per packet, so tracing costs a download nothing.
   */
  readonly packets: boolean;

  constructor(
    options: { clock?: () => number; sinks?: TraceSink[]; packets?: boolean } = {},
  ) {
    this.#clock = options.clock ?? (() => performance.now());
    this.#start = this.#clock();
    this.#sinks = options.sinks ?? [];
    this.packets = options.packets ?? false;
  }

  /** Milliseconds since the tracer started. */
  now(): number {
    return Math.round((this.#clock() - this.#start) * 10) / 10;
  }

  addSink(sink: TraceSink): void {
    this.#sinks.push(sink);
  }

  /** The spans begun and not yet ended, oldest first. */
  get openSpans(): readonly Span[] {
    return this.#open.map((o) => o.span);
  }

  emit(body: TraceEventBody): void {
    if (!ALWAYS_KEPT.has(body.type)) {
      const key = `${body.stage}/${body.type}`;
      let r = this.#repeats.get(key);
      if (!r) {
        r = { stage: body.stage, type: body.type, seen: 0, dropped: 0, bytes: 0 };
        this.#repeats.set(key, r);
      }
      if (++r.seen > (KEPT_PER_KIND[body.type] ?? KEPT_DEFAULT)) {
        const bytes = eventBytes(body);
        r.dropped++;
        r.bytes += bytes;
        // A flood's buffers are garbage V8 would let pile up by ~64 MB: collect sooner. A
        // packet event holds no payload (a download's packets are not a flood's garbage).
        noteGarbage((body.type === "packet" ? 0 : bytes) + EVENT_OVERHEAD);
        return;
      }
    }
    this.#record(body);
  }

  #record(body: TraceEventBody): void {
    const event = { ...body, t: this.now() } as TraceEvent;
    this.events.push(event);
    for (const sink of this.#sinks) sink(event);
  }

  /**
   * Emits a `suppressed` summary for every kind with events counted but not stored since the
   * last summary, so a flood shows as one line. Called when a span ends; call it at the end of
   * a run too (events after the last span ended).
   */
  summarize(): void {
    for (const r of this.#repeats.values()) {
      if (r.dropped === 0) continue;
      this.#record({
        stage: r.stage,
        type: "suppressed",
        of: r.type,
        count: r.dropped,
        bytes: r.bytes,
      });
      r.dropped = 0;
      r.bytes = 0;
    }
  }

  /**
   * Begins a span of `stage`; with `channel`, that channel's own (timed under `stage#channel`),
   * so concurrent channels never end or restart each other's spans.
   *
   * @example
   * ```ts
   * const span = tracer.span("data", { channel: 1 });
   * try { await transfer(); } finally { span.end(); }
   * ```
   */
  span(stage: Stage, options: { channel?: number } = {}): Span {
    const channel = options.channel;
    const start = this.now();
    const span: Span = {
      stage,
      channel,
      key: channel === undefined ? stage : `${stage}#${channel}`,
      end: () => this.#endSpan(span),
    };
    this.#open.push({ span, start });
    const open = this.#stageOpen.get(stage);
    if (open) open.count++;
    else this.#stageOpen.set(stage, { count: 1, since: start });
    this.emit(channel === undefined ? { stage, type: "begin" } : { stage, type: "begin", channel });
    return span;
  }

  #endSpan(span: Span): void {
    const i = this.#open.findIndex((o) => o.span === span);
    if (i < 0) return;
    const [{ start }] = this.#open.splice(i, 1);
    const now = this.now();
    const ms = Math.round((now - start) * 10) / 10;
    const open = this.#stageOpen.get(span.stage)!;
    if (--open.count === 0) {
      this.#stageOpen.delete(span.stage);
      const wall = Math.round((now - open.since) * 10) / 10;
      this.timings[span.stage] = Math.round(((this.timings[span.stage] ?? 0) + wall) * 10) / 10;
    }
    if (span.channel !== undefined) {
      this.channelTimings[span.key] = Math.round(
        ((this.channelTimings[span.key] ?? 0) + ms) * 10,
      ) / 10;
    }
    this.summarize();
    this.emit(
      span.channel === undefined
        ? { stage: span.stage, type: "end", ms }
        : { stage: span.stage, type: "end", ms, channel: span.channel },
    );
  }

  /** Ends every open span, newest first (a run's end: whatever it was doing stops here). */
  endAll(): void {
    for (const { span } of [...this.#open].reverse()) span.end();
  }

  /**
   * Starts a connection-wide stage, ending the connection-wide span open before it (a
   * connection's stages follow each other; channel spans are left alone).
   */
  begin(stage: Stage): void {
    const previous = this.#open.findLast((o) => o.span.channel === undefined)?.span;
    if (previous && previous.stage !== stage) previous.end();
    this.span(stage);
  }

  /** Ends the connection-wide span of `stage` (the latest one, if several). */
  end(stage: Stage): void {
    this.#open.findLast((o) => o.span.stage === stage && o.span.channel === undefined)?.span
      .end();
  }
}
