import assert from "node:assert/strict";
import { KEPT_PER_KIND, type TraceEvent, Tracer } from "../../lib/trace.ts";
import { createHumanRenderer } from "../../lib/render/human.ts";

const debug = (i: number) => ({
  stage: "kex" as const,
  type: "debug" as const,
  message: `message ${i}`.padEnd(100, "."),
  alwaysDisplay: true,
});

Deno.test("Tracer keeps the first events of a kind and sums the rest up when the stage ends", () => {
  const seen: TraceEvent[] = [];
  const tracer = new Tracer({ sinks: [(e) => seen.push(e)] });
  tracer.begin("kex");
  for (let i = 0; i < 100_000; i++) tracer.emit(debug(i));
  tracer.end("kex");
  const kept = KEPT_PER_KIND.debug!;
  const types = tracer.events.map((e) => e.type);
  assert.equal(types.filter((t) => t === "debug").length, kept);
  assert.deepEqual(types.slice(-2), ["suppressed", "end"]);
  const summary = tracer.events.at(-2)!;
  assert.ok(summary.type === "suppressed");
  assert.equal(summary.of, "debug");
  assert.equal(summary.count, 100_000 - kept);
  assert.equal(summary.bytes, (100_000 - kept) * 100);
  assert.deepEqual(seen, tracer.events, "sinks see exactly what is kept");
});

Deno.test("Tracer never drops stage boundaries or errors, and summarize() reports what is left", () => {
  const tracer = new Tracer();
  for (let i = 0; i < 3000; i++) {
    tracer.begin("data");
    tracer.emit({ stage: "data", type: "error", code: "data.x", message: "x" });
    tracer.emit({ stage: "data", type: "ignore", length: 10 });
    tracer.end("data");
  }
  assert.equal(tracer.events.filter((e) => e.type === "begin").length, 3000);
  assert.equal(tracer.events.filter((e) => e.type === "error").length, 3000);
  assert.equal(tracer.events.filter((e) => e.type === "ignore").length, KEPT_PER_KIND.ignore);
  const counted = tracer.events.filter((e) => e.type === "suppressed")
    .reduce((n, e) => n + (e.type === "suppressed" ? e.count : 0), 0);
  assert.equal(counted, 3000 - KEPT_PER_KIND.ignore!);
  tracer.emit({ stage: "data", type: "ignore", length: 10 });
  tracer.summarize();
  assert.equal(tracer.events.at(-1)?.type, "suppressed");
});

Deno.test("the human trace shows a flood as one line with its count and size", () => {
  let text = "";
  const human = createHumanRenderer({ write: (t) => (text += t), color: false, verbosity: 0 });
  const tracer = new Tracer({ sinks: [human.sink] });
  tracer.begin("kex");
  for (let i = 0; i < 50_000; i++) tracer.emit(debug(i));
  tracer.end("kex");
  assert.match(text, /… 49980 more DEBUG messages \(5\.0 MB\) not shown/);
  assert.ok(text.split("\n").length < 40, `${text.split("\n").length} lines`);
});

Deno.test("Tracer keeps timings per channel span and per stage as wall time, and concurrent spans never end each other", () => {
  let now = 0;
  const tracer = new Tracer({ clock: () => now });
  tracer.begin("auth");
  now = 5;
  tracer.end("auth");
  const a = tracer.span("data", { channel: 0 });
  now = 10;
  const b = tracer.span("data", { channel: 1 });
  now = 20;
  b.end();
  assert.deepEqual(
    tracer.openSpans.map((s) => [s.stage, s.channel]),
    [["data", 0]],
    "channel 0 is still open",
  );
  now = 40;
  a.end();
  a.end(); // once only
  assert.deepEqual(tracer.channelTimings, { "data#0": 35, "data#1": 10 });
  assert.deepEqual(tracer.timings, { auth: 5, data: 35 }, "wall time, not 35 + 10");
  assert.deepEqual(
    tracer.events.filter((e) => e.type === "end").map((e) => [e.stage, e.channel, e.ms]),
    [["auth", undefined, 5], ["data", 1, 10], ["data", 0, 35]],
  );
  assert.deepEqual(tracer.openSpans, []);
});

Deno.test("Tracer.begin() ends the connection-wide stage before it but leaves channel spans alone; endAll() ends the rest", () => {
  const tracer = new Tracer();
  const channel = tracer.span("session", { channel: 3 });
  tracer.begin("kex");
  tracer.begin("auth");
  assert.deepEqual(tracer.openSpans.map((s) => s.key), ["session#3", "auth"]);
  assert.equal(channel.key, "session#3");
  tracer.endAll();
  assert.deepEqual(tracer.openSpans, []);
  assert.deepEqual(
    tracer.events.filter((e) => e.type === "end").map((e) => e.stage),
    ["kex", "auth", "session"],
  );
});
