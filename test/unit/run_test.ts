import assert from "node:assert/strict";
import { abortedError, failureOf, runLifecycle, StopReason, whenAborted } from "../../lib/run.ts";
import { Tracer } from "../../lib/trace.ts";
import { SshError } from "../../lib/errors/mod.ts";
import { untypedError } from "../helpers/errors.ts";

Deno.test("runLifecycle() records a failure as the trace's error event, then ends the open spans and adds the diagnosis", async () => {
  const tracer = new Tracer();
  const outcome = await runLifecycle({ tracer, grade: false }, (run) => {
    run.tracer.span("auth");
    throw untypedError("auth", "auth.no-methods", "no");
  });
  assert.equal(outcome.value, undefined);
  assert.equal(outcome.error?.code, "auth.no-methods");
  const kinds = tracer.events.map((e) => `${e.stage}/${e.type}`);
  assert.deepEqual(kinds, ["auth/begin", "auth/error", "auth/end"], "error before the end");
  assert.deepEqual(tracer.openSpans, []);
  const report = outcome.report({ host: "h", port: 22 }, 3);
  assert.equal(report.exitCode, 3);
  assert.equal(report.failedStage, "auth");
});

Deno.test("runLifecycle() gives a bug the stage of the span still open", async () => {
  const tracer = new Tracer();
  const outcome = await runLifecycle({ tracer, grade: false }, () => {
    tracer.span("kex");
    return Promise.reject(new TypeError("oops"));
  });
  assert.equal(outcome.error?.code, "kex.internal");
  assert.match(outcome.error?.message ?? "", /internal error during stage kex: oops/);
});

Deno.test("runLifecycle() closes what the body registered when the signal aborts, and names the failure after the woken layer's stage", async () => {
  const tracer = new Tracer();
  const controller = new AbortController();
  let closed = 0;
  const outcome = await runLifecycle(
    { tracer, signal: controller.signal, grade: false },
    (run) =>
      new Promise((_, reject) => {
        run.closeOnStop(() => {
          closed++;
          // what a transport does when its stream closes under a pending read
          reject(new SshError("version", "version.closed", "closed"));
        });
        controller.abort(new StopReason("deadline", "too slow", { deadlineMs: 5 }));
      }),
  );
  assert.equal(closed, 1);
  assert.equal(outcome.error?.code, "version.deadline");
  assert.equal(outcome.error?.message, "too slow (stage version)");
  assert.deepEqual(outcome.error?.details, { deadlineMs: 5 });
});

Deno.test("runLifecycle() abandons a body that does not wake after an abort (a grace of 1 s), at the open span's stage", async () => {
  const tracer = new Tracer();
  const controller = new AbortController();
  const started = performance.now();
  const outcome = await runLifecycle(
    { tracer, signal: controller.signal, grade: false },
    () => {
      tracer.span("auth");
      controller.abort("go away");
      return new Promise<never>(() => {}); // a wait closing cannot reach
    },
  );
  assert.ok(performance.now() - started < 3000);
  assert.equal(outcome.error?.code, "auth.aborted");
  assert.equal(outcome.error?.details.reason, "go away");
});

Deno.test("abortedError() names Ctrl-C interrupted (exit 130) and any other reason aborted, with the reason as cause", () => {
  const ctrlC = abortedError("data", new StopReason("interrupted", "Ctrl-C"));
  assert.equal(ctrlC.code, "data.interrupted");
  assert.equal(ctrlC.exitCode, 130);
  assert.equal(ctrlC.message, "interrupted at stage data: Ctrl-C");
  const reason = new Error("shutdown");
  const aborted = abortedError("session", reason);
  assert.equal(aborted.code, "session.aborted");
  assert.equal(aborted.exitCode, 15);
  assert.equal(aborted.cause, reason);
});

Deno.test("failureOf() keeps a usage error and whenAborted() leaves errors alone until the signal aborts", () => {
  const usage = new SshError("usage", "usage.invalid", "bad");
  assert.equal(failureOf(usage, AbortSignal.abort(), "connect"), usage);
  const e = new Error("x");
  assert.equal(whenAborted(e, new AbortController().signal, "kex"), e);
  const staged = whenAborted(
    new SshError("kex", "kex.closed", "c"),
    AbortSignal.abort("r"),
    "connect",
  );
  assert.ok(staged instanceof SshError && staged.code === "kex.aborted");
});
