import assert from "node:assert/strict";
import {
  CODE_FAMILIES,
  type DetailsOf,
  type ErrorCode,
  errorCodes,
  EXACT_CODES,
  isErrorCode,
  SshError,
  type StageOf,
} from "../../../lib/errors/mod.ts";
import { STAGES } from "../../../lib/types.ts";

/** Compile-time assertion: `A` and `B` are the same type. */
type Same<A, B> = [A] extends [B] ? [B] extends [A] ? true : false : false;
const same = <T extends true>(): T => true as T;

Deno.test("new SshError() checks the stage and details against the code's table entry", () => {
  const refused = new SshError("connect", "connect.refused", "refused", {
    host: "h",
    port: 22,
  });
  assert.equal(refused.details.port, 22);
  assert.equal(refused.exitCode, 10);
  const timeout = new SshError("auth", "auth.timeout", "slow", { timeoutMs: 5 });
  assert.equal(timeout.details.timeoutMs, 5);
  const bare = new SshError("kex", "kex.bad-kexinit", "malformed");
  assert.deepEqual(bare.details, {});
  const cause = new Error("x");
  const closed = new SshError("kex", "kex.closed", "closed", {}, { cause });
  assert.equal(closed.cause, cause);

  // Each of these is a compile error (deno check proves it); at run time they still build.
  // @ts-expect-error: the port is missing
  new SshError("connect", "connect.refused", "m", { host: "h" });
  // @ts-expect-error: a detail the code does not carry
  new SshError("connect", "connect.dns", "m", { host: "h", port: 22, fix: "--timeout" });
  // @ts-expect-error: details are required for this code
  new SshError("version", "version.not-ssh", "m");
  // @ts-expect-error: the stage is the code's prefix
  new SshError("kex", "connect.refused", "m", { host: "h", port: 22 });
  // @ts-expect-error: a code outside the table
  new SshError("kex", "kex.brand-new", "m");
  // @ts-expect-error: a family's codes are per stage; "usage" is not one
  new SshError("usage", "usage.interrupted", "m", { prompt: "password" });
});

Deno.test("a code's stage and details types follow from the table", () => {
  same<Same<StageOf<"kex.no-common-macS2C">, "kex">>();
  same<Same<StageOf<"usage.invalid">, "usage">>();
  same<Same<DetailsOf<"connect.refused">, { host: string; port: number }>>();
  same<Same<DetailsOf<"data.timeout">, DetailsOf<"kex.timeout">>>();
  // A template code built from a stage is the family's codes, one per stage.
  const stage = STAGES[2]!;
  const code = `${stage}.closed` as const;
  same<Same<typeof code, Extract<ErrorCode, `${string}.closed`>>>();
});

Deno.test("errorCodes() lists every exact code and each family at each of its stages", () => {
  const codes = errorCodes();
  assert.equal(new Set(codes).size, codes.length, "no code listed twice");
  for (const code of Object.keys(EXACT_CODES)) assert.ok(codes.includes(code as ErrorCode), code);
  for (const [key, stages] of Object.entries(CODE_FAMILIES)) {
    for (const stage of stages) assert.ok(codes.includes(`${stage}${key.slice(1)}` as ErrorCode));
  }
  assert.ok(codes.includes("auth.interrupted"));
  assert.ok(codes.includes("connect.interrupted"), "Ctrl-C can stop any stage");
  assert.ok(!codes.includes("usage.interrupted" as ErrorCode));
});

Deno.test("isErrorCode() accepts the table's codes and nothing else", () => {
  for (const code of errorCodes()) assert.ok(isErrorCode(code), code);
  for (const code of ["", "kex", "kex.", "*.timeout", "kex.brand-new", "usage.interrupted"]) {
    assert.equal(isErrorCode(code), false, code);
  }
});
