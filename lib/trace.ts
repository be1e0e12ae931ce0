/**
 * Trace events and the tracer every layer emits into. Protocol code never prints: it emits
 * events here and throws `SshTraceError` (lib/errors/); renderers do the rest.
 * Events carry data, never secrets (a password is "provided", a key is its fingerprint).
 * @module
 */

import { noteGarbage } from "./memory.ts";
import type { AlgorithmLists, Decision, HostKeyStatus, Stage } from "./types.ts";

type Ev<S extends Stage, T extends string, D = Record<never, never>> = { stage: S; type: T } & D;

/** Every event a layer can emit. `t` (ms since the tracer started) is added by the tracer. */
export type TraceEventBody =
  | Ev<Stage, "begin">
  | Ev<Stage, "end", { ms: number }>
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
  | Ev<"session" | "data" | "transfer", "info", { message: string }>
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

/**
 * Collects events, timestamps them with an injected clock, tracks per-stage timings. Memory is
 * bounded: each kind of event is kept up to its limit ({@link KEPT_PER_KIND}); the rest are
 * counted and summed up in a `suppressed` event when their stage ends. Sinks see exactly what
 * is kept, so live renderers are bounded the same way.
 */
export class Tracer {
  readonly events: TraceEvent[] = [];
  readonly timings: Partial<Record<Stage, number>> = {};
  #sinks: TraceSink[] = [];
  #clock: () => number;
  #start: number;
  #stageStart = new Map<Stage, number>();
  #current: Stage | null = null;
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

  /** The stage most recently begun and not yet ended (where a failure would be). */
  get currentStage(): Stage | null {
    return this.#current;
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
   * last summary, so a flood shows as one line. Called when a stage ends; call it at the end of
   * a run too (events after the last stage ended).
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

  /** Starts a stage (ends the previous one if still open). */
  begin(stage: Stage): void {
    if (this.#current && this.#current !== stage) this.end(this.#current);
    this.#current = stage;
    this.#stageStart.set(stage, this.now());
    this.emit({ stage, type: "begin" });
  }

  /** Ends a stage and records its duration (after the summary of any suppressed events). */
  end(stage: Stage): void {
    const start = this.#stageStart.get(stage);
    if (start === undefined) return;
    this.#stageStart.delete(stage);
    const ms = Math.round((this.now() - start) * 10) / 10;
    this.timings[stage] = (this.timings[stage] ?? 0) + ms;
    if (this.#current === stage) this.#current = null;
    this.summarize();
    this.emit({ stage, type: "end", ms });
  }
}
